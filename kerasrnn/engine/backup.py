"""The backup of a run: everything that decides the next training step, saved after every epoch.

`backup/state.npz` holds, as arrays, every variable of the model (weights, and the states of the
dropout layers' seed generators) and of its optimizer (the step count, which also places the
learning-rate schedule, and the moment estimates), and the number of finished epochs. A time-budget
run adds its plan: the variables of its `ReplannedCosineDecay` (the planned total steps, and where
it was last refitted) among the others, and the epochs planned and the seconds of the budget spent
(`saved_budget`), from which a resumed run continues and re-plans. The data
stream's position follows from that number (a task's datasets start at `first_step`), and early
stopping and the best-so-far measure (the task's `monitored`: the validation loss, or a
classifier's accuracy) are replayed from `history.csv`. So a run resumed from its backup
takes exactly the steps the uninterrupted run would have taken (for a time-budget run: as long as
it re-plans as the uninterrupted run did, which depends on the pace the machine gives it).

The file is written to a temporary name and renamed into place: a crash while it is being written
leaves the previous epoch's backup whole. NumPy writes it, not h5py, so a full disk is an ordinary
`OSError`.

Example:

```python
save_state(run_dir, model, epochs=3)
epochs = restore_state(run_dir, model)    # 3, with the weights and optimizer state of epoch 3
```
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from kerasrnn.engine.run_dir import BACKUP_DIR
from kerasrnn.errors import UserInputError
from kerasrnn.fileio import replace_atomically

STATE_FILE = "state.npz"


def state_path(run_dir: Path) -> Path:
    return Path(run_dir) / BACKUP_DIR / STATE_FILE


def state_variables(model) -> list:
    """The model's variables, its optimizer's, and those of a re-plannable schedule's plan."""
    from kerasrnn.engine.fitting import replanned_schedule

    schedule = replanned_schedule(model.optimizer)
    plan = schedule.plan_variables if schedule is not None else []
    return list(model.variables) + list(model.optimizer.variables) + list(plan)


def save_state(run_dir: Path, model, epochs: int, *, budget: tuple[int, float] | None = None) -> None:
    """Writes the state of `model` and its optimizer after `epochs` finished epochs, atomically;
    with `budget`, a time budget's `(epochs planned, seconds spent)` too."""
    variables = state_variables(model)
    arrays = {f"v{index}": np.asarray(variable.numpy()) for index, variable in enumerate(variables)}
    if budget is not None:
        arrays.update(budget_epochs=np.int64(budget[0]), budget_seconds=np.float64(budget[1]))
    buffer = io.BytesIO()
    np.savez(buffer, epochs=np.int64(epochs), count=np.int64(len(variables)), **arrays)
    path = state_path(run_dir)
    path.parent.mkdir(exist_ok=True)
    replace_atomically(path, lambda temporary: temporary.write_bytes(buffer.getvalue()))


def saved_epochs(run_dir: Path) -> int:
    """The number of finished epochs in the run's backup; 0 without one."""
    path = state_path(run_dir)
    if not path.is_file():
        return 0
    return int(_read(path)["epochs"])


def saved_budget(run_dir: Path) -> tuple[int, float] | None:
    """The time budget's `(epochs planned, seconds spent)` in the run's backup; None without one."""
    path = state_path(run_dir)
    if not path.is_file():
        return None
    state = _read(path)
    if "budget_epochs" not in state:
        return None
    return int(state["budget_epochs"]), float(state["budget_seconds"])


def restore_state(run_dir: Path, model) -> int:
    """Loads the backup into `model` (built and compiled) and its optimizer; returns the number of
    finished epochs it holds (0, and nothing loaded, when the run has no backup).

    Raises:
      UserInputError: the backup is damaged, or is not of this model.
    """
    path = state_path(run_dir)
    if not path.is_file():
        if (path.parent / "latest.weights.h5").is_file():
            raise UserInputError(f"{run_dir} was backed up by an earlier kerasrnn (Keras's BackupAndRestore), "
                                 f"which cannot be resumed exactly: start a new run")
        return 0
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    variables = state_variables(model)
    state = _read(path)
    if int(state["count"]) != len(variables):
        raise UserInputError(f"{path} holds {int(state['count'])} variables, not the model's "
                             f"{len(variables)}: it is the backup of another model")
    for index, variable in enumerate(variables):
        value = state[f"v{index}"]
        if tuple(value.shape) != tuple(variable.shape):
            raise UserInputError(f"{path} does not match the model (variable {variable.path}): it is "
                                 f"the backup of another model")
        variable.assign(value)
    return int(state["epochs"])


def _read(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as state:
            arrays = {key: state[key] for key in state.files}
    except Exception as error:  # zipfile, numpy and OS errors alike: the file cannot be read
        raise UserInputError(f"the backup {path} is damaged ({error}): train the run again") from error
    if not {"epochs", "count"} <= set(arrays):
        raise UserInputError(f"the backup {path} is damaged (no epoch count in it): train the run again")
    return arrays
