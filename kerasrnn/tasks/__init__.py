"""The task registry: task name → the module that builds, trains and evaluates it.

This mapping is the only registry of tasks; the CLI builds its `--task` choice from it. A task
module provides:

- `TASK`: its name, as here; `CONFIG_CLASS`: its frozen settings dataclass (the CLI fills the
  fields it has options for, by name);
- `train(config, train_config, run_dir=None, *, resume=False, device="auto", verbose="auto")`
  returning a result with `.summary()`, through the shared `kerasrnn.training.fit`;
- `evaluate(run_dir, *, split="validation", data=None, data_dir=None, device="auto")` returning a
  result with `.summary()`;
- `load_configs(run_dir) -> (config, train_config)`;
- optionally `generate(run_dir, prompt, length, *, temperature, top_k, seed, device) -> str`.

What `python cli.py compare` (`kerasrnn.compare`) also relies on, so that every task compares:

- `CONFIG_CLASS` has a `cell` field (one of `kerasrnn.recurrent.CELL_NAMES`), set with
  `dataclasses.replace` or the constructor;
- `load_model(run_dir) -> keras.Model`, the run's best model (for its parameter count);
- optionally `baseline(run_dir) -> float`: the validation loss of the task's no-learning
  baseline for that run, in the units of the loss (copy: 10·ln 8 / (T + 20); adding: 1/6);
- optionally `default_train_config(config) -> TrainConfig`: the task's own training defaults
  (the CLI and compare change only what the user gives); absent: `TrainConfig()`;
- optionally `LOSS_UNIT`, a short name for tables and plots (e.g. `"nats/step"`, `"MSE"`).

A task module imports TensorFlow only inside its functions, so that the CLI can read the defaults
of `CONFIG_CLASS` for `--help` at once; its network and data code lives in modules beside it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from kerasrnn.errors import UserInputError

TASKS: dict[str, str] = {
    "charlm": "kerasrnn.tasks.char_lm",
    "copy": "kerasrnn.tasks.copy_memory",
    "adding": "kerasrnn.tasks.adding",
    "classify": "kerasrnn.tasks.classify",
    "translate": "kerasrnn.tasks.translate",
}
TASK_NAMES = tuple(TASKS)


def get_task(name: str) -> ModuleType:
    """The module of task `name`; UserInputError naming the valid tasks if there is none."""
    if name not in TASKS:
        raise UserInputError(f"unknown task {name!r}: choose one of {', '.join(TASK_NAMES)}")
    return importlib.import_module(TASKS[name])
