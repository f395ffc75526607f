"""Files and folders written whole or not at all, OS errors in the words of one-line errors, and the
write faults the tests inject.

A file is written under a temporary name beside it, flushed to the disk, then renamed onto its own
name (`replace_atomically`, `write_text`, `write_json`); a folder likewise, the one it replaces
moved aside until the new one is in place (`replace_folder_atomically`). A reader never sees half a
file, and a crash leaves the old one. The run directory's files, the backup, exports, the corpus
cache, the analyses' tables and every figure are written so.

Fault injection (for the tests): `KERASRNN_FAULT` names a point and `KERASRNN_FAULT_MODE` what
happens there. The point of this module is `write:NAME:K`: the K-th atomic write of a file called
NAME, after its temporary file is written and before the rename. The training points (`step:N`,
`validation:E`, …) are `kerasrnn.engine.faults`'s; both end in `inject_fault`:

| mode             | what happens                                                          |
| ---------------- | --------------------------------------------------------------------- |
| `kill` (default) | the process kills itself with SIGKILL, as `kill -9` would             |
| `raise`          | `SimulatedCrash` (a `BaseException`) is raised: an in-process crash   |
| `enospc`         | `OSError(ENOSPC)`, as a full disk would raise                         |
| `interrupt`      | `KeyboardInterrupt`, as Ctrl-C would raise                            |
| `sleep:SECONDS`  | the process sleeps that long and goes on: a slower machine            |

Nothing happens unless the variable is set; the check costs a dictionary lookup.

Example:

```python
write_json(Path("runs/a/metrics.json"), {"loss": 1.5})
replace_atomically(Path("plot.png"), lambda temporary: figure.savefig(temporary, format="png"))
```
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import tempfile
import time
from collections import Counter
from pathlib import Path

FAULT_ENV = "KERASRNN_FAULT"
MODE_ENV = "KERASRNN_FAULT_MODE"
_writes: Counter = Counter()
_sleep = time.sleep  # the `sleep:` mode's; a test may replace it with a fake clock's


class SimulatedCrash(BaseException):
    """A crash raised on purpose by `KERASRNN_FAULT_MODE=raise` (not an `Exception`, like Ctrl-C)."""


# --- files --------------------------------------------------------------------------------------


def replace_atomically(path: Path, write) -> None:
    """Calls `write(temporary_path)` on a new file beside `path`, then renames it to `path`, so that
    an old file is never half-replaced; the temporary file is removed if anything fails.

    Raises:
      OSError: from `write` or the rename, named after `path` (not its temporary name).
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private; give it a normal file's mode
        with open(temporary, "rb+") as handle:  # on the disk before the rename makes it the file
            os.fsync(handle.fileno())
        _fault_at_write(path)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise OSError(error.errno, error.strerror or str(error), os.fspath(path)) from error
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Writes UTF-8 `text` to `path` atomically."""
    replace_atomically(path, lambda temporary: temporary.write_text(text, "utf-8"))


def write_json(path: Path, payload) -> None:
    """Writes `payload` as indented UTF-8 JSON, atomically."""
    write_text(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


# --- folders ------------------------------------------------------------------------------------


def replace_folder_atomically(folder: Path, write) -> None:
    """Calls `write(temporary_folder)` on a new folder beside `folder`, then renames it `folder`.

    A `folder` already there is renamed aside first and deleted only once the new folder is in its
    place. If `write` or the renaming fails, the temporary folder is deleted and `folder` is as
    before (parent folders made for it are removed too); the error propagates.
    """
    folder = Path(folder)
    made_parents = [parent for parent in (folder.parent, *folder.parent.parents) if not parent.exists()]
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_what_a_kill_left(folder)
    new = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=folder.parent))
    old, done = None, False
    try:
        write(new)
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
            os.replace(folder, old)  # onto the empty folder just made: atomic on POSIX
        try:
            os.replace(new, folder)
        except BaseException:
            if old is not None:
                os.replace(old, folder)
                old = None
            raise
        done = True
    finally:
        shutil.rmtree(new, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        if made_parents and not done:
            shutil.rmtree(made_parents[-1], ignore_errors=True)


def _remove_what_a_kill_left(folder: Path) -> None:
    """A half-written new folder goes; an old folder moved aside just before the kill goes back in
    place if nothing replaced it (one still empty was never moved: the kill came first)."""
    for stale in folder.parent.glob(f".{folder.name}.old-*"):
        if not folder.exists() and stale.is_dir() and any(stale.iterdir()):
            os.replace(stale, folder)
        elif stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    for stale in folder.parent.glob(f".{folder.name}.new-*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)


# --- errors -------------------------------------------------------------------------------------


def os_error_cause(error: OSError) -> str:
    """What went wrong, in the words of the one-line errors: "no space left on device" for a full
    disk (TensorFlow reports one without an errno), else the system's own words."""
    if error.errno == errno.ENOSPC or "No space left" in str(error):
        return "no space left on device"
    return error.strerror or str(error)


# --- fault injection ----------------------------------------------------------------------------


def inject_fault(description: str, path=None) -> None:
    """Does what `KERASRNN_FAULT_MODE` says (see the module docstring); `path` names the file of an
    `enospc` error."""
    mode = os.environ.get(MODE_ENV, "kill")
    if mode.startswith("sleep:"):
        _sleep(float(mode.removeprefix("sleep:")))
        return
    if mode == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(path) if path else None)
    if mode == "raise":
        raise SimulatedCrash(description)
    if mode == "interrupt":
        raise KeyboardInterrupt(description)
    os.kill(os.getpid(), signal.SIGKILL)


def _fault_at_write(path: Path) -> None:
    """Counts the writes of each file name while `KERASRNN_FAULT` is set; injects the fault at
    `write:NAME:K`."""
    if FAULT_ENV in os.environ:
        name = path.name
        _writes[name] += 1
        if os.environ[FAULT_ENV] == f"write:{name}:{_writes[name]}":
            inject_fault(f"crash while writing {name}", path)


def reset_write_counts() -> None:
    """Forgets the counts of writes (tests call it between runs in one process)."""
    _writes.clear()
