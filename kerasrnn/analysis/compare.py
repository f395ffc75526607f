"""Side-by-side comparison: several cells trained on one task with the same budget and seed.

Uses only the `Task` contract (`kerasrnn.tasks.base`): each cell's settings are resolved as `train`
resolves them (`kerasrnn.engine.settings.resolve_configs`: the task's defaults, then what the user
gave, then `cell`), the budget (seed, epochs, steps, no early stop) is set the same for all, and the
run skeleton (`kerasrnn.engine.run.train`) trains it into `<out_dir>/<cell>/`. The row is read back
from what the skeleton wrote there (the history and the step timing) and the task's
`baseline(run_dir)`. So a task added to the registry is comparable with no change here.

`<out_dir>` then holds one run directory per cell, `comparison.md` and `comparison.csv` (the
table) and `curves.png` (validation loss against training steps, one line per cell, the baseline
dashed).

Example:

```python
result = compare_cells("copy", ("vanilla", "urnn"), steps=300, out_dir=Path("runs/cmp"),
                       settings={"length": 50, "batch_size": 32})
print(result.table())
```
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import json
import logging
import math
import time
from pathlib import Path
from typing import Mapping

from kerasrnn import checks
from kerasrnn.engine import run_dir as run_files
from kerasrnn.errors import UserInputError
from kerasrnn.figures import png_figure
from kerasrnn.fileio import write_text
from kerasrnn.tasks import get_task

logger = logging.getLogger(__name__)

TABLE_MD = "comparison.md"
TABLE_CSV = "comparison.csv"
CURVES_PNG = "curves.png"


@dataclasses.dataclass(frozen=True)
class CellResult:
    """One row of the comparison."""

    cell: str
    parameters: int
    final_loss: float
    baseline: float | None
    seconds_per_step: float
    steps: int
    curve_steps: tuple[int, ...]
    curve_losses: tuple[float, ...]
    run_dir: Path

    @property
    def of_baseline(self) -> float | None:
        return None if self.baseline is None else self.final_loss / self.baseline


@dataclasses.dataclass(frozen=True)
class Comparison:
    task: str
    loss_unit: str
    rows: tuple[CellResult, ...]
    out_dir: Path

    def table(self) -> str:
        """The comparison as a Markdown table."""
        lines = [
            f"| cell | parameters | final validation loss ({self.loss_unit}) | loss / baseline | "
            f"time per step (ms) |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for row in self.rows:
            ratio = "—" if row.of_baseline is None else _short_number(row.of_baseline, 3)
            loss = _short_number(row.final_loss, 4)
            lines.append(f"| {row.cell} | {row.parameters:,} | {loss} | {ratio} | "
                         f"{row.seconds_per_step * 1000:.0f} |")
        baselines = {row.baseline for row in self.rows if row.baseline is not None}
        if len(baselines) == 1:
            lines.append("")
            lines.append(f"Memoryless baseline: {baselines.pop():.4f} {self.loss_unit}; "
                         f"{self.rows[0].steps:,} training steps per cell.")
        return "\n".join(lines)


def _short_number(value: float, decimals: int) -> str:
    """`value` with `decimals` decimals, or in scientific notation when that would show only zeros."""
    if value != 0 and abs(value) < 10 ** -(decimals - 1):
        return f"{value:.2e}"
    return f"{value:.{decimals}f}"


def split_steps(steps: int, evaluations: int) -> tuple[int, int]:
    """`(epochs, steps_per_epoch)` giving about `evaluations` validation points over `steps` steps.

    Trains `epochs * steps_per_epoch` steps: exactly `steps` when `evaluations` divides it, a few
    fewer otherwise.
    """
    steps_per_epoch = max(1, steps // evaluations)
    return steps // steps_per_epoch, steps_per_epoch


def default_out_dir(task: str, root: Path = Path("runs")) -> Path:
    """`runs/compare-<task>-<YYYYmmdd-HHMMSS>`."""
    return root / f"compare-{task}-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def compare_cells(
    task_name: str,
    cells: tuple[str, ...],
    *,
    steps: int,
    out_dir: Path,
    evaluations: int = 10,
    seed: int = 0,
    settings: Mapping | None = None,
    device: str = "auto",
    verbose: str | int = 0,
    flags: Mapping[str, str] | None = None,
    distribution=None,
) -> Comparison | None:
    """Trains each cell on `task_name` for `steps` steps with the same settings and seed.

    Args:
      task_name: a name of the task registry.
      cells: cell names, trained in this order.
      steps: training steps per cell.
      out_dir: new (or empty) folder for the runs, the table and the plot.
      evaluations: validation passes per run (the points of each learning curve).
      seed: the seed of every run.
      settings: task or training setting name → value, what the user chose (e.g. `{"length": 100,
        "batch_size": 32}`); the rest are the task's defaults. The budget (seed, epochs, steps per
        epoch, patience) is this function's.
      device, verbose, distribution: as for `kerasrnn.engine.run.train`. A worker of a cluster
        that is not the chief trains every cell with the others in a temporary folder, writes
        nothing in `out_dir`, and returns None.
      flags: how each setting is written on the command line, for messages.

    Raises:
      OptionError: a setting the task has none of.
      UserInputError: unknown task or cell, a non-empty `out_dir`, bad settings, or a run that failed.
    """
    from kerasrnn.engine.run import train
    from kerasrnn.engine.settings import resolve_configs

    task = get_task(task_name)
    checks.positive_int("steps", steps)
    checks.positive_int("evaluations", evaluations)
    epochs, steps_per_epoch = split_steps(steps, evaluations)
    # The same budget for all: the same seed, steps and validation points, and no early stop.
    budget = dict(seed=seed, epochs=epochs, steps_per_epoch=steps_per_epoch, patience=epochs)
    # Every config first, so that bad settings fail before any training.
    plans = []
    for cell in cells:
        config, train_config = resolve_configs(task, {**(settings or {}), "cell": cell}, flags=flags,
                                               distributed=distribution is not None and distribution.kind != "none")
        plans.append((cell, config, dataclasses.replace(train_config, **budget)))
    out_dir = Path(out_dir).expanduser()
    if distribution is not None and not distribution.chief:
        _train_as_worker(task, plans, out_dir, device, distribution)
        return None
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UserInputError(f"{out_dir} exists and is not an empty folder: choose a new --out-dir")
    data = check_memory(task, plans)
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)

    rows = []
    try:
        for index, (cell, config, train_config) in enumerate(plans):
            logger.info("Training %s on %s for %d steps", cell, task_name, epochs * steps_per_epoch)
            started = time.monotonic()
            # The first cell's config is the one check_memory read the data of; the others read it again.
            result = train(task, config, train_config, out_dir / cell, device=device, verbose=verbose,
                           distribution=distribution, data=data if index == 0 else None)
            rows.append(_read_row(task, cell, result, steps_per_epoch, time.monotonic() - started))
            logger.info("%s: final validation loss %.4f, %.0f ms per step", cell, rows[-1].final_loss,
                        rows[-1].seconds_per_step * 1000)
    except BaseException:
        if created and out_dir.is_dir() and not any(out_dir.iterdir()):
            out_dir.rmdir()  # the first run failed and left nothing: neither is the folder left
        raise
    comparison = Comparison(task_name, task.loss_unit, tuple(rows), out_dir)
    write_table(comparison)
    plot_curves(comparison, out_dir / CURVES_PNG)
    return comparison


def _train_as_worker(task, plans, out_dir: Path, device: str, distribution) -> None:
    """Every cell's training on a worker that is not the chief (whose runs go to `out_dir`)."""
    from kerasrnn.engine.run import train

    for cell, config, train_config in plans:
        result = train(task, config, train_config, out_dir / cell, device=device, verbose=0,
                       distribution=distribution)
        logger.info("%s", result.summary())


def check_memory(task, plans):
    """Refuses in one line, before anything is trained or created, when one of the cells could not be
    trained in memory (the run skeleton would refuse it too, but only once the cells before it had
    trained). The vocabularies are made once, in a scratch folder: they do not depend on the cell.

    Args:
      task: the `Task`.
      plans: `(cell, config, train_config)` of every cell.

    Returns:
      What `task.check_data` loaded for the first cell (None if nothing), for its run.
    """
    import tempfile

    from kerasrnn.engine import memory

    _, config, train_config = plans[0]
    config = task.resolve(config)  # as the run skeleton does first
    checked = task.check_data(config)
    data = task.load_data(config) if checked is None else checked
    with tempfile.TemporaryDirectory(prefix="kerasrnn-compare-") as scratch:
        prepared = task.prepare(config, train_config, data, Path(scratch), resume=False)
    for cell, config, train_config in plans:
        needed = task.training_memory(task.resolve(config), train_config, prepared)
        if needed is not None:
            memory.check_fits(needed, f"training the {cell} {task.name} model",
                              "ask for fewer --units, a smaller --batch-size or a shorter --length")
    return checked


def _read_row(task, cell: str, result, steps_per_epoch: int, wall: float) -> CellResult:
    """The row of `cell` from its `TrainResult` and what the skeleton wrote in its run directory."""
    run_dir = result.run_dir
    history = run_files.read_history(run_dir)
    losses = history.get("val_loss", [])
    if not losses:
        raise UserInputError(f"the {cell} run in {run_dir} finished no epoch")
    epochs = history["epoch"]
    steps = int(epochs[-1]) * steps_per_epoch
    timing_path = run_dir / run_files.TIMING_FILE
    if timing_path.is_file():
        seconds_per_step = float(json.loads(timing_path.read_text("utf-8"))["seconds_per_step"])
    else:  # no step was timed (`fit` had nothing left to train): the whole run's wall time
        seconds_per_step = wall / steps
    return CellResult(
        cell=cell,
        parameters=result.parameters,
        final_loss=float(losses[-1]),
        baseline=task.baseline(run_dir),
        seconds_per_step=seconds_per_step,
        steps=steps,
        curve_steps=tuple(int(epoch) * steps_per_epoch for epoch in epochs),
        curve_losses=tuple(float(loss) for loss in losses),
        run_dir=run_dir,
    )


def write_table(comparison: Comparison) -> None:
    """`comparison.md` (the Markdown table) and `comparison.csv` in the comparison's folder."""
    write_text(comparison.out_dir / TABLE_MD, comparison.table() + "\n")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["cell", "parameters", "final_validation_loss", "baseline", "loss_over_baseline",
                     "seconds_per_step", "steps", "run_dir"])
    for row in comparison.rows:
        writer.writerow([row.cell, row.parameters, f"{row.final_loss:.6g}",
                         "" if row.baseline is None else f"{row.baseline:.6g}",
                         "" if row.of_baseline is None else f"{row.of_baseline:.6g}",
                         f"{row.seconds_per_step:.6g}", row.steps, row.run_dir.as_posix()])
    write_text(comparison.out_dir / TABLE_CSV, buffer.getvalue())


def plot_curves(comparison: Comparison, path: Path) -> None:
    """Validation loss against training steps, one line per cell, the baseline dashed; log y-axis."""
    with png_figure(path, figsize=(6, 4), dpi=80) as (_, axis):
        for row in comparison.rows:
            axis.plot(row.curve_steps, row.curve_losses, marker="o", markersize=3, label=row.cell)
        baselines = sorted({row.baseline for row in comparison.rows if row.baseline is not None})
        for baseline in baselines:
            axis.axhline(baseline, color="black", linestyle="--", linewidth=1,
                         label=f"memoryless baseline {baseline:.4g}")
        positive = [loss for row in comparison.rows for loss in row.curve_losses
                    if loss > 0 and math.isfinite(loss)]
        if positive and max(positive) / min(positive) > 20:
            axis.set_yscale("log")
        axis.set_xlabel("training step")
        axis.set_ylabel(f"validation loss ({comparison.loss_unit})")
        axis.set_title(f"{comparison.task}: {', '.join(row.cell for row in comparison.rows)}", fontsize=10)
        axis.grid(alpha=0.3, which="both")
        axis.legend(fontsize=8)
