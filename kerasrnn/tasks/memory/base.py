"""What the two long-memory tasks (`copy`, `adding`) share: settings, training, evaluation, results.

`MemoryTask` is the whole of a long-memory task as the run skeleton (`kerasrnn.engine.run.train`)
sees it; its two subclasses, `CopyTask` (`copying`) and `AddingTask` (`adding`), say only what
differs: the sequences (`make_batch`), their shapes, the readout, the loss and the baseline. The
network and the tf.data pipelines are in `model` (imported only inside the methods, so that reading
the settings does not import TensorFlow); the generators and the baselines are in `data`.

Training follows the paper (Arjovsky, Shah & Bengio 2016): RMSprop with learning rate 1e-3 and
rho 0.9, a constant learning rate, gradients clipped elementwise at 1 for every cell but the uRNN
(`default_train_config`). Training data are drawn afresh for every step from a seeded generator;
the validation and test sets are fixed (their seeds do not depend on the training seed), so runs
with different seeds or cells are scored on the same sequences. Every loss is printed next to the
memoryless baseline, and the models log `of_baseline` (loss / baseline) beside the loss.

Example:

```python
from kerasrnn.engine.run import train

task = CopyTask()
config = task.config_class(cell="urnn", length=100)
result = train(task, config, task.default_train_config(config), Path("runs/copy"))
task.evaluate(Path("runs/copy"), split="test").summary()
```
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

from kerasrnn import checks
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.recurrent import check_cell_name
from kerasrnn.tasks.base import Task

# Fixed seeds of the evaluation sets: the same sequences whatever the training seed.
SPLIT_SEEDS = {"validation": 1_000_001, "test": 1_000_002, "train": 1_000_003}


@dataclasses.dataclass(frozen=True)
class MemoryTaskConfig:
    """Settings of a long-memory task (see `CopyConfig`, `AddingConfig`).

    Attributes:
      cell: recurrent layer, one of `kerasrnn.recurrent.CELL_NAMES`.
      units: units of the recurrent layer (complex units for `urnn`).
      length: T, the delay (copy) or the sequence length (adding); at least `MIN_LENGTH`.
      validation_size: sequences in the fixed validation (and test) set.
    """

    cell: str = "lstm"
    units: int = 128
    length: int = 100
    validation_size: int = 1000

    MIN_LENGTH: ClassVar[int] = 1

    def __post_init__(self):
        check_cell_name(self.cell)
        checks.positive_int("units", self.units)
        checks.positive_int("validation size", self.validation_size)
        checks.int_at_least("length", self.length, self.MIN_LENGTH)


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Loss of a model on a fixed set of sequences, with the memoryless baseline."""

    split: str
    loss: float
    baseline: float
    sequences: int
    unit: str
    copy_accuracy: float | None = None  # copy only: fraction of the 10 recalled symbols right

    def summary(self) -> str:
        ratio = self.loss / self.baseline
        loss = f"{self.loss:.4f}" if self.loss >= 1e-3 or self.loss == 0 else f"{self.loss:.2e}"
        share = f"{ratio:.1%}" if ratio >= 1e-3 or ratio == 0 else f"{ratio * 100:.1e} %"
        text = (
            f"{self.split.capitalize()} loss {loss} {self.unit} over {self.sequences:,} sequences; "
            f"memoryless baseline {self.baseline:.4f} {self.unit} (the model's loss is {share} of it)"
        )
        if self.copy_accuracy is not None:
            text += f"; {self.copy_accuracy:.1%} of the copied symbols right (chance 12.5%)"
        return text

    def as_metrics(self) -> dict:
        metrics = {
            f"{self.split}_loss": self.loss,
            "baseline": self.baseline,
            "loss_over_baseline": self.loss / self.baseline,
            "loss_unit": self.unit,
        }
        if self.copy_accuracy is not None:
            metrics["copy_accuracy"] = self.copy_accuracy
        return metrics


class MemoryTask(Task):
    """A long-memory benchmark of the uRNN paper: endless generated sequences, a fixed validation
    set, every loss next to the memoryless baseline (see the module docstring).

    What a subclass defines:
      name, config_class, loss_unit: as for every `Task`.
      input_name, input_features: the network's input layer's name and features per step.
      output_size: units of the readout (logits for copy, one number for adding).
      reads_every_step: whether the loss reads the output of every step (copy) or of the last.
      sequence_steps(length): steps of a sequence of the task with T = `length`.
      make_batch(rng, batch_size, length, dtype): one batch `(inputs, targets)` as the network takes it.
      target_spec(length): `(shape without the batch, dtype)` of the targets.
      baseline_of(config): the memoryless baseline, in `loss_unit`.
      loss(), per_sequence_loss(targets, predictions): the Keras loss and its value per sequence.
      readout(layer, outputs): predictions from the time-major recurrent outputs `(T, batch, units)`.
      extra_metrics(), sequence_accuracy(targets, predictions): what is scored besides the loss.
    """

    config_class: ClassVar[type] = MemoryTaskConfig
    baseline_metric = "baseline"
    generates_data = True
    input_name: ClassVar[str]
    input_features: ClassVar[int]
    output_size: ClassVar[int]
    reads_every_step: ClassVar[bool]

    # --- what differs between the tasks ----------------------------------------------------------

    def sequence_steps(self, length: int) -> int:
        return length

    def make_batch(self, rng, batch_size: int, length: int, dtype="float32"):
        raise NotImplementedError

    def target_spec(self, length: int) -> tuple[tuple[int, ...], str]:
        raise NotImplementedError

    def baseline_of(self, config: MemoryTaskConfig) -> float:
        raise NotImplementedError

    def loss(self):
        raise NotImplementedError

    def per_sequence_loss(self, targets, predictions):
        raise NotImplementedError

    def readout(self, layer, outputs):
        raise NotImplementedError

    def extra_metrics(self) -> list:
        """Keras metrics logged besides `of_baseline` (none by default)."""
        return []

    def sequence_accuracy(self, targets, predictions):
        """The accuracy of each sequence, shape `(batch,)`; None: the task has no accuracy."""
        return None

    # --- settings --------------------------------------------------------------------------------

    def default_train_config(self, config: MemoryTaskConfig) -> TrainConfig:
        """The paper's training settings: RMSprop 1e-3 (rho 0.9), constant rate, clipvalue 1 but for urnn.

        Batches of 20 sequences as in the paper, 100 steps per epoch (an epoch is the interval between
        validation passes, the data being endless), 30 epochs, and no early stop: the copy loss sits
        on the baseline for a long time before it drops.
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

    # --- the run skeleton's hooks ----------------------------------------------------------------

    def steps_per_epoch(self, config, train_config: TrainConfig, prepared) -> int:
        return self.default_train_config(config).steps_per_epoch

    def build_model(self, config, prepared=None, *, seed: int | None = None):
        from kerasrnn.tasks.memory import model

        return model.build_model(self, config, seed=seed)

    def compile_arguments(self, config, prepared=None) -> dict:
        from kerasrnn.tasks.memory.model import LossOverBaseline

        return {"loss": self.loss(),
                "metrics": [LossOverBaseline(self.name, self.baseline_of(config)), *self.extra_metrics()]}

    def training_memory(self, config, train_config, prepared) -> int:
        from kerasrnn.engine.memory import recurrent_training_bytes

        return recurrent_training_bytes(cell=config.cell, units=config.units, layers=1, inputs=self.input_features,
                                        vocabulary=0, batch_size=train_config.batch_size,
                                        steps=self.sequence_steps(config.length),
                                        outputs_per_step=self.output_size if self.reads_every_step else 0)

    def divergence_threshold(self, config, prepared) -> float:
        return 10 * self.baseline_of(config)

    def describe(self, model, config, prepared) -> str:
        return (f"{model.name}: {model.count_params():,} parameters; memoryless baseline "
                f"{self.baseline_of(config):.4f} {self.loss_unit}")

    def datasets(self, config, train_config: TrainConfig, prepared, *, first_step: int = 0):
        from kerasrnn.tasks.memory import model

        return (
            model.training_batches(self, config, train_config.batch_size, train_config.seed,
                                   first_step=first_step),
            model.fixed_set(self, config, SPLIT_SEEDS["validation"], config.validation_size,
                            train_config.batch_size),
        )

    def evaluate_model(self, model, config, prepared, split: str, run_dir: Path | None = None) -> Evaluation:
        """The loss (and accuracy, for copy) of `model` on the fixed `split` set, in float64."""
        from kerasrnn.tasks.memory.model import evaluate_on_fixed_set

        size = config.validation_size
        loss, accuracy = evaluate_on_fixed_set(self, config, model, SPLIT_SEEDS[split], size)
        return Evaluation(split, loss, self.baseline_of(config), size, self.loss_unit, accuracy)

    # --- a finished run --------------------------------------------------------------------------

    def load_model(self, run_dir: Path):
        from kerasrnn.tasks.memory import model  # noqa: F401 - registers the metrics

        return super().load_model(run_dir)

    def baseline(self, run_dir: Path) -> float:
        """The memoryless baseline of the run in `run_dir`, from its saved settings."""
        config, _ = self.load_configs(run_dir)
        return self.baseline_of(config)
