"""The commands that use a trained run: `generate`, `evaluate`, `classify`, `translate`, `export`.

Each asks the run's task (`kerasrnn.tasks.task_of_run`) to do it; a task that cannot (a copy run
asked to translate) does not declare the capability, and `kerasrnn.tasks.capabilities.require`
answers with one line.
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import click

from kerasrnn.cli.common import (POSITIVE, cli, common_options, data_options, reported_as_one_line, seed_option,
                                 setup_runtime, verbose_option)


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--prompt", default="", show_default=True,
              help="Text the sample continues; empty means start from the learned initial state.")
@click.option("--length", type=click.IntRange(min=1), default=300, show_default=True,
              help="Number of characters to generate after the prompt.")
@click.option("--temperature", type=click.FloatRange(min=0, min_open=True), default=0.8,
              show_default=True, help="Divides the logits: below 1 is safer, above 1 more surprising.")
@click.option("--top-k", type=click.IntRange(min=1), default=None,
              help="Sample only among the k most likely characters; default: among all.")
@click.option("--num-samples", type=POSITIVE, default=1, show_default=True,
              help="Draw this many samples after the prompt in one batch (more characters per second "
              "than one at a time); each is printed after a line '--- sample i of N ---'. The first is "
              "the sample of --num-samples 1.")
@seed_option("Seed of the sampling: the same seed gives the same text.")
@common_options
def generate(run_dir, prompt, length, temperature, top_k, num_samples, seed, device):
    """Sample text from the model of RUN_DIR, carrying its recurrent state one character at a time.

    Prints the prompt followed by the generated characters, as they are drawn (with --num-samples
    above 1, each sample once the batch is drawn).
    """
    setup_runtime()
    from kerasrnn.tasks import task_of_run
    from kerasrnn.tasks.capabilities import Generates, require

    with reported_as_one_line():
        task = require(task_of_run(run_dir), Generates, run_dir)
        options = dict(temperature=temperature, top_k=top_k, seed=seed, device=device)
        if num_samples == 1:
            pieces = itertools.chain([prompt], task.generate_stream(run_dir, prompt, length, **options), ["\n"])
        else:  # the rows of a batch are drawn together: a sample is whole only when all of them are
            samples = task.generate(run_dir, prompt, length, num_samples=num_samples, **options)
            pieces = (f"--- sample {index} of {num_samples} ---\n{prompt}{sample}\n"
                      for index, sample in enumerate(samples, start=1))
        try:
            for piece in pieces:  # printed as drawn: a long sample starts at once, Ctrl-C keeps what was shown
                click.echo(piece, nl=False)
                sys.stdout.flush()
        except BrokenPipeError:  # `generate … | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@data_options(None, "default: the corpus the run was trained on.")
@click.option("--split", type=click.Choice(["validation", "test", "train", "heldout"]),
              default="validation", show_default=True,
              help="Which part of the data to evaluate on; heldout (classify only): validation and "
              "test together.")
@click.option("--beam-size", type=POSITIVE, default=None,
              help="translate only: decode with a beam search of this width; default 1 (greedy).")
@click.option("--numbers", default=None, metavar="FIRST-LAST",
              help="classify and translate runs trained on spelled_numbers: check every number of this "
              "range (e.g. 0-999) instead of a split, with the accuracy per size of number; classify: "
              "in every language (per language, texts that are the same in two languages, uno, apart); "
              "translate: from the source to the target of the run's --pair.")
@click.option("--attention-plots", "attention_plots", type=click.Path(path_type=Path), default=None,
              metavar="FOLDER",
              help="translate runs trained with attention: also draw the attention weights of the split's "
              "first --attention-sentences distinct sentences (as decoded with --beam-size) into FOLDER, "
              "made if missing, as <split>-1.png, <split>-2.png, …; files of those names are replaced.")
@click.option("--attention-sentences", type=POSITIVE, default=5, show_default=True,
              help="How many sentences --attention-plots draws.")
@common_options
def evaluate(run_dir, data, data_dir, split, beam_size, numbers, attention_plots, attention_sentences, device):
    """Loss of the model of RUN_DIR on a split, in nats and bits per character, with the baseline.

    For a classify run: accuracy, per-class precision and recall, and a confusion-matrix PNG
    (confusion_<split>.png in RUN_DIR); on spelled_numbers also the accuracy per size of number.
    --data FILE is scored whole, unless it is a folder with files named train*, dev*, test*.
    For a translate run: the split decoded, scored by exact match, character error rate, chrF and
    BLEU, and the teacher-forced loss (and exact match per size of number on spelled_numbers);
    with --attention-plots, also the attention plots of its first sentences, and where they are.
    """
    from kerasrnn.errors import OptionError

    with reported_as_one_line():
        if attention_plots is not None and numbers is not None:
            raise OptionError("--attention-plots draws sentences of a split: it does not go with --numbers")
        given = click.get_current_context().get_parameter_source("attention_sentences")
        if attention_plots is None and given is not click.core.ParameterSource.DEFAULT:
            raise OptionError("--attention-sentences says how many sentences --attention-plots draws: give "
                              "--attention-plots FOLDER too")
    setup_runtime()
    from kerasrnn.tasks import task_of_run

    options = {} if beam_size is None else {"beam_size": beam_size}
    if numbers is not None:
        options["numbers"] = numbers
    with reported_as_one_line():
        if attention_plots is not None:  # a run without attention, or a folder not writable: before the long part
            from kerasrnn.analysis.attention_plot import check_attention_run, check_plot_folder

            check_plot_folder(attention_plots)
            check_attention_run(run_dir)
        result = task_of_run(run_dir).evaluate(run_dir, split=split, data=data, data_dir=data_dir,
                                               device=device, **options)
    click.echo(result.summary())
    if attention_plots is not None:
        from kerasrnn.analysis.attention_plot import plot_split

        with reported_as_one_line():
            _, paths = plot_split(run_dir, split, attention_plots, count=attention_sentences,
                                  beam_size=beam_size or 1, data=data, data_dir=data_dir, device=device)
        click.echo(f"Attention plots of the first {len(paths)} {split} sentences: {plot_names(paths)}")


def plot_names(paths: list[Path]) -> str:
    """"a.png", or "dir/a-1.png … dir/a-3.png (3 files)" for several."""
    if len(paths) == 1:
        return str(paths[0])
    return f"{paths[0]} … {paths[-1]} ({len(paths)} files)"


def file_option(verb: str):
    return click.option(
        "--file", "text_file", default=None, metavar="PATH",
        help=f"Read the texts to {verb} from this UTF-8 file, one per line ('-': standard input), "
        f"instead of the TEXT arguments; they go through the model in batches, and the output has one "
        f"line per input line, in order.")


def texts_of(texts: tuple[str, ...], text_file: str | None, verb: str) -> list[str]:
    """The TEXT arguments, or the lines of `--file` (a usage error for both or neither)."""
    from kerasrnn.errors import OptionError

    if text_file is not None and texts:
        raise OptionError(f"give the texts to {verb} as TEXT arguments or with --file, not both")
    if text_file is None:
        if not texts:
            raise OptionError(f"Missing argument 'TEXT...': give texts to {verb}, or --file PATH")
        return list(texts)
    return read_lines(text_file, verb)


def read_lines(text_file: str, verb: str) -> list[str]:
    """The lines of a UTF-8 file (or of standard input for '-'), without their line ends.

    Raises:
      UserInputError: no such file, a folder, unreadable, not UTF-8, no lines, or a blank line
        (its number named: the output would no longer line up with the input).
    """
    from kerasrnn.errors import UserInputError

    name = "standard input" if text_file == "-" else text_file
    try:
        if text_file == "-":
            data = click.get_binary_stream("stdin").read()
        else:
            path = Path(text_file).expanduser()
            if path.is_dir():
                raise UserInputError(f"{text_file} is a folder: give a file of texts, one per line")
            data = path.read_bytes()
        text = data.decode("utf-8").removeprefix("\ufeff")
    except FileNotFoundError:
        raise UserInputError(f"no such file: {text_file}") from None
    except OSError as error:
        raise UserInputError(f"cannot read {name}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise UserInputError(f"{name} is not UTF-8 text (offset {error.start:,}): convert it to UTF-8") from None
    lines = text.splitlines()
    if not lines:
        raise UserInputError(f"{name} is empty: give one text to {verb} per line")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise UserInputError(
                f"line {number} of {name} is empty: give one text to {verb} per line, no blank lines")
    return lines


def echo_lines(lines) -> None:
    """Prints `lines`; a reader that stops early (`| head`) ends it quietly."""
    try:
        click.echo("\n".join(lines))
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


@cli.command("classify")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("texts", nargs=-1, required=False, metavar="[TEXT]...")
@file_option("classify")
@common_options
def classify_texts(run_dir, texts, text_file, device):
    """Label each TEXT (or each line of --file) with the text classifier of RUN_DIR (a --task
    classify run).

    Prints one line per text: the label, its probability, and the text.
    """
    with reported_as_one_line():
        texts = texts_of(texts, text_file, "classify")
    setup_runtime()
    from kerasrnn.tasks import task_of_run
    from kerasrnn.tasks.capabilities import Classifies, require

    with reported_as_one_line():
        predictions = require(task_of_run(run_dir), Classifies, run_dir).classify(run_dir, texts, device=device)
    echo_lines(f"{prediction.label}\t{prediction.probability:.3f}\t{prediction.text}" for prediction in predictions)


@cli.command("translate")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("texts", nargs=-1, required=False, metavar="[TEXT]...")
@file_option("translate")
@click.option("--beam-size", type=POSITIVE, default=1, show_default=True,
              help="Keep this many hypotheses at each step (1: greedy decoding).")
@click.option("--attention-plot", "attention_plot", type=click.Path(path_type=Path), default=None,
              metavar="PLOT.png",
              help="Also draw where the decoder attended: a matrix of the attention weights, source tokens "
              "across, translation tokens down, into PLOT.png; with several texts, one plot per text, "
              "PLOT-1.png, PLOT-2.png, … in order. Files of those names are replaced; where they are goes "
              "to standard error. A run trained with --attention none has no attention and is refused.")
@common_options
def translate_texts(run_dir, texts, text_file, beam_size, attention_plot, device):
    """Translate each TEXT (or each line of --file) with the encoder-decoder of RUN_DIR (a --task
    translate run).

    Prints one line per text: the text, a tab, its translation. With --attention-plot, also draws
    the attention weights of each translation printed.
    """
    with reported_as_one_line():
        texts = texts_of(texts, text_file, "translate")
    setup_runtime()
    from kerasrnn.tasks import task_of_run
    from kerasrnn.tasks.capabilities import Translates, require

    with reported_as_one_line():
        task = require(task_of_run(run_dir), Translates, run_dir)
        if attention_plot is None:
            translations = task.translate(run_dir, texts, beam_size=beam_size, device=device)
        else:
            from kerasrnn.analysis.attention_plot import plot_texts

            alignments, paths = plot_texts(run_dir, texts, attention_plot, beam_size=beam_size, device=device)
            translations = [alignment.translation for alignment in alignments]
    echo_lines(f"{text}\t{translation}" for text, translation in zip(texts, translations))
    if attention_plot is not None:
        click.echo(f"Attention plot{'s' if len(paths) > 1 else ''}: {plot_names(paths)}", err=True)


@cli.command("export")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, default=False,
              help="Replace the export already in OUT_DIR (only a SavedModel is ever replaced).")
@verbose_option
def export_run(run_dir, out_dir, force):
    """Export the model of RUN_DIR as a TensorFlow SavedModel in OUT_DIR (not for copy, adding).

    Its signatures take strings and numbers and return strings and numbers, the vocabulary lookups
    inside the graph: load it with tf.saved_model.load(OUT_DIR), no kerasrnn needed (a translate
    run with subword tokens: import tensorflow_text first). Prints the signatures; the first is
    also serving_default.
    """
    setup_runtime()
    from kerasrnn.engine.exporting import export_run as export

    with reported_as_one_line():
        result = export(exportable_task_of_run(run_dir), run_dir, out_dir, force=force)
    click.echo(result.summary())


def exportable_task_of_run(run_dir: Path):
    """The `Task` of the run in `run_dir`, which must have a model and an exporter.

    Raises:
      UserInputError: not a run directory, no model yet, or a task that cannot be exported (naming
        those that can).
    """
    from kerasrnn.engine.run_dir import check_run_dir
    from kerasrnn.errors import UserInputError
    from kerasrnn.tasks import TASKS, get_task, task_of_run

    run_dir = check_run_dir(run_dir)
    task = task_of_run(run_dir)
    if task.exporter is None:
        exportable = [name for name in TASKS if get_task(name).exporter is not None]
        raise UserInputError(
            f"{run_dir} holds a {task.name} run, which cannot be exported: export works for "
            f"{', '.join(exportable)} runs"
        )
    return task
