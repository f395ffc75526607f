"""The README and docs/ show what the code prints today.

Every fenced block of README.md and docs/*.md with a line starting with `$ ` is a console session:
its info string is `console` and the line before it is one of two marks.

- `<!-- output: checked -->`: each command runs here, in this process, on small runs this test
  trains (`runs/charlm`, `runs/classify`, `runs/translate`, the names the docs use), from a
  temporary folder. The shown lines must be the printed lines once every number is masked (so the
  figures may come from the real default runs, the words may not); a line `…` stands for printed
  lines left out.
- `<!-- output: ran YYYY-MM-DD, where -->`: the real output of a longer run on that date. Its
  training, compare and gradients commands are not run; its other commands of the program are, and
  must succeed (`classify` and `translate` with one line per text), so the command line shown is
  one the program takes today.

Run: python -m pytest tests/test_docs.py
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shlex
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]

CHECKED = "<!-- output: checked -->"
RAN = re.compile(r"<!-- output: ran (\d{4}-\d{2}-\d{2}), [^>]+ -->")
PROGRAMS = (["kerasrnn"], ["python", "cli.py"])
NOT_RUN = {"train", "compare", "gradients"}  # minutes each: their blocks carry the date they ran
NUMBER = re.compile(r"\d(?:[\d,.]*\d)?")
ELISION = "…"

# The small runs the documented commands are checked on: seconds each, the docs' run names.
FIXTURE_RUNS = {
    "runs/charlm": ["--units", "16", "--embedding-dim", "8", "--seq-len", "20", "--batch-size", "8",
                    "--epochs", "1", "--steps-per-epoch", "2"],
    "runs/classify": ["--task", "classify", "--units", "8", "--embedding-dim", "8", "--epochs", "1",
                      "--steps-per-epoch", "2"],
    "runs/translate": ["--task", "translate", "--units", "8", "--embedding-dim", "8", "--epochs", "1",
                       "--steps-per-epoch", "2"],
}


@dataclasses.dataclass
class Command:
    document: str
    line: int
    words: list[str]  # after the program's name
    shown: list[str]  # the output lines shown under it
    checked: bool

    def __str__(self):
        return f"{self.document}:{self.line}: {shlex.join(['kerasrnn', *self.words])}"


def console_blocks(path: Path):
    """(line number, info string, mark line, block lines) of every fenced block with a `$ ` line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = None
    for number, line in enumerate(lines):
        if not line.startswith("```"):
            continue
        if start is None:
            start, info = number, line[3:].strip()
            continue
        body = lines[start + 1:number]
        if any(text.startswith("$ ") for text in body):
            before = [text for text in lines[:start] if text.strip()]
            yield start + 1, info, before[-1].strip() if before else "", body
        start = None


def program_words(command_line: str) -> list[str] | None:
    """The words after `kerasrnn` / `python cli.py`, or None for another program."""
    words = shlex.split(command_line, comments=True)
    for program in PROGRAMS:
        if words[:len(program)] == program:
            return words[len(program):]
    return None


def documented_commands() -> list[Command]:
    commands = []
    for path in DOCUMENTS:
        name = path.relative_to(REPO_ROOT).as_posix()
        for line, _, mark, body in console_blocks(path):
            current = None
            for text in body:
                if text.startswith("$ "):
                    words = program_words(text[2:])
                    current = None if words is None else Command(name, line, words, [], mark == CHECKED)
                    if current is not None:
                        commands.append(current)
                elif current is not None:
                    current.shown.append(text.rstrip())
    return commands


COMMANDS = documented_commands()


def test_every_console_block_is_marked():
    problems = []
    for path in DOCUMENTS:
        name = path.relative_to(REPO_ROOT).as_posix()
        for line, info, mark, body in console_blocks(path):
            if info != "console":
                problems.append(f"{name}:{line}: a block of commands is ```console, not ```{info}")
            if mark != CHECKED and not RAN.fullmatch(mark):
                problems.append(f"{name}:{line}: no '{CHECKED}' or '<!-- output: ran DATE, where -->' "
                                f"line before the block (found {mark!r})")
            for text in body:
                if text.startswith("$ ") and (text.rstrip().endswith("\\") or " | " in text or "2>&1" in text):
                    problems.append(f"{name}:{line}: one plain command a line: {text}")
    assert not problems, "\n".join(problems)


LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def test_every_relative_link_leads_to_a_file():
    missing = []
    for path in DOCUMENTS:
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if "://" not in target and not (path.parent / target).exists():
                missing.append(f"{path.relative_to(REPO_ROOT).as_posix()}: {target}")
    assert not missing, "\n".join(missing)


def test_the_readme_is_the_front_door():
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    assert not re.search(r"(?i)issue #?\d|#\d+\b", text + "".join(p.read_text(encoding="utf-8") for p in DOCUMENTS))


def test_the_docs_show_commands_of_the_program():
    assert any(command.checked for command in COMMANDS)
    assert {"--help", "evaluate", "generate", "classify", "translate", "export"} <= {
        word for command in COMMANDS for word in command.words}


def masked(lines: list[str]) -> list[str]:
    return [NUMBER.sub("#", line.rstrip()) for line in lines]


def matches(shown: list[str], printed: list[str]) -> bool:
    """Whether the shown lines are the printed ones, `…` standing for any run of printed lines."""
    pattern = "".join(".*?" if line == ELISION else re.escape(line + "\n") for line in masked(shown))
    return re.fullmatch(pattern, "".join(line + "\n" for line in masked(printed)), re.DOTALL) is not None


class _ToCurrentStderr(logging.Handler):
    """Log lines to whatever `sys.stderr` is now (the runner's), as the CLI's handler does for a user."""

    def emit(self, record):
        sys.stderr.write(record.getMessage() + "\n")
        sys.stderr.flush()


def invoke(words: list[str]):
    from kerasrnn.engine import devices

    devices._announced = None  # "Running on the CPU" is said once a process; a user's command is a process
    handler = _ToCurrentStderr(logging.INFO)
    logger = logging.getLogger("kerasrnn")
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        return CliRunner().invoke(cli.cli, words, prog_name="kerasrnn")
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


@pytest.fixture(scope="module")
def runs_folder(tmp_path_factory):
    """A folder holding the docs' run names as small runs, the current folder while a test runs."""
    folder = tmp_path_factory.mktemp("docs")
    patch = pytest.MonkeyPatch()
    patch.chdir(folder)
    patch.setenv("TFDS_DATA_DIR", str(folder / "tensorflow_datasets"))
    for run_dir, options in FIXTURE_RUNS.items():
        result = invoke(["train", "--run-dir", run_dir, *options])
        assert result.exit_code == 0, result.output
    yield folder
    patch.undo()


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.words[:1] and c.words[0] not in NOT_RUN
                                     or c.checked], ids=str)
def test_documented_command(command, runs_folder):
    result = invoke(command.words)
    printed = result.output.splitlines()
    if command.checked:
        assert matches(command.shown, printed), (
            f"{command}\nshown:\n" + "\n".join(command.shown) + "\nprinted:\n" + result.output)
        return
    assert result.exit_code == 0, f"{command}\n{result.output}"
    if command.words[0] in ("classify", "translate"):
        texts = [word for word in command.words[2:] if not word.startswith("-")]
        assert len(printed) >= len(texts), f"{command}\n{result.output}"
