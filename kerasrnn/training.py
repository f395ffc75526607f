"""The one training path of every task: run directories, callbacks, `model.fit`, history and plots.

A run directory (`runs/<task>-<cell>-<YYYYmmdd-HHMMSS>/` by default) holds:

| file                    | what                                                            |
| ----------------------- | --------------------------------------------------------------- |
| `config.json`           | the task name and the frozen task and training configs          |
| `model.keras`           | the model of the best validation loss so far                   |
| `vocabulary.json`       | the task's vocabulary (written by the task)                     |
| `history.csv`, `.json`  | loss and metrics per epoch                                      |
| `learning_curves.png`   | training and validation loss per epoch                          |
| `metrics.json`          | the task's final evaluation (written by the task)               |
| `timing.json`           | median seconds per training step of the last `fit`              |
| `backup/`               | `BackupAndRestore`'s state after the last epoch: `--resume`     |
| `logs/`                 | TensorBoard logs                                                |

A run directory is never overwritten: training into a non-empty directory needs `resume=True`, and
resuming continues from the backup with the saved configs.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime
import json
import logging
import math
import os
from pathlib import Path
from typing import Any

from kerasrnn.errors import UserInputError

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
MODEL_FILE = "model.keras"
VOCABULARY_FILE = "vocabulary.json"
HISTORY_CSV = "history.csv"
HISTORY_JSON = "history.json"
CURVES_PNG = "learning_curves.png"
METRICS_FILE = "metrics.json"
TIMING_FILE = "timing.json"
BACKUP_DIR = "backup"
LOG_DIR = "logs"
DEVICES = ("auto", "cpu", "gpu")
OPTIMIZERS = ("adam", "rmsprop")
MAX_SEED = 2**31 - 1


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Settings of `fit` shared by every task.

    Attributes:
      epochs: number of epochs (an epoch is `steps_per_epoch` batches, then a validation pass).
      steps_per_epoch: batches per epoch; None: the task's one pass over its training data.
      batch_size: sequences per batch.
      learning_rate: peak learning rate of the optimizer.
      decay: cosine-decay the learning rate to `learning_rate * final_learning_rate_fraction` over the
        run (True) or keep it constant (False).
      final_learning_rate_fraction: see `decay`.
      optimizer: `"adam"` or `"rmsprop"` (the uRNN paper's, rho 0.9).
      clipnorm: clip each gradient to this norm; None: no clipping.
      clipvalue: clip each gradient element to [−clipvalue, clipvalue] (the uRNN paper's clipping
        of the LSTM and tanh RNN); None: no clipping. At most one of clipnorm and clipvalue.
      patience: stop after this many epochs without a better validation loss.
      seed: seed of weights, data order, dropout and the final sample.
      mixed_precision: compute in float16 with float32 weights (GPU only).
    """

    # The defaults are the short character-LM budget of `python cli.py train` (about 2 minutes on a
    # 2-core CPU, 300 steps); other tasks may want other numbers.
    epochs: int = 6
    steps_per_epoch: int | None = 50
    batch_size: int = 256
    learning_rate: float = 8e-3
    decay: bool = True
    final_learning_rate_fraction: float = 0.1
    optimizer: str = "adam"
    clipnorm: float | None = 1.0
    patience: int = 5
    seed: int = 0
    mixed_precision: bool = False
    clipvalue: float | None = None

    def __post_init__(self):
        _check_positive_int("epochs", self.epochs)
        if self.steps_per_epoch is not None:
            _check_positive_int("steps per epoch", self.steps_per_epoch)
        _check_positive_int("batch size", self.batch_size)
        _check_positive_int("patience", self.patience)
        if not self.learning_rate > 0 or not math.isfinite(self.learning_rate):
            raise UserInputError(f"learning rate must be positive, got {self.learning_rate!r}")
        if not 0 < self.final_learning_rate_fraction <= 1:
            raise UserInputError(
                f"final learning rate fraction must be in (0, 1], got {self.final_learning_rate_fraction!r}"
            )
        if self.optimizer not in OPTIMIZERS:
            raise UserInputError(f"unknown optimizer {self.optimizer!r}: choose {', '.join(OPTIMIZERS)}")
        if self.clipnorm is not None and not self.clipnorm > 0:
            raise UserInputError(f"clipnorm must be positive or None, got {self.clipnorm!r}")
        if self.clipvalue is not None and not self.clipvalue > 0:
            raise UserInputError(f"clipvalue must be positive or None, got {self.clipvalue!r}")
        if self.clipnorm is not None and self.clipvalue is not None:
            raise UserInputError("clip by norm or by value, not both: set clipnorm or clipvalue to None")
        # 32 bits: the XLA sampling loop's seeds are int32, and the final sample uses this seed.
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            raise UserInputError(f"seed must be an integer from 0 to {MAX_SEED}, got {self.seed!r}")


def _check_positive_int(label: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserInputError(f"{label} must be a positive integer, got {value!r}")


# --- run directories -------------------------------------------------------------------------


def default_run_dir(task: str, cell: str, root: Path = Path("runs")) -> Path:
    """`runs/<task>-<cell>-<YYYYmmdd-HHMMSS>`, with `-2`, `-3`… added if that name is taken."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = root / f"{task}-{cell}-{stamp}"
    suffix = 2
    while path.exists():
        path = root / f"{task}-{cell}-{stamp}-{suffix}"
        suffix += 1
    return path


def prepare_run_dir(run_dir: Path, *, resume: bool) -> Path:
    """Creates a new run directory, or checks that `run_dir` is one to resume.

    Raises:
      UserInputError: `run_dir` is a file; `resume` and it is not a run directory; not `resume` and
        it exists with files in it (nothing is ever overwritten).
    """
    run_dir = Path(run_dir).expanduser()
    if run_dir.exists() and not run_dir.is_dir():
        raise UserInputError(f"run directory {run_dir} is a file, not a folder: choose another path")
    if resume:
        check_run_dir(run_dir, need_model=False)
        return run_dir
    if run_dir.is_dir() and any(run_dir.iterdir()):
        raise UserInputError(
            f"run directory {run_dir} exists and is not empty: continue it with --resume, or choose "
            f"another --run-dir"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def check_run_dir(run_dir: Path, *, need_model: bool = True) -> Path:
    """Checks that `run_dir` holds a run (config, and the model if `need_model`); returns it.

    Raises:
      UserInputError: it is missing, not a folder, or lacks `config.json` (or `model.keras`).
    """
    run_dir = Path(run_dir).expanduser()
    if not run_dir.is_dir():
        raise UserInputError(f"{run_dir} is not a run directory: no such folder")
    if not (run_dir / CONFIG_FILE).is_file():
        raise UserInputError(f"{run_dir} is not a run directory: it has no {CONFIG_FILE}")
    if need_model and not (run_dir / MODEL_FILE).is_file():
        raise UserInputError(
            f"{run_dir} has no trained model yet ({MODEL_FILE} is written after the first epoch): "
            f"finish it with `train --resume --run-dir {run_dir}`"
        )
    return run_dir


def save_config(run_dir: Path, task: str, task_config: Any, train_config: TrainConfig) -> None:
    """Writes `config.json`: the task name and both frozen configs as dicts."""
    from kerasrnn import __version__

    payload = {
        "task": task,
        "task_config": dataclasses.asdict(task_config),
        "train_config": dataclasses.asdict(train_config),
        "kerasrnn_version": __version__,
    }
    (Path(run_dir) / CONFIG_FILE).write_text(json.dumps(payload, indent=2) + "\n", "utf-8")


def load_config(run_dir: Path) -> dict:
    """Reads `config.json` back: `{"task": str, "task_config": dict, "train_config": TrainConfig}`."""
    path = Path(run_dir) / CONFIG_FILE
    try:
        payload = json.loads(path.read_text("utf-8"))
        payload["train_config"] = TrainConfig(**payload["train_config"])
        if not isinstance(payload["task"], str) or not isinstance(payload["task_config"], dict):
            raise ValueError("no task or task_config")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserInputError(f"{path} is not a kerasrnn run config: {error}") from error
    return payload


def start_run(task: str, config: Any, train_config: "TrainConfig", run_dir: Path | None, *, resume: bool,
              device: str, saved_configs, load_data=None) -> tuple[Path, Any]:
    """The start of every task's `train`: the run directory made (or checked, to resume), the device
    chosen, and the task's data loaded.

    Args:
      task, config, train_config: the task's name and settings (`config.cell` names the default
        run directory).
      run_dir: where to save the run; None: `runs/<task>-<cell>-<time>`.
      resume: continue the run in `run_dir`; `config` and `train_config` must equal the saved ones
        (see `check_resumable`).
      device: see `select_device`.
      saved_configs: `run_dir → (config, train_config)`, the task's `load_configs`.
      load_data: called once the run directory exists; if it raises, a run directory this call
        created is removed again. None: the task has no data to load.

    Returns:
      `(run_dir, data)`: the run directory and what `load_data` returned (None without it).

    Raises:
      UserInputError: `resume` without `run_dir`; settings that differ from the resumed run; a
        non-empty new run directory; a bad device; whatever `load_data` raises.
    """
    if resume and run_dir is None:
        raise UserInputError("resuming needs the run directory to continue (--run-dir)")
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(task, config.cell)
    if resume:
        check_resumable(run_dir, saved_configs(run_dir), config, train_config)
    select_device(device, mixed_precision=train_config.mixed_precision)
    existed = run_dir.exists()
    run_dir = prepare_run_dir(run_dir, resume=resume)
    with removed_if_failed_empty(run_dir, existed):
        data = None if load_data is None else load_data()
    return run_dir, data


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What a task's `train` did: where, how long, the model size, and the validation evaluation.

    Tasks with more to report subclass it and add lines with `details`.
    """

    run_dir: Path
    epochs: int
    steps: int
    best_epoch: int
    seconds: float
    parameters: int
    validation: Any  # the task's evaluation, with a `summary()`

    def details(self) -> list[str]:
        """Lines of the summary after the validation evaluation."""
        return []

    def summary(self) -> str:
        return "\n".join([
            f"Trained {self.epochs} epochs ({self.steps:,} steps) in {self.seconds:.0f} s; "
            f"{self.parameters:,} parameters; best validation loss at epoch {self.best_epoch}.",
            self.validation.summary(),
            *self.details(),
            f"Run saved in {self.run_dir}",
        ])


def load_task_configs(run_dir: Path, task: str, config_class) -> tuple[Any, "TrainConfig"]:
    """The task config (a `config_class`) and `TrainConfig` saved in a run directory of `task`.

    Raises:
      UserInputError: not a run directory, a run of another task, or settings `config_class` rejects.
    """
    saved = load_config(check_run_dir(run_dir, need_model=False))
    if saved["task"] != task:
        raise UserInputError(f"{run_dir} holds a {saved['task']!r} run, not a {task} one")
    try:
        config = config_class(**saved["task_config"])
    except TypeError as error:
        raise UserInputError(f"{run_dir}/{CONFIG_FILE} has bad task settings: {error}") from error
    return config, saved["train_config"]


def check_resumable(run_dir: Path, saved: tuple, config: Any, train_config: "TrainConfig") -> None:
    """Raises UserInputError unless `(config, train_config)` equal the `saved` pair of `run_dir`,
    `epochs` excepted (a resumed run may train longer)."""
    if saved[0] != config:
        raise UserInputError(f"the task settings differ from those saved in {run_dir}: resume with them")
    if dataclasses.replace(saved[1], epochs=train_config.epochs) != train_config:
        raise UserInputError(
            f"the training settings differ from those saved in {run_dir}: only --epochs may change "
            f"when resuming"
        )


@contextlib.contextmanager
def removed_if_failed_empty(run_dir: Path, existed: bool):
    """Removes `run_dir` again if the block fails while it is still empty and it did not exist
    before: a bad data source must not leave an empty run directory behind."""
    try:
        yield
    except BaseException:
        if not existed and Path(run_dir).is_dir() and not any(Path(run_dir).iterdir()):
            Path(run_dir).rmdir()
        raise


def best_epoch(history: dict[str, list[float]]) -> int:
    """The epoch (from 1) of the lowest finite validation loss; the last epoch if none is finite."""
    finite = [(loss, epoch) for loss, epoch in zip(history["val_loss"], history["epoch"]) if math.isfinite(loss)]
    return min(finite)[1] if finite else history["epoch"][-1]


def load_best_model(run_dir: Path, cell: str):
    """The best model (`model.keras`) of a run directory whose network uses cell `cell`."""
    import keras

    from kerasrnn.recurrent import KERASRNN_CELLS

    path = check_run_dir(run_dir) / MODEL_FILE
    if cell in KERASRNN_CELLS:
        import kerasrnn.layers  # noqa: F401 - registers the cells for deserialisation
    return keras.models.load_model(path, compile=False)


def saved_metric(run_dir: Path, key: str) -> float:
    """The number `key` of the run's `metrics.json` (what the task wrote after training).

    Raises:
      UserInputError: no metrics yet, or no such number in them.
    """
    path = Path(run_dir) / METRICS_FILE
    try:
        return float(json.loads(path.read_text("utf-8"))[key])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserInputError(f"cannot read {key} from {path}: {error}") from error


def write_json(path: Path, payload: dict) -> None:
    """Writes `payload` as indented UTF-8 JSON."""
    Path(path).write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", "utf-8")


# --- devices ---------------------------------------------------------------------------------


def select_device(device: str = "auto", *, mixed_precision: bool = False) -> str:
    """Chooses where TensorFlow runs, and the dtype policy; returns `"cpu"` or `"gpu"`.

    Call before building any model. `"cpu"` hides the GPUs (when TensorFlow has not used them yet);
    `"gpu"` needs one; `"auto"` takes a GPU when there is one. Mixed precision (`mixed_float16`) is
    set process-wide for a GPU run and reset to `float32` otherwise.

    Raises:
      UserInputError: unknown device, `"gpu"` without a GPU, mixed precision without a GPU.
    """
    import keras
    import tensorflow as tf

    if device not in DEVICES:
        raise UserInputError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise UserInputError("--device gpu: TensorFlow sees no GPU on this machine; use --device cpu")
    if device == "cpu" and gpus:
        try:
            tf.config.set_visible_devices([], "GPU")
        except RuntimeError:  # The GPUs are initialised already: place ops on the CPU instead.
            logger.warning("GPUs already in use; running on the CPU by device placement only")
            tf.config.set_soft_device_placement(True)
    chosen = "gpu" if gpus and device != "cpu" else "cpu"
    if mixed_precision and chosen != "gpu":
        raise UserInputError("mixed precision needs a GPU (float16 is slow on a CPU): drop --mixed-precision")
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed_precision else "float32")
    logger.info("Running on the %s%s", chosen.upper(), " with mixed precision" if mixed_precision else "")
    return chosen


# --- fit -------------------------------------------------------------------------------------


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
            run_dir / MODEL_FILE,
            monitor="val_loss",
            save_best_only=True,
            initial_value_threshold=best_so_far,
        ),
        keras.callbacks.CSVLogger(run_dir / HISTORY_CSV, append=True),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience),
        keras.callbacks.TensorBoard(log_dir=run_dir / LOG_DIR, write_graph=False, profile_batch=0),
        # Last, so that an epoch counts as done only once everything above has written it.
        keras.callbacks.BackupAndRestore(run_dir / BACKUP_DIR, delete_checkpoint=False),
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
    history = read_history(run_dir)
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
    history = read_history(run_dir)
    write_json(run_dir / HISTORY_JSON, history)
    if timer.durations:
        write_json(run_dir / TIMING_FILE, timer.summary())
    if history.get("epoch"):
        plot_learning_curves(history, run_dir / CURVES_PNG)
    if not (run_dir / MODEL_FILE).is_file():
        raise UserInputError(
            "training diverged (the loss became NaN) before any epoch finished: lower "
            "--learning-rate or keep gradient clipping on"
        )
    if any(math.isnan(value) for value in history.get("loss", [])):
        logger.warning("The loss became NaN and training stopped; %s is the best epoch before", MODEL_FILE)
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


def read_history(run_dir: Path) -> dict[str, list[float]]:
    """`history.csv` as columns (`epoch`, `loss`, `val_loss`, …), one value per epoch, in order.

    An epoch logged twice (a run stopped between the CSV row and its backup) keeps its last row.
    """
    path = Path(run_dir) / HISTORY_CSV
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        rows = {int(row["epoch"]): row for row in csv.DictReader(handle)}
    columns: dict[str, list[float]] = {}
    for epoch in sorted(rows):
        for key, value in rows[epoch].items():
            columns.setdefault(key, []).append(int(value) + 1 if key == "epoch" else float(value))
    return columns


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
    figure.savefig(os.fspath(path))
    plt.close(figure)
