"""The one run skeleton every task trains through: `train(task, config, train_config, run_dir)`.

start the run (run directory, resume check, device, data) → the task prepares its vocabularies →
save the configs → seed → build → compile → fit with the shared callbacks → reload the best model
→ evaluate it on validation → `metrics.json` → a `TrainResult`. The task supplies only its hooks
(`kerasrnn.tasks.base.Task`); resuming, devices, checkpoints and files are decided here, once.

Example:

```python
from kerasrnn.tasks import get_task

task = get_task("copy")
config = task.config_class(cell="urnn", length=50)
result = train(task, config, task.default_train_config(config), Path("runs/copy"))
print(result.summary())
```
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

from kerasrnn.engine import fitting
from kerasrnn.engine import run_dir as run_files
from kerasrnn.engine.devices import select_device
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import UserInputError

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What `train` did: where, how long, the model size, the validation evaluation, and any lines
    the task adds (the character model's sample)."""

    run_dir: Path
    epochs: int
    steps: int
    best_epoch: int
    seconds: float
    parameters: int
    validation: Any  # the task's evaluation, with a `summary()`
    details: tuple[str, ...] = ()

    def summary(self) -> str:
        return "\n".join([
            f"Trained {self.epochs} epochs ({self.steps:,} steps) in {self.seconds:.0f} s; "
            f"{self.parameters:,} parameters; best validation loss at epoch {self.best_epoch}.",
            self.validation.summary(),
            *self.details,
            f"Run saved in {self.run_dir}",
        ])


def start_run(task, config, train_config: TrainConfig, run_dir: Path | None, *, resume: bool,
              device: str) -> tuple[Path, Any]:
    """The run directory made (or checked, to resume), the device chosen, and the task's data loaded.

    A run directory this call created is removed again if loading the data fails.

    Raises:
      UserInputError: `resume` without `run_dir`; settings that differ from the resumed run; a
        non-empty new run directory; a bad device; whatever `task.load_data` raises.
    """
    if resume and run_dir is None:
        raise UserInputError("resuming needs the run directory to continue (--run-dir)")
    run_dir = Path(run_dir) if run_dir is not None else run_files.default_run_dir(task.name, config.cell)
    if resume:
        run_files.check_resumable(run_dir, task.load_configs(run_dir), config, train_config)
    select_device(device, mixed_precision=train_config.mixed_precision)
    existed = run_dir.exists()
    run_dir = run_files.prepare_run_dir(run_dir, resume=resume)
    with run_files.removed_if_failed_empty(run_dir, existed):
        data = task.load_data(config)
    return run_dir, data


def train(task, config, train_config: TrainConfig, run_dir: Path | None = None, *, resume: bool = False,
          device: str = "auto", verbose: str | int = "auto") -> TrainResult:
    """Trains `task` with `config` into a run directory, or resumes the run there.

    Args:
      task: a `kerasrnn.tasks.base.Task`.
      config, train_config: the settings. When resuming they must equal the saved ones, except
        `train_config.epochs`, which may grow to train longer.
      run_dir: where to save the run; None: `runs/<task>-<cell>-<time>`. Must be new or empty
        unless `resume`.
      resume: continue the interrupted (or finished) run in `run_dir` from its backup.
      device: `"auto"`, `"cpu"` or `"gpu"`, see `select_device`.
      verbose: Keras progress display of `fit`.

    Raises:
      UserInputError: bad data or run directory, settings that differ from the resumed run, or a
        training that diverged.
    """
    import keras

    started = time.monotonic()
    config = task.resolve(config)
    run_dir, data = start_run(task, config, train_config, run_dir, resume=resume, device=device)
    prepared = task.prepare(config, train_config, data, run_dir, resume=resume)
    run_files.save_config(run_dir, task.name, config, train_config)

    keras.utils.set_random_seed(train_config.seed)
    steps = train_config.steps_per_epoch or task.steps_per_epoch(config, train_config, prepared)
    model = task.build_model(config, prepared, seed=train_config.seed)
    model.compile(optimizer=fitting.make_optimizer(train_config, train_config.epochs * steps),
                  **task.compile_arguments(config, prepared))
    logger.info("%s", task.describe(model, config, prepared))
    done_steps = len(run_files.read_history(run_dir).get("epoch", [])) * steps
    train_data, validation_data = task.datasets(config, train_config, prepared, first_step=done_steps)
    history = fitting.fit(model, train_data, validation_data, run_dir, train_config,
                          steps_per_epoch=steps, verbose=verbose)

    best = task.load_model(run_dir)
    validation = task.evaluate_model(best, config, prepared, task.splits[0], run_dir)
    details = task.finish(best, config, train_config, prepared, run_dir)
    best_epoch = run_files.best_epoch(history)
    epochs = len(history["epoch"])
    run_files.write_json(run_dir / run_files.METRICS_FILE, {
        **validation.as_metrics(), "best_epoch": best_epoch, "epochs": epochs,
        "parameters": best.count_params(),
    })
    return TrainResult(run_dir, epochs, epochs * steps, best_epoch, time.monotonic() - started,
                       best.count_params(), validation, tuple(details))
