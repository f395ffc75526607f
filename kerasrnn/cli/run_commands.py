"""The commands that use a trained run: `generate`, `evaluate`, `classify`, `translate`, `export`.

Each asks the run's task (`kerasrnn.tasks.task_of_run`) to do it; a task that cannot (a copy run
asked to translate) answers with one line through the `Task` base class.
"""

from __future__ import annotations

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
@seed_option("Seed of the sampling: the same seed gives the same text.")
@common_options
def generate(run_dir, prompt, length, temperature, top_k, seed, device):
    """Sample text from the model of RUN_DIR, carrying its recurrent state one character at a time.

    Prints the prompt followed by the generated characters, as they are drawn.
    """
    setup_runtime()
    from kerasrnn.tasks import task_of_run

    with reported_as_one_line():
        pieces = task_of_run(run_dir).generate_stream(run_dir, prompt, length, temperature=temperature,
                                                      top_k=top_k, seed=seed, device=device)
        try:
            click.echo(prompt, nl=False)
            for piece in pieces:  # printed as drawn: a long sample starts at once, Ctrl-C keeps what was shown
                click.echo(piece, nl=False)
                sys.stdout.flush()
            click.echo()
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
@common_options
def evaluate(run_dir, data, data_dir, split, beam_size, device):
    """Loss of the model of RUN_DIR on a split, in nats and bits per character, with the baseline.

    For a classify run: accuracy, per-class precision and recall, and a confusion-matrix PNG
    (confusion_<split>.png in RUN_DIR). For a translate run: the split decoded, scored by exact
    match, character error rate, chrF and BLEU, and the teacher-forced loss.
    """
    setup_runtime()
    from kerasrnn.tasks import task_of_run

    options = {} if beam_size is None else {"beam_size": beam_size}
    with reported_as_one_line():
        result = task_of_run(run_dir).evaluate(run_dir, split=split, data=data, data_dir=data_dir,
                                               device=device, **options)
    click.echo(result.summary())


@cli.command("classify")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("texts", nargs=-1, required=True, metavar="TEXT...")
@common_options
def classify_texts(run_dir, texts, device):
    """Label each TEXT with the text classifier of RUN_DIR (a --task classify run).

    Prints one line per text: the label, its probability, and the text.
    """
    setup_runtime()
    from kerasrnn.tasks import task_of_run

    with reported_as_one_line():
        predictions = task_of_run(run_dir).classify(run_dir, texts, device=device)
    for prediction in predictions:
        click.echo(f"{prediction.label}\t{prediction.probability:.3f}\t{prediction.text}")


@cli.command("translate")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("texts", nargs=-1, required=True, metavar="TEXT...")
@click.option("--beam-size", type=POSITIVE, default=1, show_default=True,
              help="Keep this many hypotheses at each step (1: greedy decoding).")
@common_options
def translate_texts(run_dir, texts, beam_size, device):
    """Translate each TEXT with the encoder-decoder of RUN_DIR (a --task translate run).

    Prints one line per text: the text, a tab, its translation.
    """
    setup_runtime()
    from kerasrnn.tasks import task_of_run

    with reported_as_one_line():
        translations = task_of_run(run_dir).translate(run_dir, texts, beam_size=beam_size, device=device)
    for text, translation in zip(texts, translations):
        click.echo(f"{text}\t{translation}")


@cli.command("export")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, default=False,
              help="Replace the export already in OUT_DIR (only a SavedModel is ever replaced).")
@verbose_option
def export_run(run_dir, out_dir, force):
    """Export the model of RUN_DIR as a TensorFlow SavedModel in OUT_DIR (not for copy, adding).

    Its signatures take strings and numbers and return strings and numbers, the vocabulary lookups
    inside the graph: load it with tf.saved_model.load(OUT_DIR), no kerasrnn needed. Prints the
    signatures; the first is also serving_default.
    """
    setup_runtime()
    from kerasrnn.engine.exporting import export_run as export

    with reported_as_one_line():
        result = export(run_dir, out_dir, force=force)
    click.echo(result.summary())
