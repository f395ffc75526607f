"""Characters per second of the character-LM sampler, which carries the recurrent state.

    python benchmarks/bench_sampling.py                          # 512-unit lstm and keras-lstm
    python benchmarks/bench_sampling.py --cell gru --cell urnn --units 256

The weights are untrained (speed does not depend on them) and the vocabulary is the 100 printable
ASCII characters. The prompt runs once through the network, then the characters are drawn one step
at a time inside a loop compiled with XLA (`CharStepper.draw`). The goal for a 512-unit LSTM on a
2-core CPU is at least 1,000 characters per second; re-running the whole prefix each step would be
~20 per second. `benchmarks/bench_export.py` times the same loop in an exported SavedModel.
"""

import os
import string
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import click  # noqa: E402


@click.command()
@click.option("--cell", "cells", multiple=True, default=["lstm", "keras-lstm"], show_default=True,
              help="Cell name to measure (repeat the option for several).")
@click.option("--units", type=click.IntRange(min=1), default=512, show_default=True,
              help="Units per recurrent layer.")
@click.option("--layers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Stacked recurrent layers.")
@click.option("--length", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Characters generated per measurement.")
@click.option("--repeats", type=click.IntRange(min=1), default=3, show_default=True,
              help="Measurements per cell; the fastest is reported.")
def main(cells, units, layers, length, repeats):
    """Prints characters per second of `CharSampler.sample` for each cell."""
    import keras

    from kerasrnn.tasks.char_lm import CharLMConfig
    from kerasrnn.tasks.char_lm_model import build_char_lm
    from kerasrnn.tasks.char_lm_sampling import CharSampler

    characters = sorted(set(string.printable))
    for cell in cells:
        config = CharLMConfig(cell=cell, units=units, layers=layers)
        keras.utils.set_random_seed(0)
        sampler = CharSampler(build_char_lm(config, len(characters) + 2, seed=0), config, characters)
        started = time.perf_counter()
        sampler.sample("The ", length, seed=0)  # traces the graphs
        first = time.perf_counter() - started
        best = float("inf")
        for repeat in range(repeats):
            started = time.perf_counter()
            sampler.sample("The ", length, seed=repeat + 1)
            best = min(best, time.perf_counter() - started)
        click.echo(
            f"{cell:>15} {layers}x{units}: {length / best:8,.0f} characters/second "
            f"({length:,} characters in {best:.3f} s; first call, with tracing, {first:.1f} s)"
        )


if __name__ == "__main__":
    main()
