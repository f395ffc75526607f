"""Hints name the program the user typed: `kerasrnn …` from the console script, `python cli.py …` from
a checkout, in the CLI's own messages and in the engine's alike."""

from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from kerasrnn import fileio
from kerasrnn.program import DEFAULT_PROGRAM, command, program, program_from_info_name, program_named
from tests.cli_helpers import assert_one_line_error

# Three epochs of two steps: step 3 is the first of epoch 2, after epoch 1's backup.
TINY_COPY = ["train", "--task", "copy", "--cell", "lstm", "--units", "4", "--length", "3",
             "--validation-steps", "1", "--batch-size", "4", "--epochs", "3", "--steps-per-epoch", "2"]


def test_command_quotes_what_a_shell_would_split():
    with program_named("kerasrnn"):
        assert command("train", "--resume", "--run-dir", Path("runs/x")) == "kerasrnn train --resume --run-dir runs/x"
        assert command("evaluate", Path("my runs/it's"), "--beam-size", 4) == \
            "kerasrnn evaluate 'my runs/it'\"'\"'s' --beam-size 4"


def test_the_program_is_the_name_the_user_typed():
    assert program_from_info_name("kerasrnn") == "kerasrnn"
    assert program_from_info_name("cli.py") == "python cli.py"
    assert program_from_info_name("python -m kerasrnn.cli") == "python -m kerasrnn.cli"
    assert program_from_info_name(None) == DEFAULT_PROGRAM


def test_library_users_get_the_console_script_and_the_cli_restores_it():
    assert program() == "kerasrnn"
    with program_named("python cli.py"):
        assert command("train") == "python cli.py train"
    assert program() == "kerasrnn"


@pytest.mark.parametrize("prog_name, typed", [("kerasrnn", "kerasrnn"), ("cli.py", "python cli.py")])
def test_an_interrupted_train_and_a_full_disk_name_the_program(prog_name, typed, monkeypatch, tmp_path):
    """The CLI's own hint (Ctrl-C in epoch 2) and the engine's (a full disk while resuming) both
    name `typed`."""
    run_dir = tmp_path / "my run"
    fileio.reset_write_counts()
    monkeypatch.setenv(fileio.FAULT_ENV, "step:3")
    monkeypatch.setenv(fileio.MODE_ENV, "interrupt")
    interrupted = CliRunner().invoke(cli.cli, [*TINY_COPY, "--run-dir", str(run_dir)], prog_name=prog_name)
    assert_one_line_error(interrupted, f"interrupted; continue with: {typed} train --resume --run-dir '{run_dir}'")

    fileio.reset_write_counts()
    monkeypatch.setenv(fileio.FAULT_ENV, "write:state.npz:1")  # epoch 2's backup
    monkeypatch.setenv(fileio.MODE_ENV, "enospc")
    full = CliRunner().invoke(cli.cli, ["train", "--resume", "--run-dir", str(run_dir)], prog_name=prog_name)
    assert_one_line_error(full, f"the run can be resumed from epoch 1 once there is room: {typed} train --resume "
                                f"--run-dir '{run_dir}'")
    assert program() == "kerasrnn"
