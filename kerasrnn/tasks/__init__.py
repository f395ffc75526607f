"""The task registry: task name → the `Task` class that says what is learned.

This mapping is the only registry of tasks: the CLI's `--task`, `--resume`, `compare`, `evaluate`
and `export` all find a task here, and ask it only what `kerasrnn.tasks.base.Task` defines (the
engine never looks a task up: it is handed one). A new task is a package beside these with a `Task`
subclass, and one line here (`"module.path:ClassName"`). Task modules import TensorFlow only inside
their methods, so the CLI can read the tasks' settings for `--help` at once.

Example:

```python
task = get_task("copy")
task.config_class(cell="urnn", length=200)
```
"""

from __future__ import annotations

import importlib
from pathlib import Path

from kerasrnn.errors import UserInputError

TASKS: dict[str, str] = {
    "charlm": "kerasrnn.tasks.charlm.task:CharLMTask",
    "copy": "kerasrnn.tasks.memory.copying:CopyTask",
    "adding": "kerasrnn.tasks.memory.adding:AddingTask",
    "classify": "kerasrnn.tasks.classify.task:ClassifyTask",
    "translate": "kerasrnn.tasks.translate.task:TranslateTask",
}
TASK_NAMES = tuple(TASKS)


def get_task(name: str):
    """The `Task` registered as `name`; UserInputError naming the valid tasks if there is none."""
    if name not in TASKS:
        raise UserInputError(f"unknown task {name!r}: choose one of {', '.join(TASKS)}")
    module_name, class_name = TASKS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)()


def task_of_run(run_dir: Path):
    """The `Task` of the run saved in `run_dir` (UserInputError if it is not a run directory)."""
    from kerasrnn.engine import run_dir as run_files

    return get_task(run_files.load_config(run_files.check_run_dir(run_dir, need_model=False))["task"])
