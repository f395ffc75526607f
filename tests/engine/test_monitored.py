"""The measure that picks the kept epoch and stops early (`kerasrnn.engine.monitored`): a classifier
keeps its most accurate epoch (ties to the lower loss), every other task its lowest loss, and a
resumed run replays both from `history.csv`.

The runs here are scripted: a callback ahead of the run's own writes a fixed validation loss and
accuracy into each epoch's logs, so that the loss and the accuracy disagree by construction.
"""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.engine import backup, fitting
from kerasrnn.engine import run_dir as run_files
from kerasrnn.engine.monitored import VAL_ACCURACY, VAL_LOSS
from kerasrnn.engine.run import train
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.tasks import TASKS, get_task

# Epoch:      1     2     3     4     5     6     7     8
ACCURACY = [0.70, 0.80, 0.75, 0.80, 0.78, 0.79, 0.90, 0.90]
LOSS = [0.40, 0.50, 0.45, 0.48, 0.60, 0.30, 0.20, 0.20]
# By accuracy (patience 2): 2 is best, 4 ties it with a lower loss and is kept, 5 and 6 are worse:
# stop after 6. By loss: 1 is best, 2 and 3 are worse: stop after 3.


def test_accuracy_and_loss_pick_different_epochs_of_one_history():
    history = {"epoch": [1, 2, 3, 4, 5, 6], "val_accuracy": ACCURACY[:6], "val_loss": LOSS[:6]}
    assert VAL_ACCURACY.best_epoch(history) == 4 and VAL_LOSS.best_epoch(history) == 6
    history = {key: values[:5] for key, values in history.items()}
    assert VAL_ACCURACY.best_epoch(history) == 4 and VAL_LOSS.best_epoch(history) == 1
    assert VAL_ACCURACY.kept(history) == ("kept epoch 4, of the highest validation accuracy (80.0%, as epoch 2, "
                                          "kept for its lower validation loss); the validation loss alone "
                                          "would have kept epoch 1")
    assert VAL_LOSS.kept(history) == "best validation loss at epoch 1"  # the summary other tasks always had
    assert VAL_ACCURACY.as_metrics(history) == {"kept_by": "val_accuracy", "best_loss_epoch": 1}
    assert VAL_LOSS.as_metrics(history) == {}


@pytest.mark.parametrize("losses, kept", [
    ([0.5, 0.4, 0.3], 3),  # equal accuracy: the lower loss
    ([0.5, 0.3, 0.4], 2),
    ([0.5, 0.3, 0.3], 2),  # equal in both: the earlier epoch, as Keras's strict comparison
    ([0.5, math.nan, 0.4], 3),  # a NaN loss loses the tie
])
def test_a_tie_in_accuracy_goes_to_the_lower_loss(losses, kept):
    history = {"epoch": [1, 2, 3], "val_accuracy": [0.6, 0.9, 0.9], "val_loss": losses}
    assert VAL_ACCURACY.best_epoch(history) == kept


def test_an_epoch_without_a_finite_measure_is_never_the_best():
    history = {"epoch": [1, 2, 3], "val_accuracy": [math.nan, 0.5, 0.4], "val_loss": [0.1, 0.9, 0.8]}
    assert VAL_ACCURACY.best_epoch(history) == 2 and VAL_ACCURACY.ranks(history)[0] is None
    assert VAL_ACCURACY.best_epoch({"epoch": [1, 2], "val_accuracy": [math.nan] * 2, "val_loss": [1, 2]}) == 2


def test_every_task_but_the_classifier_keeps_the_lowest_validation_loss():
    measures = {name: get_task(name).monitored for name in TASKS}
    assert {name: measure for name, measure in measures.items() if measure != VAL_LOSS} == {"classify": VAL_ACCURACY}


# --- scripted runs ---------------------------------------------------------------------------------


class Scripted(keras.callbacks.Callback):
    """Writes epoch E's scripted `val_loss` and `val_accuracy` into its logs (ahead of the run's
    own callbacks), and keeps the weights each epoch ended with."""

    def __init__(self, weights: dict):
        super().__init__()
        self.weights = weights

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"], logs["val_accuracy"] = LOSS[epoch], ACCURACY[epoch]
        self.weights[epoch + 1] = [np.array(weight) for weight in self.model.get_weights()]


class Interrupt(keras.callbacks.Callback):
    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


@pytest.fixture
def scripted(monkeypatch):
    """`start(weights, interrupt=None)`: the run's callbacks get `Scripted(weights)` first (and an
    interruption before epoch `interrupt + 1`)."""
    original = fitting.make_callbacks

    def start(weights, interrupt=None):
        def with_script(*args, **kwargs):
            extra = [Interrupt(interrupt)] if interrupt is not None else []
            return [*extra, Scripted(weights), *original(*args, **kwargs)]

        monkeypatch.setattr(fitting, "make_callbacks", with_script)

    return start


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, x @ np.array([[1.0], [-2.0], [0.5]], "float32"))).batch(16)


def _model(config):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=fitting.make_optimizer(config, config.epochs * 2), loss="mse")
    return model


def _fit(config, folder, monitored, **kwargs):
    return fitting.fit(kwargs.pop("model", None) or _model(config), _data().repeat(), _data(), folder, config,
                       steps_per_epoch=2, verbose=0, monitored=monitored, **kwargs)


def _saved_weights(folder):
    return keras.models.load_model(folder / run_files.MODEL_FILE).get_weights()


def _assert_weights(actual, expected):
    assert len(actual) == len(expected)
    for a, b in zip(actual, expected):
        np.testing.assert_array_equal(a, b)


CONFIG = TrainConfig(epochs=8, steps_per_epoch=2, learning_rate=0.05, patience=2)


def test_a_run_by_accuracy_keeps_the_accurate_epoch_and_stops_on_it(scripted, tmp_path):
    weights = {}
    scripted(weights)
    outcome = _fit(CONFIG, tmp_path, VAL_ACCURACY)
    assert outcome.history["epoch"] == [1, 2, 3, 4, 5, 6]  # 5 and 6 less accurate than 4: patience 2
    assert outcome.history["val_accuracy"] == ACCURACY[:6]
    _assert_weights(_saved_weights(tmp_path), weights[4])
    assert not all(np.array_equal(a, b) for a, b in zip(weights[4], weights[2]))  # so the check means something


def test_a_run_by_loss_is_what_it_always_was(scripted, tmp_path):
    weights = {}
    scripted(weights)
    outcome = _fit(CONFIG, tmp_path, VAL_LOSS)
    assert outcome.history["epoch"] == [1, 2, 3]
    _assert_weights(_saved_weights(tmp_path), weights[1])


@pytest.mark.parametrize("done", [2, 3, 4, 5])  # before the tie, at it, and waiting after it
def test_a_resumed_run_by_accuracy_replays_the_best_and_the_patience(done, scripted, tmp_path):
    whole = {}
    scripted(whole)
    _fit(CONFIG, tmp_path / "whole", VAL_ACCURACY)
    weights = {}
    scripted(weights, interrupt=done)
    with pytest.raises(KeyboardInterrupt):
        _fit(CONFIG, tmp_path / "run", VAL_ACCURACY)
    scripted(weights)
    model = _model(CONFIG)  # as a new process builds it
    assert backup.restore_state(tmp_path / "run", model) == done
    outcome = _fit(CONFIG, tmp_path / "run", VAL_ACCURACY, model=model, initial_epoch=done,
                   history=run_files.read_history(tmp_path / "run"))
    assert outcome.history["epoch"] == [1, 2, 3, 4, 5, 6]
    assert (tmp_path / "run" / "history.csv").read_text() == (tmp_path / "whole" / "history.csv").read_text()
    _assert_weights(_saved_weights(tmp_path / "run"), whole[4])


def test_a_classify_run_says_which_epoch_it_kept_and_why_and_resumes_to_the_same_end(scripted, tmp_path):
    task = get_task("classify")
    rows = [f"{'good fine' if index % 2 else 'bad poor'} day {index % 7}\t{index % 2}\n" for index in range(40)]
    (tmp_path / "data.tsv").write_text("".join(rows))
    config = task.config_class(cell="gru", units=4, embedding_dim=4, data=str(tmp_path / "data.tsv"))
    train_config = TrainConfig(epochs=8, steps_per_epoch=2, batch_size=8, learning_rate=0.01, patience=2)
    weights = {}
    scripted(weights)
    result = train(task, config, train_config, tmp_path / "whole", verbose=0)
    assert result.epochs == 6 and result.best_epoch == 4
    assert ("; kept epoch 4, of the highest validation accuracy (80.0%, as epoch 2, kept for its lower validation "
            "loss); the validation loss alone would have kept epoch 6.") in result.summary()
    metrics = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    assert (metrics["best_epoch"], metrics["kept_by"], metrics["best_loss_epoch"]) == (4, "val_accuracy", 6)
    _assert_weights(_saved_weights(tmp_path / "whole"), weights[4])

    scripted({}, interrupt=5)
    with pytest.raises(KeyboardInterrupt):
        train(task, config, train_config, tmp_path / "run", verbose=0)
    scripted({})
    resumed = train(task, config, train_config, tmp_path / "run", resume=True, verbose=0)
    assert resumed.kept == result.kept and resumed.epochs == 6
    assert (tmp_path / "run" / "history.csv").read_text() == (tmp_path / "whole" / "history.csv").read_text()
    _assert_weights(_saved_weights(tmp_path / "run"), weights[4])
