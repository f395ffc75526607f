"""What the CLI tests share: running a command in-process, and what a clean failure looks like."""

from click.testing import CliRunner

import cli


def run(*arguments):
    """`python cli.py ARGUMENTS…` in this process (arguments may be paths or numbers)."""
    return CliRunner().invoke(cli.cli, [str(a) for a in arguments])


def assert_one_line_error(result, *parts, exit_code=1):
    """A clean failure: the exit code, one `Error: …` line holding every part, no traceback."""
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not a crash
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    for part in parts:
        assert part in errors[0], result.output
