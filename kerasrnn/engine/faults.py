"""Fault injection for tests: crash a training run at a chosen point, fail a chosen write, or slow
the steps down.

Set `KERASRNN_FAULT` to a point and `KERASRNN_FAULT_MODE` to what happens there:

| point              | where                                                              |
| ------------------ | ------------------------------------------------------------------ |
| `step:N`           | before training step N of the run (counted from 1 over all epochs) |
| `steps-after:N`    | before every training step after step N                            |
| `steps-until:N`    | before every training step up to step N                            |
| `validation:E`     | before the first validation batch of epoch E                       |
| `write:NAME:K`     | the K-th atomic write of a file called NAME, after the temporary file is written and before it is renamed into place |

| mode             | what happens                                                          |
| ---------------- | --------------------------------------------------------------------- |
| `kill` (default) | the process kills itself with SIGKILL, as `kill -9` would             |
| `raise`          | `SimulatedCrash` (a `BaseException`) is raised: an in-process crash   |
| `enospc`         | `OSError(ENOSPC)`, as a full disk would raise                          |
| `interrupt`      | `KeyboardInterrupt`, as Ctrl-C would raise                            |
| `sleep:SECONDS`  | the process sleeps that long and goes on: a slower machine            |

For example `KERASRNN_FAULT=steps-after:40 KERASRNN_FAULT_MODE=sleep:0.02` adds 20 ms to every step
after the 40th (the time-budget tests slow a run down half-way so).

Nothing happens unless the variable is set; the checks cost a dictionary lookup.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from collections import Counter

FAULT_ENV = "KERASRNN_FAULT"
MODE_ENV = "KERASRNN_FAULT_MODE"
_writes: Counter = Counter()
_sleep = time.sleep  # the `sleep:` mode's; a test may replace it with a fake clock's


class SimulatedCrash(BaseException):
    """A crash raised on purpose by `KERASRNN_FAULT_MODE=raise` (not an `Exception`, like Ctrl-C)."""


def _fail(description: str, path=None) -> None:
    mode = os.environ.get(MODE_ENV, "kill")
    if mode.startswith("sleep:"):
        _sleep(float(mode.removeprefix("sleep:")))
        return
    if mode == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(path) if path else None)
    if mode == "raise":
        raise SimulatedCrash(description)
    if mode == "interrupt":
        raise KeyboardInterrupt(description)
    os.kill(os.getpid(), signal.SIGKILL)


def at_step(step: int) -> None:
    """Called before training step `step` (from 1)."""
    point = os.environ.get(FAULT_ENV)
    if point is None:
        return
    kind, _, number = point.partition(":")
    if (point == f"step:{step}" or (kind == "steps-after" and step > int(number))
            or (kind == "steps-until" and step <= int(number))):
        _fail(f"fault before step {step}")


def at_validation(epoch: int) -> None:
    """Called before the first validation batch of epoch `epoch` (from 1)."""
    if os.environ.get(FAULT_ENV) == f"validation:{epoch}":
        _fail(f"crash in the validation of epoch {epoch}")


def at_write(path) -> None:
    """Called between writing a temporary file and renaming it to `path`."""
    if FAULT_ENV in os.environ:
        name = os.path.basename(os.fspath(path))
        _writes[name] += 1
        if os.environ[FAULT_ENV] == f"write:{name}:{_writes[name]}":
            _fail(f"crash while writing {name}", path)


def reset() -> None:
    """Forgets the counts of writes (tests call it between runs in one process)."""
    _writes.clear()
