"""What the two long-memory tasks (`copy`, `adding`) share: settings, training, evaluation, results.

The task modules `copy_memory` and `adding` are thin: they name the task and its settings class and
call the functions here with it. The network and the tf.data pipelines are in `memory_model`
(imported only where needed, so that reading the settings does not import TensorFlow); the data
generators and the baselines are in `memory_data`.

Training follows the paper (Arjovsky, Shah & Bengio 2016): RMSprop with learning rate 1e-3 and
rho 0.9, a constant learning rate, gradients clipped elementwise at 1 for every cell but the uRNN
(`default_train_config`). Training data are drawn afresh for every step from a seeded generator;
the validation and test sets are fixed (their seeds do not depend on the training seed), so runs
with different seeds or cells are scored on the same sequences. Every loss is printed next to the
memoryless baseline, and the models log `of_baseline` (loss / baseline) beside the loss.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

from kerasrnn import training
from kerasrnn.errors import UserInputError
from kerasrnn.recurrent import check_cell_name
from kerasrnn.tasks import memory_data
from kerasrnn.training import TrainConfig

logger = logging.getLogger(__name__)

SPLITS = ("validation", "test", "train")
# Fixed seeds of the evaluation sets: the same sequences whatever the training seed.
SPLIT_SEEDS = {"validation": 1_000_001, "test": 1_000_002, "train": 1_000_003}


@dataclasses.dataclass(frozen=True)
class MemoryTaskConfig:
    """Settings of a long-memory task (see `CopyConfig`, `AddingConfig`).

    Attributes:
      cell: recurrent layer, one of `kerasrnn.recurrent.CELL_NAMES`.
      units: units of the recurrent layer (complex units for `urnn`).
      length: T, the delay (copy) or the sequence length (adding).
      validation_size: sequences in the fixed validation (and test) set.
    """

    cell: str = "lstm"
    units: int = 128
    length: int = 100
    validation_size: int = 1000

    MIN_LENGTH = 1  # class attribute, not a field

    def __post_init__(self):
        check_cell_name(self.cell)
        for label, value in (("units", self.units), ("validation size", self.validation_size)):
            _check_positive(label, value)
        if isinstance(self.length, bool) or not isinstance(self.length, int) or self.length < self.MIN_LENGTH:
            raise UserInputError(
                f"length must be an integer of at least {self.MIN_LENGTH}, got {self.length!r}"
            )


def _check_positive(label, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserInputError(f"{label} must be a positive integer, got {value!r}")


def baseline_of(task: str, config: MemoryTaskConfig) -> float:
    """The memoryless baseline of `task` at `config.length`: nats per step (copy) or MSE (adding)."""
    if task == "copy":
        return memory_data.copy_baseline(config.length)
    return memory_data.adding_baseline(config.length)


def loss_unit(task: str) -> str:
    return "nats/step" if task == "copy" else "MSE"


def default_train_config(config: MemoryTaskConfig) -> TrainConfig:
    """The paper's training settings: RMSprop 1e-3 (rho 0.9), constant rate, clipvalue 1 but for urnn.

    Batches of 20 sequences as in the paper, 100 steps per epoch (an epoch is the interval between
    validation passes, the data being endless), 30 epochs, and no early stop: the copy loss sits on
    the baseline for a long time before it drops.
    """
    return TrainConfig(
        epochs=30,
        steps_per_epoch=100,
        batch_size=20,
        learning_rate=1e-3,
        decay=False,
        optimizer="rmsprop",
        clipnorm=None,
        clipvalue=None if config.cell == "urnn" else 1.0,
        patience=1000,
    )


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Loss of a model on a fixed set of sequences, with the memoryless baseline."""

    task: str
    split: str
    loss: float
    baseline: float
    sequences: int
    copy_accuracy: float | None = None  # copy only: fraction of the 10 recalled symbols right

    def summary(self) -> str:
        unit = loss_unit(self.task)
        ratio = self.loss / self.baseline
        loss = f"{self.loss:.4f}" if self.loss >= 1e-3 or self.loss == 0 else f"{self.loss:.2e}"
        share = f"{ratio:.1%}" if ratio >= 1e-3 or ratio == 0 else f"{ratio * 100:.1e} %"
        text = (
            f"{self.split.capitalize()} loss {loss} {unit} over {self.sequences:,} sequences; "
            f"memoryless baseline {self.baseline:.4f} {unit} (the model's loss is {share} of it)"
        )
        if self.copy_accuracy is not None:
            text += f"; {self.copy_accuracy:.1%} of the copied symbols right (chance 12.5%)"
        return text


def train(
    task: str,
    config: MemoryTaskConfig,
    train_config: TrainConfig,
    run_dir: Path | None = None,
    *,
    resume: bool = False,
    device: str = "auto",
    verbose: str | int = "auto",
) -> training.TrainResult:
    """Trains `config.cell` on `task` (`"copy"` or `"adding"`) into a run directory, or resumes one.

    Raises:
      UserInputError: bad run directory, settings that differ from the resumed run, divergence.
    """
    import keras

    from kerasrnn.tasks import memory_model

    started = time.monotonic()
    run_dir, _ = training.start_run(task, config, train_config, run_dir, resume=resume, device=device,
                                    saved_configs=lambda path: load_configs(task, type(config), path))
    training.save_config(run_dir, task, config, train_config)

    keras.utils.set_random_seed(train_config.seed)
    steps = train_config.steps_per_epoch or default_train_config(config).steps_per_epoch
    model = memory_model.build_model(task, config, seed=train_config.seed)
    baseline = baseline_of(task, config)
    model.compile(
        optimizer=training.make_optimizer(train_config, train_config.epochs * steps),
        loss=memory_model.loss_function(task),
        metrics=memory_model.metrics(task, baseline),
    )
    logger.info("%s: %s parameters; memoryless baseline %.4f %s", model.name,
                f"{model.count_params():,}", baseline, loss_unit(task))
    done_steps = len(training.read_history(run_dir).get("epoch", [])) * steps
    history = training.fit(
        model,
        memory_model.training_batches(task, config, train_config.batch_size, train_config.seed,
                                      first_step=done_steps),
        memory_model.fixed_set(task, config, SPLIT_SEEDS["validation"], config.validation_size,
                               train_config.batch_size),
        run_dir,
        train_config,
        steps_per_epoch=steps,
        verbose=verbose,
    )
    best = load_model(task, run_dir)
    validation = _evaluate_model(task, config, best, "validation")
    best_epoch = training.best_epoch(history)
    metrics = {
        "validation_loss": validation.loss,
        "baseline": validation.baseline,
        "loss_over_baseline": validation.loss / validation.baseline,
        "loss_unit": loss_unit(task),
        "best_epoch": best_epoch,
        "epochs": len(history["epoch"]),
        "parameters": best.count_params(),
    }
    if validation.copy_accuracy is not None:
        metrics["copy_accuracy"] = validation.copy_accuracy
    training.write_json(run_dir / training.METRICS_FILE, metrics)
    return training.TrainResult(
        run_dir=run_dir,
        epochs=len(history["epoch"]),
        steps=len(history["epoch"]) * steps,
        best_epoch=best_epoch,
        seconds=time.monotonic() - started,
        parameters=best.count_params(),
        validation=validation,
    )


def load_configs(task: str, config_class, run_dir: Path) -> tuple[MemoryTaskConfig, TrainConfig]:
    """The task settings and `TrainConfig` saved in a run directory of `task`."""
    return training.load_task_configs(run_dir, task, config_class)


def load_model(task: str, run_dir: Path) -> "keras.Model":
    """The best model saved in a run directory of `task`."""
    from kerasrnn.tasks import memory_model  # noqa: F401 - registers the metrics

    saved = training.load_config(training.check_run_dir(run_dir))
    if saved["task"] != task:
        raise UserInputError(f"{run_dir} holds a {saved['task']!r} run, not a {task} one")
    return training.load_best_model(run_dir, saved["task_config"].get("cell"))


def baseline(task: str, config_class, run_dir: Path) -> float:
    """The memoryless baseline of the run in `run_dir`."""
    config, _ = load_configs(task, config_class, run_dir)
    return baseline_of(task, config)


def evaluate(
    task: str,
    config_class,
    run_dir: Path,
    *,
    split: str = "validation",
    data: str | None = None,
    data_dir: str | None = None,
    device: str = "auto",
) -> Evaluation:
    """Loss of a run's best model on the fixed `split` set (`validation`, `test` or `train`).

    Raises:
      UserInputError: not a run of `task`; an unknown split; `data` or `data_dir` given (the task
        generates its data).
    """
    if data is not None or data_dir is not None:
        raise UserInputError(f"the {task} task generates its sequences: drop --data and --data-dir")
    if split not in SPLITS:
        raise UserInputError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    config, _ = load_configs(task, config_class, run_dir)
    training.select_device(device)
    return _evaluate_model(task, config, load_model(task, run_dir), split)


def _evaluate_model(task, config, model, split) -> Evaluation:
    from kerasrnn.tasks import memory_model

    loss, copy_accuracy = memory_model.evaluate_model(
        task, config, model, SPLIT_SEEDS[split], config.validation_size
    )
    return Evaluation(task, split, loss, baseline_of(task, config), config.validation_size, copy_accuracy)
