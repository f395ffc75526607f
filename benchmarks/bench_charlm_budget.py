"""The character language model in a CPU budget: the settings that get the most out of N minutes of
training on this machine, and what they reach.

Two budget runs (`PRESETS`), each one ordinary `train` with a time budget (`TrainConfig.time_budget`:
the number of epochs is chosen from the step time measured before training):

- `tiny_shakespeare`: 30 minutes on `../shared/data/tiny_shakespeare.txt` (a path corpus: exactly
  tfds's splits, 1,003,854 / 55,770 / 55,770 characters). Goal: validation ≤ 1.50 nats/char.
- `python_docs`: the main job's 5 minutes on the default corpus.

Both train with char-rnn's practice: the state carried across consecutive windows (truncated
backpropagation through time over the text in order, `CharLMConfig.carry_state`), a linear warm-up
then a cosine decay fitted to the budget, dropout after each recurrent layer and gradient-norm
clipping. Each prints the window loss (independent windows from the initial state: the engine's
validation loss) and the carried-state loss (the split read in order: char-rnn's figure) on the
validation and test splits, the minutes it took, the machine's load average while it ran (the
machine is shared: a loaded machine trains fewer steps in the same minutes), the command line that
gives the same run, and a sample.

Run: python benchmarks/bench_charlm_budget.py [tiny_shakespeare|python_docs|all] [--minutes M]
     [--run-dir DIR] [--data PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHAKESPEARE = ROOT.parent / "shared" / "data" / "tiny_shakespeare.txt"

# Task settings (`CharLMConfig`) and training settings (`TrainConfig`) of each budget run; `epochs` is
# the most the budget may choose (it picks fewer when they do not fit).
PRESETS = {
    "tiny_shakespeare": {
        "minutes": 30.0,
        "data": str(SHAKESPEARE),
        "task": dict(cell="keras-gru", units=512, layers=1, dropout=0.35, embedding_dim=64,
                     sequence_length=100, carry_state=True),
        "train": dict(epochs=100, steps_per_epoch=None, batch_size=64, learning_rate=6e-3, warmup_steps=100,
                      clipnorm=1.0, patience=100, seed=0),
    },
    "python_docs": {
        "minutes": 5.0,
        "data": "python_docs",
        "task": dict(cell="keras-gru", units=512, layers=1, dropout=0.1, embedding_dim=64,
                     sequence_length=100, carry_state=True),
        "train": dict(epochs=100, steps_per_epoch=None, batch_size=64, learning_rate=1e-2, warmup_steps=50,
                      clipnorm=1.0, patience=100, seed=0),
    },
}

FLAGS = {"sequence_length": "--seq-len", "carry_state": "--carry-state", "time_budget": "--time-budget"}
SAMPLE_PROMPT = {"tiny_shakespeare": "ROMEO:\n", "python_docs": "The "}


class LoadMonitor:
    """The 1-minute load average, read every 15 s while a run trains (the machine is shared)."""

    def __init__(self):
        self.readings = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self._stop.wait(15):
            self.readings.append(os.getloadavg()[0])

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()

    def summary(self) -> str:
        mean = sum(self.readings) / len(self.readings)
        return f"load average {mean:.1f} on {os.cpu_count()} cores (from {min(self.readings):.1f} to {max(self.readings):.1f})"


def command_line(preset: dict, minutes: float, run_dir: Path, pass_steps: int) -> str:
    """The `python cli.py train` command of the same run: every setting spelled out, since the CLI's
    defaults are another run's; an epoch of one pass over the text (`steps_per_epoch` None, which
    the CLI cannot say) as its `pass_steps` steps."""
    words = ["python cli.py train", f"--data {preset['data']}"]
    settings = {**preset["task"], **preset["train"], "time_budget": minutes}
    if settings["steps_per_epoch"] is None:
        settings["steps_per_epoch"] = pass_steps
    for name, value in settings.items():
        flag = FLAGS.get(name, "--" + name.replace("_", "-"))
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + flag[2:])
        else:
            words.append(f"{flag} {value:g}" if isinstance(value, float) else f"{flag} {value}")
    words.append(f"--run-dir {run_dir}")
    return " ".join(words)


def run(name: str, minutes: float, run_dir: Path, data: str | None) -> dict:
    from kerasrnn.engine.run import train
    from kerasrnn.engine.train_config import TrainConfig
    from kerasrnn.tasks.charlm.data import StreamLayout
    from kerasrnn.tasks.charlm.task import CharLMConfig, CharLMTask

    preset = dict(PRESETS[name])
    if data:
        preset["data"] = data
    task = CharLMTask()
    config = CharLMConfig(data=preset["data"], **preset["task"])
    train_config = TrainConfig(time_budget=minutes, **preset["train"])
    pass_steps = StreamLayout(task.load_data(config).size("train"), config.sequence_length,
                              train_config.batch_size).windows
    print(f"== {name}: {minutes:g} minutes of training ==\n{command_line(preset, minutes, run_dir, pass_steps)}",
          flush=True)
    started = time.monotonic()
    with LoadMonitor() as load:
        result = train(task, config, train_config, run_dir, verbose=2)
    trained = time.monotonic() - started
    test = task.evaluate(run_dir, split="test")
    sample = task.generate(run_dir, SAMPLE_PROMPT[name], 500, temperature=0.8, seed=1)
    validation = result.validation
    figures = {
        "preset": name, "minutes_budget": minutes, "minutes_total": trained / 60,
        "epochs": result.epochs, "steps": result.steps, "load": load.summary(),
        "validation_window": validation.loss, "validation_carried": validation.carried_loss,
        "test_window": test.loss, "test_carried": test.carried_loss,
        "timing": json.loads((run_dir / "timing.json").read_text()),
    }
    print(f"{result.summary()}\n{test.summary()}\n"
          f"{name}: {result.epochs} epochs, {result.steps:,} steps in {trained / 60:.1f} min (training, then the "
          f"final evaluation), {load.summary()}\n"
          f"validation {validation.loss:.4f} nats/char in windows, {validation.carried_loss:.4f} carried; "
          f"test {test.loss:.4f} in windows, {test.carried_loss:.4f} carried\n"
          f"Sample (500 characters after {SAMPLE_PROMPT[name]!r}, temperature 0.8, seed 1):\n"
          f"{SAMPLE_PROMPT[name]}{sample}\n", flush=True)
    return figures


def main() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(message)s")  # the budget's plan, the data lines
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("preset", nargs="?", default="all", choices=[*PRESETS, "all"])
    parser.add_argument("--minutes", type=float, default=None, help="another budget than the preset's")
    parser.add_argument("--run-dir", type=Path, default=Path("runs") / "bench-charlm-budget")
    parser.add_argument("--data", default=None, help="another corpus than the preset's")
    args = parser.parse_args()
    names = list(PRESETS) if args.preset == "all" else [args.preset]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    figures = [run(name, args.minutes or PRESETS[name]["minutes"], args.run_dir / f"{name}-{stamp}", args.data)
               for name in names]
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
