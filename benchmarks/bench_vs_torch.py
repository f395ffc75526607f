"""Training-step time of our cells, Keras's built-in layers and PyTorch's, side by side on one CPU.

    python benchmarks/bench_vs_torch.py                                  # everything (about 30 min)
    python benchmarks/bench_vs_torch.py --units 256 --threads 1 --cells lstm --rounds 3
    python benchmarks/bench_vs_torch.py --units 256 --threads 1 --levers   # each speed-up left out

The workload is a character-LM training step: ids `(64, 100)` → embedding 64 → one recurrent layer
(`return_sequences`) → dense 65 → mean cross-entropy, Adam. Every variant:

| cell      | ours (kerasrnn)                     | Keras                                   | PyTorch                  |
| --------- | ----------------------------------- | --------------------------------------- | ------------------------ |
| `vanilla` | `VanillaRNN` (tanh)                 | `SimpleRNN`                             | `nn.RNN` (tanh)          |
| `gru`     | `TextbookGRU` (= `reset_after=False`) | `GRU(reset_after=True)` and `(False)`  | `nn.GRU` (reset after)   |
| `lstm`    | `TextbookLSTM`                      | `LSTM`                                  | `nn.LSTM`                |
| `urnn`    | `URNN`                              | —                                       | — (compared with ours lstm) |

PyTorch's GRU multiplies the reset gate after the recurrent matmul, as Keras's default
`GRU(reset_after=True)` does: those two compute the same equations. Ours is the lecture's GRU (reset
before the matmul, one more matmul on the critical path per step), equal to `GRU(reset_after=False)`.

Each framework runs in a process of its own (one per thread setting), started once; the parent
asks the processes in turn for `--steps` timed steps of one model, round after round (`--rounds`),
so that a noisy moment on a shared machine hits every variant alike, and only one process computes
at a time. The table prints medians (ms per step) and ratios to PyTorch; the load average
(`os.getloadavg()`) before and after is printed with it: trust a table only when it is below 0.5
per core, or compare ratios of one run only.

Roofline: each table also gives a variant's achieved rate, the matrix-product FLOPs of one training
step (`step_flops`: the input projection, the recurrent products, the dense readout, each forward
and its two backward products) divided by its time, and that rate as a fraction of the machine's
limit on the thread count: the best rate of a 2048 × 2048 × 2048 float32 product that any of the
worker processes reaches (each measures it in its own framework, after its models; the figures of
both are printed). Elementwise work (activations, gates, Adam) is not counted, so 100 % is out of
reach; the fraction says how much of a step the products could fill, at best.

uRNN: with `--cells urnn` (ours lstm is timed with it) the table gives `ours urnn / ours lstm` at the
same `units`, and, where the run also has twice the units (`--units 256 --units 512`), at equal state
size: a `URNN(n)` carries 2n reals, as wide as the h of an LSTM of 2n units.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import click  # noqa: E402

BATCH, TIMESTEPS, EMBEDDING, VOCABULARY = 64, 100, 64, 65
CELLS = ("vanilla", "gru", "lstm", "urnn")
# cell -> [(variant, framework)], the first is "ours", the last the PyTorch reference (if any).
VARIANTS = {
    "vanilla": [("ours vanilla", "tensorflow"), ("keras SimpleRNN", "tensorflow"), ("torch RNN", "torch")],
    "gru": [("ours gru", "tensorflow"), ("keras GRU", "tensorflow"), ("keras GRU(reset_after=False)", "tensorflow"),
            ("torch GRU", "torch")],
    "lstm": [("ours lstm", "tensorflow"), ("keras LSTM", "tensorflow"), ("torch LSTM", "torch")],
    "urnn": [("ours urnn", "tensorflow")],
}
# --levers: per cell, the variants that each leave one lever out (ratios printed to "ours <cell>").
LEVERS = {
    "vanilla": ["ours vanilla: RNN(cell)", "ours vanilla: projected, unfused"],
    "gru": ["ours gru: RNN(cell)", "ours gru: projected, unfused"],
    "lstm": ["ours lstm: RNN(cell)", "ours lstm: projected, unfused", "ours lstm: projected, unroll"],
    "urnn": ["ours urnn: matrix", "ours urnn: fft, unfused", "ours urnn: fft, fused"],
}


PEAK_SIZE = 2048  # the square float32 product that measures the machine's matrix-product rate
GATES = {"vanilla": 1, "gru": 3, "lstm": 4}


def step_flops(cell, units):
    """Matrix-product FLOPs of one training step (2 per multiply-add), forward and backward.

    Each product y = x A of the step costs three: the forward, ∂L/∂x = ∂L/∂y Aᵀ and ∂L/∂A = xᵀ ∂L/∂y,
    all three of the same size. The products: the input projection (embedding → gates · units, for
    all steps at once), the recurrent one (units → gates · units per step; the GRU's two, h U_zr and
    (r ⊙ h) U_h or U_h h then ⊙ r, add up to the same), and the dense readout. The uRNN's recurrence
    is FFTs and diagonals, not products: only its projection (embedding → 2 · units) and readout
    (2 · units → vocabulary) are counted.
    """
    rows = BATCH * TIMESTEPS
    if cell == "urnn":
        products = rows * EMBEDDING * 2 * units + rows * 2 * units * VOCABULARY
    else:
        gates = GATES[cell]
        products = rows * EMBEDDING * gates * units + rows * units * gates * units + rows * units * VOCABULARY
    return 3 * 2 * products


# ---------------------------------------------------------------- the worker processes


def _keras_layer(variant, units):
    import keras

    from kerasrnn import layers

    return {
        "ours vanilla": lambda: layers.VanillaRNN(units, return_sequences=True),
        "ours gru": lambda: layers.TextbookGRU(units, return_sequences=True),
        "ours lstm": lambda: layers.TextbookLSTM(units, return_sequences=True),
        "ours urnn": lambda: layers.URNN(units, return_sequences=True, seed=0),
        "keras SimpleRNN": lambda: keras.layers.SimpleRNN(units, return_sequences=True),
        "keras GRU": lambda: keras.layers.GRU(units, return_sequences=True),
        "keras GRU(reset_after=False)": lambda: keras.layers.GRU(units, reset_after=False, return_sequences=True),
        "keras LSTM": lambda: keras.layers.LSTM(units, return_sequences=True),
        # --levers: the same cells with one lever less each.
        "ours vanilla: RNN(cell)": lambda: keras.layers.RNN(layers.VanillaRNNCell(units), return_sequences=True),
        "ours vanilla: projected, unfused": lambda: layers.VanillaRNN(units, return_sequences=True, fused=False),
        "ours gru: RNN(cell)": lambda: keras.layers.RNN(layers.TextbookGRUCell(units), return_sequences=True),
        "ours gru: projected, unfused": lambda: layers.TextbookGRU(units, return_sequences=True, fused=False),
        "ours lstm: RNN(cell)": lambda: keras.layers.RNN(layers.TextbookLSTMCell(units), return_sequences=True),
        "ours lstm: projected, unfused": lambda: layers.TextbookLSTM(units, return_sequences=True, fused=False),
        "ours lstm: projected, unroll": lambda: layers.TextbookLSTM(units, return_sequences=True, unroll=True),
        "ours urnn: matrix": lambda: layers.URNN(units, implementation="matrix", return_sequences=True, seed=0),
        "ours urnn: fft, unfused": lambda: layers.URNN(units, implementation="fft", fused=False,
                                                       return_sequences=True, seed=0),
        "ours urnn: fft, fused": lambda: layers.URNN(units, implementation="fft", return_sequences=True, seed=0),
    }[variant]()


def _batch(seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    ids = rng.integers(0, VOCABULARY, size=(BATCH, TIMESTEPS + 1)).astype("int32")
    return ids[:, :-1], ids[:, 1:]


def _tensorflow_step(variant, units):
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    ids = keras.Input((TIMESTEPS,), dtype="int32")
    x = keras.layers.Embedding(VOCABULARY, EMBEDDING)(ids)
    logits = keras.layers.Dense(VOCABULARY)(_keras_layer(variant, units)(x))
    model = keras.Model(ids, logits)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = (tf.constant(a) for a in _batch())
    model.train_on_batch(x, y)  # trace
    model.train_on_batch(x, y)
    return lambda: model.train_on_batch(x, y)


def _torch_step(variant, units):
    import torch

    torch.manual_seed(0)
    recurrent = {"torch RNN": torch.nn.RNN, "torch GRU": torch.nn.GRU, "torch LSTM": torch.nn.LSTM}[variant]
    embedding = torch.nn.Embedding(VOCABULARY, EMBEDDING)
    rnn = recurrent(EMBEDDING, units, batch_first=True)
    dense = torch.nn.Linear(units, VOCABULARY)
    parameters = [*embedding.parameters(), *rnn.parameters(), *dense.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=1e-3)
    x, y = (torch.from_numpy(a).long() for a in _batch())

    def step():
        optimizer.zero_grad(set_to_none=True)
        outputs, _ = rnn(embedding(x))
        loss = torch.nn.functional.cross_entropy(dense(outputs).reshape(-1, VOCABULARY), y.reshape(-1))
        loss.backward()
        optimizer.step()

    step()
    step()
    return step


def _peak_gflops(framework, repeats=5):
    """The best rate (GFLOP/s) of `repeats` float32 products of two PEAK_SIZE-square matrices."""
    import numpy as np

    a, b = (np.random.default_rng(seed).normal(size=(PEAK_SIZE, PEAK_SIZE)).astype("float32") for seed in (0, 1))
    if framework == "torch":
        import torch

        a, b = torch.from_numpy(a), torch.from_numpy(b)
        product = lambda: torch.matmul(a, b).sum().item()  # noqa: E731
    else:
        import tensorflow as tf

        a, b = tf.constant(a), tf.constant(b)
        product = lambda: tf.reduce_sum(tf.matmul(a, b)).numpy()  # noqa: E731
    product()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        product()
        times.append(time.perf_counter() - started)
    return 2 * PEAK_SIZE**3 / min(times) / 1e9


def worker(framework, threads):
    """Answers `{"variant", "units", "steps"}` lines on stdin with `{"times": [...]}` on stdout, and
    `{"peak": true}` with `{"gflops": ...}` (`_peak_gflops`)."""
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
        torch.set_num_interop_threads(1)
        make = _torch_step
    else:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        tf.get_logger().setLevel("ERROR")
        make = _tensorflow_step
    steps = {}
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("peak"):
            print(json.dumps({"gflops": _peak_gflops(framework)}), flush=True)
            continue
        key = (request["variant"], request["units"])
        if key not in steps:
            steps[key] = make(*key)
        times = []
        for _ in range(request["steps"]):
            started = time.perf_counter()
            steps[key]()
            times.append(time.perf_counter() - started)
        print(json.dumps({"times": times}), flush=True)


class Worker:
    """One worker process, driven line by line."""

    def __init__(self, framework, threads):
        command = [sys.executable, __file__, "--worker", framework, "--threads", str(threads)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._read()

    def _read(self):
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("a benchmark worker died; its error is printed above")
            if line.startswith("{"):
                return json.loads(line)

    def time(self, variant, units, steps):
        self.process.stdin.write(json.dumps({"variant": variant, "units": units, "steps": steps}) + "\n")
        self.process.stdin.flush()
        return self._read()["times"]

    def peak(self):
        self.process.stdin.write(json.dumps({"peak": True}) + "\n")
        self.process.stdin.flush()
        return self._read()["gflops"]

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def _load():
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


@click.command()
@click.option("--units", "units_list", type=int, multiple=True, default=(128, 256, 512), show_default=True,
              help="Hidden sizes; repeat the option for several.")
@click.option("--threads", "threads_list", type=int, multiple=True, default=None,
              help="Thread counts; repeat the option for several. Default: 1 and all cores.")
@click.option("--cells", default=",".join(CELLS), show_default=True, help="Cells, separated by commas.")
@click.option("--rounds", default=3, show_default=True, help="Alternation rounds.")
@click.option("--steps", default=3, show_default=True, help="Timed steps per variant and round.")
@click.option("--levers", is_flag=True,
              help="Also time our cells with one speed-up left out each (RNN(cell): no input projection "
              "before the loop, no fused sequence; unfused; unroll; the uRNN's implementations).")
@click.option("--worker", "worker_framework", type=click.Choice(["tensorflow", "torch"]), hidden=True)
def main(units_list, threads_list, cells, rounds, steps, levers, worker_framework):
    """Prints median training-step times of ours, Keras and PyTorch and their ratios to PyTorch."""
    if worker_framework:
        return worker(worker_framework, threads_list[0])
    cells = [cell.strip() for cell in cells.split(",") if cell.strip()]
    unknown = [cell for cell in cells if cell not in CELLS]
    if unknown:
        raise click.BadParameter(f"unknown cell {unknown[0]!r}: choose from {', '.join(CELLS)}", param_hint="--cells")
    threads_list = threads_list or tuple(sorted({1, os.cpu_count() or 1}))
    variants = [variant for cell in cells for variant in VARIANTS[cell]]
    if "urnn" in cells and "lstm" not in cells:
        variants.append(("ours lstm", "tensorflow"))  # the uRNN's reference
    if levers:
        variants += [(variant, "tensorflow") for cell in cells for variant in LEVERS[cell]]
    click.echo(f"batch {BATCH} x {TIMESTEPS} steps, embedding {EMBEDDING}, vocabulary {VOCABULARY}, Adam; "
               f"{rounds} rounds x {steps} steps, median; {os.cpu_count()} cores; {_load()} (start)")
    results, peaks = {}, {}
    for threads in threads_list:
        workers = {framework: Worker(framework, threads) for framework in {f for _, f in variants}}
        try:
            for units in units_list:
                times = {variant: [] for variant, _ in variants}
                for round_ in range(rounds):
                    shift = round_ % len(variants)  # a different variant goes first each round
                    for variant, framework in variants[shift:] + variants[:shift]:
                        times[variant] += workers[framework].time(variant, units, steps)
                results[threads, units] = {v: 1000 * statistics.median(t) for v, t in times.items()}
            peaks[threads] = {framework: process.peak() for framework, process in sorted(workers.items())}
        finally:
            for process in workers.values():
                process.close()
    click.echo(_load() + " (end)")
    _print_table(results, cells, peaks, levers)


def _print_table(results, cells, peaks, levers=False):
    for (threads, units), medians in results.items():
        limit = max(peaks[threads].values())
        measured = ", ".join(f"{framework} {gflops:.0f}" for framework, gflops in peaks[threads].items())
        click.echo(f"\nunits {units}, {threads} thread{'s' if threads > 1 else ''}; limit {limit:.0f} GFLOP/s "
                   f"(best {PEAK_SIZE}-square float32 product: {measured})")
        click.echo(f"  {'variant':<34} {'ms/step':>9} {'/ torch':>8} {'GFLOP':>7} {'GFLOP/s':>8} {'/ limit':>8}")

        def roofline(variant, cell):
            flops = step_flops(cell, units)
            rate = flops / (medians[variant] / 1000) / 1e9
            return f"{flops / 1e9:>7.2f} {rate:>8.1f} {rate / limit:>8.0%}"

        for cell in cells:
            reference = {"vanilla": "torch RNN", "gru": "torch GRU", "lstm": "torch LSTM",
                         "urnn": "torch LSTM"}[cell]
            for variant, _ in VARIANTS[cell]:
                ratio = medians[variant] / medians[reference] if reference in medians else float("nan")
                click.echo(f"  {variant:<34} {medians[variant]:>9.1f} {ratio:>8.2f} {roofline(variant, cell)}")
        for cell in cells if levers else ():
            for variant in LEVERS[cell]:
                reference = "ours lstm" if cell == "urnn" else f"ours {cell}"
                click.echo(f"  {variant:<34} {medians[variant]:>9.1f} {medians[variant] / medians[reference]:>8.2f} "
                           f"{roofline(variant, cell)}  (ratio / {reference})")
        if "ours urnn" in medians and "ours lstm" in medians:
            click.echo(f"  {'ours urnn / ours lstm':<34} {'':>9} {medians['ours urnn'] / medians['ours lstm']:>8.2f}")
        wider = results.get((threads, 2 * units), {})
        if "ours urnn" in medians and "ours lstm" in wider:
            # Equal state size: URNN(n) carries 2n reals, as wide as the h of an LSTM of 2n units. The two
            # medians come from consecutive blocks of one run (other units), not from alternated rounds.
            label = f"ours urnn / ours lstm({2 * units})"
            click.echo(f"  {label:<34} {'':>9} {medians['ours urnn'] / wider['ours lstm']:>8.2f}  (equal state size)")


if __name__ == "__main__":
    main()
