"""`--time-budget MINUTES`: a run that ends on time with its learning-rate schedule finished.

A learning-rate schedule needs its number of steps before the first one, and the time a step takes
changes while a run trains (a shared machine, another job starting or ending). So the budget plans,
then re-plans after every epoch:

1. before training a throwaway copy of the model trains a few steps and validates a few batches;
   the seconds per step and per validation pass, and the time already spent loading the data, give
   the first plan: the number of epochs whose predicted end is nearest the budget (at least 1,
   never more than `--epochs`);
2. after every epoch, the `TimeBudget` callback (`kerasrnn.engine.callbacks`) measures that epoch's
   pace (its steps, its validation pass, and the writes between epochs) and plans again from the
   time left: the number of epochs may go down or up, never below the next one (the plan in force
   may already have begun its last epoch's decay) nor above `--epochs`;
3. when the plan changes, the cosine decay (`kerasrnn.engine.schedule.ReplannedCosineDecay`) is
   refitted to end at the new last step, from the rate already reached, so the last step of the
   run always has the final rate; the run ends when its plan's last epoch does.

The run therefore ends within about half an epoch of the budget when the pace holds, and at most one
epoch past it when the machine slows down during the last epoch. `config.json` keeps the `--epochs`
cap; the plan in force and the seconds spent are saved with every backup (`kerasrnn.engine.backup`),
so `--resume` continues the saved plan, with the budget less the seconds spent before the backup
(the time between a crash and the resume does not count), and re-plans from there.

Example:

```python
planner = time_budget(task, config, train_config, prepared, steps, distribution, started,
                      run_dir=run_dir, resume=False)
fit(model, train_data, validation_data, run_dir, train_config, steps_per_epoch=steps, budget=planner)
```
"""

from __future__ import annotations

import dataclasses
import logging
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
                f"{'s' if self.epochs != 1 else ''} of {steps_per_epoch:,} steps (about {minutes:.1f} min), "
                f"re-planned after every epoch")


def epochs_that_fit(seconds_left: float, seconds_per_epoch: float, most: int) -> int:
    """The number of epochs (at least 1, at most `most`) whose end is nearest `seconds_left`."""
    if seconds_per_epoch <= 0:
        return most
    return max(1, min(most, round(max(seconds_left, 0.0) / seconds_per_epoch)))


def plan_epochs(*, budget_minutes: float, spent_seconds: float, steps_per_epoch: int, seconds_per_step: float,
                seconds_per_validation: float, most: int) -> BudgetPlan:
    """The first plan: the epochs (at least 1, at most `most`) whose steps and validations end
    nearest the end of the budget."""
    left = budget_minutes * 60 - spent_seconds
    epoch = steps_per_epoch * seconds_per_step + seconds_per_validation
    return BudgetPlan(seconds_per_step, seconds_per_validation, epochs_that_fit(left, epoch, most), left)


def replan(*, done: int, planned: int, most: int, seconds_left: float, seconds_per_epoch: float) -> int:
    """The epochs of the run after `done` of the `planned` ones finished, with `seconds_left` at
    `seconds_per_epoch`: `done` when the plan is over; otherwise at least one more (the schedule of
    the plan in force has begun the next one), at most `most`."""
    if done >= planned or done >= most:
        return done
    return done + epochs_that_fit(seconds_left, seconds_per_epoch, most - done)


def time_budget(task, config, train_config: TrainConfig, prepared, steps_per_epoch: int, distribution,
                started: float, *, run_dir, resume: bool):
    """The `TimeBudget` callback of a run with `train_config.time_budget` (minutes since `started`,
    a `time.monotonic()`): from the plan saved in the backup when resuming, else from a measurement
    on a throwaway model. Every worker of a cluster takes the chief's plan, now and at each re-plan."""
    import numpy as np

    from kerasrnn.engine import backup
    from kerasrnn.engine.callbacks import TimeBudget
    from kerasrnn.engine.distribution import broadcast_from_chief

    def agree(epochs: int) -> int:
        return int(broadcast_from_chief(distribution, [np.int64(epochs)])[0])

    budget_seconds = 60 * train_config.time_budget
    most = train_config.epochs
    saved = backup.saved_budget(run_dir) if resume and distribution.chief else None
    if resume:
        found, epochs, spent = broadcast_from_chief(distribution, [
            np.int64(saved is not None), np.int64(saved[0] if saved else 0), np.float64(saved[1] if saved else 0)])
        if found:
            deadline = started + budget_seconds - float(spent)
            logger.info("Time budget %g min: resuming the plan of %d epoch%s, %.0f s of the budget left",
                        train_config.time_budget, int(epochs), "" if int(epochs) == 1 else "s",
                        max(0.0, deadline - time.monotonic()))
            return TimeBudget(deadline=deadline, budget_seconds=budget_seconds, epochs=int(epochs), most=most,
                              steps_per_epoch=steps_per_epoch, agree=agree)
    plan = measure_plan(task, config, train_config, prepared, steps_per_epoch, distribution, started)
    return TimeBudget(deadline=started + budget_seconds, budget_seconds=budget_seconds, epochs=agree(plan.epochs),
                      most=most, steps_per_epoch=steps_per_epoch, agree=agree)


def measure_plan(task, config, train_config: TrainConfig, prepared, steps_per_epoch: int, distribution,
                 started: float) -> BudgetPlan:
    """The first plan of `train_config.time_budget` (minutes since `started`), measured on a
    throwaway model."""
    from kerasrnn.engine import fitting
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
    if plan.seconds_left <= 0:
        logger.warning("The time budget of %g min was spent before training began (loading and measuring); "
                       "training 1 epoch", train_config.time_budget)
    logger.info("%s", plan.summary(train_config.time_budget, steps_per_epoch))
    return plan


def _batches(dataset) -> int:
    import tensorflow as tf

    count = int(dataset.cardinality())
    if count >= 0:
        return count
    return int(dataset.reduce(tf.constant(0, tf.int64), lambda count, _: count + 1))
