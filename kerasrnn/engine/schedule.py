"""`ReplannedCosineDecay`: the learning-rate schedule of a time-budget run, whose end moves while training.

A time budget (`kerasrnn.engine.budget`) re-plans the number of epochs after every epoch from the
pace measured so far; the cosine decay must then end at the new last step, from the rate it has
reached, without a jump. Keras's `CosineDecay` fixes its length when it is made, so this schedule
keeps its plan in three variables (the total steps, and the step and progress of the last refit),
which the training step reads and the backup (`kerasrnn.engine.backup`) saves.

Example:

```python
schedule = ReplannedCosineDecay(0.01, total_steps=100, alpha=0.1)
schedule.refit(150, step=50)   # the rate of step 50 kept; step 149 (the last) gets 0.001
```
"""

from __future__ import annotations

import math

import keras


@keras.saving.register_keras_serializable(package="kerasrnn")
class ReplannedCosineDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up, then a cosine decay that reaches its final rate exactly at the last step,
    re-fittable while training.

    The rate of step s (from 0) is `learning_rate · s / warmup_steps` during the warm-up, then
    `learning_rate · (alpha + (1 − alpha) · (1 + cos(π p)) / 2)`, where the progress p runs linearly
    from `anchor_progress` at `anchor_step` (or at the warm-up's end, if later) to 1 at the last step,
    `total_steps − 1`. Never refitted, it is the cosine over the steps after the warm-up, p from 0 to
    1 (Keras's `CosineDecay` reaches its final rate one step after the last one instead).
    `refit(total, step)` keeps p, hence the rate, at `step` and spreads the rest of the arc over the
    new remaining steps: the rate never jumps, its slope changes by the ratio of the old and new
    remaining steps, and the last step of the new plan gets `alpha · learning_rate`.

    Args:
      learning_rate: the peak rate, reached at the end of the warm-up.
      total_steps: steps of the whole run, as planned.
      warmup_steps: steps of the linear warm-up from 0 (default 0: none).
      alpha: the final rate, as a fraction of `learning_rate` (default 0.1).
      anchor_step, anchor_progress: the step and progress of the last refit (default 0: none).
      name: the schedule's name.

    Example:

    >>> schedule = ReplannedCosineDecay(0.01, total_steps=100, alpha=0.1)
    >>> round(float(schedule(99)), 6)
    0.001
    """

    def __init__(self, learning_rate, total_steps, warmup_steps=0, alpha=0.1, anchor_step=0.0,
                 anchor_progress=0.0, name="ReplannedCosineDecay"):
        super().__init__()
        self.learning_rate, self.warmup_steps, self.alpha = float(learning_rate), int(warmup_steps), float(alpha)
        self.name = name
        self.total_steps = _plan_variable(total_steps, "total_steps")
        self.anchor_step = _plan_variable(anchor_step, "anchor_step")
        self.anchor_progress = _plan_variable(anchor_progress, "anchor_progress")

    @property
    def plan_variables(self) -> list:
        """The variables that hold the plan: the total steps, the anchor step and its progress."""
        return [self.total_steps, self.anchor_step, self.anchor_progress]

    def __call__(self, step):
        ops = keras.ops
        step = ops.cast(step, "float64")
        decayed = self.alpha + (1.0 - self.alpha) * 0.5 * (1.0 + ops.cos(math.pi * self._progress(step)))
        warm = step / float(max(self.warmup_steps, 1))
        return ops.cast(ops.where(step < float(self.warmup_steps), warm, decayed) * self.learning_rate, "float32")

    def _progress(self, step):
        """The progress p of `step` (a float64 tensor) under the plan in force."""
        ops = keras.ops
        anchor = ops.maximum(self.anchor_step, float(self.warmup_steps))
        last = self.total_steps - 1.0
        fraction = ops.where(last > anchor, ops.clip((step - anchor) / ops.maximum(last - anchor, 1.0), 0.0, 1.0),
                             1.0)
        return self.anchor_progress + (1.0 - self.anchor_progress) * fraction

    def progress(self, step: int) -> float:
        """The progress p of step `step` under the plan in force (0 before the decay, 1 at its end)."""
        return float(keras.ops.convert_to_numpy(self._progress(keras.ops.convert_to_tensor(float(step), "float64"))))

    def refit(self, total_steps: int, step: int) -> None:
        """Ends the decay at step `total_steps − 1`, the rate of step `step` (the next one) kept."""
        progress = self.progress(step)
        self.anchor_step.assign(float(step))
        self.anchor_progress.assign(progress)
        self.total_steps.assign(float(total_steps))

    def get_config(self):
        return {"learning_rate": self.learning_rate, "total_steps": float(self.total_steps.numpy()),
                "warmup_steps": self.warmup_steps, "alpha": self.alpha,
                "anchor_step": float(self.anchor_step.numpy()),
                "anchor_progress": float(self.anchor_progress.numpy()), "name": self.name}


def _plan_variable(value: float, name: str):
    return keras.Variable(float(value), dtype="float64", trainable=False, name=name)
