"""Candidates for the default of `python cli.py train` (the character model on `python_docs`): each
one ordinary `train` of a fixed number of steps, and what it reaches.

The goal of the default: at most 4 minutes on a quiet 2-core CPU, validation ≤ 1.35 nats/char over
independent windows and ≤ 1.25 with the state carried, and samples of `generate`'s defaults (empty
prompt, seeds 1–5, 300 characters) whose words are at least 85 % words of the training text.

Per candidate it prints: the settings, steps, wall time and ms per step, the process's CPU time
(user + sys, `resource.getrusage`) and the machine's load average while it trained (the machine is
shared: on a quiet 2-core machine the wall time is about CPU time / 1.7), the validation loss over
windows and carried (the run's own final evaluation, as in `metrics.json`), and the corpus-word
share of the samples at each temperature asked.

A word is a maximal run of ASCII letters (`[A-Za-z]+`), compared case-sensitively; the share is the
word occurrences of the five samples (pooled) that occur anywhere in the training split. A word cut
off by the end of a sample counts as it stands.

With `--samples-only RUN…` it only samples existing run directories (no training), e.g. at several
temperatures: sampling is cheap.

Run: python benchmarks/bench_charlm_default.py [CANDIDATE…] [--set FIELD=VALUE …] [--run-root DIR]
         [--temperatures 0.8] [--top-k K]
     python benchmarks/bench_charlm_default.py --samples-only RUN… --temperatures 0.5,0.6,0.7,0.8
     python benchmarks/bench_charlm_default.py --list
Results are also appended, one JSON line per run, to RUN_ROOT/results.jsonl.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_charlm_budget import LoadMonitor  # noqa: E402

WORD = re.compile(r"[A-Za-z]+")
SEEDS = (1, 2, 3, 4, 5)
SAMPLE_LENGTH = 300
# CPU seconds per wall second of training on the quiet 2-core machine (measured 1.67-1.79 for the GRU
# steps of 512 units, 2026-12-03): the quiet wall time of a run is about its CPU time / 1.7.
QUIET_CPU_PER_WALL = 1.7

# Task settings (`CharLMConfig`) and training settings (`TrainConfig`) of each candidate; steps are
# epochs × steps_per_epoch (steps_per_epoch None with carry_state: one pass of the rows over the text).
def code_default() -> dict:
    """The settings `python cli.py train` uses today, read from the code (`CharLMConfig`'s defaults and
    `CharLMTask.default_train_config`), so that this candidate cannot drift from the real default."""
    from kerasrnn.tasks.charlm.task import CharLMConfig, CharLMTask

    config = CharLMConfig()
    train = CharLMTask().default_train_config(config)
    return {"task": {name: getattr(config, name) for name in ("cell", "units", "dropout", "sequence_length",
                                                                "carry_state")},
            "train": {name: getattr(train, name) for name in ("epochs", "steps_per_epoch", "batch_size",
                                                                "learning_rate", "warmup_steps", "clipnorm")}}


CANDIDATES = {
    # The default of `python cli.py train`; chosen 2026-12-03 as run J of docs/charlm.md (the fused
    # TextbookGRU): 1.2596 / 1.2075 nats/char (windows / carried), 89.9 % corpus words at temperature
    # 0.8, 216 s of training on the quiet machine.
    "default": code_default(),
    # The default until 2026-12-03: 1.6423 / 1.6065 in 65 s, 62-68 % corpus words.
    "before": {
        "task": dict(cell="lstm", units=128, dropout=0.0, sequence_length=100, carry_state=False),
        "train": dict(epochs=6, steps_per_epoch=50, batch_size=256, learning_rate=8e-3, warmup_steps=0,
                      clipnorm=1.0),
    },
    # The 4.6-minute budget run of bench_charlm_budget.py's python_docs preset (715 steps), as fixed steps.
    "budget715": {
        "task": dict(cell="keras-gru", units=512, dropout=0.1, sequence_length=100, carry_state=True),
        "train": dict(epochs=11, steps_per_epoch=65, batch_size=64, learning_rate=1e-2, warmup_steps=50,
                      clipnorm=1.0, patience=100),
    },
}


def parse_value(text: str):
    """A `--set` value: None, a bool, an int, a float, or else the string."""
    lowered = text.lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def settings_of(name: str, overrides: list[str]) -> tuple[dict, dict]:
    """The candidate's task and training settings, with `--set FIELD=VALUE` applied to whichever
    config has the field."""
    from kerasrnn.engine.train_config import TrainConfig
    from kerasrnn.tasks.charlm.task import CharLMConfig

    candidate = CANDIDATES.get(name, {"task": {}, "train": {}})
    task, train = dict(candidate["task"]), dict(candidate["train"])
    task_fields = {field.name for field in dataclasses.fields(CharLMConfig)}
    train_fields = {field.name for field in dataclasses.fields(TrainConfig)}
    for item in overrides:
        field, _, text = item.partition("=")
        if field in task_fields:
            task[field] = parse_value(text)
        elif field in train_fields:
            train[field] = parse_value(text)
        else:
            raise SystemExit(f"--set {item}: no field {field!r} in CharLMConfig or TrainConfig")
    return task, train


def training_words(data: str = "python_docs", data_dir: str | None = None) -> set[str]:
    from kerasrnn.data.corpus import load_char_corpus

    return set(WORD.findall(load_char_corpus(data, data_dir).train))


def word_share(samples: list[str], vocabulary: set[str]) -> tuple[float, list[float]]:
    """The pooled share of word occurrences of `samples` found in `vocabulary`, and each sample's."""
    found = total = 0
    each = []
    for sample in samples:
        words = WORD.findall(sample)
        known = sum(word in vocabulary for word in words)
        found, total = found + known, total + len(words)
        each.append(known / len(words) if words else float("nan"))
    return (found / total if total else float("nan")), each


def sample_shares(run_dir: Path, temperatures: list[float], top_k: int | None, vocabulary: set[str]) -> dict:
    """For each temperature: the word shares of the samples of `generate` (empty prompt, seeds 1–5,
    300 characters; the same texts as `python cli.py generate RUN --seed S`), and the first sample."""
    from kerasrnn.tasks.charlm import data
    from kerasrnn.tasks.charlm.sampling import CharSampler
    from kerasrnn.tasks.charlm.task import CharLMTask

    task = CharLMTask()
    config, _ = task.load_configs(run_dir)
    sampler = CharSampler(task.load_model(run_dir), config, data.load_vocabulary(run_dir / "vocabulary.json"))
    shares = {}
    for temperature in temperatures:
        samples = [sampler.sample("", SAMPLE_LENGTH, temperature=temperature, top_k=top_k, seed=seed)
                   for seed in SEEDS]
        pooled, each = word_share(samples, vocabulary)
        shares[temperature] = {"share": pooled, "each": each, "sample_seed1": samples[0]}
    return shares


def format_shares(shares: dict, top_k: int | None) -> str:
    k = f", top-k {top_k}" if top_k else ""
    return "; ".join(f"T {t:g}{k}: {s['share']:.1%} ({', '.join(f'{x:.0%}' for x in s['each'])})"
                     for t, s in shares.items())


def describe(task: dict, train: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in {**task, **train}.items())


def run_candidate(name: str, overrides: list[str], run_root: Path, temperatures, top_k, vocabulary) -> dict:
    from kerasrnn.engine.run import train
    from kerasrnn.engine.train_config import TrainConfig
    from kerasrnn.tasks.charlm.task import CharLMConfig, CharLMTask

    task_settings, train_settings = settings_of(name, overrides)
    task = CharLMTask()
    config = CharLMConfig(**task_settings)
    train_config = TrainConfig(**train_settings)
    run_dir = run_root / f"{name}-{time.strftime('%m%d-%H%M%S')}"
    print(f"== {name}: {describe(task_settings, train_settings)}\n   run dir {run_dir}", flush=True)
    before, started = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    with LoadMonitor() as load:
        result = train(task, config, train_config, run_dir, verbose=0)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    median_step = json.loads((run_dir / "timing.json").read_text())["seconds_per_step"]
    shares = sample_shares(run_dir, temperatures, top_k, vocabulary)
    figures = {
        "name": name, "run_dir": str(run_dir), "task": task_settings, "train": train_settings,
        "steps": result.steps, "epochs": result.epochs, "best_epoch": result.best_epoch,
        "wall_s": wall, "cpu_s": cpu, "quiet_wall_estimate_s": cpu / QUIET_CPU_PER_WALL,
        "ms_per_step": 1000 * wall / result.steps, "median_ms_per_step": 1000 * median_step,
        "load": load.summary(), "load_mean": sum(load.readings) / len(load.readings),
        "validation_window": result.validation.loss, "validation_carried": result.validation.carried_loss,
        "top_k": top_k, "shares": {str(t): s for t, s in shares.items()},
    }
    goal = ("MEETS" if result.validation.loss <= 1.35 and result.validation.carried_loss <= 1.25
            else "misses")
    print(f"   {result.steps} steps ({result.epochs} epochs, best {result.best_epoch}), wall {wall:.0f} s "
          f"({figures['ms_per_step']:.0f} ms/step, median {figures['median_ms_per_step']:.0f}), CPU {cpu:.0f} s "
          f"→ quiet wall ≈ {figures['quiet_wall_estimate_s']:.0f} s; {load.summary()}\n"
          f"   validation {result.validation.loss:.4f} windows, {result.validation.carried_loss:.4f} carried "
          f"({goal} ≤ 1.35 / ≤ 1.25)\n   corpus words: {format_shares(shares, top_k)}\n"
          f"   sample (seed 1, T {temperatures[-1]:g}): {shares[temperatures[-1]]['sample_seed1']!r}",
          flush=True)
    return figures


def append_result(run_root: Path, figures: dict) -> None:
    run_root.mkdir(parents=True, exist_ok=True)
    with open(run_root / "results.jsonl", "a", encoding="utf-8") as file:
        file.write(json.dumps(figures) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("candidates", nargs="*", help=f"names from {', '.join(CANDIDATES)}, or new names "
                                                      "(then settings come from --set and the defaults)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                        help="a CharLMConfig or TrainConfig field for every candidate given (repeatable)")
    parser.add_argument("--run-root", type=Path, default=Path("/tmp/charlm-default"))
    parser.add_argument("--temperatures", default="0.8", help="comma-separated sampling temperatures")
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--samples-only", nargs="+", type=Path, default=None, metavar="RUN",
                        help="only sample these run directories (no training)")
    parser.add_argument("--list", action="store_true", help="print the candidates and stop")
    args = parser.parse_args()
    if args.list:
        for name, candidate in CANDIDATES.items():
            print(f"{name}: {describe(candidate['task'], candidate['train'])}")
        return
    temperatures = [float(t) for t in args.temperatures.split(",")]
    started = time.monotonic()
    import tensorflow  # noqa: F401 - timed: the CLI pays it too

    print(f"TensorFlow imported in {time.monotonic() - started:.1f} s; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    vocabulary = training_words()
    if args.samples_only:
        for run_dir in args.samples_only:
            shares = sample_shares(run_dir, temperatures, args.top_k, vocabulary)
            print(f"{run_dir}: {format_shares(shares, args.top_k)}")
            for t, s in shares.items():
                print(f"  T {t:g}, seed 1: {s['sample_seed1']!r}")
            append_result(args.run_root, {"samples_only": str(run_dir), "top_k": args.top_k,
                                          "shares": {str(t): s for t, s in shares.items()}})
        return
    for name in args.candidates or ["default"]:
        append_result(args.run_root, run_candidate(name, args.overrides, args.run_root, temperatures,
                                                   args.top_k, vocabulary))


if __name__ == "__main__":
    main()
