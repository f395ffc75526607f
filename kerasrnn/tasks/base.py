"""`Task`: the contract between a task (what to learn) and the engine (how to train it).

A task says *what*: its settings, its data, its network, its loss and metrics, how it is scored.
The engine (`kerasrnn.engine.run.train`) says *how*: the run directory, resuming, devices,
checkpoints, the callbacks, the history, the final summary. Every task is a subclass of `Task`
registered by one line in `kerasrnn.tasks.TASKS`; the CLI, `compare` and `export` use only the
methods below and the capabilities a task declares (`kerasrnn.tasks.capabilities`), never a
task's name.

Required (no default): `build_model`, `compile_arguments`, `datasets`, `evaluate_model`.
With a default a task may replace: `default_train_config`, `resolve`, `reads_only_local_files`,
`check_data`, `load_data`, `prepare`, `restore`, `steps_per_epoch`, `training_memory`, `describe`,
`output_classes`, `divergence_threshold`, `load_configs`, `load_model`, `baseline`, `evaluate`.
Optional abilities are declared, not refused here: `Generates`, `Classifies`, `Translates`,
`ScoresWholeFiles` (`evaluate --data FILE` scored whole), `Finishes` (work after training); and
three class attributes, `older_run_settings`, `generates_data` and `monitored` (see `Task`).

Before the run, the CLI reads `task.default_train_config(config)` and, for the user's own files,
`data = task.check_data(task.resolve(config))`, passed on as `train(…, data=data)`. The run
skeleton (`kerasrnn.engine.run.train`) then calls the hooks in this order:

    config = task.resolve(config)                      # data-dependent defaults, absolute paths
    saved = task.load_configs(run_dir)                 # --resume only: the settings must match
    data = task.load_data(config)                      # unless train(…, data=…) was given it
    prepared = task.prepare(config, train_config, data, run_dir, resume=…)   # vocabularies, written
    needed = task.training_memory(config, train_config, prepared)
    steps = train_config.steps_per_epoch or task.steps_per_epoch(config, train_config, prepared)
    model = task.build_model(config, prepared, seed=…)
    model.compile(optimizer, **task.compile_arguments(config, prepared))
    logger.info(task.describe(model, config, prepared))
    train, validation = task.datasets(config, train_config, prepared, first_step=…)
    … fit, stopped if the loss exceeds task.divergence_threshold(config, prepared) …
    best_model = task.load_model(run_dir)
    evaluation = task.evaluate_model(best_model, config, prepared, task.splits[0], run_dir)
    details = task.finish(best_model, config, train_config, prepared, run_dir)   # `Finishes` only

`evaluate` (the CLI's `evaluate`) calls `load_configs`, then `whole_data` (`ScoresWholeFiles`, for
`--data`) or `load_data`, `restore`, `load_model` and `evaluate_model`.

A new task subclasses `Task` (in its own package under `kerasrnn/tasks/`), sets `name` and
`config_class` (a frozen dataclass with at least a `cell` field), implements the four required
hooks, inherits the capabilities it has, and adds one line to `TASKS`.

Example:

```python
@dataclasses.dataclass(frozen=True)
class MeanConfig:
    cell: str = "gru"
    units: int = 8


class MeanTask(Task):                       # predict the mean of a random sequence
    name, config_class, loss_unit = "mean", MeanConfig, "MSE"

    def build_model(self, config, prepared, *, seed):
        inputs = keras.Input((10, 1))
        hidden = make_recurrent_layer(config.cell, config.units, return_sequences=False)(inputs)
        return keras.Model(inputs, keras.layers.Dense(1)(hidden))

    def compile_arguments(self, config, prepared):
        return {"loss": "mse"}

    def datasets(self, config, train_config, prepared, *, first_step=0):
        ...                                   # (train, validation) tf.data datasets

    def evaluate_model(self, model, config, prepared, split, run_dir):
        return LossEvaluation(split, loss=…, unit=self.loss_unit)
```
"""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path
from typing import Any, ClassVar, Mapping

from kerasrnn import checks
from kerasrnn.engine import run_dir as run_files
from kerasrnn.engine.monitored import VAL_LOSS, Monitored
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import OptionError, UserInputError
from kerasrnn.tasks.capabilities import ScoresWholeFiles, capable


@dataclasses.dataclass(frozen=True)
class LossEvaluation:
    """The simplest evaluation: a loss on one split, next to a baseline when the task has one."""

    split: str
    loss: float
    unit: str = "nats"
    baseline: float | None = None

    def summary(self) -> str:
        text = f"{self.split.capitalize()} loss {self.loss:.4f} {self.unit}"
        if self.baseline is not None:
            text += f"; baseline {self.baseline:.4f} {self.unit}"
        return text

    def as_metrics(self) -> dict:
        return {f"{self.split}_loss": self.loss, "baseline": self.baseline, "loss_unit": self.unit}


class Task:
    """One kind of thing to learn, as the engine and the CLI see it (see the module docstring).

    Class attributes:
      name: the task's name in the registry, the CLI's `--task` and `config.json`.
      config_class: its frozen settings dataclass; the fields are the CLI's task options.
      loss_unit: short name of the loss's unit, for tables and plots.
      splits: the splits `evaluate` accepts; the first is the one training reports.
      evaluate_options: keyword options `evaluate` takes besides the common ones (e.g. beam size).
      exporter: module with `add_endpoints(task, run_dir, archive)`, or None: cannot be exported.
      baseline_metric: the key of `metrics.json` holding the no-learning baseline, or None.
      single_device_defaults: settings whose default works on one device only, with the value they
        take under `--distribute` when the user does not choose them.
      older_run_settings: settings a run saved before they existed lacks in its `config.json`, with
        the value such a run was trained with (whatever the default is now).
      generates_data: True for a task that makes its own sequences: `evaluate --data` is refused.
      monitored: the validation measure that picks the best epoch (the saved model) and that early
        stopping waits on (`kerasrnn.engine.monitored`): the validation loss unless a task says
        otherwise.
    """

    name: ClassVar[str]
    config_class: ClassVar[type]
    loss_unit: ClassVar[str] = "nats"
    splits: ClassVar[tuple[str, ...]] = ("validation", "test", "train")
    evaluate_options: ClassVar[tuple[str, ...]] = ()
    exporter: ClassVar[str | None] = None
    baseline_metric: ClassVar[str | None] = None
    single_device_defaults: ClassVar[Mapping[str, Any]] = {}
    older_run_settings: ClassVar[Mapping[str, Any]] = {}
    generates_data: ClassVar[bool] = False
    monitored: ClassVar[Monitored] = VAL_LOSS

    # --- settings ----------------------------------------------------------------------------

    def default_train_config(self, config) -> TrainConfig:
        """The task's training defaults for `config` (what the user does not set)."""
        return TrainConfig()

    def resolve(self, config):
        """`config` with what depends on the data filled in (token modes, absolute paths)."""
        return config

    def reads_only_local_files(self, config) -> bool:
        """True when `load_data(config)` reads the user's own files and needs no TensorFlow, so that
        `check_data` can load them before TensorFlow is imported. Default: False."""
        return False

    def check_data(self, config) -> Any:
        """Loads (and so checks) the user's own files before TensorFlow is even imported, when
        `reads_only_local_files`: a bad file is then one line in a second, not after minutes.
        Returns what it loaded, for the caller to hand to the run (`train(…, data=…)`); None when
        it loaded nothing."""
        return self.load_data(config) if self.reads_only_local_files(config) else None

    # --- the run skeleton's hooks --------------------------------------------------------------

    def load_data(self, config) -> Any:
        """The task's data (None for a task that generates its own)."""
        return None

    def prepare(self, config, train_config: TrainConfig, data, run_dir: Path, *, resume: bool) -> Any:
        """What the network and the datasets need besides the configs (vocabularies, ids…),
        written into `run_dir`; when resuming, read back from it. Default: nothing."""
        return None

    def restore(self, config, data, run_dir: Path) -> Any:
        """What `prepare` gave, rebuilt from a finished run directory (for `evaluate`)."""
        return None

    def steps_per_epoch(self, config, train_config: TrainConfig, prepared) -> int:
        """Steps of one epoch when `train_config.steps_per_epoch` is None."""
        raise UserInputError(f"the {self.name} task needs a number of steps per epoch")

    def training_memory(self, config, train_config: TrainConfig, prepared) -> int | None:
        """Estimated bytes that training needs (see `kerasrnn.engine.memory`); None: not estimated."""
        return None

    def build_model(self, config, prepared, *, seed: int):
        """The untrained `keras.Model`."""
        raise NotImplementedError

    def compile_arguments(self, config, prepared) -> dict:
        """`model.compile` arguments besides the optimizer: `loss`, `metrics`, …"""
        raise NotImplementedError

    def describe(self, model, config, prepared) -> str:
        """The line logged once the model is built (`model_line`)."""
        return model_line(model)

    def datasets(self, config, train_config: TrainConfig, prepared, *, first_step: int = 0):
        """`(train, validation)` datasets for `fit`; `first_step` is the number of training steps
        a resumed run has done already."""
        raise NotImplementedError

    def evaluate_model(self, model, config, prepared, split: str, run_dir: Path, **options):
        """An evaluation (with `summary()` and `as_metrics()`) of `model` on `split`."""
        raise NotImplementedError

    def output_classes(self, config, prepared) -> int | None:
        """How many classes the loss's cross-entropy is over (characters, labels, target tokens);
        None for a task whose loss is not a cross-entropy over classes."""
        return None

    def divergence_threshold(self, config, prepared) -> float | None:
        """A training loss that means the run diverged when it lasts: 10 times the loss of a model
        that learned nothing (by default of a uniform guess over `output_classes`); None: only a
        NaN or infinite loss stops training."""
        classes = self.output_classes(config, prepared)
        return None if classes is None else 10 * math.log(max(classes, 2))

    # --- a finished run ------------------------------------------------------------------------

    def load_configs(self, run_dir: Path) -> tuple[Any, TrainConfig]:
        """The task config and `TrainConfig` saved in a run directory of this task."""
        # Keyword arguments given to the partial give way to the saved ones: only missing settings are filled.
        make = functools.partial(self.config_class, **self.older_run_settings)
        return run_files.load_task_configs(run_dir, self.name, make)

    def load_model(self, run_dir: Path):
        """The best model saved in a run directory of this task."""
        config, _ = self.load_configs(run_dir)
        return run_files.load_best_model(run_dir, config.cell)

    def baseline(self, run_dir: Path) -> float | None:
        """The no-learning baseline of a run, in the loss's unit; None if the task has none."""
        if self.baseline_metric is None:
            return None
        return run_files.saved_metric(run_dir, self.baseline_metric)

    def evaluate(self, run_dir: Path, *, split: str = "validation", data: str | None = None,
                 data_dir: str | None = None, device: str = "auto", **options):
        """The evaluation of a run's best model on `split` (of `data` instead of the run's own).

        Raises:
          UserInputError: not a run of this task; unknown split; an option it does not take; bad data.
        """
        from kerasrnn.engine.devices import select_device

        checks.one_of("split", split, self.splits)
        unknown = sorted(set(options) - set(self.evaluate_options))
        if unknown:
            raise OptionError(f"--{unknown[0].replace('_', '-')} does not apply to a {self.name} run")
        config, _ = self.load_configs(run_dir)
        run_files.check_run_dir(run_dir)
        if data is not None or data_dir is not None:
            config = with_data(self, config, data, data_dir)
        whole = self.whole_data(config) if data is not None and capable(self, ScoresWholeFiles) else None
        select_device(device)
        prepared = self.restore(config, self.load_data(config) if whole is None else whole, Path(run_dir))
        return self.evaluate_model(self.load_model(run_dir), config, prepared, split, Path(run_dir), **options)


def model_line(model, *details: str) -> str:
    """"name: 1,234 parameters", then each of `details` after a comma: what `Task.describe` logs."""
    return ", ".join([f"{model.name}: {model.count_params():,} parameters", *details])


def with_data(task, config, data: str | None, data_dir: str | None):
    """`config` reading `data` (and `data_dir`) instead of its own data; for `evaluate --data`.

    Raises:
      UserInputError: a task that makes its own sequences (`Task.generates_data`).
    """
    if task.generates_data:
        raise UserInputError(f"the {task.name} task generates its sequences: drop --data and --data-dir")
    # The run's own separate validation/test files go with its own data, not with the given data.
    separate = {name: None for name in ("validation_data", "test_data")
                if data is not None and name in {field.name for field in dataclasses.fields(config)}}
    return task.resolve(dataclasses.replace(config, data=data or config.data,
                                            data_dir=data_dir or config.data_dir, **separate))
