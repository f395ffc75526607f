"""One writer per run directory: a second `train` into a folder being trained is refused in one line
naming the first; a lock left by a killed run is no lock."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kerasrnn import fileio
from kerasrnn.engine import run_dir as run_files
from kerasrnn.engine.run_lock import LOCK_FILE, lock_run_dir
from kerasrnn.errors import UserInputError
from tests.cli_helpers import assert_one_line_error, run
from tests.engine.test_resume import text_file

pytestmark = pytest.mark.integration  # trains in competing subprocesses

REPO_ROOT = Path(__file__).resolve().parents[2]


def tiny_train(data: Path, run_dir: Path, *, epochs: int = 2, steps: int = 3) -> list[str]:
    return ["train", "--cell", "gru", "--units", "8", "--embedding-dim", "8", "--seq-len", "16",
            "--batch-size", "8", "--epochs", str(epochs), "--steps-per-epoch", str(steps), "--validation-steps",
            "2", "--no-decay", "--seed", "3", "--data", str(data), "--run-dir", str(run_dir)]


def child_env(**extra) -> dict:
    env = {name: value for name, value in os.environ.items() if not name.startswith("KERASRNN_FAULT")}
    return {**env, "PYTHONPATH": str(REPO_ROOT), **extra}


# --- the lock itself, in this process --------------------------------------------------------


def test_a_second_lock_is_refused_naming_the_holder_and_released_without_a_trace(tmp_path):
    run_dir = tmp_path / "new" / "run"
    with lock_run_dir(run_dir) as lock:
        assert lock.held and run_dir.is_dir()
        holder = json.loads((run_dir / LOCK_FILE).read_text())
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
        with pytest.raises(UserInputError) as refused:
            lock_run_dir(run_dir)  # another open file: flock refuses it even in the same process
        line = str(refused.value)
        assert "\n" not in line
        assert f"is being trained by process {os.getpid()} on {socket.gethostname()}, since " in line
        assert f"continue with: kerasrnn train --resume --run-dir {run_dir}), or choose another --run-dir" in line
        # The lock file makes no folder "not empty", and clearing a folder keeps it.
        assert run_files.prepare_run_dir(run_dir, resume=False) == run_dir
        run_files.clear_folder(run_dir)
        assert (run_dir / LOCK_FILE).is_file()
    assert not lock.held
    assert list(run_dir.iterdir()) == []  # released: the file went first
    lock_run_dir(run_dir).release()  # and it can be taken again


def test_a_lock_file_left_by_a_killed_process_is_no_lock(tmp_path):
    stale = {"pid": 999_999_999, "host": "elsewhere", "command": "cli.py train", "started": "2026-01-01T00:00:00"}
    (tmp_path / LOCK_FILE).write_text(json.dumps(stale) + "\n")
    with lock_run_dir(tmp_path):
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()


def test_a_lock_file_removed_by_its_holder_is_not_a_lock(tmp_path, monkeypatch):
    """A process that opened the lock file just before its holder removed it and released it must
    not hold a lock on a file that no longer has the name: it locks the one there now."""
    import fcntl

    from kerasrnn.engine import run_lock

    (tmp_path / LOCK_FILE).write_text("")
    opened = []
    real_flock = fcntl.flock

    def flock_after_the_holder_left(descriptor, operation):
        if not opened:  # the first file this process opened: its holder removes it now
            opened.append(descriptor)
            (tmp_path / LOCK_FILE).unlink()
        return real_flock(descriptor, operation)

    monkeypatch.setattr(fcntl, "flock", flock_after_the_holder_left)
    with run_lock.lock_run_dir(tmp_path) as lock:
        assert run_lock._same_file(lock.path, lock._descriptor)
    assert len(opened) == 1


def test_a_train_into_a_locked_run_dir_is_refused_in_one_line_and_writes_nothing(tmp_path):
    run_dir = tmp_path / "run"
    with lock_run_dir(run_dir):
        result = run(*tiny_train(text_file(tmp_path / "text.txt"), run_dir))
        assert_one_line_error(result, f"{run_dir} is being trained by process {os.getpid()} on ")
        assert [path.name for path in run_dir.iterdir()] == [LOCK_FILE]
    assert run_dir.is_dir() and not any(run_dir.iterdir())  # it was there before the refused run


# --- real processes ----------------------------------------------------------------------------


def test_two_trains_started_at_once_into_one_run_dir_one_trains_the_other_is_refused(tmp_path):
    data = text_file(tmp_path / "text.txt")
    run_dir = tmp_path / "run"
    arguments = [sys.executable, str(REPO_ROOT / "cli.py"), *tiny_train(data, run_dir)]
    # The one that takes the lock waits 5 s before its first step (as a slow machine would): the
    # other, however late its TensorFlow loads on a busy machine, arrives while it trains.
    env = child_env(**{fileio.FAULT_ENV: "step:1", fileio.MODE_ENV: "sleep:5"})
    processes = [subprocess.Popen(arguments, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = [process.communicate(timeout=300) for process in processes]
    codes = [process.returncode for process in processes]
    assert sorted(codes) == [0, 1], outputs
    winner, loser = (0, 1) if codes[0] == 0 else (1, 0)
    errors = [line for line in outputs[loser][1].splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "Traceback" not in outputs[loser][1], outputs[loser][1]
    assert f"{run_dir} is being trained by process {processes[winner].pid} on {socket.gethostname()}" in errors[0]
    assert "cli.py train" in errors[0]
    assert "Run saved in" in outputs[winner][0]
    assert json.loads((run_dir / "metrics.json").read_text())["epochs"] == 2
    assert not (run_dir / LOCK_FILE).exists()


def test_a_run_killed_with_sigkill_resumes_without_a_stale_lock(tmp_path):
    data = text_file(tmp_path / "text.txt")
    run_dir = tmp_path / "run"
    arguments = [sys.executable, str(REPO_ROOT / "cli.py"), *tiny_train(data, run_dir)]
    killed = subprocess.run(arguments, env=child_env(**{fileio.FAULT_ENV: "step:5"}), capture_output=True,
                            text=True, timeout=300)  # kill -9 in epoch 2, the lock held
    assert killed.returncode == -9, killed.stderr[-2000:]
    stale = (run_dir / LOCK_FILE).read_text()
    assert json.loads(stale)["pid"] != os.getpid()  # left behind by the killed run, naming it
    with lock_run_dir(run_dir):  # while someone does hold it, resuming is refused
        assert_one_line_error(run("train", "--resume", "--run-dir", run_dir),
                              f"is being trained by process {os.getpid()}")
    (run_dir / LOCK_FILE).write_text(stale)  # as the kill left it
    resumed = run("train", "--resume", "--run-dir", run_dir)
    assert resumed.exit_code == 0, resumed.output
    assert "Trained 2 epochs" in resumed.output
    assert not (run_dir / LOCK_FILE).exists()
