"""The cost of `--distribute` on this machine: seconds per training step of the same character-LM run
on one device, on 2 mirrored replicas (logical CPUs) and on 2 worker processes on 127.0.0.1, as
ratios to one device, runs alternated.

On a CPU-only machine with few cores this is overhead, not speed-up: the replicas share the cores
and add a gradient all-reduce every step (over gRPC between workers). The figure says what the
distributed path costs where it cannot help; on several GPUs or machines each replica has its own.

Run: python benchmarks/bench_distribute.py [--rounds 2] [--units 256] [--batch-size 64] [--steps 30]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _command(run_dir: Path, args) -> list[str]:
    return [sys.executable, str(ROOT / "cli.py"), "train", "--task", "charlm", "--units", str(args.units),
            "--batch-size", str(args.batch_size), "--epochs", "1", "--steps-per-epoch", str(args.steps),
            "--device", "cpu", "--run-dir", str(run_dir)]


def _seconds_per_step(run_dir: Path) -> float:
    return json.loads((run_dir / "timing.json").read_text())["seconds_per_step"]


def _environment(**extra) -> dict:
    return {**{k: v for k, v in os.environ.items() if k != "TF_CONFIG"}, "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONPATH": str(ROOT), **extra}


def _run(kind: str, folder: Path, args) -> float:
    run_dir = folder / kind
    if kind == "one device":
        subprocess.run(_command(run_dir, args), check=True, capture_output=True, env=_environment())
    elif kind == "mirrored x2":
        subprocess.run(_command(run_dir, args) + ["--distribute", "mirrored", "--replicas", "2"], check=True,
                       capture_output=True, env=_environment())
    else:
        sockets = [socket.socket() for _ in range(2)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        ports = [sock.getsockname()[1] for sock in sockets]
        for sock in sockets:
            sock.close()
        workers = [subprocess.Popen(
            _command(run_dir, args) + ["--distribute", "multi-worker"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_environment(TF_CONFIG=json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                                                   "task": {"type": "worker", "index": index}})))
            for index in range(2)]
        if any(worker.wait() for worker in workers):
            raise SystemExit("a worker failed")
    return _seconds_per_step(run_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    kinds = ("one device", "mirrored x2", "2 workers")
    times = {kind: [] for kind in kinds}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.rounds):
            for kind in kinds:
                times[kind].append(_run(kind, Path(folder) / str(round_), args))
    base = statistics.median(times["one device"])
    print(f"charlm lstm {args.units} units, global batch {args.batch_size} x 100, {args.steps} steps, "
          f"{os.cpu_count()} cores, medians of {args.rounds} alternated rounds")
    print(f"{'run':<12} {'ms/step':>8} {'ratio':>6}")
    for kind in kinds:
        median = statistics.median(times[kind])
        print(f"{kind:<12} {1000 * median:8.1f} {median / base:6.2f}")


if __name__ == "__main__":
    main()
