"""Side-by-side comparison: several cells trained on one task with the same budget and seed.

Uses only the task registry protocol (`kerasrnn.tasks`): for each cell it sets the `cell` field of
the task's settings, starts from the task's own training defaults (`default_train_config`, when the
task has one), trains through `task.train` into `<out_dir>/<cell>/`, and reads back what the shared
training path wrote there (the history and the step timing) plus the task's `baseline(run_dir)` and
`load_model(run_dir)`. So a task added to the registry is comparable with no change here.

`<out_dir>` then holds one run directory per cell, `comparison.md` and `comparison.csv` (the
table) and `curves.png` (validation loss against training steps, one line per cell, the baseline
dashed).

Example:

```python
result = compare_cells("copy", ("vanilla", "urnn"), steps=300, out_dir=Path("runs/cmp"),
                       task_options={"length": 50})
print(result.table())
```
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import json
import logging
import math
import os
import time
from pathlib import Path

from kerasrnn import training
from kerasrnn.errors import UserInputError
from kerasrnn.recurrent import check_cell_name
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


def parse_cells(text: str) -> tuple[str, ...]:
    """`"vanilla,urnn"` → `("vanilla", "urnn")`; UserInputError for unknown, repeated or no names."""
    cells = tuple(name.strip() for name in text.split(",") if name.strip())
    if not cells:
        raise UserInputError("no cells given: name them separated by commas, e.g. vanilla,gru,lstm,urnn")
    for cell in cells:
        check_cell_name(cell)
    repeated = sorted({cell for cell in cells if cells.count(cell) > 1})
    if repeated:
        raise UserInputError(f"cell {repeated[0]!r} is named twice in --cells")
    return cells


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
    task_options: dict | None = None,
    train_options: dict | None = None,
    device: str = "auto",
    verbose: str | int = 0,
) -> Comparison:
    """Trains each cell on `task_name` for `steps` steps with the same settings and seed.

    Args:
      task_name: a name of the task registry.
      cells: cell names, trained in this order.
      steps: training steps per cell.
      out_dir: new (or empty) folder for the runs, the table and the plot.
      evaluations: validation passes per run (the points of each learning curve).
      seed: the seed of every run.
      task_options: fields of the task's settings other than `cell` (e.g. `{"length": 100}`).
      train_options: `TrainConfig` fields to change from the task's defaults (e.g. batch size).
      device, verbose: as for `task.train`.

    Raises:
      UserInputError: unknown task or cell, an option the task has no field for, a non-empty
        `out_dir`, bad settings, or a run that failed.
    """
    task = get_task(task_name)
    task_options, train_options = dict(task_options or {}), dict(train_options or {})
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise UserInputError(f"steps must be a positive integer, got {steps!r}")
    if isinstance(evaluations, bool) or not isinstance(evaluations, int) or evaluations < 1:
        raise UserInputError(f"evaluations must be a positive integer, got {evaluations!r}")
    _check_fields(task.CONFIG_CLASS, task_options, task_name, "task")
    _check_fields(training.TrainConfig, train_options, task_name, "training")
    epochs, steps_per_epoch = split_steps(steps, evaluations)
    # Build every config first, so that bad settings fail before any training.
    plans = []
    for cell in cells:
        config = task.CONFIG_CLASS(**{**task_options, "cell": cell})
        defaults = task.default_train_config(config) if hasattr(task, "default_train_config") else \
            training.TrainConfig()
        # The same budget for all: the same seed, steps and validation points, and no early stop.
        budget = dict(seed=seed, epochs=epochs, steps_per_epoch=steps_per_epoch, patience=epochs)
        train_config = dataclasses.replace(defaults, **{**train_options, **budget})
        plans.append((cell, config, train_config))
    out_dir = Path(out_dir).expanduser()
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UserInputError(f"{out_dir} exists and is not an empty folder: choose a new --out-dir")
    out_dir.mkdir(parents=True, exist_ok=True)

    rows = []
    for cell, config, train_config in plans:
        logger.info("Training %s on %s for %d steps", cell, task_name, epochs * steps_per_epoch)
        run_dir = out_dir / cell
        started = time.monotonic()
        task.train(config, train_config, run_dir, device=device, verbose=verbose)
        wall = time.monotonic() - started
        rows.append(_read_row(task, cell, run_dir, steps_per_epoch, wall))
        logger.info("%s: final validation loss %.4f, %.0f ms per step", cell, rows[-1].final_loss,
                    rows[-1].seconds_per_step * 1000)
    comparison = Comparison(task_name, getattr(task, "LOSS_UNIT", "loss"), tuple(rows), out_dir)
    write_table(comparison)
    plot_curves(comparison, out_dir / CURVES_PNG)
    return comparison


def _check_fields(config_class, options: dict, task_name: str, kind: str) -> None:
    names = {field.name for field in dataclasses.fields(config_class)}
    unknown = sorted(set(options) - names)
    if unknown:
        flag = "--" + unknown[0].replace("_", "-")
        raise UserInputError(
            f"{flag} does not apply to the {task_name} task (it has no {kind} setting {unknown[0]!r})"
        )


def _read_row(task, cell: str, run_dir: Path, steps_per_epoch: int, wall: float) -> CellResult:
    history = training.read_history(run_dir)
    losses = history.get("val_loss", [])
    if not losses:
        raise UserInputError(f"the {cell} run in {run_dir} finished no epoch")
    epochs = history["epoch"]
    steps = int(epochs[-1]) * steps_per_epoch
    timing_path = run_dir / training.TIMING_FILE
    if timing_path.is_file():
        seconds_per_step = float(json.loads(timing_path.read_text("utf-8"))["seconds_per_step"])
    else:  # a task that trains without `training.fit`: the whole run's wall time
        seconds_per_step = wall / steps
    baseline = task.baseline(run_dir) if hasattr(task, "baseline") else None
    return CellResult(
        cell=cell,
        parameters=int(task.load_model(run_dir).count_params()),
        final_loss=float(losses[-1]),
        baseline=baseline,
        seconds_per_step=seconds_per_step,
        steps=steps,
        curve_steps=tuple(int(epoch) * steps_per_epoch for epoch in epochs),
        curve_losses=tuple(float(loss) for loss in losses),
        run_dir=run_dir,
    )


def write_table(comparison: Comparison) -> None:
    """`comparison.md` (the Markdown table) and `comparison.csv` in the comparison's folder."""
    (comparison.out_dir / TABLE_MD).write_text(comparison.table() + "\n", "utf-8")
    with (comparison.out_dir / TABLE_CSV).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["cell", "parameters", "final_validation_loss", "baseline", "loss_over_baseline",
                         "seconds_per_step", "steps", "run_dir"])
        for row in comparison.rows:
            writer.writerow([row.cell, row.parameters, f"{row.final_loss:.6g}",
                             "" if row.baseline is None else f"{row.baseline:.6g}",
                             "" if row.of_baseline is None else f"{row.of_baseline:.6g}",
                             f"{row.seconds_per_step:.6g}", row.steps, row.run_dir.as_posix()])


def plot_curves(comparison: Comparison, path: Path) -> None:
    """Validation loss against training steps, one line per cell, the baseline dashed; log y-axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4), dpi=80)
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
    figure.tight_layout()
    figure.savefig(os.fspath(path))
    plt.close(figure)
