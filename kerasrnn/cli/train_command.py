"""`train`: every task and cell into a run directory, or `--resume` one; settings resolved by the library."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kerasrnn.cli.common import (DEFAULT_TASK, POSITIVE, RUNTIME_OPTIONS, TASK_DEFAULTS, TRAIN_DEFAULTS,
                                 TaskChoice, cli, data_options, device_option, distribute_options,
                                 lines_kept_until_it_succeeds, reported_as_one_line, seed_option, setup_logging,
                                 setup_runtime, start_distribution, verbose_option)
from kerasrnn.data.corpus import STREAMING_MODES
from kerasrnn.engine.distribution import check_options as check_distribution
from kerasrnn.engine.train_config import OPTIMIZERS
from kerasrnn.program import command
from kerasrnn.recurrent import CELL_NAMES
from kerasrnn.tasks import get_task, task_of_run


# With --time-budget and no --epochs, the budget picks the number of epochs, up to this.
BUDGET_EPOCHS = 10_000


@cli.command()
@click.option("--task", type=TaskChoice(), default=DEFAULT_TASK, show_default=True,
              help="What to learn: charlm is a character-level language model; copy and adding are "
              "the long-memory benchmarks of the uRNN paper (set T with --length); classify labels "
              "texts (by language for the default spelled_numbers data); translate is an "
              "encoder-decoder (English → French numbers by default).")
@click.option("--cell", type=click.Choice(CELL_NAMES), default=TASK_DEFAULTS.cell, show_default=True,
              help="Recurrent layer: the lecture's vanilla, gru, lstm or urnn cells, or Keras's own "
              "keras-gru, keras-lstm, keras-simplernn for comparison. translate with a pairs file and "
              "classify with real text (a file or folder, not spelled_numbers): keras-lstm unless given.")
@click.option("--units", type=POSITIVE, default=TASK_DEFAULTS.units, show_default=True,
              help="Units per recurrent layer (complex units for urnn, which outputs twice as many); "
              "translate with a pairs file: 256 unless given; classify: 64 (per direction).")
@click.option("--layers", type=POSITIVE, default=TASK_DEFAULTS.layers, show_default=True,
              help="Number of stacked recurrent layers.")
@click.option("--residual/--no-residual", default=TASK_DEFAULTS.residual, show_default=True,
              help="Add each stacked layer's input to its output (a ResNet shortcut; from layer 2 on).")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=TASK_DEFAULTS.dropout,
              show_default=True, help="Dropout rate after each recurrent layer while training; translate "
              "with a pairs file: 0.2 unless given; classify (before the output layer): 0 for "
              "spelled_numbers, 0.3 for real text unless given.")
@click.option("--embedding-dim", type=POSITIVE, default=TASK_DEFAULTS.embedding_dim, show_default=True,
              help="Size of the learned token embedding; translate with a pairs file and classify with "
              "real text: 128 unless given; classify with spelled_numbers: 64.")
@click.option("--attention", type=click.Choice(["dot", "additive", "none"]), default=None,
              help="translate only: how the decoder attends over the encoder outputs (dot: Luong, "
              "additive: Bahdanau), or none (the final state only); default dot.")
@click.option("--pair", default=None,
              help="translate only, spelled_numbers: SOURCE-TARGET from digits, en, fr, de, es, it; "
              "default en-fr.")
@click.option("--bidirectional/--no-bidirectional", default=False,
              help="classify and translate: read each text both ways with every recurrent layer "
              "(translate: units/2 each way, so --units must be even); default off, but on for "
              "translate with a pairs file and for classify with real text.")
@click.option("--pooling", type=click.Choice(["last", "max", "mean", "attention"]), default=None,
              help="classify only: how the steps of the last recurrent layer become one vector: its "
              "last state, or max, mean or attention pooling over every step (padding left out); "
              "default last for spelled_numbers, max for real text.")
@click.option("--embedding-dropout", type=click.FloatRange(0, 1, max_open=True), default=None,
              help="classify only: dropout rate of the token embeddings while training; default 0 for "
              "spelled_numbers, 0.2 for real text.")
@click.option("--tokens", type=click.Choice(["words", "characters", "cased-words", "subwords"]), default=None,
              help="classify and translate: what a token is; default for classify: words, but "
              "characters for spelled_numbers; for translate: characters for spelled_numbers, "
              "subwords (a SentencePiece model per side, learned from the training split) for a "
              "pairs file. cased-words (words with their case kept, punctuation apart) and subwords "
              "are translate only.")
@click.option("--max-tokens", type=POSITIVE, default=None,
              help="classify and translate: vocabulary size per side (the most frequent words, or the "
              "pieces of a subword model); default 20,000, but 4,000 for translate with a pairs file.")
@click.option("--tie-embeddings/--no-tie-embeddings", default=None,
              help="translate only: score the decoder's output tokens with its input embedding matrix "
              "(one matrix instead of two); default off, but on for a pairs file with attention.")
@click.option("--label-smoothing", type=click.FloatRange(0, 1, max_open=True), default=None,
              help="translate only: spread this share of each target's probability evenly over the "
              "vocabulary in the training loss; default 0, but 0.1 for a pairs file.")
@click.option("--max-length", type=POSITIVE, default=None,
              help="classify and translate: tokens kept from the start of each text; default 300 "
              "(classify), 100 (translate).")
@click.option("--text-column", default=None,
              help="classify only: the text column of a CSV/TSV file, by header name or number from "
              "0; default: text, or the first column of a file without a header.")
@click.option("--label-column", default=None,
              help="classify only: the label column of a CSV/TSV file, by header name or number "
              "from 0; default: label, or the last column of a file without a header.")
@click.option("--carry-state/--no-carry-state", default=TASK_DEFAULTS.carry_state, show_default=True,
              help="charlm: train by truncated backpropagation through time over the text in order, "
              "each window starting from the state the previous one ended in (char-rnn's practice); "
              "one device only: under --distribute the default is --no-carry-state.")
@click.option("--seq-len", "sequence_length", type=POSITIVE, default=TASK_DEFAULTS.sequence_length,
              show_default=True, help="Characters per training window: how far back gradients flow.")
@click.option("--length", type=POSITIVE, default=None,
              help="copy and adding only: T, the delay to bridge (copy) or the sequence length "
              "(adding); default 100.")
@data_options(TASK_DEFAULTS.data, "it is split 90/5/5 into train/validation/test.")
@click.option("--validation-data", default=None, metavar="PATH",
              help="classify and translate, your own data: a file (or folder) whose whole content is the "
              "validation split; default: the data's dev*/valid* file, or a tenth of the training data.")
@click.option("--test-data", default=None, metavar="PATH",
              help="classify and translate, your own data: a file (or folder) whose whole content is "
              "the test split; default: the data's test* file, or a tenth of the training data.")
@click.option("--streaming", type=click.Choice(STREAMING_MODES), default=TASK_DEFAULTS.streaming,
              show_default=True,
              help="charlm, a text file or folder: stream it from an id file in ~/.cache/kerasrnn "
              "($KERASRNN_CACHE_DIR) with bounded memory (always), read it into memory (never), or "
              "stream it when it is bigger than 1 MiB (auto). Both train the same model.")
@click.option("--batch-size", type=POSITIVE, default=TRAIN_DEFAULTS.batch_size, show_default=True,
              help="Windows per training batch: the global batch, split across the replicas when "
              "--distribute is used. translate with a pairs file: 128 unless given; classify: 32 for "
              "spelled_numbers, 64 for real text.")
@click.option("--epochs", type=POSITIVE, default=TRAIN_DEFAULTS.epochs, show_default=True,
              help="Number of epochs, each followed by a validation pass and a checkpoint.")
@click.option("--steps-per-epoch", type=POSITIVE, default=TRAIN_DEFAULTS.steps_per_epoch,
              show_default=True, help="Batches per epoch; none means one pass over the training text.")
@click.option("--time-budget", type=click.FloatRange(min=0, min_open=True), default=None, metavar="MINUTES",
              help="Train for this many minutes, validation included: the epochs that fit are planned "
              "from the step time measured first, then re-planned after every epoch from the run's own "
              "pace (never more than --epochs, if given), and the learning-rate schedule refitted so "
              "that its last step has the final rate.")
@click.option("--warmup-steps", type=click.IntRange(min=0), default=TRAIN_DEFAULTS.warmup_steps,
              show_default=True, help="Raise the learning rate linearly from 0 over the first steps.")
@click.option("--validation-steps", type=POSITIVE, default=None,
              help="Validation batches after each epoch (the same first ones every epoch); default: "
              "the whole validation split. The final evaluation always covers all of it.")
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
              help="Stop early after this many epochs without a better validation loss (classify: "
              "validation accuracy, ties broken by the loss, which also picks the kept model).")
@seed_option("Seed of the weights, the order of the windows, dropout and the final sample.")
@click.option("--run-dir", type=click.Path(path_type=Path), default=None,
              help="Folder for the model, vocabulary, config, history and curves; default: "
              "runs/<task>-<cell>-<YYYYmmdd-HHMMSS>. Must be new or empty unless --resume.")
@click.option("--resume", is_flag=True, default=False,
              help="Continue the run in --run-dir from its last finished epoch, with its saved "
              "settings: it ends exactly where the uninterrupted run would have. Only --epochs may "
              "change, to train longer (with --decay the schedule is then stretched, and it says so).")
@device_option
@distribute_options
@verbose_option
@click.option("--mixed-precision/--no-mixed-precision", default=TRAIN_DEFAULTS.mixed_precision,
              show_default=True, help="Compute in float16 with float32 weights (GPU only).")
def train(**options):
    """Train a model and save it in a run directory.

    With no options: a character-level GRU language model (512 units, the state carried from one
    200-character window to the next) on python_docs, about 4 minutes on a 2-core CPU.
    It ends with the validation loss in bits per character next to the unigram baseline, and a
    sample of 300 characters.

    Options you leave out take the task's own defaults, which for copy and adding are the uRNN
    paper's (RMSprop 1e-3, rho 0.9, constant rate, clipvalue 1 but for urnn, batches of 20), not
    the charlm defaults shown below. `--task copy --cell urnn --length 100`: the uRNN learns to
    recall 10 symbols after 100 steps; every loss is printed next to the memoryless baseline.

    classify takes its defaults from the kind of data. spelled_numbers: an lstm of 64 units over
    characters, its last state read out, 4 epochs of 300 steps in batches of 32, learning rate
    3e-3. Real text (a CSV/TSV file, a folder, imdb_reviews): words, embeddings of 128, a
    bidirectional keras-lstm of 64 units each way, max pooling over time, dropout 0.2 on the
    embeddings and 0.3 before the output, 3 passes over the training split in batches of 64,
    learning rate 3e-3, patience 2. A classifier keeps the epoch of the best validation accuracy.
    """
    from kerasrnn.engine import settings
    from kerasrnn.engine import run_dir as run_files

    context = click.get_current_context()
    given = {name: value for name, value in options.items()
             if context.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT}
    flags = {parameter.name: parameter.opts[0] for parameter in context.command.params}
    with reported_as_one_line():
        check_distribution(options["distribute"], options["replicas"])
        data = None  # what check_data loaded, handed to the run; a resumed run reads its own
        if options["resume"]:
            if options["run_dir"] is None:
                raise click.UsageError("--resume needs --run-dir: the run to continue")
            fixed = sorted(set(given) - RUNTIME_OPTIONS - {"epochs"})
            if fixed:
                raise click.UsageError(f"--resume continues with the run's saved settings: drop "
                                       f"{', '.join(flags[name] for name in fixed)}")
            task = task_of_run(options["run_dir"])
            config, train_config = settings.resumed_configs(task, options["run_dir"], epochs=given.get("epochs"))
        else:
            task = get_task(options["task"])
            if "time_budget" in given and "epochs" not in given:
                given["epochs"] = BUDGET_EPOCHS  # the budget chooses
            setup_logging()
            config, train_config = settings.resolve_configs(
                task, {name: value for name, value in given.items() if name not in RUNTIME_OPTIONS}, flags=flags,
                distributed=options["distribute"] != "none")
            with lines_kept_until_it_succeeds():
                data = task.check_data(task.resolve(config))  # before TensorFlow loads: seconds, not minutes
    setup_runtime()
    distribution = start_distribution(options["distribute"], options["replicas"], options["device"])
    from kerasrnn.engine import run

    with reported_as_one_line():
        run_dir = options["run_dir"] or run_files.default_run_dir(task.name, config.cell)
        if distribution.chief:
            click.echo(f"Training {task.name} with {config.cell} into {run_dir}", err=True)
        else:
            click.echo(f"Training {task.name} with {config.cell} as {distribution.worker}; the chief "
                       f"writes the run to {run_dir}", err=True)
        try:
            # One line per epoch when the output is a log file rather than a terminal.
            verbose = "auto" if sys.stdout.isatty() else 2
            result = run.train(task, config, train_config, run_dir, resume=options["resume"],
                               device=options["device"], verbose=verbose, distribution=distribution, data=data)
        except KeyboardInterrupt:
            if not (Path(run_dir) / run_files.CONFIG_FILE).is_file():
                raise click.ClickException("interrupted before the first epoch finished; nothing was kept") from None
            # The same devices again: they are not saved with the run's settings.
            where = [word for name in ("device", "distribute", "replicas") if name in given
                     for word in (flags[name], given[name])]
            raise click.ClickException(
                f"interrupted; continue with: {command('train', '--resume', '--run-dir', run_dir, *where)}"
            ) from None
    click.echo(result.summary())
