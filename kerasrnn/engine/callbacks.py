"""The callbacks of every run, each resumable from what the run directory holds.

Keras's own `ModelCheckpoint`, `CSVLogger`, `EarlyStopping` and `BackupAndRestore` each keep state
that a new process does not get back (the best loss, the patience count) or write files in place
(a crash mid-write leaves half a model, and h5py on a full disk can crash the process). These write
through `kerasrnn.fileio.replace_atomically` and start from the history of the epochs already done.
The best model and early stopping follow the task's measure (`kerasrnn.engine.monitored`).

`fitting.make_callbacks` puts them in the order that makes an epoch count as done only when all of
it is on disk: the monitor, the best model, the history (with the learning rate of each epoch's last
step), early stopping, the time budget, TensorBoard, the backup (which saves the budget's plan).

`TimeBudget` re-plans a `--time-budget` run after every epoch from the pace measured so far and
refits its learning-rate schedule to the new last step (see `kerasrnn.engine.budget`).
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from pathlib import Path

import keras

from kerasrnn.engine import backup, faults
from kerasrnn.engine.budget import replan
from kerasrnn.engine.monitored import VAL_LOSS, Monitored
from kerasrnn.engine import run_dir as run_files
from kerasrnn.fileio import replace_atomically

logger = logging.getLogger(__name__)


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
    """Saves the model to `path` (atomically) after each epoch better by `monitored` (a
    `kerasrnn.engine.monitored.Monitored`, the validation loss by default) than every earlier one;
    not after an epoch the monitor halted. `best` is the best rank of the epochs already done."""

    def __init__(self, path: Path, monitor: TrainingMonitor, best=None, monitored: Monitored = VAL_LOSS):
        super().__init__()
        self.path, self.monitor, self.best, self.monitored = Path(path), monitor, best, monitored

    def on_epoch_end(self, epoch, logs=None):
        rank = self.monitored.rank(logs or {})
        if self.monitor.halted is None and self.monitored.improves(rank, self.best):
            self.best = rank
            replace_atomically(self.path, lambda temporary: self.model.save(temporary))


class HistoryLogger(keras.callbacks.Callback):
    """Appends each epoch's logs, and the learning rate of its last step (`learning_rate`), to the
    run's history and rewrites `history.csv` atomically."""

    def __init__(self, run_dir: Path, history: dict[str, list[float]]):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.history = {key: list(values) for key, values in history.items()}

    def on_epoch_end(self, epoch, logs=None):
        from kerasrnn.engine.fitting import learning_rate_at

        row = {"epoch": epoch + 1, **{key: float(value) for key, value in (logs or {}).items()}}
        optimizer = self.model.optimizer
        row["learning_rate"] = learning_rate_at(optimizer, max(_step_count(optimizer) - 1, 0))
        done = len(self.history.get("epoch", []))
        for key, value in row.items():
            self.history.setdefault(key, [math.nan] * done).append(value)
        for key, values in self.history.items():
            if len(values) < done + 1:
                values.append(math.nan)
        run_files.write_history(self.run_dir, self.history)


class EarlyStop(keras.callbacks.Callback):
    """Keras's `EarlyStopping`: stop after `patience` epochs none of which was better by
    `monitored` (the validation loss by default) than the best before it; the count replayed from
    `history`, the columns of the epochs already done."""

    def __init__(self, patience: int, history=None, monitored: Monitored = VAL_LOSS):
        super().__init__()
        self.patience, self.monitored = patience, monitored
        self.best, self.wait = None, 0
        for rank in monitored.ranks(history or {}):
            self._update(rank)

    def _update(self, rank) -> None:
        if self.monitored.improves(rank, self.best):  # never for NaN, as Keras's comparison
            self.best, self.wait = rank, 0
        else:
            self.wait += 1

    def on_epoch_end(self, epoch, logs=None):
        self._update(self.monitored.rank(logs or {}))
        if self.wait >= self.patience:
            self.model.stop_training = True


class Backup(keras.callbacks.Callback):
    """Saves the run's state (`backup.save_state`) after each epoch, unless the monitor halted it;
    with a `TimeBudget`, its plan and the seconds spent too."""

    def __init__(self, run_dir: Path, monitor: TrainingMonitor, budget: TimeBudget | None = None):
        super().__init__()
        self.run_dir, self.monitor, self.budget = Path(run_dir), monitor, budget

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor.halted is None:
            plan = None if self.budget is None else (self.budget.planned, self.budget.spent())
            backup.save_state(self.run_dir, self.model, epoch + 1, budget=plan)


class TimeBudget(keras.callbacks.Callback):
    """Re-plans a `--time-budget` run after every epoch, so that it ends on time with its schedule
    finished (see `kerasrnn.engine.budget`).

    After each epoch the pace of that epoch (its steps, the longest left out: the one that traced
    the graph; its validation pass, likewise; and the mean of the last three gaps between a
    validation's end and the next epoch, where the files are written) gives the epochs that fit in
    the time left (`budget.replan`). When that number changes, the model's
    `ReplannedCosineDecay` is refitted to end at the new last step and the progress displays in
    `followers` (anything with an `epochs` attribute) follow; when the plan's last epoch is done,
    training stops. A change of a tenth of the plan or more is one printed line.

    Args:
      deadline: when the budget ends, a `clock()` value.
      budget_seconds: the whole budget, of which `spent()` says how much is used.
      epochs: the epochs planned before this process trained (measured, or the backup's).
      most: never more epochs than this (`--epochs`).
      steps_per_epoch: steps in every epoch.
      clock: the time, `time.monotonic` (a test may pass another).
      agree: the chief's plan on every worker of a cluster; default: the plan as it is.
    """

    def __init__(self, *, deadline: float, budget_seconds: float, epochs: int, most: int, steps_per_epoch: int,
                 clock=time.monotonic, agree=None):
        super().__init__()
        self.deadline, self.budget_seconds, self.most = deadline, budget_seconds, most
        self.planned = max(1, min(epochs, most))
        self.steps_per_epoch, self.clock = steps_per_epoch, clock
        self.agree = agree or (lambda epochs: epochs)
        self.followers: list = []
        self.decisions: list[tuple[int, int]] = []  # (epochs done, epochs planned then)
        self.epoch_seconds: list[float] = []  # of each epoch of this process, start to start (or end)
        self.ended: float | None = None  # when training ended, a `clock()` value
        self._gaps: list[float] = []  # from a validation's end to the next epoch's start
        self._steps: list[float] = []
        self._tests: list[float] = []
        self._last = self._test_end = None
        self._test_last = self._validation = self._begin = 0.0

    def spent(self) -> float:
        """Seconds of the budget used so far."""
        return self.clock() - (self.deadline - self.budget_seconds)

    def on_train_begin(self, logs=None):
        self._refit(self.planned)

    def on_epoch_begin(self, epoch, logs=None):
        now = self.clock()
        if self._test_end is not None:
            self._gaps.append(now - self._test_end)
            self.epoch_seconds[-1] = now - self._begin
        self._begin = now
        self._last, self._steps = now, []

    def on_train_batch_end(self, batch, logs=None):
        now = self.clock()
        self._steps.append(now - self._last)
        self._last = now

    def on_test_begin(self, logs=None):
        self._tests = []
        self._test_last = self.clock()

    def on_test_batch_end(self, batch, logs=None):
        now = self.clock()
        self._tests.append(now - self._test_last)
        self._test_last = now

    def on_test_end(self, logs=None):
        now = self.clock()
        traced = sum(self._tests) - _without_longest(self._tests)
        self._validation, self._test_end = now - self._last - traced, now
        self.epoch_seconds.append(now - self._begin)

    def pace(self) -> tuple[float, float, float]:
        """The last epoch's pace: seconds per step, per validation pass, and between epochs."""
        per_step = _without_longest(self._steps) / max(len(self._steps), 1)
        gaps = self._gaps[-3:]
        return per_step, self._validation, (sum(gaps) / len(gaps) if gaps else 0.0)

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if self.model.stop_training or self._test_end is None:
            return  # stopped by another callback (divergence, early stop): nothing to plan
        now = self.clock()
        per_step, validation, between = self.pace()
        tail = max(0.0, between - (now - self._test_end))  # the writes still to come after this epoch
        planned = self.agree(replan(done=done, planned=self.planned, most=self.most,
                                    seconds_left=self.deadline - now - tail,
                                    seconds_per_epoch=self.steps_per_epoch * per_step + validation + between))
        self.decisions.append((done, planned))
        if planned != self.planned and abs(planned - self.planned) >= max(1, self.planned // 10):
            print(f"Time budget: {self.deadline - now:.0f} s left after epoch {done}, at "
                  f"{1000 * per_step:.0f} ms a step and {validation:.1f} s a validation pass: {planned} epochs "
                  f"in all (was {self.planned})", flush=True)
        if planned != self.planned:
            self._refit(planned)
        if done >= planned:
            self.model.stop_training = True
            print(f"Time budget: the plan of {planned} epoch{'s' if planned != 1 else ''} is done, "
                  f"{self.spent():.1f} s of {self.budget_seconds:.1f} s spent", flush=True)

    def on_train_end(self, logs=None):
        self.ended = self.clock()
        if self.epoch_seconds:
            self.epoch_seconds[-1] = self.ended - self._begin

    def _refit(self, planned: int) -> None:
        from kerasrnn.engine.fitting import replanned_schedule

        self.planned = planned
        schedule = replanned_schedule(self.model.optimizer)
        total = planned * self.steps_per_epoch
        if schedule is not None and float(schedule.total_steps.numpy()) != total:
            schedule.refit(total, _step_count(self.model.optimizer))
        for follower in self.followers:
            follower.epochs = planned


def _without_longest(seconds: list[float]) -> float:
    """The sum of `seconds`, its longest (a traced graph, a pause) counted as the mean of the rest."""
    if len(seconds) < 2:
        return sum(seconds)
    rest = sum(seconds) - max(seconds)
    return rest + rest / (len(seconds) - 1)


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


def _step_count(optimizer) -> int:
    """The optimizer's `iterations` as an int; under a strategy it is a `MirroredVariable`, which
    `int()` refuses."""
    return int(optimizer.iterations.numpy())
