"""A new task needs a `Task` subclass and one registry line, nothing else: a toy task trained,
evaluated, resumed and compared through the CLI.

The toy task: read ten numbers from U[0, 1] and output their mean. Always answering 1/2 scores the
variance of the mean, 1/120 (the baseline); a recurrent network that adds up its inputs beats it.
"""

import dataclasses
import json

import numpy as np
import pytest

from kerasrnn import tasks
from kerasrnn.recurrent import check_cell_name, make_recurrent_layer
from kerasrnn.tasks.base import LossEvaluation, Task
from tests.cli_helpers import assert_one_line_error, run

STEPS = 10
BASELINE = 1 / 120  # E[(mean − 1/2)²] = (1/12) / 10


@dataclasses.dataclass(frozen=True)
class MeanConfig:
    cell: str = "gru"
    units: int = 8

    def __post_init__(self):
        check_cell_name(self.cell)


def _sequences(seed: int, count: int):
    inputs = np.random.default_rng(seed).random((count, STEPS, 1), dtype=np.float32)
    return inputs, inputs.mean(axis=1)


class MeanTask(Task):
    """The whole task: settings, network, loss, data and scoring — nothing about how it is trained."""

    name, config_class, loss_unit = "mean", MeanConfig, "MSE"

    def default_train_config(self, config):
        from kerasrnn.engine.train_config import TrainConfig

        return TrainConfig(epochs=4, steps_per_epoch=60, batch_size=32, learning_rate=2e-2)

    def build_model(self, config, prepared, *, seed):
        import keras

        inputs = keras.Input((STEPS, 1))
        hidden = make_recurrent_layer(config.cell, config.units, return_sequences=False, seed=seed)(inputs)
        return keras.Model(inputs, keras.layers.Dense(1)(hidden), name=f"mean_{config.cell}")

    def compile_arguments(self, config, prepared):
        return {"loss": "mse"}

    def datasets(self, config, train_config, prepared, *, first_step=0):
        import tensorflow as tf

        train = tf.data.Dataset.from_tensor_slices(_sequences(train_config.seed, 4096))
        validation = tf.data.Dataset.from_tensor_slices(_sequences(10**6, 512))
        return train.repeat().batch(train_config.batch_size), validation.batch(256)

    def evaluate_model(self, model, config, prepared, split, run_dir):
        inputs, targets = _sequences({"validation": 10**6, "test": 10**6 + 1, "train": 0}[split], 512)
        loss = float(np.mean((model.predict(inputs, verbose=0) - targets) ** 2))
        return LossEvaluation(split, loss, self.loss_unit, BASELINE)

    def baseline(self, run_dir):
        return BASELINE


@pytest.fixture
def registered(monkeypatch):
    """The one line a new task adds to `kerasrnn.tasks.TASKS`."""
    monkeypatch.setitem(tasks.TASKS, "mean", f"{__name__}:MeanTask")


def test_a_new_task_trains_evaluates_resumes_and_compares_through_the_cli(registered, tmp_path):
    run_dir = tmp_path / "run"
    result = run("train", "--task", "mean", "--units", "8", "--run-dir", run_dir)
    assert result.exit_code == 0, result.output
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["validation_loss"] < 0.5 * BASELINE, metrics  # learned to add up, not to guess 1/2
    assert metrics["epochs"] == 4 and metrics["parameters"] > 0
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["task"] == "mean" and saved["train_config"]["steps_per_epoch"] == 60  # the task's defaults

    evaluation = run("evaluate", run_dir, "--split", "test")
    assert evaluation.exit_code == 0 and "Test loss" in evaluation.output, evaluation.output
    longer = run("train", "--resume", "--run-dir", run_dir, "--epochs", "5")
    assert longer.exit_code == 0, longer.output
    assert json.loads((run_dir / "metrics.json").read_text())["epochs"] == 5

    # What the base class says for abilities the task does not have, and options it has no field for.
    assert_one_line_error(run("generate", run_dir), "holds a mean run, which cannot generate text")
    assert_one_line_error(run("export", run_dir, tmp_path / "export"), "cannot be exported")
    assert_one_line_error(run("train", "--task", "mean", "--seq-len", "5", "--run-dir", tmp_path / "x"),
                          "--seq-len does not apply to the mean task", exit_code=2)

    compared = run("compare", "--task", "mean", "--cells", "vanilla,gru", "--steps", "20",
                   "--evaluations", "2", "--out-dir", tmp_path / "cmp")
    assert compared.exit_code == 0, compared.output
    assert "| gru |" in compared.output and "MSE" in compared.output
