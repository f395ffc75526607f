"""`gradients` (‖∂L/∂h_t‖ per step, several cells), `compare` (cells side by side on one task) and
`visualize` (a character model's units over a text, as an HTML page)."""

from __future__ import annotations

from pathlib import Path

import click

from kerasrnn.analysis.gradients import GRADIENT_TASKS
from kerasrnn.cli.common import (POSITIVE, TaskChoice, cli, common_options, distribute_options,
                                 reported_as_one_line, seed_option, setup_runtime, start_distribution)
from kerasrnn.engine.distribution import check_options as check_distribution
from kerasrnn.recurrent import CELL_NAMES


CELLS_HELP = "Cells to compare, separated by commas, from: " + ", ".join(CELL_NAMES) + "."


@cli.command()
@click.option("--task", type=click.Choice(GRADIENT_TASKS), default="adding", show_default=True,
              help="Whose loss is differentiated: adding (the paper's picture) or copy.")
@click.option("--length", type=POSITIVE, default=1000, show_default=True,
              help="T of the task: the number of steps the gradient travels back.")
@click.option("--cells", default="vanilla,gru,lstm,urnn", show_default=True, help=CELLS_HELP)
@click.option("--units", type=POSITIVE, default=128, show_default=True,
              help="Units of every cell (complex units for urnn).")
@click.option("--batch-size", type=POSITIVE, default=20, show_default=True,
              help="Sequences in the measured batch and in each training batch.")
@click.option("--after-steps", type=click.IntRange(min=0), default=100, show_default=True,
              help="Also measure after this many training steps (the task's optimiser); 0: only at "
              "initialisation.")
@seed_option("Seed of the weights, the measured batch and the training batches.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("gradients.png"), show_default=True,
              help="The picture to write (.png); the numbers go beside it with the same name and .csv.")
@common_options
def gradients(task, length, cells, units, batch_size, after_steps, seed, out, device):
    """Plot ‖∂L/∂h_t‖ against t for each cell, at initialisation and after training steps.

    Computed exactly in float64, for every step in one backward pass, with the lecture's bound
    ‖∂L/∂h_T‖·∏‖D_s‖‖W_h‖ drawn beside the vanilla cell. At initialisation the uRNN's curve is
    flat, the tanh RNN's falls as a straight line on the log axis, and the LSTM's and GRU's fall
    fastest. Prints one line per curve.
    """
    setup_runtime()
    from kerasrnn.analysis import gradients as gradient_norms
    from kerasrnn.engine.devices import select_device
    from kerasrnn.recurrent import parse_cells

    with reported_as_one_line():
        config = gradient_norms.GradientNormConfig(
            task=task, length=length, cells=parse_cells(cells), units=units, batch_size=batch_size,
            after_steps=after_steps, seed=seed,
        )
        out = gradient_norms.check_output_path(out)
        select_device(device)
        result = gradient_norms.compute_gradient_norms(config)
        gradient_norms.write_csv(result, out.with_suffix(".csv"))
        gradient_norms.plot_gradient_norms(result, out)
    click.echo(gradient_norms.summary(result))
    click.echo(f"Wrote {out} and {out.with_suffix('.csv')}")


@cli.command()
@click.option("--task", type=TaskChoice(), default="copy", show_default=True,
              help="The task every cell is trained on.")
@click.option("--cells", default="vanilla,gru,lstm,urnn", show_default=True, help=CELLS_HELP)
@click.option("--steps", type=POSITIVE, default=1000, show_default=True,
              help="Training steps for every cell.")
@click.option("--evaluations", type=POSITIVE, default=10, show_default=True,
              help="Validation passes per cell: the points of each learning curve.")
@click.option("--length", type=POSITIVE, default=None,
              help="copy and adding: T; default: the task's (100).")
@click.option("--units", type=POSITIVE, default=None, help="Units of every cell; default: the task's.")
@click.option("--batch-size", type=POSITIVE, default=None,
              help="Batch size (the global batch under --distribute); default: the task's.")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Learning rate; default: the task's.")
@seed_option("Seed of every run: the same weights' draw, data and order for each cell.")
@click.option("--out-dir", type=click.Path(path_type=Path), default=None,
              help="New folder for the runs, the table and the plot; default: "
              "runs/compare-<task>-<YYYYmmdd-HHMMSS>.")
@common_options
@distribute_options
def compare(task, cells, steps, evaluations, length, units, batch_size, learning_rate, seed, out_dir,
            device, distribute, replicas):
    """Train several cells on one task with the same budget and seed, and compare them.

    Prints a table (cell, parameters, final validation loss, loss / baseline, time per step) and
    saves it as comparison.md and .csv, with curves.png (every learning curve, the baseline dashed),
    in --out-dir. Options left out take the task's defaults.
    """
    with reported_as_one_line():
        check_distribution(distribute, replicas)
    setup_runtime()
    distribution = start_distribution(distribute, replicas, device)
    from kerasrnn.analysis import compare as comparing
    from kerasrnn.recurrent import parse_cells

    context = click.get_current_context()
    given = {name: value for name, value in (("length", length), ("units", units), ("batch_size", batch_size),
                                             ("learning_rate", learning_rate)) if value is not None}
    flags = {parameter.name: parameter.opts[0] for parameter in context.command.params}
    with reported_as_one_line():
        out_dir = out_dir or comparing.default_out_dir(task)
        result = comparing.compare_cells(
            task, parse_cells(cells), steps=steps, evaluations=evaluations, seed=seed, settings=given,
            out_dir=out_dir, device=device, flags=flags, distribution=distribution,
        )
    if result is None:
        click.echo(f"{distribution.worker.capitalize()} trained every cell; the chief wrote the comparison to "
                   f"{out_dir}")
        return
    click.echo(result.table())
    click.echo(f"Saved the runs, {comparing.TABLE_MD} and {comparing.CURVES_PNG} in {out_dir}")


VISUALIZE_SHOWN = 10  # ranked units printed


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--text", default=None, help="The text to read, given on the command line.")
@click.option("--file", "text_file", type=click.Path(path_type=Path), default=None,
              help="Read the text from this UTF-8 file instead.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="The HTML page to write (replaced if it exists).")
@common_options
def visualize(run_dir, text, text_file, out, device):
    """Write an HTML page that shades a text by the units of the character model of RUN_DIR.

    The model reads the text once (--text or --file), its state carried from each character to the
    next. The page, one file that opens from disk with no network, shows the text shaded by the
    unit chosen (hidden state, the LSTM's cell state, the uRNN's modulus and phase, the gates of the
    LSTM and GRU) or by the model's surprise (its loss on each character, in nats), ranks the units
    by their correlation with simple features of the text (inside quotes, bracket depth, position in
    the line, after a newline, inside a word, indentation, inside code), and gives the five likeliest
    next characters on hover. A text longer than 100,000 characters is cut to its first 100,000.
    The page opens on the first-ranked unit, or on the one its address names:
    PAGE.html#unit=STATE/LAYER/UNIT (e.g. #unit=hidden/1/0), or PAGE.html#surprise. Prints where
    the page went and the best-ranked units.
    """
    with reported_as_one_line():
        text = visualized_text(text, text_file)
        if not out.parent.is_dir():
            from kerasrnn.errors import UserInputError

            raise UserInputError(f"cannot write {out}: no folder {out.parent}")
    setup_runtime()
    from kerasrnn.analysis.text_features import text_features
    from kerasrnn.analysis.unit_traces import trace_run
    from kerasrnn.analysis.visualize_page import cut_text, write_page
    from kerasrnn.errors import UserInputError
    from kerasrnn.fileio import os_error_cause

    with reported_as_one_line():
        text, note = cut_text(text)
        traces = trace_run(run_dir, text, device=device)
        try:
            summary = write_page(out, traces, text_features(text), note=note)
        except OSError as error:
            raise UserInputError(f"cannot write {out}: {os_error_cause(error)}") from None
    if note:
        click.echo(note)
    click.echo(f"Wrote {out} ({summary.size / 1e6:.1f} MB): {len(text):,} characters, {summary.series:,} of "
               f"{summary.all_series:,} series (state, layer, unit)")
    if not summary.ranking:
        click.echo("No feature varies in this text: no unit is ranked")
        return
    click.echo("Units that track the text's features best (Pearson's r):")
    for row in summary.ranking[:VISUALIZE_SHOWN]:
        click.echo(f"  {row.feature:<17} {row.kind:<12} layer {row.layer} unit {row.unit:<4} r = {row.correlation:+.3f}")


def visualized_text(text: str | None, text_file: Path | None) -> str:
    """The text of --text or of --file (a usage error for both or neither).

    Raises:
      UserInputError: no such file, a folder, unreadable, not UTF-8, or empty.
    """
    from kerasrnn.data.text_tables import read_text
    from kerasrnn.errors import OptionError, UserInputError

    if (text is None) == (text_file is None):
        raise OptionError("give the text to visualize with --text TEXT or --file FILE (one of them)")
    if text_file is not None:
        if text_file.is_dir():
            raise UserInputError(f"{text_file} is a folder: give a UTF-8 text file")
        if not text_file.exists():
            raise UserInputError(f"no such file: {text_file}")
        text = read_text(text_file)
    if not text:
        raise UserInputError(f"{text_file} is empty: give a file with some text" if text_file is not None
                             else "the text is empty: give some characters with --text")
    return text
