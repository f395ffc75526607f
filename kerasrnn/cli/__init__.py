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
puts on the PATH both run `cli` here. `common.py` holds the group and the shared options; each
`*_command(s).py` module adds its commands to the group when imported.
"""

from kerasrnn.cli import analysis_commands, run_commands, train_command  # noqa: F401 - add the commands
from kerasrnn.cli.common import cli


def main() -> None:
    """The `kerasrnn` console command (and `python cli.py`)."""
    cli()


__all__ = ["cli", "main"]
