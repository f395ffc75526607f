"""From what the user gave to the frozen configs of a run: one resolution for `train` and `compare`.

`resolve_configs(task, given)` takes the settings the user named (field name → value, e.g. from the
CLI's options) and lays them over the task's own defaults: the task's config class for the task
fields, `task.default_train_config(config)` for the `TrainConfig` fields. `resumed_configs` reads a
run's saved settings back for `--resume`, given the run's task (the CLI finds it in the run's
`config.json`; the engine never looks a task up).

Example:

```python
config, train_config = resolve_configs(get_task("copy"), {"cell": "urnn", "length": 200})
```
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Mapping

from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import OptionError

logger = logging.getLogger(__name__)


def field_names(config_class) -> set[str]:
    return {field.name for field in dataclasses.fields(config_class)}


def option_flag(name: str, flags: Mapping[str, str] | None = None) -> str:
    """How the user wrote setting `name`: `flags[name]`, or `--name-with-dashes`."""
    return (flags or {}).get(name) or "--" + name.replace("_", "-")


def resolve_configs(task, given: Mapping, *, flags: Mapping[str, str] | None = None, distributed: bool = False):
    """The task config and `TrainConfig` of `given` settings over the task's defaults.

    A given clipvalue replaces the default norm clipping (and clipnorm the default value
    clipping) unless both are given; a clipvalue of 0 means none.

    Args:
      task: a `kerasrnn.tasks.base.Task`.
      given: setting name → value, only what the user chose.
      flags: how each setting is written on the command line, for messages.
      distributed: the run trains under a strategy of several replicas or workers: a default of
        the task's `single_device_defaults` the user did not choose takes its value given there.

    Raises:
      OptionError: a setting the task has none of.
      UserInputError: a value the configs refuse.
    """
    task_fields, train_fields = field_names(task.config_class), field_names(TrainConfig)
    unused = sorted(set(given) - task_fields - train_fields)
    if unused:
        raise OptionError(f"{option_flag(unused[0], flags)} does not apply to the {task.name} task")
    if distributed:
        given = {**given}
        for name, value in task.single_device_defaults.items():
            if name not in given:
                given[name] = value
                logger.info("Training with %s %r under --distribute: its default works on one device only",
                            name.replace("_", " "), value)
    config = task.config_class(**{name: value for name, value in given.items() if name in task_fields})
    changes = {name: value for name, value in given.items() if name in train_fields}
    for chosen, other in (("clipvalue", "clipnorm"), ("clipnorm", "clipvalue")):
        if chosen in changes and other not in changes:
            changes[other] = None
    if changes.get("clipvalue") == 0:
        changes["clipvalue"] = None
    return config, dataclasses.replace(task.default_train_config(config), **changes)


def resumed_configs(task, run_dir: Path, *, epochs: int | None = None):
    """`(config, train_config)` saved in `run_dir`, a run of `task`, with `epochs` changed if given."""
    config, train_config = task.load_configs(run_dir)
    if epochs is not None:
        train_config = dataclasses.replace(train_config, epochs=epochs)
    return config, train_config
