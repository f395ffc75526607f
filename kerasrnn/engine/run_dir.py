"""The run directory: its layout, how it is created, checked and resumed, and how files reach it.

A run directory (`runs/<task>-<cell>-<YYYYmmdd-HHMMSS>/` by default) holds:

| file                    | what                                                            |
| ----------------------- | --------------------------------------------------------------- |
| `config.json`           | the task name and the frozen task and training configs          |
| `model.keras`           | the model of the best validation measure so far (`monitored`)   |
| `vocabulary.json`       | the task's vocabulary (written by the task)                     |
| `history.csv`, `.json`  | loss and metrics per epoch                                      |
| `learning_curves.png`   | training and validation loss per epoch                          |
| `metrics.json`          | the task's final evaluation                                     |
| `timing.json`           | median seconds per training step of the last `fit`              |
| `backup/state.npz`      | everything the next step depends on, after the last epoch       |
| `logs/`                 | TensorBoard logs                                                |
| `.lock`                 | while a run trains: its lock (`kerasrnn.engine.run_lock`)        |

A run directory is never overwritten: training into a non-empty directory needs `resume=True`, only
one process trains into it at a time (`kerasrnn.engine.run_lock`), and resuming continues exactly from the backup (`kerasrnn.engine.backup`) with the saved configs. Files written here go through
`kerasrnn.fileio` (a temporary name in the same folder, then a rename), so a reader never sees half
a file.

Example:

```python
run_dir = prepare_run_dir(Path("runs/a"), resume=False)
fileio.write_json(run_dir / METRICS_FILE, {"loss": 1.5})
saved_metric(run_dir, "loss")          # 1.5
```
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import json
import shutil
from pathlib import Path
from typing import Any, Sequence

from kerasrnn.engine.run_lock import LOCK_FILE
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import UserInputError
from kerasrnn.fileio import write_json, write_text
from kerasrnn.program import command

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

    A folder holding a run in which no epoch finished (`is_unfinished_run`) is emptied and reused.

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
    if is_unfinished_run(run_dir):
        clear_folder(run_dir)  # a crash before its first epoch: only our files, and nothing learned
    if run_dir.is_dir() and any(entry.name != LOCK_FILE for entry in run_dir.iterdir()):
        resume_it = (f"continue it with: {command('train', '--resume', '--run-dir', run_dir)}, or "
                     if (run_dir / CONFIG_FILE).is_file() else "")
        raise UserInputError(f"run directory {run_dir} exists and is not empty: {resume_it}choose another --run-dir")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserInputError(f"cannot create the run directory {run_dir}: {error.strerror or error}") from None
    return run_dir


def is_unfinished_run(run_dir: Path) -> bool:
    """True for a run directory in which no epoch finished: a config but no backup (what a run
    killed during its first epoch leaves); starting it afresh loses nothing."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG_FILE).is_file() or (run_dir / BACKUP_DIR).exists():
        return False
    try:
        load_config(run_dir)
    except UserInputError:
        return False  # someone else's config.json: never delete what kerasrnn did not write
    ours = [entry.name == LOG_DIR or entry.name.startswith(".") or entry.suffix in (".json", ".csv", ".txt", ".keras", ".png")
            for entry in run_dir.iterdir()]
    return all(ours)


def clear_folder(folder: Path) -> None:
    """Deletes everything inside `folder`, keeping the folder and its lock (`run_lock`)."""
    for entry in Path(folder).iterdir():
        if entry.name == LOCK_FILE:
            continue  # the lock of the run that clears it: removed last, by its holder
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


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
            f"finish it with: {command('train', '--resume', '--run-dir', run_dir)}"
        )
    return run_dir


# --- the configs -----------------------------------------------------------------------------


def save_config(run_dir: Path, task: str, task_config: Any, train_config: TrainConfig) -> None:
    """Writes `config.json`: the task name and both frozen configs as dicts."""
    from kerasrnn import __version__

    write_json(Path(run_dir) / CONFIG_FILE, {
        "task": task,
        "task_config": dataclasses.asdict(task_config),
        "train_config": dataclasses.asdict(train_config),
        "kerasrnn_version": __version__,
    })


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


def load_task_configs(run_dir: Path, task: str, config_class) -> tuple[Any, TrainConfig]:
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


def check_resumable(run_dir: Path, saved: tuple, config: Any, train_config: TrainConfig) -> None:
    """Raises UserInputError unless `(config, train_config)` equal the `saved` pair of `run_dir`,
    `epochs` excepted (a resumed run may train longer)."""
    if saved[0] != config:
        raise UserInputError(f"the task settings differ from those saved in {run_dir}: resume with them")
    if dataclasses.replace(saved[1], epochs=train_config.epochs) != train_config:
        raise UserInputError(
            f"the training settings differ from those saved in {run_dir}: only --epochs may change "
            f"when resuming"
        )


# --- what training leaves ----------------------------------------------------------------------


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


def write_history(run_dir: Path, history: dict[str, list[float]]) -> None:
    """Writes `history.csv` (the format `read_history` reads: epochs from 0, then the columns in
    name order), atomically."""
    columns = sorted(key for key in history if key != "epoch")
    lines = [",".join(["epoch", *columns])]
    for row, epoch in enumerate(history.get("epoch", [])):
        lines.append(",".join([str(int(epoch) - 1), *(repr(float(history[key][row])) for key in columns)]))
    write_text(Path(run_dir) / HISTORY_CSV, "\n".join(lines) + "\n")


def truncated_history(history: dict[str, list[float]], epochs: int) -> dict[str, list[float]]:
    """The first `epochs` epochs of `history`."""
    return {key: values[:epochs] for key, values in history.items()}


def load_best_model(run_dir: Path, cell: str):
    """The best model (`model.keras`) of a run directory whose network uses cell `cell`.

    Raises:
      UserInputError: no model yet, or a file Keras cannot read (truncated, overwritten, of another
        version), named in the message.
    """
    import keras

    from kerasrnn.recurrent import KERASRNN_CELLS

    path = check_run_dir(run_dir) / MODEL_FILE
    if cell in KERASRNN_CELLS:
        import kerasrnn.layers  # noqa: F401 - registers the cells for deserialisation
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras reports a damaged zip as anything from ValueError to KeyError
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise UserInputError(
            f"{path} is damaged or not a model this kerasrnn can read ({first_line}): train the run "
            f"again, or put back a good copy"
        ) from None


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


# --- reading files and writing token lists ----------------------------------------------------


def read_json(path: Path, what: str = "") -> Any:
    """The JSON in `path`; UserInputError naming the file (and `what` it should hold) if unreadable."""
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise UserInputError(f"cannot read {what or path}{f' {path}' if what else ''}: {error}") from error


def write_tokens(tokens: Sequence[str], path: Path) -> None:
    """Writes a list of tokens (a vocabulary in id order, class names, …) as a JSON list."""
    write_text(path, json.dumps([str(t) for t in tokens], ensure_ascii=False, indent=0) + "\n")


def read_tokens(path: Path) -> list[str]:
    """Reads a list written by `write_tokens`."""
    tokens = read_json(path)
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise UserInputError(f"{path} is not a list of tokens")
    return tokens
