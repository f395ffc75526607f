"""`TrainConfig`: the settings of training that every task shares (optimizer, budget, seed).

A task starts from its own defaults (`Task.default_train_config`) and the user changes fields of
them (`kerasrnn.engine.settings.resolve_configs`); every run directory saves the result in
`config.json`.

Example:

```python
config = TrainConfig(epochs=2, steps_per_epoch=50, learning_rate=3e-3)
dataclasses.replace(config, clipnorm=None, clipvalue=1.0)
```
"""

from __future__ import annotations

import dataclasses

from kerasrnn import checks
from kerasrnn.errors import UserInputError

OPTIMIZERS = ("adam", "rmsprop")
# 32 bits: the XLA sampling loop's seeds are int32, and the final sample uses the run's seed.
MAX_SEED = 2**31 - 1


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Settings of `fit` shared by every task.

    Attributes:
      epochs: number of epochs (an epoch is `steps_per_epoch` batches, then a validation pass).
      steps_per_epoch: batches per epoch; None: the task's one pass over its training data.
      batch_size: sequences per batch.
      learning_rate: peak learning rate of the optimizer.
      decay: cosine-decay the learning rate to `learning_rate * final_learning_rate_fraction` over the
        run (True) or keep it constant (False).
      final_learning_rate_fraction: see `decay`.
      optimizer: `"adam"` or `"rmsprop"` (the uRNN paper's, rho 0.9).
      clipnorm: clip each gradient to this norm; None: no clipping.
      clipvalue: clip each gradient element to [−clipvalue, clipvalue] (the uRNN paper's clipping
        of the LSTM and tanh RNN); None: no clipping. At most one of clipnorm and clipvalue.
      patience: stop after this many epochs without a better validation measure (the task's
        `monitored` one: the loss, or for classifiers the accuracy).
      seed: seed of weights, data order, dropout and the final sample.
      mixed_precision: compute in float16 with float32 weights (GPU only).
      validation_steps: validation batches after each epoch (the first ones of the split, the same
        every epoch); None: the whole validation split. The final evaluation always covers it all.
      warmup_steps: raise the learning rate linearly from 0 to `learning_rate` over the first steps,
        then decay (or keep) it as `decay` says.
      time_budget: minutes of training (validation included) the run should take: the epochs
        are planned from the step and validation times measured on a throwaway copy of the model,
        then re-planned after every epoch from the run's own pace, and the decay refitted so that
        the last step has the final rate (`kerasrnn.engine.budget`); `epochs` stays the most it
        may plan. None: no budget.
    """

    # Generic defaults: every task states its own in `Task.default_train_config`, and a field it
    # leaves out takes these.
    epochs: int = 6
    steps_per_epoch: int | None = 50
    batch_size: int = 256
    learning_rate: float = 8e-3
    decay: bool = True
    final_learning_rate_fraction: float = 0.1
    optimizer: str = "adam"
    clipnorm: float | None = 1.0
    patience: int = 5
    seed: int = 0
    mixed_precision: bool = False
    clipvalue: float | None = None
    validation_steps: int | None = None
    warmup_steps: int = 0
    time_budget: float | None = None

    def __post_init__(self):
        checks.positive_int("epochs", self.epochs)
        if self.steps_per_epoch is not None:
            checks.positive_int("steps per epoch", self.steps_per_epoch)
        checks.positive_int("batch size", self.batch_size)
        checks.positive_int("patience", self.patience)
        checks.positive_float("learning rate", self.learning_rate)
        if not 0 < self.final_learning_rate_fraction <= 1:
            raise UserInputError(
                f"final learning rate fraction must be in (0, 1], got {self.final_learning_rate_fraction!r}"
            )
        checks.one_of("optimizer", self.optimizer, OPTIMIZERS)
        checks.positive_float("clipnorm", self.clipnorm, optional=True)
        checks.positive_float("clipvalue", self.clipvalue, optional=True)
        if self.clipnorm is not None and self.clipvalue is not None:
            raise UserInputError("clip by norm or by value, not both: set clipnorm or clipvalue to None")
        checks.int_in_range("seed", self.seed, 0, MAX_SEED)
        if self.validation_steps is not None:
            checks.positive_int("validation steps", self.validation_steps)
        checks.int_in_range("warm-up steps", self.warmup_steps, 0, 10**9)
        checks.positive_float("time budget", self.time_budget, optional=True)
