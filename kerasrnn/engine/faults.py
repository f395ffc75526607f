"""Fault injection for tests at the points of a training run: crash at a chosen step or during
validation, or slow the steps down.

Set `KERASRNN_FAULT` to a point and `KERASRNN_FAULT_MODE` to what happens there (the modes, and the
`write:NAME:K` point of atomic writes, are `kerasrnn.fileio`'s):

| point              | where                                                              |
| ------------------ | ------------------------------------------------------------------ |
| `step:N`           | before training step N of the run (counted from 1 over all epochs) |
| `steps-after:N`    | before every training step after step N                            |
| `steps-until:N`    | before every training step up to step N                            |
| `validation:E`     | before the first validation batch of epoch E                       |

For example `KERASRNN_FAULT=steps-after:40 KERASRNN_FAULT_MODE=sleep:0.02` adds 20 ms to every step
after the 40th (the time-budget tests slow a run down half-way so).

Nothing happens unless the variable is set; the checks cost a dictionary lookup.
"""

from __future__ import annotations

import os

from kerasrnn.fileio import FAULT_ENV, inject_fault


def at_step(step: int) -> None:
    """Called before training step `step` (from 1)."""
    point = os.environ.get(FAULT_ENV)
    if point is None:
        return
    kind, _, number = point.partition(":")
    if (point == f"step:{step}" or (kind == "steps-after" and step > int(number))
            or (kind == "steps-until" and step <= int(number))):
        inject_fault(f"fault before step {step}")


def at_validation(epoch: int) -> None:
    """Called before the first validation batch of epoch `epoch` (from 1)."""
    if os.environ.get(FAULT_ENV) == f"validation:{epoch}":
        inject_fault(f"crash in the validation of epoch {epoch}")
