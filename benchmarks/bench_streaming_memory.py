"""Peak memory of training the character LM on a streamed corpus, against the corpus's size.

    python benchmarks/bench_streaming_memory.py                  # a 1 GiB corpus, 40 training steps
    python benchmarks/bench_streaming_memory.py --megabytes 40 --json
    python benchmarks/bench_streaming_memory.py --compare 1,4,16,64   # load times, both paths

Generates a corpus of `--megabytes` MiB of UTF-8 text (random words, a few non-ASCII characters, in
lines) in a temporary folder (never the repository; deleted at the end, the id cache with it), then in
one process:

1. streams a small corpus of the same kind (2 MiB, or 16 validation batches' worth) and trains a
   small LSTM language model on it for 2 steps and 16 validation batches, so that what TensorFlow and Keras keep for themselves (traced functions, thread pools) is counted
   in "before" and the same model (same vocabulary) goes on to the big corpus;
2. resets the peak (`/proc/self/clear_refs`) and reads the resident memory: **before**;
3. streams the big corpus the way `train` does with `streaming="always"` (`CharLMTask.load_data`,
   `prepare`, `datasets`): one pass for the vocabulary, one into the id file; then trains `--steps`
   steps, validates on `--validation-batches` batches, and computes the unigram baseline over the
   whole training and validation splits;
4. reads the peak resident memory (`VmHWM`): **peak**; the growth is peak − before.

The in-memory path needs about 50 bytes a character (TensorFlow splits the text into one string
per character), so peak − before is compared with the corpus size. With `--compare SIZES` it instead
times, for each size in MiB, loading and preparing a corpus both ways (a fresh process and an
empty cache each time) and the training windows per second, which is how the threshold of
`streaming="auto"` was chosen.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import click  # noqa: E402
import numpy as np  # noqa: E402

MIB = 2**20
WORDS = 4_000
# Validation batches of the warm-up: the allocator's pools for batches of a new size keep growing over
# the first ten or so (measured: +140 MiB over 10 batches of 512 × 1000, +8 MiB over the next 20).
WARM_UP_BATCHES = 16


def status_kib(field: str) -> int:
    """A `/proc/self/status` memory field (VmRSS, VmHWM) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> bool:
    """Resets VmHWM to the current resident memory (Linux ≥ 4.0); False where that is refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def write_corpus(path: Path, megabytes: float, seed: int = 0) -> int:
    """Writes about `megabytes` MiB of random words to `path` (blocks of about 1 MiB drawn from a pool
    of 8, so that a GiB takes seconds); returns its size in bytes."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz" * 3 + "éüß日"))
    words = ["".join(rng.choice(letters, n)) for n in rng.integers(1, 10, WORDS)]
    words = np.array(words + ["\n"] * (WORDS // 10))
    pool = [(" ".join(words[rng.integers(0, words.size, 200_000)]) + " ").encode("utf-8") for _ in range(8)]
    target, written = int(megabytes * MIB), 0
    with open(path, "wb") as handle:
        while written < target:
            block = pool[rng.integers(len(pool))]
            handle.write(block)
            written += len(block)
    return path.stat().st_size


def measure(corpus: Path, warm_up: Path, *, steps: int, batch_size: int, sequence_length: int, units: int,
            validation_batches: int) -> dict:
    """Trains on `corpus` streamed; returns the memory and time figures (see the module docstring)."""
    import keras

    from kerasrnn.engine.train_config import TrainConfig
    from kerasrnn.tasks.charlm.task import CharLMConfig, CharLMTask

    task = CharLMTask()
    train_config = TrainConfig(batch_size=batch_size, seed=0)

    def config_of(path: Path) -> CharLMConfig:
        return CharLMConfig(cell="keras-lstm", units=units, embedding_dim=16, sequence_length=sequence_length,
                            data=str(path), streaming="always")

    def run(path: Path, model, steps: int, validation_batches: int, figures: dict):
        """Streams `path` and trains `model` (built here if None) on it; times go into `figures`."""
        config = config_of(path)
        started = time.perf_counter()
        loaded = task.load_data(config)
        figures["scan_s"] = time.perf_counter() - started
        figures["peak_after_scan_mib"] = status_kib("VmHWM") / 1024
        with tempfile.TemporaryDirectory() as run_dir:
            started = time.perf_counter()
            prepared = task.prepare(config, train_config, loaded, Path(run_dir), resume=False)
            figures["encode_s"] = time.perf_counter() - started
        figures["peak_after_ids_mib"] = status_kib("VmHWM") / 1024
        if model is None or model.get_layer("logits").units != prepared.lookup.vocabulary_size():
            keras.utils.set_random_seed(0)
            model = task.build_model(config, prepared, seed=0)
            model.compile(keras.optimizers.Adam(1e-3), **task.compile_arguments(config, prepared))
        train, validation = task.datasets(config, train_config, prepared)
        started = time.perf_counter()
        history = model.fit(train, steps_per_epoch=steps, epochs=1, verbose=0,
                            validation_data=validation.take(validation_batches))
        figures.update(train_s=time.perf_counter() - started, train_loss=history.history["loss"][-1],
                       validation_loss=history.history["val_loss"][-1])
        figures["peak_after_training_mib"] = status_kib("VmHWM") / 1024
        started = time.perf_counter()
        validation_ids = prepared.ids("validation")
        figures["unigram_baseline"] = data.unigram_cross_entropy(
            prepared.ids("train"), data.covered_ids(validation_ids, sequence_length),
            prepared.lookup.vocabulary_size())
        figures["baseline_s"] = time.perf_counter() - started
        figures.update(characters=loaded.length, id_file_mib=prepared.id_file.path.stat().st_size / MIB)
        return model

    from kerasrnn.tasks.charlm import data

    # The same code on a small corpus first: what TensorFlow and Keras keep for themselves (the
    # traced functions, thread pools) is then in "before", and the same model trains on both.
    model = run(warm_up, None, 2, WARM_UP_BATCHES, {})
    figures: dict = {"before_mib": status_kib("VmRSS") / 1024}
    peak_reset = reset_peak()
    run(corpus, model, steps, validation_batches, figures)
    figures["steps"] = steps
    figures["peak_mib"] = status_kib("VmHWM") / 1024 if peak_reset else \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["peak_is_since_before"] = peak_reset
    figures["growth_mib"] = figures["peak_mib"] - figures["before_mib"]
    return figures


def compare_paths(path: Path, streaming: str, sequence_length: int, batch_size: int) -> dict:
    """Seconds to load and prepare `path` (`streaming` "always" or "never") with an empty cache, and
    training windows per second read from its datasets; run in a fresh process by `--compare`."""
    from kerasrnn.engine.train_config import TrainConfig
    from kerasrnn.tasks.charlm.task import CharLMConfig, CharLMTask

    import tensorflow  # noqa: F401  imported before the clock starts

    task = CharLMTask()
    config = CharLMConfig(data=str(path), streaming=streaming, sequence_length=sequence_length)
    train_config = TrainConfig(batch_size=batch_size)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as run_dir:
        prepared = task.prepare(config, train_config, task.load_data(config), Path(run_dir), resume=False)
        train, _ = task.datasets(config, train_config, prepared)
        next(iter(train))
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        for _ in train.take(200):
            pass
        batches_per_s = 200 / (time.perf_counter() - started)
        evaluation_baseline_s = _baseline_seconds(prepared, sequence_length)
    return {"load_s": load_s, "batches_per_s": batches_per_s, "baseline_s": evaluation_baseline_s,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _baseline_seconds(prepared, sequence_length: int) -> float:
    from kerasrnn.tasks.charlm import data

    started = time.perf_counter()
    ids = prepared.ids("validation")
    data.unigram_cross_entropy(prepared.ids("train"), data.covered_ids(ids, sequence_length),
                               prepared.lookup.vocabulary_size())
    return time.perf_counter() - started


@click.command()
@click.option("--megabytes", type=click.FloatRange(min=1), default=1024, show_default=True,
              help="Size of the generated corpus in MiB.")
@click.option("--steps", type=click.IntRange(min=1), default=40, show_default=True, help="Training steps.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="Windows per batch.")
@click.option("--seq-len", "sequence_length", type=click.IntRange(min=1), default=100, show_default=True,
              help="Characters per window.")
@click.option("--units", type=click.IntRange(min=1), default=32, show_default=True, help="LSTM units.")
@click.option("--validation-batches", type=click.IntRange(min=1), default=20, show_default=True,
              help="Validation batches after training (the whole split of a 1 GiB corpus takes long).")
@click.option("--compare", default=None, help="Comma-separated sizes in MiB: time both paths instead.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of sentences.")
@click.option("--child", type=click.Choice(["always", "never"]), default=None, hidden=True)
@click.option("--corpus", type=click.Path(path_type=Path), default=None, hidden=True)
def main(megabytes, steps, batch_size, sequence_length, units, validation_batches, compare, as_json, child,
         corpus):
    """Peak resident memory of streamed training against the corpus size (see the module docstring)."""
    if child:  # one measurement of --compare, in its own process
        click.echo(json.dumps(compare_paths(corpus, child, sequence_length, batch_size)))
        return
    with tempfile.TemporaryDirectory(prefix="kerasrnn-bench-") as folder:
        os.environ["KERASRNN_CACHE_DIR"] = str(Path(folder) / "cache")
        if compare:
            _compare(Path(folder), [float(size) for size in compare.split(",")], sequence_length, batch_size,
                     as_json)
            return
        path, warm_up = Path(folder) / "corpus.txt", Path(folder) / "warm-up.txt"
        started = time.perf_counter()
        size = write_corpus(path, megabytes)
        written_s = time.perf_counter() - started
        # Enough text for WARM_UP_BATCHES whole validation batches (5 % of it).
        warm_up_chars = WARM_UP_BATCHES / 0.05 * batch_size * sequence_length
        write_corpus(warm_up, max(2.0, 1.1 * warm_up_chars / MIB), seed=1)
        figures = measure(path, warm_up, steps=steps, batch_size=batch_size, sequence_length=sequence_length,
                          units=units, validation_batches=validation_batches)
        figures.update(corpus_mib=size / MIB, write_s=written_s)
        figures["growth_per_corpus"] = figures["growth_mib"] / figures["corpus_mib"]
    if as_json:
        click.echo(json.dumps(figures))
        return
    click.echo(
        f"corpus {figures['corpus_mib']:,.0f} MiB ({figures['characters']:,} characters; written in "
        f"{written_s:.0f} s), id file {figures['id_file_mib']:,.0f} MiB\n"
        f"scan {figures['scan_s']:.1f} s, ids {figures['encode_s']:.1f} s, {steps} steps "
        f"{figures['train_s']:.1f} s, unigram baseline over train+validation {figures['baseline_s']:.1f} s\n"
        f"resident memory before the data: {figures['before_mib']:,.0f} MiB; peak after: "
        f"{figures['peak_mib']:,.0f} MiB; growth {figures['growth_mib']:,.0f} MiB = "
        f"{figures['growth_per_corpus']:.3f} of the corpus size"
        + ("" if figures["peak_is_since_before"] else " (peak since the process started)")
    )


def _compare(folder: Path, sizes: list[float], sequence_length: int, batch_size: int, as_json: bool) -> None:
    rows = []
    for size in sizes:
        path = folder / f"corpus-{size:g}.txt"
        write_corpus(path, size)
        row = {"mib": size}
        for streaming in ("never", "always"):
            cache = folder / f"cache-{size:g}-{streaming}"
            result = subprocess.run(
                [sys.executable, __file__, "--child", streaming, "--corpus", str(path), "--seq-len",
                 str(sequence_length), "--batch-size", str(batch_size)],
                capture_output=True, text=True, check=True,
                env={**os.environ, "KERASRNN_CACHE_DIR": str(cache)})
            row[streaming] = json.loads(result.stdout.strip().splitlines()[-1])
        rows.append(row)
        if not as_json:
            memory, stream = row["never"], row["always"]
            click.echo(f"{size:7g} MiB  in memory: {_row(memory)}  |  streamed: {_row(stream)}")
    if as_json:
        click.echo(json.dumps(rows))


def _row(figures: dict) -> str:
    return (f"load {figures['load_s']:6.2f} s, {figures['batches_per_s']:5.0f} batches/s, baseline "
            f"{figures['baseline_s']:5.2f} s, peak {figures['peak_mib']:6.0f} MiB")


if __name__ == "__main__":
    main()
