"""The default translate run for every direction of `--pair`, checked on every number 0–999.

    python benchmarks/bench_numbers_every_pair.py                        # all 30 directions (hours)
    python benchmarks/bench_numbers_every_pair.py --pairs en-fr,fr-en,digits-de
    python benchmarks/bench_numbers_every_pair.py --check-only --run-dir runs/pairs   # runs already trained

For each direction it trains what `python cli.py train --task translate --pair P` trains (the task's
defaults: the small character LSTM with attention, 6 epochs of 250 steps), then scores the test
split and translates every number 0–999 (`evaluate --numbers 0-999`: exact match per magnitude band,
what a user types first). It prints a line per direction as it finishes and a table at the end, with
the training minutes and the load average (the machine is shared; the number of steps is fixed, so
load changes the minutes, not the scores). The goal: at least 99.5 % of 0–999 right in
every direction. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GOAL = 0.995


def all_pairs() -> list[str]:
    from kerasrnn.data.spelled_numbers import FIELDS

    return [f"{source}-{target}" for source, target in itertools.permutations(FIELDS, 2)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default=None, help="directions separated by commas; default: all 30")
    parser.add_argument("--numbers", default="0-999", help="the range checked")
    parser.add_argument("--run-dir", type=Path, default=Path("runs") / "bench-numbers-every-pair",
                        help="a run per direction is kept in RUN_DIR/PAIR")
    parser.add_argument("--check-only", action="store_true", help="check the runs already in --run-dir")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    from kerasrnn.engine.run import train
    from kerasrnn.tasks.translate import TranslateConfig, TranslateTask

    task = TranslateTask()
    pairs = arguments.pairs.split(",") if arguments.pairs else all_pairs()
    rows = []
    for pair in pairs:
        run_dir = arguments.run_dir / pair
        minutes, load = float("nan"), os.getloadavg()[0]
        if not arguments.check_only:
            config = TranslateConfig(pair=pair)
            started = time.monotonic()
            train(task, config, task.default_train_config(config), run_dir, verbose=0)
            minutes, load = (time.monotonic() - started) / 60, (load + os.getloadavg()[0]) / 2
        test = task.evaluate(run_dir, split="test")
        check = task.evaluate(run_dir, numbers=arguments.numbers)
        bands = {band.band: band for band in check.bands}
        rows.append((pair, test.exact_match, check, bands, minutes, load))
        print(f"{pair}: test exact match {test.exact_match:.2%}; {arguments.numbers}: {check.right}/{check.total} "
              f"({check.right / check.total:.2%}; 0–99 {bands['0–99'].right}/{bands['0–99'].total}); "
              f"{minutes:.1f} min of training, load {load:.1f}", flush=True)
        for number, source, reference, translation in check.mistakes:
            print(f"    {number} {source!r} → {translation!r} (reference {reference!r})", flush=True)

    print(f"\n| --pair | test exact match | {arguments.numbers} right | 0–99 | 100–999 | training (load) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for pair, exact, check, bands, minutes, load in rows:
        share = check.right / check.total
        mark = "" if share >= GOAL else " ✗"
        print(f"| {pair} | {exact:.2%} | {check.right:,}/{check.total:,} ({share:.2%}){mark} | "
              f"{bands['0–99'].right}/{bands['0–99'].total} | {bands['100–999'].right}/{bands['100–999'].total} | "
              f"{minutes:.1f} min ({load:.1f}) |")
    missed = [pair for pair, _, check, _, _, _ in rows if check.right / check.total < GOAL]
    print(f"\n{len(rows) - len(missed)} of {len(rows)} directions at ≥ {GOAL:.1%} of {arguments.numbers}"
          + (f"; below: {', '.join(missed)}" if missed else ""))


if __name__ == "__main__":
    main()
