"""Command line of kerasrnn: train recurrent networks, sample text from them, evaluate them.

    kerasrnn train              # character LM, LSTM, python_docs, a few minutes on a CPU
    kerasrnn generate RUN_DIR --prompt "The " --length 300
    kerasrnn evaluate RUN_DIR --split test
    kerasrnn train --task copy --cell urnn --length 100        # long memory, next to its baseline
    kerasrnn gradients --out grads.png      # ‖∂L/∂h_t‖ per step t, adding T = 1000, four cells
    kerasrnn compare --task copy --length 100 --steps 1500     # cells side by side
    kerasrnn train --task classify --run-dir runs/lang         # language of spelled-out numbers
    kerasrnn classify runs/lang "trois cent deux" "dreihundertzwei"
    kerasrnn export RUN_DIR exports/charlm  # a SavedModel: strings in, strings out, TF only
    kerasrnn train --task translate --run-dir runs/fr          # English → French numbers, seq2seq
    kerasrnn translate runs/fr "three hundred and forty-two" --beam-size 4

In a checkout, `python cli.py` is the same command (`python cli.py train`, …).

Thin by design: parse the options, call the library, print. Which settings apply to a task and
what they default to is the library's business (`kerasrnn.engine.settings`); every task is reached
through `kerasrnn.tasks.get_task` and the `Task` methods only. TensorFlow is imported inside the
commands, so `--help` and usage errors return at once, and quietly (`--verbose`, or
`TF_CPP_MIN_LOG_LEVEL=0`, shows TensorFlow's own start-up lines). Bad input that the library detects (`kerasrnn.errors.UserInputError`) becomes a
one-line error and exit status 1 (2 for an option that does not fit, as click's usage errors); any
other exception is a bug, and still one line (`Error: internal error (…); rerun with --verbose for
the traceback: …`) unless `--verbose` asks for the traceback.

`python cli.py` (the repository's top-level script) and the `kerasrnn` command that `pip install .`
puts on the PATH both run `cli` here, and every command a message suggests names the one the user
typed (`kerasrnn.program`). `common.py` holds the group and the shared options; each
`*_command(s).py` module adds its commands to the group when imported.
"""

from kerasrnn.cli import analysis_commands, run_commands, train_command  # noqa: F401 - add the commands
from kerasrnn.cli.common import cli


def main() -> None:
    """The `kerasrnn` console command (and `python cli.py`)."""
    cli()


__all__ = ["cli", "main"]
