"""One writer per run directory: an OS lock on `RUN/.lock`, held while a run trains into `RUN`.

`lock_run_dir(run_dir)` takes an exclusive `flock` on `RUN/.lock` without waiting, and writes into
that file who holds it (pid, host, command, start time) so that a second `train` or `train --resume`
into the same folder is refused in one line naming the running process. The lock, not the file, is
what counts: the kernel releases it when its process ends, however it ends (`kill -9` included), so a
lock file left behind by a killed run is only a name with stale contents, and the next run takes it.

Where and when:
- Inside the run directory, a hidden file: it moves with the folder, and every run directory check
  ignores it (a folder holding only `.lock` is empty for the "needs --resume" check, and never a
  file of the run).
- Taken before the run writes anything, released (the file removed first, while still held) when the
  run ends, so a finished run directory has no `.lock`.
- Removing a held lock file would let a second process lock a new file of the same name, so a lock
  counts only if the file it locked is still the one at `RUN/.lock` (checked after locking, else
  taken again); only the holder removes it, last.
- Only the chief of a multi-worker run takes it: the other workers write into temporary folders.
  Readers (`evaluate`, `export`, `generate`, …) take no lock: every run file is replaced
  atomically, so they read the best model so far, whole, while a run trains.

Example:

```python
with lock_run_dir(Path("runs/a")):   # UserInputError naming the holder if another process has it
    ...                              # train into runs/a
```
"""

from __future__ import annotations

import datetime
import json
import os
import shlex
import socket
import sys
import time
from pathlib import Path

from kerasrnn.errors import UserInputError
from kerasrnn.program import command

LOCK_FILE = ".lock"

# How long a refused process waits for the holder to have written who it is (it writes right after
# taking the lock): a moment, not the holder's run.
_HOLDER_WAIT_S = 1.0


class RunLock:
    """A held lock on a run directory; `release()` (or the end of a `with`) gives it back."""

    def __init__(self, run_dir: Path, descriptor: int):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self._descriptor: int | None = descriptor

    @property
    def held(self) -> bool:
        return self._descriptor is not None

    def release(self) -> None:
        """Removes the lock file (while still holding it), then lets the lock go. Idempotent."""
        if self._descriptor is None:
            return
        try:
            if _same_file(self.path, self._descriptor):
                self.path.unlink()
        except OSError:
            pass  # the folder is gone or read-only now: the kernel still releases the lock below
        finally:
            os.close(self._descriptor)  # closing the last descriptor releases the flock
            self._descriptor = None

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()


def lock_run_dir(run_dir: Path) -> RunLock:
    """Creates `run_dir` if needed and takes its lock, without waiting.

    Raises:
      UserInputError: `run_dir` is a file or cannot be created; another process holds the lock (the
        message names it: pid, host, command, since when).
    """
    import fcntl

    run_dir = Path(run_dir).expanduser()
    if run_dir.exists() and not run_dir.is_dir():
        raise UserInputError(f"run directory {run_dir} is a file, not a folder: choose another path")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserInputError(f"cannot create the run directory {run_dir}: {error.strerror or error}") from None
    path = run_dir / LOCK_FILE
    while True:
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by children
        except OSError as error:
            raise UserInputError(f"cannot lock the run directory {run_dir}: {error.strerror or error}") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(descriptor)
            os.close(descriptor)
            raise UserInputError(in_use_message(run_dir, holder)) from None
        except OSError as error:
            os.close(descriptor)
            raise UserInputError(f"cannot lock the run directory {run_dir}: {error.strerror or error}") from None
        if _same_file(path, descriptor):
            break
        os.close(descriptor)  # its holder removed it as we opened it: lock the file there now
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, (json.dumps(_this_process(), ensure_ascii=False) + "\n").encode("utf-8"), 0)
    return RunLock(run_dir, descriptor)


def in_use_message(run_dir: Path, holder: dict | None) -> str:
    """The one line that refuses a second writer."""
    if holder is None:
        who = "another process"
    else:
        since = f", since {holder['started']}" if holder.get("started") else ""
        running = f": {holder['command']}" if holder.get("command") else ""
        who = f"process {holder.get('pid', '?')} on {holder.get('host', '?')}{since}{running}"
    return (f"run directory {run_dir} is being trained by {who}; wait for it to finish (or stop it and "
            f"continue with: {command('train', '--resume', '--run-dir', run_dir)}), or choose another --run-dir")


def _this_process() -> dict:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": " ".join(shlex.quote(word) for word in [Path(sys.argv[0]).name, *sys.argv[1:]]
                            ).replace("\n", " ")[:300],  # one line
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
    }


def _read_holder(descriptor: int) -> dict | None:
    """Who holds the lock, as it wrote in the file; None if it has not written it within a moment."""
    deadline = time.monotonic() + _HOLDER_WAIT_S
    while True:
        try:
            text = os.pread(descriptor, 4096, 0).decode("utf-8")
            if text.endswith("\n"):
                holder = json.loads(text)
                if isinstance(holder, dict):
                    return holder
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            return None
        time.sleep(0.02)


def _same_file(path: Path, descriptor: int) -> bool:
    """True if `path` still names the file open as `descriptor`."""
    try:
        named, opened = os.stat(path), os.fstat(descriptor)
    except OSError:
        return False
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)
