"""The shared training path: configs, run directories, callbacks, resuming, history and devices."""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.engine import backup, fitting
from kerasrnn.engine import run_dir as run_files
from kerasrnn.engine.devices import select_device
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import UserInputError


@pytest.fixture(autouse=True)
def float32_policy():
    yield
    keras.mixed_precision.set_global_policy("float32")


# --- configs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"steps_per_epoch": -1}, "steps per epoch must be a positive integer"),
        ({"batch_size": 2.5}, "batch size must be a positive integer"),
        ({"learning_rate": 0.0}, "learning rate must be positive"),
        ({"learning_rate": float("nan")}, "learning rate must be positive"),
        ({"optimizer": "sgd"}, "unknown optimizer 'sgd'"),
        ({"clipnorm": 0.0}, "clipnorm must be positive"),
        ({"seed": -1}, "seed must be an integer from 0 to 2147483647"),
        ({"seed": 2**31}, "seed must be an integer from 0 to 2147483647"),
    ],
)
def test_train_config_rejects_bad_values(arguments, message):
    with pytest.raises(UserInputError, match=message):
        TrainConfig(**arguments)


def test_train_config_is_frozen():
    with pytest.raises(AttributeError):
        TrainConfig().epochs = 3


def test_config_round_trips_through_the_run_dir(tmp_path):
    train_config = TrainConfig(epochs=3, learning_rate=1e-3, clipnorm=None)
    task_config = TrainConfig(epochs=7)  # any frozen dataclass stands in for a task's config
    run_files.save_config(tmp_path, "charlm", task_config, train_config)
    saved = run_files.load_config(tmp_path)
    assert saved["task"] == "charlm"
    assert saved["train_config"] == train_config
    assert saved["task_config"]["epochs"] == 7
    assert json.loads((tmp_path / "config.json").read_text())["kerasrnn_version"]


def test_a_broken_config_is_one_error(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UserInputError, match="is not a kerasrnn run config"):
        run_files.load_config(tmp_path)


# --- run directories -------------------------------------------------------------------------


def test_default_run_dir_names_task_cell_and_time(tmp_path):
    first = run_files.default_run_dir("charlm", "lstm", root=tmp_path)
    assert first.parent == tmp_path
    assert first.name.startswith("charlm-lstm-") and len(first.name) == len("charlm-lstm-20250101-120000")
    first.mkdir()
    assert run_files.default_run_dir("charlm", "lstm", root=tmp_path) != first


def test_prepare_run_dir_creates_a_new_folder(tmp_path):
    run_dir = run_files.prepare_run_dir(tmp_path / "a" / "b", resume=False)
    assert run_dir.is_dir()
    assert run_files.prepare_run_dir(run_dir, resume=False) == run_dir  # empty: fine


def test_prepare_run_dir_never_reuses_a_non_empty_folder(tmp_path):
    (tmp_path / "model.keras").write_bytes(b"precious")
    with pytest.raises(UserInputError, match="exists and is not empty: choose another --run-dir"):
        run_files.prepare_run_dir(tmp_path, resume=False)
    assert (tmp_path / "model.keras").read_bytes() == b"precious"
    (tmp_path / "config.json").write_text("{}")  # a run, as far as a hint can tell: the library names kerasrnn
    with pytest.raises(UserInputError) as refused:
        run_files.prepare_run_dir(tmp_path, resume=False)
    assert f"continue it with: kerasrnn train --resume --run-dir {tmp_path}, or choose another --run-dir" in \
        str(refused.value)


def test_prepare_run_dir_refuses_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(UserInputError, match="is a file, not a folder"):
        run_files.prepare_run_dir(path, resume=False)


def test_resume_needs_a_run_dir(tmp_path):
    with pytest.raises(UserInputError, match="is not a run directory: it has no config.json"):
        run_files.prepare_run_dir(tmp_path, resume=True)
    with pytest.raises(UserInputError, match="is not a run directory: no such folder"):
        run_files.prepare_run_dir(tmp_path / "missing", resume=True)


def test_check_run_dir_wants_the_model(tmp_path):
    run_files.save_config(tmp_path, "charlm", TrainConfig(), TrainConfig())
    assert run_files.check_run_dir(tmp_path, need_model=False) == tmp_path
    with pytest.raises(UserInputError, match="has no trained model yet"):
        run_files.check_run_dir(tmp_path)


# --- fit -------------------------------------------------------------------------------------


def _regression_data(seed=0, rows=64):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(16)


def _compiled_model(config, steps):
    keras.utils.set_random_seed(config.seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="dense")])
    model.compile(optimizer=fitting.make_optimizer(config, config.epochs * steps), loss="mse")
    return model


def test_fit_writes_every_file_of_a_run(tmp_path):
    config = TrainConfig(epochs=3, learning_rate=0.05)
    model = _compiled_model(config, steps=4)
    outcome = fitting.fit(model, _regression_data().repeat(), _regression_data(1), tmp_path, config,
                          steps_per_epoch=4, verbose=0)
    history = outcome.history
    assert outcome.halted is None
    assert history["epoch"] == [1, 2, 3]
    assert history["val_loss"][-1] < history["val_loss"][0]
    for name in ("model.keras", "history.csv", "history.json", "learning_curves.png"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "backup" / "state.npz").is_file() and (tmp_path / "logs").is_dir()
    assert not list(tmp_path.glob(".*")), "a temporary file was left behind"
    assert json.loads((tmp_path / "history.json").read_text()) == history
    assert (tmp_path / "learning_curves.png").read_bytes()[:4] == b"\x89PNG"
    best = keras.models.load_model(tmp_path / "model.keras")
    assert math.isclose(best.evaluate(_regression_data(1), verbose=0), min(history["val_loss"]), rel_tol=1e-4)


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise KeyboardInterrupt


def test_an_interrupted_fit_resumes_where_it_stopped(tmp_path):
    config = TrainConfig(epochs=4, learning_rate=0.05)
    model = _compiled_model(config, steps=4)
    original = fitting.make_callbacks

    def with_interrupt(*args, **kwargs):
        return [_Interrupt(), *original(*args, **kwargs)]

    fitting.make_callbacks = with_interrupt
    try:
        with pytest.raises(KeyboardInterrupt):
            fitting.fit(model, _regression_data().repeat(), _regression_data(1), tmp_path, config,
                         steps_per_epoch=4, verbose=0)
    finally:
        fitting.make_callbacks = original
    assert run_files.read_history(tmp_path)["epoch"] == [1, 2]
    weights_after_two = [np.array(w) for w in model.get_weights()]

    fresh = _compiled_model(config, steps=4)  # a new process would build the model again
    assert backup.restore_state(tmp_path, fresh) == 2
    for restored, saved in zip(fresh.get_weights(), weights_after_two):
        np.testing.assert_array_equal(restored, saved)
    assert int(fresh.optimizer.iterations.numpy()) == 8  # the step count (and so the schedule) came back
    outcome = fitting.fit(fresh, _regression_data().repeat(), _regression_data(1), tmp_path, config,
                          steps_per_epoch=4, verbose=0, initial_epoch=2,
                          history=run_files.read_history(tmp_path))
    assert outcome.history["epoch"] == [1, 2, 3, 4]
    assert int(fresh.optimizer.iterations.numpy()) == 16 and backup.saved_epochs(tmp_path) == 4


def test_a_nan_loss_stops_and_says_so(tmp_path):
    config = TrainConfig(epochs=2)
    model = _compiled_model(config, steps=2)
    x = np.full((32, 3), np.nan, "float32")
    data = tf.data.Dataset.from_tensor_slices((x, np.zeros((32, 1), "float32"))).batch(16)
    outcome = fitting.fit(model, data.repeat(), data, tmp_path, config, steps_per_epoch=2, verbose=0)
    assert outcome.halted == "the loss became nan at step 1 of epoch 1" and outcome.halted_epoch == 1
    assert not (tmp_path / "model.keras").exists() and backup.saved_epochs(tmp_path) == 0


def test_a_loss_far_above_the_threshold_stops_training(tmp_path):
    config = TrainConfig(epochs=3, learning_rate=1e-3)
    model = _compiled_model(config, steps=30)
    x = np.full((64, 3), 1e3, "float32")  # an mse of about 1e6 from the first step
    data = tf.data.Dataset.from_tensor_slices((x, np.zeros((64, 1), "float32"))).batch(2)
    outcome = fitting.fit(model, data.repeat(), data, tmp_path, config, steps_per_epoch=40, verbose=0,
                          divergence_threshold=10.0)
    assert outcome.halted.startswith("the loss stayed above 10 (10 times the no-learning loss) for 20 steps, up to "
                                     "step 20 of epoch 1"), outcome.halted
    assert outcome.halted_epoch == 1 and not (tmp_path / "model.keras").exists()


def test_make_optimizer_decays_to_the_final_fraction():
    config = TrainConfig(learning_rate=0.01, final_learning_rate_fraction=0.1, optimizer="rmsprop")
    optimizer = fitting.make_optimizer(config, total_steps=100)
    assert isinstance(optimizer, keras.optimizers.RMSprop)
    schedule = keras.optimizers.schedules.deserialize(optimizer.get_config()["learning_rate"])
    assert math.isclose(float(schedule(0)), 0.01, rel_tol=1e-6)
    assert math.isclose(float(schedule(100)), 0.001, rel_tol=1e-5)
    constant = fitting.make_optimizer(TrainConfig(decay=False, learning_rate=0.01), total_steps=100)
    assert math.isclose(float(constant.learning_rate), 0.01, rel_tol=1e-6)


def test_read_history_keeps_the_last_row_of_an_epoch(tmp_path):
    (tmp_path / "history.csv").write_text("epoch,loss,val_loss\n0,3,2\n1,2,1.5\n1,1.9,1.4\n")
    assert run_files.read_history(tmp_path) == {
        "epoch": [1, 2], "loss": [3.0, 1.9], "val_loss": [2.0, 1.4]
    }


# --- devices ---------------------------------------------------------------------------------


def test_cpu_is_always_there():
    assert select_device("cpu") == "cpu"
    assert keras.mixed_precision.global_policy().name == "float32"


@pytest.mark.skipif(bool(tf.config.list_physical_devices("GPU")), reason="this machine has a GPU")
def test_gpu_and_mixed_precision_need_a_gpu():
    with pytest.raises(UserInputError, match="sees no GPU"):
        select_device("gpu")
    with pytest.raises(UserInputError, match="mixed precision needs a GPU"):
        select_device("auto", mixed_precision=True)
    with pytest.raises(UserInputError, match="unknown device"):
        select_device("tpu")


@pytest.mark.skipif(not tf.config.list_physical_devices("GPU"), reason="needs a GPU")
def test_mixed_precision_on_a_gpu():
    assert select_device("gpu", mixed_precision=True) == "gpu"
    assert keras.mixed_precision.global_policy().name == "mixed_float16"


def test_validation_steps_validate_the_first_batches_only(tmp_path):
    """`--validation-steps 1`: each epoch's val_loss is the loss of the first validation batch."""
    from kerasrnn.engine.run import train
    from kerasrnn.engine.train_config import TrainConfig
    from kerasrnn.tasks.charlm.task import CharLMConfig, CharLMTask

    corpus = tmp_path / "text.txt"
    corpus.write_text("the gate forgets a long sequence of the cell state\n" * 80, encoding="utf-8")
    task = CharLMTask()
    config = CharLMConfig(units=8, embedding_dim=4, sequence_length=20, data=str(corpus))
    train_config = TrainConfig(epochs=1, steps_per_epoch=3, batch_size=8, validation_steps=1)
    train(task, config, train_config, tmp_path / "run", device="cpu", verbose=0)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    model = keras.models.load_model(tmp_path / "run" / "model.keras")
    prepared = task.restore(config, task.load_data(config), tmp_path / "run")
    batches = list(task.datasets(config, train_config, prepared)[1])
    assert len(batches) > 1
    x, y = batches[0]
    first = float(tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, model(x), from_logits=True)))
    assert abs(history["val_loss"][0] - first) < 1e-5, (history["val_loss"], first)
