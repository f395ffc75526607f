"""The click group and what several commands share: options, the error boundary, a quiet start.

Library errors become one line here (`reported_as_one_line`), and so does any other exception
(`GuardedGroup`) unless `--verbose` asks for its traceback; TensorFlow is imported by
`setup_runtime` inside a command, never at import, so `--help` answers at once.
"""

from __future__ import annotations

import contextlib
import logging

import click

from kerasrnn import __version__
from kerasrnn.engine.devices import DEVICES
from kerasrnn.engine.train_config import MAX_SEED
from kerasrnn.errors import OptionError, UserInputError
from kerasrnn.program import command, program_from_info_name, program_named
from kerasrnn.tasks import TASKS, get_task

DEFAULT_TASK = "charlm"
TASK_DEFAULTS = get_task(DEFAULT_TASK).config_class()
TRAIN_DEFAULTS = get_task(DEFAULT_TASK).default_train_config(TASK_DEFAULTS)
POSITIVE = click.IntRange(min=1)

# Options of `train` that are not settings of the run; only --epochs may change when resuming.
RUNTIME_OPTIONS = {"run_dir", "resume", "device", "task", "distribute", "replicas"}


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
    """Imports TensorFlow without its C++ start-up lines (unless --verbose, or TF_CPP_MIN_LOG_LEVEL
    is 0) and shows the project's INFO logs."""
    from kerasrnn.engine.devices import import_tensorflow_quietly

    context = click.get_current_context(silent=True)
    verbose = bool(context and context.find_root().meta.get("kerasrnn.verbose"))
    with reported_as_one_line():
        import_tensorflow_quietly(verbose=verbose)
    setup_logging()


@contextlib.contextmanager
def lines_kept_until_it_succeeds(*, live: tuple[str, ...] = ("kerasrnn.data.corpus_stream",)):
    """Holds the log lines of the block back, and prints them only if it succeeds: a user whose
    input is refused sees the one `Error:` line alone. Lines of the `live` loggers (a long read
    announcing itself) are printed at once."""
    held: list[logging.LogRecord] = []

    def hold(record: logging.LogRecord) -> bool:
        if record.name.startswith(live):
            return True
        held.append(record)
        return False

    handlers = logging.getLogger().handlers
    for handler in handlers:
        handler.addFilter(hold)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(hold)
    for record in dict.fromkeys(held):  # one record reaches each handler: print it once
        logging.getLogger(record.name).handle(record)


def setup_logging() -> None:
    """The project's INFO lines on stderr (TensorFlow's own only with --verbose); before TensorFlow
    loads too, so that reading a big corpus says so."""
    context = click.get_current_context(silent=True)
    verbose = bool(context and context.find_root().meta.get("kerasrnn.verbose"))
    logging.basicConfig(format="%(message)s", level=logging.INFO if verbose else logging.WARNING)
    logging.getLogger("kerasrnn").setLevel(logging.INFO)


def _remember_verbose(context: click.Context, parameter, value: bool) -> None:
    if value:
        context.find_root().meta["kerasrnn.verbose"] = True


def verbose_option(function):
    """`--verbose`: show TensorFlow's own lines too (read by `setup_runtime`)."""
    return click.option(
        "--verbose", "-v", is_flag=True, expose_value=False, is_eager=True, callback=_remember_verbose,
        help="Also show TensorFlow's own start-up and library log lines.",
    )(function)


def common_options(function):
    """`--device` and `--verbose`, shared by the commands that run a model."""
    return device_option(verbose_option(function))


def device_option(function):
    return click.option(
        "--device",
        type=click.Choice(DEVICES),
        default="auto",
        show_default=True,
        help="Where to run: auto takes a GPU when TensorFlow sees one, cpu hides the GPUs, gpu "
        "fails unless there is one.",
    )(function)


def distribute_options(function):
    """`--distribute` and `--replicas`: how many devices or machines train (see
    `kerasrnn.engine.distribution`)."""
    from kerasrnn.engine.distribution import DISTRIBUTIONS

    function = click.option(
        "--replicas", type=POSITIVE, default=None,
        help="--distribute mirrored only: how many devices; default every GPU, or 2 logical CPU "
        "devices on a machine without one.",
    )(function)
    return click.option(
        "--distribute", type=click.Choice(DISTRIBUTIONS), default="none", show_default=True,
        help="none: one device; mirrored: every local GPU (or --replicas CPU devices); multi-worker: "
        "the cluster in TF_CONFIG, the same command on every machine (the chief writes the run). "
        "--batch-size is the global batch, split across the replicas.",
    )(function)


def start_distribution(kind: str, replicas: int | None, device: str):
    """The process's strategy (after `setup_runtime`), from the options of `distribute_options`."""
    from kerasrnn.engine.devices import select_device
    from kerasrnn.engine.distribution import make_distribution

    with reported_as_one_line():
        return make_distribution(kind, replicas=replicas, device=select_device(device))


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
            f"file of source TAB target lines (Keras's lstm_seq2seq format), split 80/10/10 by source. "
            f"A folder of train*/dev*/test* files keeps its splits.",
        )(function)

    return decorate


def seed_option(help_text: str):
    return click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True, help=help_text)


# How the one line of an unexpected exception starts (after click's "Error: "); tests look for it.
INTERNAL_ERROR = "internal error"


def rerun_verbose(arguments: tuple[str, ...]) -> str:
    """The command line the user ran, with `--verbose` right after the command's name: every
    command has the option, and there it is never taken for an argument (as after `--`)."""
    return command(*arguments[:1], "--verbose", *arguments[1:])


class GuardedGroup(click.Group):
    """The command group, with the last line of defence: an exception no one expected (a bug, or a
    library failing in a way the project does not know yet) still ends in one `Error:` line and exit
    status 1, unless `--verbose` asked for the traceback."""

    def parse_args(self, context: click.Context, args: list[str]) -> list[str]:
        context.meta["kerasrnn.arguments"] = tuple(args)  # for the command line of the rerun hint
        return super().parse_args(context, args)

    def invoke(self, context: click.Context):
        with program_named(program_from_info_name(context.info_name)):
            try:
                return super().invoke(context)
            except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, KeyboardInterrupt):
                raise
            except Exception as error:
                if context.meta.get("kerasrnn.verbose"):
                    raise
                first_line = (str(error).strip().splitlines() or [""])[0][:300]
                raise click.ClickException(
                    f"{INTERNAL_ERROR} ({type(error).__name__}: {first_line}); rerun with --verbose for the "
                    f"traceback: {rerun_verbose(context.meta.get('kerasrnn.arguments', ()))}"
                ) from None


@click.group(cls=GuardedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kerasrnn")
def cli():
    """Train, sample from and evaluate the recurrent networks of the RNN lecture."""
