"""What the CLI tests share: running a command in-process, and what a clean failure looks like."""

from click.testing import CliRunner

import cli
from kerasrnn.cli.common import INTERNAL_ERROR


def run(*arguments):
    """`python cli.py ARGUMENTS…` in this process (arguments may be paths or numbers)."""
    return CliRunner().invoke(cli.cli, [str(a) for a in arguments], prog_name="cli.py")


def one_error_line(result, exit_code=1) -> str:
    """The one `Error: …` line of a failure that ended in click's exit, with no traceback."""
    assert result.exit_code == exit_code, result.output
    # An exception that escaped the CLI; a bug turned into one line by `GuardedGroup` is a
    # SystemExit too, so `assert_one_line_error` checks the line itself.
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    return errors[0]


def assert_one_line_error(result, *parts, exit_code=1):
    """A clean failure: the exit code, one `Error: …` line holding every part, no traceback, and
    not the line of an unexpected exception (a bug must not pass for a message)."""
    line = one_error_line(result, exit_code)
    assert not line.startswith(f"Error: {INTERNAL_ERROR}"), f"a crash, not a user error: {line}"
    for part in parts:
        assert part in line, result.output


def assert_internal_error(result, *parts):
    """The one line of an unexpected exception: exit status 1, `Error: internal error (…)`."""
    line = one_error_line(result, 1)
    assert line.startswith(f"Error: {INTERNAL_ERROR} ("), line
    for part in parts:
        assert part in line, result.output
