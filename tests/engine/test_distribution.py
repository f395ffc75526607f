"""`train --distribute`: mirrored replicas and a two-worker cluster on 127.0.0.1 train the run one
device trains (to float rounding), only the chief writes, a lost worker stops the other with one
line, and `--resume` on both finishes the run as if nothing happened.

Every run is a `python cli.py train` subprocess: a strategy is made once per process, and logical
CPU devices only before TensorFlow starts.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration  # mirrored replicas and two-worker clusters in subprocesses

ROOT = Path(__file__).resolve().parents[2]
# A tiny character LM: 3 epochs of 4 steps, clipping on (the default clipnorm 1 clips here), so
# that a clip of each replica's part of the gradient would show.
TRAIN = ["--task", "charlm", "--cell", "lstm", "--units", "16", "--dropout", "0", "--embedding-dim", "8",
         "--seq-len", "20", "--no-carry-state", "--batch-size", "16", "--epochs", "3", "--steps-per-epoch", "4",
         "--learning-rate", "0.01", "--warmup-steps", "0", "--device", "cpu"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "text.txt"
    rng = np.random.default_rng(0)
    words = ["the", "cell", "state", "gate", "forgets", "remembers", "a", "long", "sequence", "of"]
    path.write_text(" ".join(rng.choice(words, size=6000)) + "\n", encoding="utf-8")
    return path


def _environment(**extra) -> dict:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("KERASRNN_FAULT", "TF_CONFIG"))}
    environment.update(PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3", **extra)
    return environment


def _train(run_dir: Path, corpus: Path, *options: str, env: dict | None = None, timeout: float = 300):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "train", *TRAIN, "--data", str(corpus),
                           "--run-dir", str(run_dir), *options], capture_output=True, text=True,
                          env=env or _environment(), timeout=timeout)


def _final_state(run_dir: Path) -> list[np.ndarray]:
    """The weights and optimizer state after the last epoch (the run's backup)."""
    with np.load(run_dir / "backup" / "state.npz") as state:
        return [state[f"v{index}"] for index in range(int(state["count"]))]


def _largest_difference(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    assert [x.shape for x in a] == [y.shape for y in b]
    return max(float(np.max(np.abs(x.astype(np.float64) - y))) if x.size else 0.0 for x, y in zip(a, b))


@pytest.fixture(scope="module")
def single(corpus, tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("single") / "run"
    result = _train(run_dir, corpus)
    assert result.returncode == 0, result.stderr
    return run_dir


def test_mirrored_replicas_train_the_one_device_run(single, corpus, tmp_path):
    run_dir = tmp_path / "mirrored"
    result = _train(run_dir, corpus, "--distribute", "mirrored", "--replicas", "2")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert (metrics["distribute"], metrics["replicas"]) == ("mirrored", 2)
    difference = _largest_difference(_final_state(run_dir), _final_state(single))
    print(f"mirrored x2 against one device: largest difference {difference:.2e}")  # pytest -s shows it
    assert difference < 1e-5, difference
    # The loss must have moved, or equal weights would prove nothing.
    history = json.loads((run_dir / "history.json").read_text())
    assert history["loss"][-1] < history["loss"][0] - 0.2


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _start_cluster(run_dir: Path, corpus: Path, *options: str, faults: dict | None = None) -> list:
    ports = _free_ports(2)
    workers = []
    for index in range(2):
        config = {"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                  "task": {"type": "worker", "index": index}}
        extra = (faults or {}).get(index, {})
        arguments = ["--resume", "--run-dir", str(run_dir)] if "--resume" in options else [
            *TRAIN, "--data", str(corpus), "--run-dir", str(run_dir)]
        workers.append(subprocess.Popen(
            [sys.executable, str(ROOT / "cli.py"), "train", *arguments, "--distribute", "multi-worker"],
            env=_environment(TF_CONFIG=json.dumps(config), **extra), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True))
    return workers


def _finish(workers, timeout: float = 300) -> list[tuple[int, str, str]]:
    results = []
    for worker in workers:
        try:
            out, err = worker.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for other in workers:
                other.kill()
            raise
        results.append((worker.returncode, out, err))
    return results


def _fingerprints(text: str) -> list[str]:
    import re

    return re.findall(r"final weights ([0-9a-f]{16})", text)


def test_two_workers_train_the_one_process_run_and_only_the_chief_writes(single, corpus, tmp_path,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)  # a worker that wrote into the working directory would show
    run_dir = tmp_path / "cluster"
    before = set(Path("/tmp").glob("kerasrnn-worker-*"))
    (chief_code, chief_out, chief_err), (worker_code, worker_out, worker_err) = _finish(
        _start_cluster(run_dir, corpus))
    assert chief_code == 0, chief_err
    assert worker_code == 0, worker_err
    # Both workers end with the same weights, bit for bit, equal to one process's to 1e-5.
    chief_prints, worker_prints = _fingerprints(chief_out), _fingerprints(worker_out)
    assert len(chief_prints) == 1 and chief_prints == worker_prints, (chief_out, worker_out)
    difference = _largest_difference(_final_state(run_dir), _final_state(single))
    print(f"two workers against one process: largest difference {difference:.2e}")
    assert difference < 1e-5, difference
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert (metrics["distribute"], metrics["replicas"]) == ("multi-worker", 2)
    assert "Worker 1 trained 3 epochs" in worker_out and str(run_dir) in worker_out
    # Only the chief's run directory exists; the other worker's temporary folder is gone.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cluster"]
    assert set(Path("/tmp").glob("kerasrnn-worker-*")) <= before


def test_a_lost_worker_stops_the_other_with_one_line_and_both_resume(single, corpus, tmp_path):
    run_dir = tmp_path / "cluster"
    # Worker 1 dies (SIGKILL) before step 6, in epoch 2; epoch 1 is in the chief's backup.
    workers = _start_cluster(run_dir, corpus, faults={1: {"KERASRNN_FAULT": "step:6"}})
    killed_at = None
    while killed_at is None:
        if workers[1].poll() is not None:
            killed_at = time.monotonic()
        elif workers[0].poll() is not None:
            pytest.fail(f"the chief ended first: {workers[0].communicate()}")
        time.sleep(0.2)
    (chief_code, _, chief_err), (worker_code, _, worker_err) = _finish(workers, timeout=90)
    waited = time.monotonic() - killed_at
    assert worker_code == -9, worker_err
    assert chief_code == 1
    lines = [line for line in chief_err.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and "lost the other workers" in lines[0] and "--resume" in lines[0], chief_err
    assert "Traceback" not in chief_err
    print(f"the chief stopped {waited:.1f} s after worker 1 was killed")
    assert waited < 60, waited
    assert (run_dir / "backup" / "state.npz").is_file()
    (chief_code, chief_out, chief_err), (worker_code, worker_out, worker_err) = _finish(
        _start_cluster(run_dir, corpus, "--resume"))
    assert chief_code == 0, chief_err
    assert worker_code == 0, worker_err
    assert _fingerprints(chief_out) == _fingerprints(worker_out)
    difference = _largest_difference(_final_state(run_dir), _final_state(single))
    print(f"killed, resumed cluster against one process: largest difference {difference:.2e}")
    assert difference < 1e-5, difference


@pytest.mark.parametrize("arguments, tf_config, fragment", [
    (["--replicas", "2"], None, "--replicas applies to --distribute mirrored only"),
    (["--distribute", "multi-worker", "--replicas", "2"], None, "--replicas applies to --distribute mirrored"),
    (["--distribute", "multi-worker"], None, "needs the cluster in the TF_CONFIG environment variable"),
    (["--distribute", "multi-worker"], "{not json", "TF_CONFIG is not valid JSON"),
    (["--distribute", "multi-worker"], '{"cluster": {"worker": ["a:1"]}}', 'needs a "cluster" and a "task"'),
    (["--distribute", "multi-worker"], '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}',
     "task 'worker' 3 is not in its cluster (worker: 1)"),
])
def test_bad_distribution_options_are_one_line_before_anything_is_made(tmp_path, monkeypatch, corpus, arguments,
                                                                        tf_config, fragment):
    from tests.cli_helpers import assert_one_line_error, run

    monkeypatch.delenv("TF_CONFIG", raising=False)
    if tf_config is not None:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    result = run("train", "--data", corpus, "--run-dir", tmp_path / "run", *arguments)
    assert_one_line_error(result, fragment)
    assert not (tmp_path / "run").exists()



def test_carried_state_is_the_default_on_one_device_only(caplog):
    """The character model carries its state by default, which one device only can do: under a
    strategy the default turns into independent windows, and says so; a choice the user made stays
    (and is refused later, when the model is built under the strategy)."""
    from kerasrnn.engine.settings import resolve_configs
    from kerasrnn.tasks import get_task

    task = get_task("charlm")
    assert resolve_configs(task, {"units": 8})[0].carry_state is True
    with caplog.at_level(logging.INFO, logger="kerasrnn.engine.settings"):
        config, _ = resolve_configs(task, {"units": 8}, distributed=True)
    assert config.carry_state is False and config.units == 8
    assert "Training with carry state False under --distribute: its default works on one device only" in caplog.text
    assert resolve_configs(task, {"carry_state": True}, distributed=True)[0].carry_state is True
    assert resolve_configs(get_task("copy"), {}, distributed=True)[0] == get_task("copy").config_class()
