"""Training with the callbacks every run shares (`kerasrnn.engine.callbacks`: best checkpoint, exact
backup, history, early stop, stop on NaN or divergence, step timing, a time budget's re-plans), through
the one training
loop (`kerasrnn.engine.loop`, which `tf.distribute` strategies need); then the history and curves.

Example:

```python
model.compile(optimizer=make_optimizer(train_config, total_steps=300), loss=loss)
outcome = fit(model, train_data, validation_data, run_dir, train_config, steps_per_epoch=50)
```
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from kerasrnn.engine import run_dir as run_files
from kerasrnn.engine.monitored import VAL_LOSS, Monitored
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.figures import png_figure
from kerasrnn.fileio import write_json

logger = logging.getLogger(__name__)


def make_optimizer(config: TrainConfig, total_steps: int):
    """The optimizer of `config`: its learning rate warmed up linearly over `config.warmup_steps`,
    then cosine-decayed over the rest of `total_steps` if `config.decay`. With a time budget the
    decay is a `schedule.ReplannedCosineDecay`, whose end the budget moves while training."""
    import keras

    learning_rate = config.learning_rate
    alpha = config.final_learning_rate_fraction if config.decay else 1.0  # 1: no decay at all
    if config.time_budget is not None and config.decay:
        from kerasrnn.engine.schedule import ReplannedCosineDecay

        learning_rate = ReplannedCosineDecay(config.learning_rate, total_steps, warmup_steps=config.warmup_steps,
                                             alpha=config.final_learning_rate_fraction)
    elif config.warmup_steps:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            0.0, decay_steps=max(total_steps - config.warmup_steps, 1), alpha=alpha,
            warmup_target=config.learning_rate, warmup_steps=config.warmup_steps)
    elif config.decay:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=max(total_steps, 1), alpha=config.final_learning_rate_fraction
        )
    clip = {} if config.clipnorm is None else {"clipnorm": config.clipnorm}
    if config.clipvalue is not None:
        clip["clipvalue"] = config.clipvalue
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate, rho=0.9, **clip)
    return keras.optimizers.Adam(learning_rate, **clip)


def _schedule(optimizer):
    """The learning-rate schedule `optimizer` was made with, or its constant rate."""
    return getattr(optimizer, "_learning_rate", None)  # where Keras keeps it; no public handle


def replanned_schedule(optimizer):
    """The `ReplannedCosineDecay` of `optimizer`, or None (a fixed schedule, or a constant rate)."""
    from kerasrnn.engine.schedule import ReplannedCosineDecay

    schedule = _schedule(optimizer)
    return schedule if isinstance(schedule, ReplannedCosineDecay) else None


def learning_rate_at(optimizer, step: int) -> float:
    """The learning rate `optimizer` uses in step `step` (from 0: Keras's `iterations` before it)."""
    import keras

    schedule = _schedule(optimizer)
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        return float(schedule(step))
    return float(optimizer.learning_rate)


@dataclasses.dataclass(frozen=True)
class FitOutcome:
    """What `fit` did: the whole run's history, and why training stopped early (None: it did not,
    or early stopping did, which is no failure) in which epoch (from 1)."""

    history: dict[str, list[float]]
    halted: str | None = None
    halted_epoch: int | None = None


def make_callbacks(run_dir: Path, config: TrainConfig, history: dict, monitor, *, progress=None,
                   budget=None, monitored: Monitored = VAL_LOSS) -> list:
    """The run's callbacks (see `kerasrnn.engine.callbacks`), started from `history`, the best
    model and early stopping by `monitored`; with a `progress` callback, and a `budget` (a `callbacks.TimeBudget`) after the history and early stop
    (it reads the learning rate of the epoch before re-planning) and before the backup (which saves
    its plan)."""
    import keras

    from kerasrnn.engine import callbacks

    run_dir = Path(run_dir)
    return [
        monitor,
        *([progress] if progress is not None else []),
        callbacks.BestModelCheckpoint(run_dir / run_files.MODEL_FILE, monitor, monitored.best_rank(history),
                                      monitored),
        callbacks.HistoryLogger(run_dir, history),
        callbacks.EarlyStop(config.patience, history, monitored),
        *([budget] if budget is not None else []),
        keras.callbacks.TensorBoard(log_dir=run_dir / run_files.LOG_DIR, write_graph=False, profile_batch=0),
        # Last, so that an epoch counts as done only once everything above has written it.
        callbacks.Backup(run_dir, monitor, budget),
    ]


def fit(
    model,
    train_data,
    validation_data,
    run_dir: Path,
    config: TrainConfig,
    *,
    steps_per_epoch: int,
    history: dict[str, list[float]] | None = None,
    initial_epoch: int = 0,
    divergence_threshold: float | None = None,
    verbose: str | int = "auto",
    strategy=None,
    budget=None,
    monitored: Monitored = VAL_LOSS,
) -> FitOutcome:
    """Trains a compiled `model` from epoch `initial_epoch` (whose earlier epochs are `history`)
    with the shared callbacks, under `strategy` (None: TensorFlow's default, one device). With a
    `budget` (a `callbacks.TimeBudget`, see `kerasrnn.engine.budget`), the epochs are its plan,
    re-planned after every epoch, never more than `config.epochs`. `verbose=2` (a log file rather
    than a terminal) adds a progress line every 30 s. `monitored` (`kerasrnn.engine.monitored`)
    orders the epochs for the best model and early stopping: the validation loss unless given.

    Afterwards `run_dir` holds `model.keras` (the best epoch, if any epoch had a finite measure), `history.csv` / `.json`, `learning_curves.png`, `timing.json` and the backup.
    """
    import keras
    import tensorflow as tf

    from kerasrnn.engine.callbacks import Progress, TrainingMonitor
    from kerasrnn.engine.loop import train_loop

    run_dir = Path(run_dir)
    history = history or {}
    monitor = TrainingMonitor(steps_per_epoch=steps_per_epoch, threshold=divergence_threshold)
    planned = config.epochs if budget is None else budget.planned
    if initial_epoch:
        logger.info("Resuming %s after epoch %d of %d", run_dir, initial_epoch, planned)
    progress = Progress(epochs=planned, steps_per_epoch=steps_per_epoch, initial_epoch=initial_epoch,
                        lines=verbose == 2) if verbose else None
    callbacks = make_callbacks(run_dir, config, history, monitor, budget=budget, progress=progress,
                               monitored=monitored)
    if budget is not None and verbose:
        # Keras's progress bar ("Epoch 3/12"), made here so that it can follow the plan.
        callbacks.insert(0, keras.callbacks.ProgbarLogger())
        budget.followers[:] = [callbacks[0], progress]
    # A budget run resumed after its plan was done has nothing left to train.
    epochs = initial_epoch if budget is not None and initial_epoch >= budget.planned else config.epochs
    train_loop(model, strategy or tf.distribute.get_strategy(), train_data, validation_data, callbacks,
               epochs=epochs, steps_per_epoch=steps_per_epoch, initial_epoch=initial_epoch, verbose=verbose)
    history = run_files.read_history(run_dir)
    write_json(run_dir / run_files.HISTORY_JSON, history)
    if monitor.durations:
        write_json(run_dir / run_files.TIMING_FILE, monitor.timing())
    if history.get("epoch"):
        plot_learning_curves(history, run_dir / run_files.CURVES_PNG)
    return FitOutcome(history, monitor.halted, monitor.halted_epoch)


def plot_learning_curves(history: dict[str, list[float]], path: Path, *, unit: str = "nats") -> None:
    """Saves a PNG of training and validation loss per epoch, atomically."""
    with png_figure(path, figsize=(6, 4), dpi=100) as (_, axis):
        for key, label in (("loss", "training"), ("val_loss", "validation")):
            if key in history:
                axis.plot(history["epoch"], history[key], marker="o", label=label)
        axis.set_xlabel("epoch")
        axis.set_ylabel(f"loss ({unit})")
        axis.grid(alpha=0.3)
        axis.legend()
