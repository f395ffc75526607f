"""The real-pairs translation budget run: train on a pairs file for a fixed number of
minutes of CPU, then score the test split greedy and with a beam, against one and against all
references, and translate thirty sentences that are not in the file.

    python benchmarks/bench_translate_budget.py                      # 30 minutes on eng_deu_pairs_50k
    python benchmarks/bench_translate_budget.py --minutes 5 --run-dir /tmp/short
    python benchmarks/bench_translate_budget.py --evaluate-only --run-dir /tmp/short   # scores again
    python benchmarks/bench_translate_budget.py --set label_smoothing=0.1 --set dropout=0.3

It uses the task's defaults for a pairs file (the real-pairs preset: subwords, a bidirectional
keras-lstm encoder of 256 units, dot attention, batches of 128 sorted by length in pools) with
`TrainConfig.time_budget` choosing the epochs; only the validation passes between epochs are cut
to `--validation-steps` batches (the final evaluations cover whole splits). The load average of the
machine is printed next to every figure: on a shared machine the same budget buys fewer steps.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "eng_deu_pairs_50k.txt"
# Ten everyday English sentences; the script checks (and says) that none is a source of the file.
EXAMPLES = [
    "I like green apples.",
    "Where is my little brother?",
    "We are walking to the station.",
    "The black dog is sleeping.",
    "My father can't swim.",
    "She is reading a new book.",
    "I am very hungry now.",
    "Do you have a red car?",
    "My sister is a doctor.",
    "It's raining in Berlin.",
]


# Twenty more, for the table of right, nearly right and wrong in docs/translation.md.
EVERYDAY = [
    "The children are playing in the garden.",
    "Can you help me carry this box?",
    "I forgot my umbrella at home.",
    "The train leaves at eight o'clock.",
    "We need more milk and bread.",
    "My brother lives in a small village.",
    "Please close the kitchen window.",
    "Why are you laughing at me?",
    "I have never seen such a big cat.",
    "The shop is closed on Sundays.",
    "Tom wants to learn French.",
    "It is too cold to go swimming.",
    "She bought a blue dress yesterday.",
    "Where did you put my keys?",
    "I am waiting for my friend.",
    "The coffee is too hot to drink.",
    "We will visit our grandmother tomorrow.",
    "He doesn't like vegetables.",
    "How much does this book cost?",
    "I would like a glass of water.",
]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="tab-separated pairs file")
    parser.add_argument("--minutes", type=float, default=30.0, help="training time budget")
    parser.add_argument("--beam", type=int, default=4, help="beam width of the second evaluation")
    parser.add_argument("--validation-steps", type=int, default=8, help="validation batches between epochs")
    parser.add_argument("--run-dir", type=Path, default=None, help="default: runs/translate-budget-<time>")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a translate setting other than the preset's, e.g. label_smoothing=0.1 (repeatable)")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="score and translate with the finished run in --run-dir, without training")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from kerasrnn.data.sentence_pairs import read_pairs_file
    from kerasrnn.engine.run import train
    from kerasrnn.tasks import get_task

    task = get_task("translate")
    config = task.config_class(data=str(arguments.data), **dict(setting(text) for text in arguments.set))
    train_config = dataclasses.replace(task.default_train_config(config), time_budget=arguments.minutes,
                                       validation_steps=arguments.validation_steps)
    run_dir = arguments.run_dir or Path("runs") / f"translate-budget-{time.strftime('%Y%m%d-%H%M%S')}"
    if not arguments.evaluate_only:
        print(f"Config: {config}\nTraining: {train_config}\nBefore training: {load()}", flush=True)
        started = time.monotonic()
        result = train(task, config, train_config, run_dir, verbose=2)
        print(result.summary())
        print(f"Trained in {(time.monotonic() - started) / 60:.1f} min; after training: {load()}", flush=True)
    elif arguments.run_dir is None:
        parser.error("--evaluate-only needs --run-dir")

    # The validation split chooses among settings; the test split is only reported.
    evaluation = task.evaluate(run_dir, split="validation")
    print(f"\n[{load()}]\n{evaluation.summary()}", flush=True)
    for beam in (1, arguments.beam):
        evaluation = task.evaluate(run_dir, split="test", beam_size=beam)
        print(f"\n[{load()}]\n{evaluation.summary()}", flush=True)

    in_file = {source for source, _ in read_pairs_file(arguments.data)}
    translator = task.load_translator(run_dir)
    for beam in (1, arguments.beam):
        print(f"\nSentences not in the file, {'greedy' if beam == 1 else f'beam {beam}'}:")
        for text, translation in zip(EXAMPLES + EVERYDAY, translator.translate(EXAMPLES + EVERYDAY, beam_size=beam)):
            note = "  (IN THE FILE)" if text in in_file else ""
            print(f"  {text} → {translation}{note}")


def setting(text: str) -> tuple[str, object]:
    """`NAME=VALUE` → (name, value), the value read as a number or a boolean where it is one."""
    name, _, value = text.partition("=")
    for kind in (int, float):
        try:
            return name, kind(value)
        except ValueError:
            pass
    return name, {"true": True, "false": False}.get(value.lower(), value)


if __name__ == "__main__":
    main()
