"""The callbacks of every run, each resumable from what the run directory holds.

Keras's own `ModelCheckpoint`, `CSVLogger`, `EarlyStopping` and `BackupAndRestore` each keep state
that a new process does not get back (the best loss, the patience count) or write files in place
(a crash mid-write leaves half a model, and h5py on a full disk can crash the process). These write
through `run_dir.replace_atomically` and start from the history of the epochs already done.

`fitting.make_callbacks` puts them in the order that makes an epoch count as done only when all of
it is on disk: the monitor, the best model, the history, early stopping, TensorBoard, the backup.
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path

import keras

from kerasrnn.engine import backup, faults
from kerasrnn.engine import run_dir as run_files


class TrainingMonitor(keras.callbacks.Callback):
    """Stops training when the loss is NaN or infinite, or stays above `threshold` for `patience`
    steps in a row (at most half an epoch): a run that diverged without a NaN. Remembers why and in
    which epoch.

    Also times every step (`seconds_per_step`, the first step of a `fit`, which traces the graph,
    left out) and runs the test-only fault points of `faults`.
    """

    def __init__(self, *, steps_per_epoch: int, threshold: float | None = None, patience: int = 20):
        super().__init__()
        self.steps_per_epoch = steps_per_epoch
        self.threshold = threshold
        # Within one epoch: Keras logs the epoch's running mean, which starts afresh every epoch.
        self.patience = max(1, min(patience, steps_per_epoch // 2))
        self.halted: str | None = None  # why training stopped early, in words
        self.halted_epoch: int | None = None  # from 1
        self.durations: list[float] = []
        self._above = 0
        self._epoch = 0
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._above = epoch, 0

    def on_train_batch_begin(self, batch, logs=None):
        faults.at_step(self._epoch * self.steps_per_epoch + batch + 1)
        self._start = time.perf_counter()

    def on_test_batch_begin(self, batch, logs=None):
        if batch == 0:
            faults.at_validation(self._epoch + 1)

    def on_train_batch_end(self, batch, logs=None):
        self.durations.append(time.perf_counter() - self._start)
        loss = float((logs or {}).get("loss", 0.0))
        if not math.isfinite(loss):
            self._halt(f"the loss became {loss} at step {batch + 1} of epoch {self._epoch + 1}")
            return
        self._above = self._above + 1 if self.threshold is not None and loss > self.threshold else 0
        if self._above >= self.patience:
            self._halt(f"the loss stayed above {self.threshold:.4g} (10 times the no-learning loss) for "
                       f"{self.patience} steps, up to step {batch + 1} of epoch {self._epoch + 1} "
                       f"(it is {loss:.4g})")

    def _halt(self, reason: str) -> None:
        self.halted, self.halted_epoch = reason, self._epoch + 1
        self.model.stop_training = True

    def timing(self) -> dict:
        timed = self.durations[1:] or self.durations
        return {"seconds_per_step": statistics.median(timed), "steps_timed": len(timed)}


class BestModelCheckpoint(keras.callbacks.Callback):
    """Saves the model to `path` (atomically) after each epoch with a finite validation loss lower
    than every earlier one; not after an epoch the monitor halted."""

    def __init__(self, path: Path, monitor: TrainingMonitor, best: float = math.inf):
        super().__init__()
        self.path, self.monitor, self.best = Path(path), monitor, best

    def on_epoch_end(self, epoch, logs=None):
        loss = float((logs or {}).get("val_loss", math.nan))
        if self.monitor.halted is None and math.isfinite(loss) and loss < self.best:
            self.best = loss
            run_files.replace_atomically(self.path, lambda temporary: self.model.save(temporary))


class HistoryLogger(keras.callbacks.Callback):
    """Appends each epoch's logs to the run's history and rewrites `history.csv` atomically."""

    def __init__(self, run_dir: Path, history: dict[str, list[float]]):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.history = {key: list(values) for key, values in history.items()}

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, **{key: float(value) for key, value in (logs or {}).items()}}
        done = len(self.history.get("epoch", []))
        for key, value in row.items():
            self.history.setdefault(key, [math.nan] * done).append(value)
        for key, values in self.history.items():
            if len(values) < done + 1:
                values.append(math.nan)
        run_files.write_history(self.run_dir, self.history)


class EarlyStop(keras.callbacks.Callback):
    """Keras's `EarlyStopping` on `val_loss` (stop after `patience` epochs without a lower one),
    its count replayed from the validation losses of the epochs already done."""

    def __init__(self, patience: int, previous_losses=()):
        super().__init__()
        self.patience = patience
        self.best, self.wait = math.inf, 0
        for loss in previous_losses:
            self._update(loss)

    def _update(self, loss: float) -> None:
        if loss < self.best:  # False for NaN, as Keras's comparison
            self.best, self.wait = loss, 0
        else:
            self.wait += 1

    def on_epoch_end(self, epoch, logs=None):
        self._update(float((logs or {}).get("val_loss", math.nan)))
        if self.wait >= self.patience:
            self.model.stop_training = True


class Backup(keras.callbacks.Callback):
    """Saves the run's state (`backup.save_state`) after each epoch, unless the monitor halted it."""

    def __init__(self, run_dir: Path, monitor: TrainingMonitor):
        super().__init__()
        self.run_dir, self.monitor = Path(run_dir), monitor

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor.halted is None:
            backup.save_state(self.run_dir, self.model, epoch + 1)


class TimeBudget(keras.callbacks.Callback):
    """Ends training after an epoch when another would end past `deadline` (a `time.monotonic()`),
    judged by the longest epoch so far; see `kerasrnn.engine.budget`."""

    def __init__(self, deadline: float):
        super().__init__()
        self.deadline = deadline
        self.longest = 0.0
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        now = time.monotonic()
        self.longest = max(self.longest, now - self._start)
        if now + self.longest > self.deadline and not self.model.stop_training:
            print(f"Stopping after epoch {epoch + 1}: another would overrun the time budget", flush=True)
            self.model.stop_training = True


class Progress(keras.callbacks.Callback):
    """Says how long the run will take, once its first steps are timed, and — when the output is a
    log file or a pipe rather than a terminal, where Keras prints only a line per epoch — a line
    every `interval` seconds: the step, the loss, the rate and the time left."""

    def __init__(self, *, epochs: int, steps_per_epoch: int, initial_epoch: int = 0, lines: bool = False,
                 interval: float = 30.0, timed_steps: int = 5):
        super().__init__()
        self.epochs, self.steps_per_epoch, self.initial_epoch = epochs, steps_per_epoch, initial_epoch
        self.lines, self.interval, self.timed_steps = lines, interval, timed_steps
        self._epoch = initial_epoch
        self._steps_done = 0  # in this process
        self._first_timed = None  # (time, steps) after the step that traced the graph
        self._last_line = 0.0
        self._validation_seconds: list[float] = []
        self._validation_start = 0.0
        self._estimated = False

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_test_begin(self, logs=None):
        self._validation_start = time.monotonic()

    def on_test_end(self, logs=None):
        self._validation_seconds.append(time.monotonic() - self._validation_start)

    def seconds_per_step(self) -> float | None:
        if self._first_timed is None or self._steps_done <= self._first_timed[1]:
            return None
        return (time.monotonic() - self._first_timed[0]) / (self._steps_done - self._first_timed[1])

    def seconds_left(self, step_in_epoch: int) -> float | None:
        per_step = self.seconds_per_step()
        if per_step is None:
            return None
        steps_left = (self.epochs - self._epoch) * self.steps_per_epoch - step_in_epoch
        validations_left = self.epochs - self._epoch
        validation = statistics.mean(self._validation_seconds) if self._validation_seconds else 0.0
        return steps_left * per_step + validations_left * validation

    def on_train_batch_end(self, batch, logs=None):
        self._steps_done += 1
        now = time.monotonic()
        if self._steps_done == 1:
            self._first_timed, self._last_line = (now, 1), now
            return
        if not self._estimated and self._steps_done == 1 + self.timed_steps:
            self._estimated = True
            left = self.seconds_left(batch + 1)
            print(f"Estimated time: about {_duration(left)} more for {self.epochs - self.initial_epoch} "
                  f"epoch{'s' if self.epochs - self.initial_epoch != 1 else ''} of {self.steps_per_epoch:,} "
                  f"steps ({1000 * self.seconds_per_step():.0f} ms a step; validation not timed yet)",
                  flush=True)
        if self.lines and now - self._last_line >= self.interval:
            self._last_line = now
            loss = float((logs or {}).get("loss", math.nan))
            rate = 1 / self.seconds_per_step()
            print(f"  epoch {self._epoch + 1}/{self.epochs}, step {batch + 1}/{self.steps_per_epoch}: "
                  f"loss {loss:.4f}, {rate:.2f} steps/s, about {_duration(self.seconds_left(batch + 1))} "
                  f"left", flush=True)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "? min"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
