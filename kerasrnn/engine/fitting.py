"""Training with the callbacks every run shares (`kerasrnn.engine.callbacks`: best checkpoint, exact
backup, history, early stop, stop on NaN or divergence, step timing), through the one training
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
import math
import os
from pathlib import Path

from kerasrnn.engine import run_dir as run_files
from kerasrnn.engine.train_config import TrainConfig

logger = logging.getLogger(__name__)


def make_optimizer(config: TrainConfig, total_steps: int):
    """The optimizer of `config`: its learning rate warmed up linearly over `config.warmup_steps`,
    then cosine-decayed over the rest of `total_steps` if `config.decay`."""
    import keras

    learning_rate = config.learning_rate
    alpha = config.final_learning_rate_fraction if config.decay else 1.0  # 1: no decay at all
    if config.warmup_steps:
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


@dataclasses.dataclass(frozen=True)
class FitOutcome:
    """What `fit` did: the whole run's history, and why training stopped early (None: it did not,
    or early stopping did, which is no failure) in which epoch (from 1)."""

    history: dict[str, list[float]]
    halted: str | None = None
    halted_epoch: int | None = None


def make_callbacks(run_dir: Path, config: TrainConfig, history: dict, monitor, *, progress=None,
                   deadline: float | None = None) -> list:
    """The run's callbacks (see `kerasrnn.engine.callbacks`), started from `history`; with a
    `progress` callback, and a `TimeBudget` when there is a `deadline`."""
    import keras

    from kerasrnn.engine import callbacks

    run_dir = Path(run_dir)
    finite = [loss for loss in history.get("val_loss", []) if math.isfinite(loss)]
    extra = ([progress] if progress is not None else []) + (
        [callbacks.TimeBudget(deadline)] if deadline is not None else [])
    return [
        monitor,
        *extra,
        callbacks.BestModelCheckpoint(run_dir / run_files.MODEL_FILE, monitor, min(finite, default=math.inf)),
        callbacks.HistoryLogger(run_dir, history),
        callbacks.EarlyStop(config.patience, history.get("val_loss", [])),
        keras.callbacks.TensorBoard(log_dir=run_dir / run_files.LOG_DIR, write_graph=False, profile_batch=0),
        # Last, so that an epoch counts as done only once everything above has written it.
        callbacks.Backup(run_dir, monitor),
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
    deadline: float | None = None,
) -> FitOutcome:
    """Trains a compiled `model` from epoch `initial_epoch` (whose earlier epochs are `history`)
    with the shared callbacks, under `strategy` (None: TensorFlow's default, one device). With
    `deadline` (a `time.monotonic()`), training ends after an epoch when another would overrun it.
    `verbose=2` (a log file rather than a terminal) adds a progress line every 30 s.

    Afterwards `run_dir` holds `model.keras` (the best epoch, if any epoch had a finite validation
    loss), `history.csv` / `.json`, `learning_curves.png`, `timing.json` and the backup.
    """
    import tensorflow as tf

    from kerasrnn.engine.callbacks import Progress, TrainingMonitor
    from kerasrnn.engine.loop import train_loop

    run_dir = Path(run_dir)
    history = history or {}
    monitor = TrainingMonitor(steps_per_epoch=steps_per_epoch, threshold=divergence_threshold)
    if initial_epoch:
        logger.info("Resuming %s after epoch %d of %d", run_dir, initial_epoch, config.epochs)
    train_loop(model, strategy or tf.distribute.get_strategy(), train_data, validation_data,
               make_callbacks(run_dir, config, history, monitor, deadline=deadline, progress=Progress(
                   epochs=config.epochs, steps_per_epoch=steps_per_epoch, initial_epoch=initial_epoch,
                   lines=verbose == 2) if verbose else None), epochs=config.epochs,
               steps_per_epoch=steps_per_epoch, initial_epoch=initial_epoch, verbose=verbose)
    history = run_files.read_history(run_dir)
    run_files.write_json(run_dir / run_files.HISTORY_JSON, history)
    if monitor.durations:
        run_files.write_json(run_dir / run_files.TIMING_FILE, monitor.timing())
    if history.get("epoch"):
        run_files.replace_atomically(run_dir / run_files.CURVES_PNG,
                                     lambda path: plot_learning_curves(history, path))
    return FitOutcome(history, monitor.halted, monitor.halted_epoch)


def plot_learning_curves(history: dict[str, list[float]], path: Path, *, unit: str = "nats") -> None:
    """Saves a PNG of training and validation loss per epoch (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4), dpi=100)
    for key, label in (("loss", "training"), ("val_loss", "validation")):
        if key in history:
            axis.plot(history["epoch"], history[key], marker="o", label=label)
    axis.set_xlabel("epoch")
    axis.set_ylabel(f"loss ({unit})")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(os.fspath(path), format="png")
    plt.close(figure)
