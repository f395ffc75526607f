"""The program's name as the user typed it, and the one helper that writes the commands hints suggest.

A message that tells the user what to run next ("continue with: kerasrnn train --resume --run-dir
runs/x") has to name the program they ran, or the line they copy fails: `kerasrnn` for the console
script that `pip install .` puts on the PATH, `python cli.py` for a checkout's script. The CLI sets
the name once per invocation (`program_named`); library users get `kerasrnn`. The module imports
nothing of the project's, so the engine and the tasks can use it without knowing the CLI.

Example:

```python
command("train", "--resume", "--run-dir", Path("runs/my run"))
# "kerasrnn train --resume --run-dir 'runs/my run'"
```
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys

DEFAULT_PROGRAM = "kerasrnn"
_program = DEFAULT_PROGRAM


def program() -> str:
    """The program as the user typed it (`kerasrnn`, `python cli.py`, …)."""
    return _program


def program_from_info_name(info_name: str | None) -> str:
    """The program for click's name of the root command (`find_root().info_name`).

    click names a script run with `python` by its file name (`cli.py`): the user typed `python`
    before it, and possibly a folder, which `sys.argv[0]` still holds. `python -m …` and the console
    script's name come as typed.
    """
    if not info_name:
        return DEFAULT_PROGRAM
    if info_name.endswith(".py"):
        typed = sys.argv[0] if sys.argv and os.path.basename(sys.argv[0]) == info_name else info_name
        return f"python {shlex.quote(typed)}"
    return info_name


@contextlib.contextmanager
def program_named(name: str):
    """Hints name `name` inside the block; the name before comes back after it, so that a library
    call after a CLI call in one process (a test) gets the default again."""
    global _program
    before, _program = _program, name
    try:
        yield
    finally:
        _program = before


def command(*words) -> str:
    """The command line `program() WORDS…`, each word (a path, a number) quoted for a POSIX shell."""
    return " ".join([_program, *(shlex.quote(os.fspath(word) if isinstance(word, os.PathLike) else str(word))
                                 for word in words)])
