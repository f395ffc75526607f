"""The one run skeleton every task trains through: `train(task, config, train_config, run_dir)`.

start the run (lock the run directory, resume check, device, data) → the task prepares its
vocabularies → save the configs → seed → build and compile in the strategy's scope → the training loop with the
shared callbacks → reload the best model → evaluate it on validation → `metrics.json` → a
`TrainResult`. The task supplies only its hooks (`kerasrnn.tasks.base.Task`); resuming, devices,
distribution, checkpoints and files are decided here, once.

Under `tf.distribute` (`kerasrnn.engine.distribution`) the same skeleton runs in every process: the
chief locks and writes the run directory; another worker trains into a temporary folder, deleted at the end,
and takes the chief's state when a run is resumed.

Example:

```python
from kerasrnn.tasks import get_task

task = get_task("copy")
config = task.config_class(cell="urnn", length=50)
result = train(task, config, task.default_train_config(config), Path("runs/copy"))
print(result.summary())
```
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from kerasrnn.engine import backup, budget, fitting, memory
from kerasrnn.engine import run_dir as run_files
from kerasrnn.engine.run_lock import RunLock, lock_run_dir
from kerasrnn.engine.devices import select_device
from kerasrnn.engine.distribution import Distribution, broadcast_from_chief, single_device
from kerasrnn.engine.monitored import VAL_LOSS, Monitored
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import UserInputError
from kerasrnn.fileio import os_error_cause, write_json
from kerasrnn.program import command

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What `train` did: where, how long, the model size, the validation evaluation, and any lines
    the task adds (the character model's sample)."""

    run_dir: Path
    epochs: int
    steps: int
    best_epoch: int
    seconds: float
    parameters: int
    validation: Any  # the task's evaluation, with a `summary()`; None on a worker that is not the chief
    details: tuple[str, ...] = ()
    worker: str | None = None  # a worker that is not the chief: its name in the cluster
    fingerprint: str | None = None  # of the final weights, when distributed: the same on every worker
    kept: str = ""  # which epoch the best model is and why (`Monitored.kept`); "": of the lowest validation loss

    def summary(self) -> str:
        weights = f"final weights {self.fingerprint}" if self.fingerprint else ""
        epochs = f"{self.epochs} epoch{'' if self.epochs == 1 else 's'}"
        if self.worker is not None:
            return (f"{self.worker.capitalize()} trained {epochs} ({self.steps:,} steps) in "
                    f"{self.seconds:.0f} s, {weights}; the chief wrote the run to {self.run_dir}")
        return "\n".join([
            f"Trained {epochs} ({self.steps:,} steps) in {self.seconds:.0f} s; "
            f"{self.parameters:,} parameters; {self.kept or f'best validation loss at epoch {self.best_epoch}'}.",
            self.validation.summary(),
            *self.details,
            *([f"The chief's {weights} (the same on every worker)."] if weights else []),
            f"Run saved in {self.run_dir}",
        ])


def start_run(task, config, train_config: TrainConfig, run_dir: Path | None, *, resume: bool,
              device: str, distribution: Distribution | None = None) -> tuple[Path, bool, RunLock | None]:
    """The run directory locked, made (or checked, to resume) and the device chosen. A worker that
    is not the chief checks nothing there: the chief does, and it may be on another machine.

    Returns:
      `(run_dir, created, lock)`: `created` is True when the folder did not exist before; `lock`
      (`kerasrnn.engine.run_lock`, None on a worker that is not the chief) is held until released.

    Raises:
      UserInputError: `resume` without `run_dir`; settings that differ from the resumed run; a run
        directory another process is training into; a non-empty new run directory; a bad device.
    """
    if resume and run_dir is None:
        raise UserInputError("resuming needs the run directory to continue (--run-dir)")
    run_dir = Path(run_dir) if run_dir is not None else run_files.default_run_dir(task.name, config.cell)
    if distribution is not None and not distribution.chief:
        select_device(device, mixed_precision=train_config.mixed_precision)
        return run_dir, False, None
    if resume:
        saved = task.load_configs(run_dir)
        run_files.check_resumable(run_dir, saved, config, train_config)
        if train_config.decay and train_config.epochs != saved[1].epochs:
            logger.warning(
                "The learning-rate schedule is stretched: the epochs done followed a cosine decay over "
                "%d epochs, and the rest continues on one over %d epochs (from the step reached), which "
                "is not the run that --epochs %d would give from the start",
                saved[1].epochs, train_config.epochs, train_config.epochs)
    select_device(device, mixed_precision=train_config.mixed_precision)
    existed = run_dir.exists()
    # Before anything is written or the "non-empty needs --resume" check decides: one writer at a time.
    lock = lock_run_dir(run_dir)
    try:
        return run_files.prepare_run_dir(run_dir, resume=resume), not existed, lock
    except BaseException:
        _release(lock, remove_folder=not existed)
        raise


def train(task, config, train_config: TrainConfig, run_dir: Path | None = None, *, resume: bool = False,
          device: str = "auto", verbose: str | int = "auto", distribution: Distribution | None = None,
          data: Any = None) -> TrainResult:
    """Trains `task` with `config` into a run directory, or resumes the run there exactly.

    Args:
      task: a `kerasrnn.tasks.base.Task`.
      config, train_config: the settings. When resuming they must equal the saved ones, except
        `train_config.epochs`, which may grow to train longer.
      run_dir: where to save the run; None: `runs/<task>-<cell>-<time>`. Must be new or empty
        (or hold a run in which no epoch finished) unless `resume`.
      resume: continue the interrupted (or finished) run in `run_dir` from its backup: the run then
        ends where the uninterrupted run would have, bit for bit on a CPU.
      device: `"auto"`, `"cpu"` or `"gpu"`, see `select_device`.
      verbose: progress display, as `fit`'s.
      distribution: the `tf.distribute` strategy to train under (`distribution.make_distribution`,
        made once per process); None: one device. `train_config.batch_size` is the global batch.
      data: what `task.check_data(config)` loaded, so that it is not loaded twice; None: loaded here.

    Raises:
      UserInputError: bad data or run directory, a run directory another process is training into
        (`kerasrnn.engine.run_lock`), settings that differ from the resumed run, a training that
        diverged, a file that could not be written (a full disk), a worker of the cluster lost. A
        run in which no epoch finished leaves no run directory behind (or an empty one, if it was
        given empty).
    """
    started = time.monotonic()
    config = task.resolve(config)
    distribution = distribution or single_device()
    run_dir, created, lock = start_run(task, config, train_config, run_dir, resume=resume, device=device,
                                       distribution=distribution)
    if not distribution.chief:
        return _train_as_worker(task, config, train_config, run_dir, started, resume=resume,
                                distribution=distribution, data=data)
    discarded = False
    try:
        result = _train_in(task, config, train_config, run_dir, resume=resume, verbose=verbose,
                           distribution=distribution, started=started, data=data)
    except OSError as error:
        discarded = _discard_if_unfinished(run_dir, resume)
        raise UserInputError(write_failure(error, run_dir)) from None
    except BaseException as error:
        discarded = _discard_if_unfinished(run_dir, resume)
        _raise_if_cluster_failed(error, distribution, run_dir)
        raise
    finally:
        _release(lock, remove_folder=created and discarded)
    return dataclasses.replace(result, seconds=time.monotonic() - started)


def _train_as_worker(task, config, train_config, run_dir: Path, started: float, *, resume: bool,
                     distribution: Distribution, data: Any = None) -> TrainResult:
    """A worker that is not the chief: the same training, its files in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="kerasrnn-worker-"))
    try:
        result = _train_in(task, config, train_config, folder, resume=resume, verbose=0,
                           distribution=distribution, started=started, data=data)
    except BaseException as error:
        _raise_if_cluster_failed(error, distribution, run_dir)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return dataclasses.replace(result, run_dir=run_dir, seconds=time.monotonic() - started)


def _raise_if_cluster_failed(error: BaseException, distribution: Distribution, run_dir: Path) -> None:
    """One line for a collective that failed because another worker is gone (TensorFlow's
    health check aborts it within about a minute)."""
    import tensorflow as tf

    if distribution.kind != "multi-worker" or not isinstance(error, tf.errors.OpError):
        return
    reason = str(error.message).strip().splitlines()[0][:200] if str(error.message).strip() else ""
    raise UserInputError(
        f"{distribution.worker} lost the other workers of the cluster ({type(error).__name__}: {reason}); "
        f"when every worker is back, restart them all with: "
        f"{command('train', '--resume', '--run-dir', run_dir, '--distribute', 'multi-worker')}") from None


def _train_in(task, config, train_config: TrainConfig, run_dir: Path, *, resume: bool, verbose,
              distribution: Distribution, started: float, data: Any = None) -> TrainResult:
    import keras

    chief = distribution.chief
    if data is None:
        data = task.load_data(config)
    # Another worker has no copy of the run directory: it makes the vocabularies from the data.
    prepared = task.prepare(config, train_config, data, run_dir, resume=resume and chief)
    run_files.save_config(run_dir, task.name, config, train_config)

    needed = task.training_memory(config, train_config, prepared)
    if needed is not None:
        memory.check_fits(needed, f"training this {task.name} model",
                          "ask for fewer --units or --layers, a smaller --batch-size or shorter sequences")
    steps = train_config.steps_per_epoch or task.steps_per_epoch(config, train_config, prepared)
    planner = None
    if train_config.time_budget is not None:
        # Planned now, re-planned after every epoch; a resumed run continues its backup's plan.
        planner = budget.time_budget(task, config, train_config, prepared, steps, distribution, started,
                                     run_dir=run_dir, resume=resume)
    keras.utils.set_random_seed(train_config.seed)
    with distribution.strategy.scope():
        model = task.build_model(config, prepared, seed=train_config.seed)
        model.compile(optimizer=fitting.make_optimizer(train_config, train_config.epochs * steps),
                      **task.compile_arguments(config, prepared))
    logger.info("%s, on %s", task.describe(model, config, prepared), distribution.describe())
    if resume:
        with distribution.strategy.scope():
            done = _restore(run_dir, model, distribution)
    else:
        done = 0
    history = run_files.truncated_history(run_files.read_history(run_dir), done)
    train_data, validation_data = task.datasets(config, train_config, prepared, first_step=done * steps)
    if train_config.validation_steps is not None:
        validation_data = validation_data.take(train_config.validation_steps)
    outcome = fitting.fit(model, train_data, validation_data, run_dir, train_config, steps_per_epoch=steps,
                          history=history, initial_epoch=done, verbose=verbose,
                          divergence_threshold=task.divergence_threshold(config, prepared),
                          strategy=distribution.strategy, budget=planner, monitored=task.monitored)
    fingerprint = weights_fingerprint(model) if distribution.kind != "none" else None
    if not chief:
        epochs = len(outcome.history.get("epoch", []))
        return TrainResult(run_dir, epochs, epochs * steps, 0, 0.0, model.count_params(), None,
                           worker=distribution.worker, fingerprint=fingerprint)
    if outcome.halted is not None:
        raise UserInputError(divergence_message(outcome, run_dir, train_config, task.monitored))

    best = task.load_model(run_dir)
    validation = task.evaluate_model(best, config, prepared, task.splits[0], run_dir)
    # A task declaring `kerasrnn.tasks.capabilities.Finishes` has `finish` (engine/ imports nothing of tasks/).
    details = task.finish(best, config, train_config, prepared, run_dir) if hasattr(task, "finish") else []
    history = outcome.history
    best_epoch = task.monitored.best_epoch(history)
    epochs = len(history["epoch"])
    write_json(run_dir / run_files.METRICS_FILE, {
        **validation.as_metrics(), "best_epoch": best_epoch, **task.monitored.as_metrics(history), "epochs": epochs,
        "parameters": best.count_params(), "distribute": distribution.kind, "replicas": distribution.replicas,
    })
    return TrainResult(run_dir, epochs, epochs * steps, best_epoch, 0.0, best.count_params(), validation,
                       tuple(details), fingerprint=fingerprint, kept=task.monitored.kept(history))


def weights_fingerprint(model) -> str:
    """The first 16 hex digits of the SHA-256 of every weight's bytes: equal on two workers only
    if their weights are equal bit for bit."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for variable in model.weights:
        digest.update(np.ascontiguousarray(variable.numpy()).tobytes())
    return digest.hexdigest()[:16]


def _restore(run_dir: Path, model, distribution: Distribution) -> int:
    """The backup loaded into `model` (by the chief, then given to every other worker); returns
    the number of finished epochs."""
    import numpy as np

    done = backup.restore_state(run_dir, model) if distribution.chief else 0
    if distribution.kind != "multi-worker":
        return done
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    variables = backup.state_variables(model)
    values = broadcast_from_chief(distribution, [np.float64(done)] + [v.numpy() for v in variables])
    for variable, value in zip(variables, values[1:]):
        variable.assign(value)
    return int(values[0])


def divergence_message(outcome: fitting.FitOutcome, run_dir: Path, train_config: TrainConfig,
                       monitored: Monitored = VAL_LOSS) -> str:
    """One line: in which epoch training diverged and why, what is kept (the best epoch by
    `monitored`), what to try."""
    finished = backup.saved_epochs(run_dir)
    if (Path(run_dir) / run_files.MODEL_FILE).is_file():
        best = monitored.best_epoch(run_files.truncated_history(outcome.history, finished))
        kept = (f"{finished} epoch{'s' if finished != 1 else ''} finished before it; the best model "
                f"(epoch {best}) stays in {Path(run_dir) / run_files.MODEL_FILE}")
    else:
        kept = "no epoch finished before it, so nothing was kept"
    return (f"training diverged in epoch {outcome.halted_epoch}: {outcome.halted}; {kept}. Train again "
            f"with a smaller --learning-rate than {train_config.learning_rate:g} (or clip gradients)")


def write_failure(error: OSError, run_dir: Path) -> str:
    """One line for a file that could not be written, and how far the run got."""
    import errno

    where = error.filename or run_dir
    finished = backup.saved_epochs(run_dir) if Path(run_dir).is_dir() else 0
    cause = os_error_cause(error)
    writing = error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, None)
    when = "once there is room" if cause == "no space left on device" else "once that is put right"
    if finished:
        after = (f"the run can be resumed from epoch {finished} {when}: "
                 f"{command('train', '--resume', '--run-dir', run_dir)}")
    else:
        after = f"no epoch had finished, so nothing was kept; run it again {when}"
    return f"{cause} while {'writing' if writing else 'using'} {where}; {after}"


def _discard_if_unfinished(run_dir: Path, resume: bool) -> bool:
    """Removes what a new run in which no epoch finished (none backed up) wrote: the folder's
    contents but its lock (the folder was new or empty before, or held another unfinished run); the
    folder itself goes when the lock is released, if this run made it. A resumed run's folder is
    never touched. Returns whether it was emptied."""
    run_dir = Path(run_dir)
    if resume or not run_dir.is_dir() or backup.state_path(run_dir).exists():
        return False
    run_files.clear_folder(run_dir)
    return True


def _release(lock: RunLock, *, remove_folder: bool) -> None:
    """Releases the run directory's lock (its file removed first), then removes the folder if asked
    and it is empty: a folder this run made and left nothing in."""
    lock.release()
    if remove_folder:
        try:
            lock.run_dir.rmdir()
        except OSError:
            pass  # not empty: another run started in it as soon as the lock was free
