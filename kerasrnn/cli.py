"""Command line of kerasrnn: train recurrent networks, sample text from them, evaluate them.

    python cli.py train                      # character LM, LSTM, python_docs, a few minutes on a CPU
    python cli.py generate RUN_DIR --prompt "The " --length 300
    python cli.py evaluate RUN_DIR --split test
    python cli.py train --task copy --cell urnn --length 100   # long memory, next to its baseline
    python cli.py gradients --out grads.png    # ‖∂L/∂h_t‖ per step t, adding T = 1000, four cells
    python cli.py compare --task copy --length 100 --steps 1500   # cells side by side
    python cli.py train --task classify --run-dir runs/lang    # language of spelled-out numbers
    python cli.py classify runs/lang "trois cent deux" "dreihundertzwei"
    python cli.py export RUN_DIR exports/charlm   # a SavedModel: strings in, strings out, TF only
    python cli.py train --task translate --run-dir runs/fr    # English → French numbers, seq2seq
    python cli.py translate runs/fr "three hundred and forty-two" --beam-size 4

Thin by design: parse the options, call the library, print. Which settings apply to a task and
what they default to is the library's business (`kerasrnn.engine.settings`); every task is reached
through `kerasrnn.tasks.get_task` and the `Task` methods only. TensorFlow is imported inside the
commands, so `--help` and usage errors return at once, and quietly (`--verbose` shows TensorFlow's own
start-up lines). Bad input that the library detects (`kerasrnn.errors.UserInputError`) becomes a
one-line error and exit status 1 (2 for an option that does not fit, as click's usage errors); any
other exception is a bug and keeps its traceback.

`python cli.py` (the repository's top-level script) and the `kerasrnn` command that `pip install .`
puts on the PATH both run `cli` here.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

import click

from kerasrnn import __version__
from kerasrnn.analysis.gradients import GRADIENT_TASKS
from kerasrnn.engine.devices import DEVICES
from kerasrnn.engine.train_config import MAX_SEED, OPTIMIZERS, TrainConfig
from kerasrnn.errors import OptionError, UserInputError
from kerasrnn.recurrent import CELL_NAMES
from kerasrnn.tasks import TASKS, get_task

DEFAULT_TASK = "charlm"
TASK_DEFAULTS = get_task(DEFAULT_TASK).config_class()
TRAIN_DEFAULTS = TrainConfig()
POSITIVE = click.IntRange(min=1)

# Options of `train` that are not settings of the run; only --epochs may change when resuming.
RUNTIME_OPTIONS = {"run_dir", "resume", "device", "task"}


class TaskChoice(click.Choice):
    """`click.Choice` over the task registry as it is when the command runs (not when it is defined),
    so a task registered later (a plug-in, a test) is a valid `--task` too."""

    def __init__(self):
        super().__init__(tuple(TASKS))

    @property
    def choices(self):
        return tuple(TASKS)

    @choices.setter
    def choices(self, value):
        pass


@contextlib.contextmanager
def reported_as_one_line():
    """Turns `UserInputError` into click's one-line `Error: …` (exit status 1) and `OptionError` into
    a usage error (exit status 2)."""
    try:
        yield
    except OptionError as error:
        raise click.UsageError(str(error)) from None
    except UserInputError as error:
        raise click.ClickException(str(error)) from None


def setup_runtime() -> None:
    """Imports TensorFlow without its C++ start-up lines (unless --verbose or the user set
    TF_CPP_MIN_LOG_LEVEL) and shows the project's INFO logs."""
    from kerasrnn.engine.devices import import_tensorflow_quietly

    context = click.get_current_context(silent=True)
    verbose = bool(context and context.find_root().meta.get("kerasrnn.verbose"))
    with reported_as_one_line():
        import_tensorflow_quietly(verbose=verbose)
    logging.basicConfig(format="%(message)s", level=logging.INFO if verbose else logging.WARNING)
    logging.getLogger("kerasrnn").setLevel(logging.INFO)


def _remember_verbose(context: click.Context, parameter, value: bool) -> None:
    if value:
        context.find_root().meta["kerasrnn.verbose"] = True


def common_options(function):
    """`--device` and `--verbose`, shared by the commands that run a model."""
    function = click.option(
        "--verbose", "-v", is_flag=True, expose_value=False, is_eager=True, callback=_remember_verbose,
        help="Also show TensorFlow's own start-up and library log lines.",
    )(function)
    return device_option(function)


def device_option(function):
    return click.option(
        "--device",
        type=click.Choice(DEVICES),
        default="auto",
        show_default=True,
        help="Where to run: auto takes a GPU when TensorFlow sees one, cpu hides the GPUs, gpu "
        "fails unless there is one.",
    )(function)


def data_options(default: str | None, help_default: str):
    def decorate(function):
        function = click.option(
            "--data-dir",
            default=None,
            help="Folder where tensorflow-datasets keeps prepared corpora; default: tfds's own "
            "($TFDS_DATA_DIR or ~/tensorflow_datasets).",
        )(function)
        return click.option(
            "--data",
            default=default,
            show_default=default is not None,
            help=f"Corpus: python_docs (ships with Python), tiny_shakespeare (tfds), or the path of a "
            f"UTF-8 text file or folder of .txt files; {help_default} For --task classify: "
            f"spelled_numbers (the default; built here, no download), imdb_reviews (tfds), a folder "
            f"of class folders, or a CSV/TSV file (or a folder of them) of texts and labels, split "
            f"80/10/10. For --task translate: spelled_numbers (the default) or a tab-separated "
            f"file of source TAB target lines (Keras's lstm_seq2seq format), split 80/10/10 by source.",
        )(function)

    return decorate


def seed_option(help_text: str):
    return click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True, help=help_text)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kerasrnn")
def cli():
    """Train, sample from and evaluate the recurrent networks of the RNN lecture."""


@cli.command()
@click.option("--task", type=TaskChoice(), default=DEFAULT_TASK, show_default=True,
              help="What to learn: charlm is a character-level language model; copy and adding are "
              "the long-memory benchmarks of the uRNN paper (set T with --length); classify labels "
              "texts (by language for the default spelled_numbers data); translate is an "
              "encoder-decoder (English → French numbers by default).")
@click.option("--cell", type=click.Choice(CELL_NAMES), default=TASK_DEFAULTS.cell, show_default=True,
              help="Recurrent layer: the lecture's vanilla, gru, lstm or urnn cells, or Keras's own "
              "keras-gru, keras-lstm, keras-simplernn for comparison.")
@click.option("--units", type=POSITIVE, default=TASK_DEFAULTS.units, show_default=True,
              help="Units per recurrent layer (complex units for urnn, which outputs twice as many).")
@click.option("--layers", type=POSITIVE, default=TASK_DEFAULTS.layers, show_default=True,
              help="Number of stacked recurrent layers.")
@click.option("--residual/--no-residual", default=TASK_DEFAULTS.residual, show_default=True,
              help="Add each stacked layer's input to its output (a ResNet shortcut; from layer 2 on).")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=TASK_DEFAULTS.dropout,
              show_default=True, help="Dropout rate after each recurrent layer while training.")
@click.option("--embedding-dim", type=POSITIVE, default=TASK_DEFAULTS.embedding_dim, show_default=True,
              help="Size of the learned character embedding.")
@click.option("--attention", type=click.Choice(["dot", "additive", "none"]), default=None,
              help="translate only: how the decoder attends over the encoder outputs (dot: Luong, "
              "additive: Bahdanau), or none (the final state only); default dot.")
@click.option("--pair", default=None,
              help="translate only, spelled_numbers: SOURCE-TARGET from digits, en, fr, de, es, it; "
              "default en-fr.")
@click.option("--bidirectional/--no-bidirectional", default=False, show_default=True,
              help="classify only: read each text both ways with every recurrent layer.")
@click.option("--tokens", type=click.Choice(["words", "characters"]), default=None,
              help="classify and translate: what a token is; default for classify: words, but "
              "characters for spelled_numbers; for translate: characters.")
@click.option("--max-length", type=POSITIVE, default=None,
              help="classify and translate: tokens kept from the start of each text; default 300 "
              "(classify), 100 (translate).")
@click.option("--text-column", default=None,
              help="classify only: the text column of a CSV/TSV file, by header name or number from "
              "0; default: text, or the first column of a file without a header.")
@click.option("--label-column", default=None,
              help="classify only: the label column of a CSV/TSV file, by header name or number "
              "from 0; default: label, or the last column of a file without a header.")
@click.option("--seq-len", "sequence_length", type=POSITIVE, default=TASK_DEFAULTS.sequence_length,
              show_default=True, help="Characters per training window: how far back gradients flow.")
@click.option("--length", type=POSITIVE, default=None,
              help="copy and adding only: T, the delay to bridge (copy) or the sequence length "
              "(adding); default 100.")
@data_options(TASK_DEFAULTS.data, "it is split 90/5/5 into train/validation/test.")
@click.option("--batch-size", type=POSITIVE, default=TRAIN_DEFAULTS.batch_size, show_default=True,
              help="Windows per training batch.")
@click.option("--epochs", type=POSITIVE, default=TRAIN_DEFAULTS.epochs, show_default=True,
              help="Number of epochs, each followed by a validation pass and a checkpoint.")
@click.option("--steps-per-epoch", type=POSITIVE, default=TRAIN_DEFAULTS.steps_per_epoch,
              show_default=True, help="Batches per epoch; none means one pass over the training text.")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True),
              default=TRAIN_DEFAULTS.learning_rate, show_default=True,
              help="Peak learning rate of the optimizer.")
@click.option("--decay/--no-decay", default=TRAIN_DEFAULTS.decay, show_default=True,
              help="Cosine-decay the learning rate to a tenth over the run, or keep it constant.")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default=TRAIN_DEFAULTS.optimizer,
              show_default=True, help="Optimizer; rmsprop uses rho 0.9 as in the uRNN paper.")
@click.option("--clipnorm", type=click.FloatRange(min=0, min_open=True), default=TRAIN_DEFAULTS.clipnorm,
              show_default=True, help="Clip each gradient to this norm.")
@click.option("--clipvalue", type=click.FloatRange(min=0), default=None,
              help="Clip each gradient element to [-v, v] instead of by norm (the uRNN paper's "
              "clipping; copy and adding use 1 for every cell but urnn); 0 turns it off.")
@click.option("--patience", type=POSITIVE, default=TRAIN_DEFAULTS.patience, show_default=True,
              help="Stop early after this many epochs without a better validation loss.")
@seed_option("Seed of the weights, the order of the windows, dropout and the final sample.")
@click.option("--run-dir", type=click.Path(path_type=Path), default=None,
              help="Folder for the model, vocabulary, config, history and curves; default: "
              "runs/<task>-<cell>-<YYYYmmdd-HHMMSS>. Must be new or empty unless --resume.")
@click.option("--resume", is_flag=True, default=False,
              help="Continue the interrupted run in --run-dir from its backup, with its saved "
              "settings (only --epochs may change, to train longer).")
@device_option
@click.option("--mixed-precision/--no-mixed-precision", default=TRAIN_DEFAULTS.mixed_precision,
              show_default=True, help="Compute in float16 with float32 weights (GPU only).")
def train(**options):
    """Train a model and save it in a run directory.

    With no options: a character-level LSTM language model on python_docs, a few minutes on a CPU.
    It ends with the validation loss in bits per character next to the unigram baseline, and a
    sample of 300 characters.

    Options you leave out take the task's own defaults, which for copy and adding are the uRNN
    paper's (RMSprop 1e-3, rho 0.9, constant rate, clipvalue 1 but for urnn, batches of 20), not
    the charlm defaults shown below. `--task copy --cell urnn --length 100`: the uRNN learns to
    recall 10 symbols after 100 steps; every loss is printed next to the memoryless baseline.
    """
    setup_runtime()
    from kerasrnn.engine import run, settings
    from kerasrnn.engine import run_dir as run_files

    context = click.get_current_context()
    given = {name: value for name, value in options.items()
             if context.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT}
    flags = {parameter.name: parameter.opts[0] for parameter in context.command.params}
    with reported_as_one_line():
        if options["resume"]:
            if options["run_dir"] is None:
                raise click.UsageError("--resume needs --run-dir: the run to continue")
            fixed = sorted(set(given) - RUNTIME_OPTIONS - {"epochs"})
            if fixed:
                raise click.UsageError(f"--resume continues with the run's saved settings: drop "
                                       f"{', '.join(flags[name] for name in fixed)}")
            task, config, train_config = settings.resumed_configs(options["run_dir"], epochs=given.get("epochs"))
        else:
            task = get_task(options["task"])
            config, train_config = settings.resolve_configs(
                task, {name: value for name, value in given.items() if name not in RUNTIME_OPTIONS}, flags=flags)
        run_dir = options["run_dir"] or run_files.default_run_dir(task.name, config.cell)
        click.echo(f"Training {task.name} with {config.cell} into {run_dir}", err=True)
        try:
            # One line per epoch when the output is a log file rather than a terminal.
            verbose = "auto" if sys.stdout.isatty() else 2
            result = run.train(task, config, train_config, run_dir, resume=options["resume"],
                               device=options["device"], verbose=verbose)
        except KeyboardInterrupt:
            raise click.ClickException(
                f"interrupted; continue with: python cli.py train --resume --run-dir {run_dir}"
            ) from None
    click.echo(result.summary())


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

    Prints the prompt followed by the generated characters.
    """
    setup_runtime()
    from kerasrnn.tasks import task_of_run

    with reported_as_one_line():
        text = task_of_run(run_dir).generate(run_dir, prompt, length, temperature=temperature, top_k=top_k,
                                             seed=seed, device=device)
    click.echo(prompt + text)


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
@click.option("--verbose", "-v", is_flag=True, expose_value=False, is_eager=True, callback=_remember_verbose,
              help="Also show TensorFlow's own start-up and library log lines.")
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
@click.option("--batch-size", type=POSITIVE, default=None, help="Batch size; default: the task's.")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Learning rate; default: the task's.")
@seed_option("Seed of every run: the same weights' draw, data and order for each cell.")
@click.option("--out-dir", type=click.Path(path_type=Path), default=None,
              help="New folder for the runs, the table and the plot; default: "
              "runs/compare-<task>-<YYYYmmdd-HHMMSS>.")
@common_options
def compare(task, cells, steps, evaluations, length, units, batch_size, learning_rate, seed, out_dir,
            device):
    """Train several cells on one task with the same budget and seed, and compare them.

    Prints a table (cell, parameters, final validation loss, loss / baseline, time per step) and
    saves it as comparison.md and .csv, with curves.png (every learning curve, the baseline dashed),
    in --out-dir. Options left out take the task's defaults.
    """
    setup_runtime()
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
            out_dir=out_dir, device=device, flags=flags,
        )
    click.echo(result.table())
    click.echo(f"Saved the runs, {comparing.TABLE_MD} and {comparing.CURVES_PNG} in {out_dir}")


def main() -> None:
    """The `kerasrnn` console command (and `python cli.py`)."""
    cli()


if __name__ == "__main__":
    main()
