"""Characters per second of `generate` in an exported character LM, against sampling in Python.

    python benchmarks/bench_export.py                      # 512-unit lstm, 2,000 characters
    python benchmarks/bench_export.py --cell urnn --units 256 --length 1000
    python benchmarks/bench_export.py --num-samples 1,8,32  # and N samples drawn in one batch

Builds a run with untrained weights (speed does not depend on them) and the 100 printable ASCII
characters, exports it with `kerasrnn.engine.exporting.export_run`, loads it with `tf.saved_model.load`
and times, at batch 1 after the prompt "The ":

- `generate` of the SavedModel: the whole sampling loop in the graph (XLA, `CharStepper.draw`);
- `CharSampler.sample` on the Keras model in memory (the same loop, what `cli.py generate` runs);
- a Python loop calling the SavedModel's `step` signature once per character and drawing the next
  id eagerly (how a caller without `generate` would sample);
- for `--cell lstm`, what a PyTorch user writes: an eager loop of `nn.Embedding` → `nn.LSTMCell`
  (`--layers` of them) → `nn.Linear`, softmax and `torch.multinomial`, under `torch.no_grad()`.

With `--num-samples N,…`, also N samples after the same prompt drawn in one batch, for each N (what
`cli.py generate --num-samples N` runs): `CharSampler.sample(num_samples=N)` and the exported
`generate` given the prompt N times, in characters per second in all and per sample.

For `--cell lstm` it also prints the memory bound of a sampled character: each step reads the whole
recurrent kernel (units x 4 units), one row of the input projection and the readout (units x V).
The read bandwidth is measured here, as repeated float32 matrix-vector products over a working set
of 1, 2 and 4 MiB split between 1 and 2 threads (each thread its own part, so two threads are two
cores each reading from its own L2), and the bound is that bandwidth divided by the bytes a
character reads, per weight type (float32; bfloat16 and int8 with per-column scales, for
comparison), at the working set those bytes make up.

The goal for a 512-unit LSTM on a 2-core CPU is at least 20,000 characters per second for
`generate` at batch 1. Every number is the fastest of `--repeats` runs; the machine is noisy, run it
twice.
"""

import os
import string
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# One BLAS thread per Python thread: the bandwidth measurement chooses its threads itself.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import click  # noqa: E402

GOAL = 20_000  # characters per second of the exported generate, 512-unit LSTM, batch 1


def fastest(function, repeats: int) -> float:
    """The shortest of `repeats` timed calls of `function(repeat)`, in seconds."""
    best = float("inf")
    for repeat in range(repeats):
        started = time.perf_counter()
        function(repeat + 1)
        best = min(best, time.perf_counter() - started)
    return best


MIB = 2**20
BANDWIDTH_SETS = (1, 2, 4)  # working sets measured, in MiB
BANDWIDTH_THREADS = (1, 2)


def read_bandwidth(mebibytes: int, threads: int, repeats: int = 200) -> float:
    """Bytes per second read by `threads` threads, each repeating a float32 matrix-vector product
    over its own 1/threads of a `mebibytes` working set (the fastest of 5 timings of each thread)."""
    import threading

    import numpy as np

    columns = 2048
    rows = max(1, mebibytes * MIB // (4 * columns * threads))
    generator = np.random.default_rng(0)
    matrices = [generator.random((rows, columns), np.float32) for _ in range(threads)]
    vectors = [generator.random(rows, np.float32) for _ in range(threads)]
    seconds = [0.0] * threads
    barrier = threading.Barrier(threads)

    def read(index):
        matrix, vector = matrices[index], vectors[index]
        for _ in range(20):  # into the cache
            vector @ matrix
        best = float("inf")
        for _ in range(5):
            barrier.wait()  # both threads read at the same time
            started = time.perf_counter()
            for _ in range(repeats):
                vector @ matrix
            best = min(best, time.perf_counter() - started)
        seconds[index] = best

    workers = [threading.Thread(target=read, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return threads * matrices[0].nbytes * repeats / max(seconds)


def bytes_per_character(units: int, vocabulary: int, weight_bytes: float) -> dict[str, float]:
    """Weight bytes one sampled character reads in a 1-layer LSTM, by part: the recurrent kernel,
    the input projection's row of the drawn character, the readout (float32 biases and, for a
    narrower type than float32, the per-column scales included)."""
    gates = 4 * units
    scales = 4 * gates if weight_bytes < 4 else 0
    return {"recurrent kernel": units * gates * weight_bytes + scales,
            "input row": 4 * gates, "readout": units * vocabulary * 4 + 4 * vocabulary}


def memory_bound(units: int, vocabulary: int) -> list[str]:
    """Lines of the measured read bandwidths and the characters per second they allow, per weight type."""
    bandwidth = {(size, threads): read_bandwidth(size, threads)
                 for size in BANDWIDTH_SETS for threads in BANDWIDTH_THREADS}
    lines = ["  read bandwidth (GB/s), float32 matrix-vector products, working set split between the threads:"]
    lines += [f"    {size} MiB: " + ", ".join(f"{threads} thread{'s' * (threads > 1)} {bandwidth[size, threads] / 1e9:5.1f}"
                                         for threads in BANDWIDTH_THREADS) for size in BANDWIDTH_SETS]
    lines.append("  memory bound of generate (characters/second = bandwidth of the working set / bytes per character):")
    for name, weight_bytes in (("float32", 4), ("bfloat16", 2), ("int8", 1)):
        parts = bytes_per_character(units, vocabulary, weight_bytes)
        total = sum(parts.values())
        # The smallest measured working set that holds the weights (the largest if none does).
        size = next((size for size in BANDWIDTH_SETS if total <= size * MIB * 1.25), BANDWIDTH_SETS[-1])
        bounds = ", ".join(f"{threads} thread{'s' * (threads > 1)} {bandwidth[size, threads] / total:7,.0f}"
                           for threads in BANDWIDTH_THREADS)
        lines.append(f"    {name:9s} {total / MIB:5.2f} MiB/character (recurrent {parts['recurrent kernel'] / MIB:.2f}, "
                     f"input row {parts['input row'] / 1024:.0f} KiB, readout {parts['readout'] / 1024:.0f} KiB; "
                     f"{size} MiB set): {bounds}")
    return lines


def _torch_rate(units, layers, vocabulary, length, repeats):
    """Characters per second of an eager PyTorch sampling loop over `nn.LSTMCell`s, batch 1."""
    import torch

    # One thread: a batch-1 step is too small to share, and PyTorch's OpenMP threads spin against
    # TensorFlow's in this process (measured: 24 characters/second with both threads on a busy machine).
    torch.set_num_threads(1)
    torch.manual_seed(0)
    embedding = torch.nn.Embedding(vocabulary, 64)
    cells = [torch.nn.LSTMCell(64 if index == 0 else units, units) for index in range(layers)]
    readout = torch.nn.Linear(units, vocabulary)

    @torch.no_grad()
    def loop(seed):
        generator = torch.Generator().manual_seed(seed)
        states = [(torch.zeros(1, units), torch.zeros(1, units)) for _ in cells]
        ids = torch.tensor([1])
        for _ in range(length):
            x = embedding(ids)
            for index, cell in enumerate(cells):
                states[index] = cell(x, states[index])
                x = states[index][0]
            probabilities = torch.softmax(readout(x), dim=-1)
            ids = torch.multinomial(probabilities, 1, generator=generator)[:, 0]

    loop(0)
    return length / fastest(loop, repeats)


def sample_counts(context, parameter, value: str) -> list[int]:
    """`--num-samples 1,8,32` as [1, 8, 32]; empty: []."""
    try:
        counts = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"give numbers separated by commas, e.g. 1,8,32, not {value!r}") from None
    if any(count < 1 for count in counts):
        raise click.BadParameter(f"every number of samples must be positive, got {value!r}")
    return counts


@click.command()
@click.option("--cell", default="lstm", show_default=True, help="Cell name of the language model.")
@click.option("--units", type=click.IntRange(min=1), default=512, show_default=True,
              help="Units per recurrent layer.")
@click.option("--layers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Stacked recurrent layers.")
@click.option("--length", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Characters generated per measurement.")
@click.option("--python-length", type=click.IntRange(min=1), default=500, show_default=True,
              help="Characters per measurement of the Python loop (it is slow).")
@click.option("--repeats", type=click.IntRange(min=1), default=3, show_default=True,
              help="Measurements of each sampler; the fastest is reported.")
@click.option("--num-samples", "counts", default="", callback=sample_counts, metavar="N,N,...",
              help="Also time N samples drawn in one batch after the same prompt, for each N.")
def main(cell, units, layers, length, python_length, repeats, counts):
    """Prints characters per second of the exported generate, CharSampler and a Python loop."""
    import keras
    import tensorflow as tf

    from kerasrnn.engine import run_dir as run_files
    from kerasrnn.engine.exporting import export_run
    from kerasrnn.engine.train_config import TrainConfig
    from kerasrnn.tasks.charlm import data as text_data
    from kerasrnn.tasks import get_task
    from kerasrnn.tasks.charlm.task import CharLMConfig
    from kerasrnn.tasks.charlm.model import build_char_lm
    from kerasrnn.tasks.charlm.sampling import CharSampler

    characters = sorted(set(string.printable))
    config = CharLMConfig(cell=cell, units=units, layers=layers)
    keras.utils.set_random_seed(0)
    # The training default carries the state, so the saved model wraps each layer in a CarriedState
    # of the training batch's rows, as a trained run's does; sampling reads the layer inside.
    model = build_char_lm(config, len(characters) + 2, seed=0, rows=TrainConfig().batch_size)
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / "run"
        run_dir.mkdir()
        model.save(run_dir / run_files.MODEL_FILE)
        run_files.save_config(run_dir, "charlm", config, TrainConfig())
        text_data.save_vocabulary(text_data.make_char_lookup(characters), run_dir / run_files.VOCABULARY_FILE)
        started = time.perf_counter()
        export_run(get_task("charlm"), run_dir, Path(folder) / "export")
        export_seconds = time.perf_counter() - started
        exported = tf.saved_model.load(str(Path(folder) / "export"))

    generate, step = exported.signatures["generate"], exported.signatures["step"]
    prompt = tf.constant(["The "])

    def exported_generate(seed, count=length):
        return generate(prompt=prompt, length=tf.constant(count), temperature=tf.constant(1.0),
                        seed=tf.constant(seed))["text"]

    started = time.perf_counter()
    exported_generate(0)  # compiles the XLA loop
    first = time.perf_counter() - started
    exported_rate = length / fastest(exported_generate, repeats)

    sampler = CharSampler(model, config, characters)
    sampler.sample("The ", length, seed=0)  # traces and compiles
    sampler_rate = length / fastest(lambda seed: sampler.sample("The ", length, seed=seed), repeats)

    special = tf.range(len(characters) + 2) < len(text_data.SPECIAL_TOKENS)

    def python_loop(seed):
        state = exported.signatures["initial_state"](batch_size=tf.constant(1))["state"]
        ids = tf.constant([[text_data.BOS_ID, *text_data.encode(sampler.lookup, "The ").numpy()]], tf.int32)
        for position in range(python_length):
            outputs = step(ids=ids, state=state)
            logits, state = outputs["logits"][:, -1], outputs["state"]
            logits = tf.where(special[None, :], -float("inf"), logits)
            ids = tf.cast(tf.random.stateless_categorical(logits, 1, seed=[seed, position]), tf.int32)

    python_loop(0)
    python_rate = python_length / fastest(python_loop, repeats)

    torch_rate = _torch_rate(units, layers, len(characters) + 2, python_length, repeats) if cell == "lstm" else None

    name = f"{cell} {layers}x{units}"
    click.echo(f"{name}: export took {export_seconds:.1f} s; first generate call (XLA compile) {first:.1f} s")
    click.echo(f"  SavedModel generate    {exported_rate:8,.0f} characters/second ({length:,} characters)")
    click.echo(f"  CharSampler.sample     {sampler_rate:8,.0f} characters/second "
               f"(generate: {exported_rate / sampler_rate:.2f}x)")
    click.echo(f"  Python loop over step  {python_rate:8,.0f} characters/second "
               f"(generate: {exported_rate / python_rate:.1f}x; {python_length:,} characters)")
    if torch_rate:
        click.echo(f"  PyTorch eager LSTMCell {torch_rate:8,.0f} characters/second "
                   f"(generate: {exported_rate / torch_rate:.1f}x; {python_length:,} characters)")
    if cell == "lstm" and layers == 1:
        for line in memory_bound(units, len(characters) + 2):
            click.echo(line)
    if (cell, units, layers) == ("lstm", 512, 1):
        verdict = "met" if exported_rate >= GOAL else "NOT met"
        click.echo(f"  goal of {GOAL:,} characters/second for generate: {verdict}")
    if counts:
        click.echo(f"  N samples of {length:,} characters in one batch, characters/second in all and per sample:")
        click.echo(f"  {'N':>6}  {'generate: all':>14} {'per sample':>11}  {'sample: all':>12} {'per sample':>11}")
    for count in counts:
        prompts = tf.constant(["The "] * count)

        def exported_batch(seed):
            return generate(prompt=prompts, length=tf.constant(length), temperature=tf.constant(1.0),
                            seed=tf.constant(seed))["text"]

        def sampler_batch(seed):
            return sampler.sample("The ", length, seed=seed, num_samples=count)

        exported_batch(0), sampler_batch(0)  # XLA compiles the loop for this batch size
        rates = [count * length / fastest(function, repeats) for function in (exported_batch, sampler_batch)]
        click.echo(f"  {count:>6,}  {rates[0]:>14,.0f} {rates[0] / count:>11,.0f}  "
                   f"{rates[1]:>12,.0f} {rates[1] / count:>11,.0f}")


if __name__ == "__main__":
    main()
