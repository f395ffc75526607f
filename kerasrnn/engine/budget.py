"""`--time-budget MINUTES`: how many epochs fit in the minutes given, decided before training.

A learning-rate schedule needs the number of steps before the first one, so the budget cannot
just stop a run when the time is up (its learning rate would still be high). Instead a throwaway
copy of the model trains a few steps and validates a few batches; the seconds per step and per
validation pass, and the minutes already spent loading the data, give the number of epochs that fit
(never more than `--epochs`). That number is saved in the run's `config.json`, so the run — and a
resumed one — is an ordinary run of that many epochs. A `TimeBudget` callback
(`kerasrnn.engine.callbacks`) still ends training after an epoch when the next one would overrun
the budget (a machine that got slower).

Example:

```python
train_config = epochs_within_budget(task, config, train_config, prepared, steps, distribution, started)
```
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time

from kerasrnn.engine.train_config import TrainConfig

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class BudgetPlan:
    """What the measurement gave: seconds per step and per validation pass, and the epochs chosen."""

    seconds_per_step: float
    seconds_per_validation: float
    epochs: int
    seconds_left: float

    def summary(self, budget_minutes: float, steps_per_epoch: int) -> str:
        minutes = self.epochs * (steps_per_epoch * self.seconds_per_step + self.seconds_per_validation) / 60
        return (f"Time budget {budget_minutes:g} min: {1000 * self.seconds_per_step:.0f} ms a step and "
                f"{self.seconds_per_validation:.1f} s a validation pass measured, so {self.epochs} epoch"
                f"{'s' if self.epochs != 1 else ''} of {steps_per_epoch:,} steps (about {minutes:.1f} min)")


def plan_epochs(*, budget_minutes: float, spent_seconds: float, steps_per_epoch: int, seconds_per_step: float,
                seconds_per_validation: float, most: int) -> BudgetPlan:
    """The most epochs (at least 1, at most `most`) whose steps and validations fit in what is left."""
    left = budget_minutes * 60 - spent_seconds
    epoch = steps_per_epoch * seconds_per_step + seconds_per_validation
    fitting = math.floor(left / epoch) if epoch > 0 else most
    return BudgetPlan(seconds_per_step, seconds_per_validation, max(1, min(most, fitting)), left)


def epochs_within_budget(task, config, train_config: TrainConfig, prepared, steps_per_epoch: int,
                         distribution, started: float) -> TrainConfig:
    """`train_config` with `epochs` lowered to what fits in `train_config.time_budget` (minutes since
    `started`, a `time.monotonic()`), measured on a throwaway model. Every worker of a cluster takes
    the chief's figure."""
    import numpy as np

    from kerasrnn.engine import fitting
    from kerasrnn.engine.distribution import broadcast_from_chief
    from kerasrnn.engine.loop import measure_seconds

    with distribution.strategy.scope():
        model = task.build_model(config, prepared, seed=train_config.seed)
        model.compile(optimizer=fitting.make_optimizer(train_config, train_config.epochs * steps_per_epoch),
                      **task.compile_arguments(config, prepared))
    train_data, validation_data = task.datasets(config, train_config, prepared)
    if train_config.validation_steps is not None:
        validation_data = validation_data.take(train_config.validation_steps)
    per_step, per_batch = measure_seconds(model, distribution.strategy, train_data, validation_data)
    plan = plan_epochs(budget_minutes=train_config.time_budget, spent_seconds=time.monotonic() - started,
                       steps_per_epoch=steps_per_epoch, seconds_per_step=per_step,
                       seconds_per_validation=per_batch * _batches(validation_data), most=train_config.epochs)
    epochs = int(broadcast_from_chief(distribution, [np.int64(plan.epochs)])[0])
    plan = dataclasses.replace(plan, epochs=epochs)
    if plan.seconds_left <= 0:
        logger.warning("The time budget of %g min was spent before training began (loading and measuring); "
                       "training 1 epoch", train_config.time_budget)
    logger.info("%s", plan.summary(train_config.time_budget, steps_per_epoch))
    return dataclasses.replace(train_config, epochs=epochs)


def _batches(dataset) -> int:
    import tensorflow as tf

    count = int(dataset.cardinality())
    if count >= 0:
        return count
    return int(dataset.reduce(tf.constant(0, tf.int64), lambda count, _: count + 1))
