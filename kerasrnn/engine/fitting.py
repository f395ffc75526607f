"""`model.fit` with the callbacks every run shares: best checkpoint, backup for resuming, TensorBoard,
CSV history, early stop, stop on NaN, step timing; then the history and the learning curves.

Example:

```python
model.compile(optimizer=make_optimizer(train_config, total_steps=300), loss=loss)
history = fit(model, train_data, validation_data, run_dir, train_config, steps_per_epoch=50)
```
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

from kerasrnn.engine import run_dir as run_files
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import UserInputError

logger = logging.getLogger(__name__)


def make_optimizer(config: TrainConfig, total_steps: int):
    """The optimizer of `config`, with its cosine decay over `total_steps` if `config.decay`."""
    import keras

    learning_rate = config.learning_rate
    if config.decay:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=max(total_steps, 1), alpha=config.final_learning_rate_fraction
        )
    clip = {} if config.clipnorm is None else {"clipnorm": config.clipnorm}
    if config.clipvalue is not None:
        clip["clipvalue"] = config.clipvalue
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate, rho=0.9, **clip)
    return keras.optimizers.Adam(learning_rate, **clip)


def make_callbacks(run_dir: Path, config: TrainConfig, *, best_so_far: float | None = None) -> list:
    """Checkpoint of the best model, backup for resuming, TensorBoard, CSV, early stop, stop on NaN."""
    import keras

    run_dir = Path(run_dir)
    return [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.ModelCheckpoint(
            run_dir / run_files.MODEL_FILE,
            monitor="val_loss",
            save_best_only=True,
            initial_value_threshold=best_so_far,
        ),
        keras.callbacks.CSVLogger(run_dir / run_files.HISTORY_CSV, append=True),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience),
        keras.callbacks.TensorBoard(log_dir=run_dir / run_files.LOG_DIR, write_graph=False, profile_batch=0),
        # Last, so that an epoch counts as done only once everything above has written it.
        keras.callbacks.BackupAndRestore(run_dir / run_files.BACKUP_DIR, delete_checkpoint=False),
    ]


def fit(
    model,
    train_data,
    validation_data,
    run_dir: Path,
    config: TrainConfig,
    *,
    steps_per_epoch: int,
    verbose: str | int = "auto",
) -> dict[str, list[float]]:
    """Trains a compiled `model` with the shared callbacks; returns the whole run's history.

    Resumes by itself from `run_dir/backup` when an earlier call left one (same model and configs).
    Afterwards `run_dir` holds `model.keras` (the best epoch), `history.csv` / `.json` and
    `learning_curves.png`.

    Raises:
      UserInputError: the loss became NaN before any epoch gave a finite validation loss.
    """
    run_dir = Path(run_dir)
    history = run_files.read_history(run_dir)
    finite = [v for v in history.get("val_loss", []) if math.isfinite(v)]
    # Never None: Keras would then keep the first epoch even with a NaN validation loss.
    callbacks = make_callbacks(run_dir, config, best_so_far=min(finite) if finite else math.inf)
    timer = make_step_timer()
    callbacks.insert(0, timer)
    done = len(history.get("epoch", []))
    if done:
        logger.info("Resuming %s after epoch %d of %d", run_dir, done, config.epochs)
    model.fit(
        train_data,
        validation_data=validation_data,
        epochs=config.epochs,
        steps_per_epoch=steps_per_epoch,
        callbacks=callbacks,
        shuffle=False,  # The task's tf.data pipeline draws the windows at random already.
        verbose=verbose,
    )
    history = run_files.read_history(run_dir)
    run_files.write_json(run_dir / run_files.HISTORY_JSON, history)
    if timer.durations:
        run_files.write_json(run_dir / run_files.TIMING_FILE, timer.summary())
    if history.get("epoch"):
        run_files.replace_atomically(run_dir / run_files.CURVES_PNG,
                                     lambda path: plot_learning_curves(history, path))
    if not (run_dir / run_files.MODEL_FILE).is_file():
        raise UserInputError(
            "training diverged (the loss became NaN) before any epoch finished: lower "
            "--learning-rate or keep gradient clipping on"
        )
    if any(math.isnan(value) for value in history.get("loss", [])):
        logger.warning("The loss became NaN and training stopped; %s is the best epoch before",
                       run_files.MODEL_FILE)
    return history


def make_step_timer():
    """A callback timing every training step; `.summary()` gives the median (the first step of
    a `fit`, which traces the graph, left out)."""
    import statistics
    import time

    import keras

    class StepTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.durations: list[float] = []
            self._start = None

        def on_train_batch_begin(self, batch, logs=None):
            self._start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.durations.append(time.perf_counter() - self._start)

        def summary(self) -> dict:
            timed = self.durations[1:] or self.durations
            return {"seconds_per_step": statistics.median(timed), "steps_timed": len(timed)}

    return StepTimer()


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
