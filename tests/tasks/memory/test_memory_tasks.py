"""The long-memory tasks (copy, adding): generators, baselines, networks, training and evaluation."""

import dataclasses
import json
import math

import keras
import numpy as np
import pytest

from kerasrnn.engine import run_dir as run_files
from kerasrnn.engine.fitting import make_optimizer
from kerasrnn.engine.run import train
from kerasrnn.errors import UserInputError
from kerasrnn.recurrent import CELL_NAMES
from kerasrnn.tasks import get_task
from kerasrnn.tasks.base import Task, with_data
from kerasrnn.tasks.memory import AddingConfig, AddingTask, CopyConfig, CopyTask, MemoryTask
from kerasrnn.tasks.memory import data as memory_data
from kerasrnn.tasks.memory import model as memory_model

COPY, ADDING = CopyTask(), AddingTask()

# --- the generators ----------------------------------------------------------------------------


@pytest.mark.parametrize("length", [1, 7, 100])
def test_copy_sequences_follow_the_definition(length):
    inputs, targets = memory_data.copy_batch(np.random.default_rng(0), 16, length)
    steps = length + 20
    assert inputs.shape == targets.shape == (16, steps)
    assert inputs.dtype == targets.dtype == np.int32
    data = inputs[:, :10]
    assert data.min() >= 1 and data.max() <= 8  # 10 symbols drawn from the 8 data symbols
    np.testing.assert_array_equal(inputs[:, 10:length + 9], 0)  # T − 1 blanks
    np.testing.assert_array_equal(inputs[:, length + 9], 9)  # the delimiter
    np.testing.assert_array_equal(inputs[:, length + 10:], 0)  # 10 blanks
    np.testing.assert_array_equal(targets[:, :length + 10], 0)  # T + 10 blanks
    np.testing.assert_array_equal(targets[:, length + 10:], data)  # then the 10 symbols
    assert targets.max() <= 8  # 9 output classes: the delimiter is never a target


def test_copy_symbols_are_uniform_over_the_eight_data_symbols():
    inputs, _ = memory_data.copy_batch(np.random.default_rng(1), 4000, 5)
    counts = np.bincount(inputs[:, :10].ravel(), minlength=9)[1:]
    np.testing.assert_allclose(counts / counts.sum(), 1 / 8, atol=0.005)


@pytest.mark.parametrize("length", [2, 9, 100])
def test_adding_sequences_follow_the_definition(length):
    inputs, targets = memory_data.adding_batch(np.random.default_rng(0), 64, length)
    assert inputs.shape == (64, length, 2) and targets.shape == (64, 1)
    values, markers = inputs[..., 0], inputs[..., 1]
    assert values.min() >= 0 and values.max() < 1
    half = length // 2
    np.testing.assert_array_equal(markers[:, :half].sum(axis=1), 1)  # one marker in each half
    np.testing.assert_array_equal(markers[:, half:].sum(axis=1), 1)
    np.testing.assert_allclose(targets[:, 0], (values * markers).sum(axis=1), rtol=1e-6)


def test_the_same_seed_gives_the_same_batches():
    for make in (memory_data.copy_batch, memory_data.adding_batch):
        first = make(np.random.default_rng(3), 4, 20)
        again = make(np.random.default_rng(3), 4, 20)
        other = make(np.random.default_rng(4), 4, 20)
        np.testing.assert_array_equal(first[0], again[0])
        assert not np.array_equal(first[0], other[0])


# --- baselines, and what a memoryless and a perfect predictor score ----------------------------


@pytest.mark.parametrize("length, expected", [(100, 0.1733), (200, 0.0945), (500, 0.0400), (1000, 0.0204)])
def test_copy_baseline_is_the_reference_table(length, expected):
    assert memory_data.copy_baseline(length) == pytest.approx(10 * math.log(8) / (length + 20), rel=1e-12)
    assert round(memory_data.copy_baseline(length), 4) == expected


def test_adding_baseline_is_one_sixth():
    assert memory_data.adding_baseline(100) == memory_data.ADDING_BASELINE == 1 / 6
    assert round(memory_data.adding_baseline(), 3) == 0.167


def test_the_memoryless_copy_predictor_scores_the_baseline_exactly():
    length = 30
    _, targets = memory_data.copy_batch(np.random.default_rng(0), 8, length)
    logits = np.full((8, length + 20, 9), -1e4)
    logits[:, :length + 10, 0] = 0.0  # blank with certainty while waiting
    logits[:, length + 10:, 1:] = 0.0  # then 1/8 for each data symbol
    loss = float(COPY.loss()(targets, logits))
    assert loss == pytest.approx(memory_data.copy_baseline(length), rel=1e-6)
    per_sequence = np.asarray(COPY.per_sequence_loss(targets, logits))
    np.testing.assert_allclose(per_sequence, memory_data.copy_baseline(length), rtol=1e-6)


def test_always_answering_one_scores_the_adding_baseline():
    _, targets = memory_data.adding_batch(np.random.default_rng(0), 200_000, 10)
    loss = float(ADDING.loss()(targets, np.ones_like(targets)))
    assert loss == pytest.approx(1 / 6, abs=0.002)


def test_a_perfect_predictor_scores_zero():
    _, copy_targets = memory_data.copy_batch(np.random.default_rng(0), 8, 40)
    logits = 100.0 * memory_data.one_hot(copy_targets, 9)
    assert float(COPY.loss()(copy_targets, logits)) < 1e-12
    assert float(np.mean(memory_model.copy_accuracy(copy_targets, logits))) == 1.0
    assert float(np.mean(COPY.sequence_accuracy(copy_targets, logits))) == 1.0
    _, sums = memory_data.adding_batch(np.random.default_rng(0), 8, 40)
    assert float(ADDING.loss()(sums, sums)) == 0.0
    assert ADDING.sequence_accuracy(sums, sums) is None
    metric = memory_model.LossOverBaseline("adding", 1 / 6)
    metric.update_state(sums, sums + 0.1)
    assert float(metric.result()) == pytest.approx(0.01 * 6, rel=1e-5)


def test_saved_metrics_keep_their_registered_names_and_settings():
    """Models saved before the tasks became classes name the metric and its task the same way."""
    config = keras.saving.serialize_keras_object(memory_model.LossOverBaseline("adding", 0.25))
    assert config["registered_name"] == "kerasrnn>LossOverBaseline"
    assert (config["config"]["task"], config["config"]["baseline"]) == ("adding", 0.25)
    metric = keras.saving.deserialize_keras_object(config)
    assert (metric.task, metric.baseline, metric.name) == ("adding", 0.25, "of_baseline")
    metric.update_state(np.zeros((2, 1)), np.ones((2, 1)))
    assert float(metric.result()) == pytest.approx(4.0)
    assert keras.saving.get_registered_object("kerasrnn>copy_accuracy") is memory_model.copy_accuracy


# --- registry, settings, networks --------------------------------------------------------------


def test_the_tasks_are_registered_as_two_memory_tasks():
    for name, task_class, config_class, unit in (("copy", CopyTask, CopyConfig, "nats/step"),
                                                 ("adding", AddingTask, AddingConfig, "MSE")):
        task = get_task(name)
        assert type(task) is task_class and isinstance(task, MemoryTask) and isinstance(task, Task)
        assert task.name == name and task.config_class is config_class and task.loss_unit == unit
        assert "cell" in {field.name for field in dataclasses.fields(task.config_class)}
        assert task.splits == ("validation", "test", "train")


def test_the_baselines_come_from_the_settings():
    assert COPY.baseline_of(CopyConfig(length=100)) == memory_data.copy_baseline(100)
    assert ADDING.baseline_of(AddingConfig(length=7)) == 1 / 6
    assert COPY.sequence_steps(100) == 120 and ADDING.sequence_steps(100) == 100


def test_memory_tasks_generate_their_data():
    for task in (COPY, ADDING):
        assert task.generates_data
        with pytest.raises(UserInputError, match=f"the {task.name} task generates its sequences"):
            with_data(task, task.config_class(), "python_docs", None)


@pytest.mark.parametrize("cell, clipvalue", [("vanilla", 1.0), ("lstm", 1.0), ("gru", 1.0), ("urnn", None)])
def test_the_paper_optimiser_is_the_default(cell, clipvalue):
    config = COPY.default_train_config(CopyConfig(cell=cell))
    assert (config.optimizer, config.learning_rate, config.decay) == ("rmsprop", 1e-3, False)
    assert config.clipvalue == clipvalue and config.clipnorm is None
    assert (config.batch_size, config.steps_per_epoch, config.epochs) == (20, 100, 30)
    assert ADDING.default_train_config(AddingConfig(cell=cell)) == config
    assert COPY.steps_per_epoch(CopyConfig(cell=cell), config, None) == 100
    optimizer = make_optimizer(config, 100)
    assert isinstance(optimizer, keras.optimizers.RMSprop) and optimizer.rho == 0.9
    assert optimizer.clipvalue == clipvalue and optimizer.clipnorm is None


@pytest.mark.parametrize(
    "config_class, arguments, message",
    [
        (CopyConfig, {"length": 0}, "length must be an integer of at least 1, got 0"),
        (AddingConfig, {"length": 1}, "length must be an integer of at least 2, got 1"),
        (CopyConfig, {"units": 0}, "units must be a positive integer"),
        (AddingConfig, {"cell": "transformer"}, "unknown cell 'transformer'"),
        (CopyConfig, {"validation_size": -1}, "validation size must be a positive integer"),
    ],
)
def test_config_rejects_bad_values(config_class, arguments, message):
    with pytest.raises(UserInputError, match=message):
        config_class(**arguments)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_every_cell_builds_both_networks(cell):
    copy_config = CopyConfig(cell=cell, units=4, length=3)
    adding_config = AddingConfig(cell=cell, units=4, length=6)
    copy_inputs, _ = COPY.make_batch(np.random.default_rng(0), 2, 3)
    assert COPY.build_model(copy_config, None, seed=0)(copy_inputs).shape == (2, 23, 9)
    adding_inputs, _ = ADDING.make_batch(np.random.default_rng(0), 2, 6)
    model = ADDING.build_model(adding_config, None, seed=0)
    assert model(adding_inputs).shape == (2, 1)
    readout_inputs = 8 if cell == "urnn" else 4  # [Re h; Im h]
    assert model.get_layer("readout").kernel.shape == (readout_inputs, 1)


def test_training_batches_are_seeded_by_step():
    config = AddingConfig(length=8)
    stream = iter(memory_model.training_batches(ADDING, config, 4, seed=5))
    first = next(stream)
    second = next(stream)
    resumed = next(iter(memory_model.training_batches(ADDING, config, 4, seed=5, first_step=1)))
    np.testing.assert_array_equal(second[0].numpy(), resumed[0].numpy())
    # The same batches as the generator's own: batch i from the generator seeded (seed, i).
    inputs, targets = memory_data.adding_batch(np.random.default_rng([5, 0]), 4, 8)
    np.testing.assert_array_equal(first[0].numpy(), inputs)
    np.testing.assert_array_equal(first[1].numpy(), targets)


def test_the_task_datasets_start_at_first_step_and_keep_the_fixed_validation_set():
    config = CopyConfig(length=4, validation_size=6)
    train_config = dataclasses.replace(COPY.default_train_config(config), batch_size=4, seed=3)
    train_data, validation = COPY.datasets(config, train_config, None, first_step=7)
    inputs, targets = next(iter(train_data))
    ids, expected = memory_data.copy_batch(np.random.default_rng([3, 7]), 4, 4)
    np.testing.assert_array_equal(inputs.numpy(), memory_data.one_hot(ids))
    np.testing.assert_array_equal(targets.numpy(), expected)
    batches = list(validation)
    assert [int(batch[0].shape[0]) for batch in batches] == [4, 2]
    _, fixed = memory_data.copy_batch(np.random.default_rng(1_000_001), 6, 4)  # whatever the seed
    np.testing.assert_array_equal(np.concatenate([batch[1].numpy() for batch in batches]), fixed)


# --- training and evaluation -------------------------------------------------------------------


def _short(config, **changes):
    return dataclasses.replace(COPY.default_train_config(config), **{"epochs": 2, "steps_per_epoch": 3,
                                                                     **changes})


def test_train_evaluate_and_resume_a_copy_run(tmp_path):
    config = CopyConfig(cell="urnn", units=8, length=5, validation_size=40)
    run_dir = tmp_path / "run"
    result = train(COPY, config, _short(config), run_dir, verbose=0)
    baseline = 10 * math.log(8) / 25
    assert result.steps == 6 and math.isfinite(result.validation.loss)
    assert result.validation.baseline == pytest.approx(baseline)
    assert "memoryless baseline 0.8318 nats/step" in result.summary()
    metrics = json.loads((run_dir / run_files.METRICS_FILE).read_text())
    assert set(metrics) == {"validation_loss", "baseline", "loss_over_baseline", "loss_unit", "copy_accuracy",
                            "best_epoch", "epochs", "parameters",  # the keys metrics.json always had
                            "distribute", "replicas"}  # and how many devices trained it
    assert metrics["validation_loss"] == pytest.approx(result.validation.loss)
    assert metrics["baseline"] == pytest.approx(baseline)
    assert metrics["loss_over_baseline"] == pytest.approx(result.validation.loss / baseline)
    assert metrics["loss_unit"] == "nats/step" and metrics["epochs"] == 2
    assert 0 <= metrics["copy_accuracy"] <= 1
    assert json.loads((run_dir / run_files.TIMING_FILE).read_text())["seconds_per_step"] > 0
    assert COPY.baseline(run_dir) == pytest.approx(baseline)
    assert COPY.load_model(run_dir).count_params() == result.parameters
    compiled = keras.models.load_model(run_dir / run_files.MODEL_FILE)  # its metrics deserialised too
    scores = compiled.evaluate(*COPY.make_batch(np.random.default_rng(0), 8, 5), return_dict=True, verbose=0)
    assert scores["of_baseline"] * baseline == pytest.approx(scores["loss"], rel=1e-5)
    assert 0 <= scores["copy_accuracy"] <= 1
    history = run_files.read_history(run_dir)
    assert {"of_baseline", "copy_accuracy", "val_of_baseline", "val_copy_accuracy"} <= set(history)
    assert history["val_of_baseline"][-1] * baseline == pytest.approx(history["val_loss"][-1], rel=1e-4)

    evaluation = COPY.evaluate(run_dir, split="validation")
    assert evaluation.loss == pytest.approx(result.validation.loss, rel=1e-6)
    test = COPY.evaluate(run_dir, split="test")
    assert test.loss != evaluation.loss and "Test loss" in test.summary()

    with pytest.raises(UserInputError, match="generates its sequences"):
        COPY.evaluate(run_dir, data="python_docs")
    with pytest.raises(UserInputError, match="holds a 'copy' run, not a adding one"):
        ADDING.evaluate(run_dir)
    with pytest.raises(UserInputError, match="task settings differ"):
        train(COPY, dataclasses.replace(config, units=9), _short(config), run_dir, resume=True)
    longer = train(COPY, config, _short(config, epochs=3), run_dir, resume=True, verbose=0)
    assert longer.epochs == 3 and longer.steps == 9


def test_short_training_beats_the_adding_baseline(tmp_path):
    """A small LSTM learns short adding sequences (T = 6) to well under the 1/6 baseline."""
    config = AddingConfig(cell="lstm", units=16, length=6, validation_size=500)
    train_config = dataclasses.replace(ADDING.default_train_config(config), epochs=3, steps_per_epoch=100,
                                       batch_size=64, learning_rate=1e-2)
    result = train(ADDING, config, train_config, tmp_path / "run", verbose=0)
    assert result.validation.loss < 0.25 * memory_data.adding_baseline()
    assert result.validation.copy_accuracy is None and "copied symbols" not in result.summary()
    metrics = json.loads((tmp_path / "run" / run_files.METRICS_FILE).read_text())
    assert metrics["loss_unit"] == "MSE" and "copy_accuracy" not in metrics


# --- the bars of the issue (minutes each: `python -m pytest -m slow`) --------------------------


@pytest.mark.slow
@pytest.mark.parametrize("cell, below", [("urnn", 0.1), ("vanilla", None)])
def test_copy_100_bar(tmp_path, cell, below):
    """Copy, T = 100: the uRNN goes below 10 % of the baseline; the tanh RNN stays near it."""
    config = CopyConfig(cell=cell, length=100)
    train_config = dataclasses.replace(COPY.default_train_config(config), epochs=10)
    result = train(COPY, config, train_config, tmp_path / "run", verbose=0)
    ratio = result.validation.loss / result.validation.baseline
    if below is not None:
        assert ratio < below
    else:
        assert ratio > 0.9


def test_an_untrained_copy_model_is_not_called_diverged(tmp_path):
    """copy's memoryless baseline (10·ln 8 / (T + 20)) is far below an untrained model's loss (about
    ln 9): the divergence threshold is 10 × the uniform guess's loss instead, and a short run of an
    untrained model trains to its end."""
    task = get_task("copy")
    config = task.config_class(cell="lstm", units=16, length=10)
    assert task.divergence_threshold(config, None) == 10 * math.log(9)
    train_config = dataclasses.replace(task.default_train_config(config), epochs=2, steps_per_epoch=3)
    result = train(task, config, train_config, tmp_path / "run", device="cpu", verbose=0)
    assert result.epochs == 2
