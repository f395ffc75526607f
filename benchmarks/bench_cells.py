"""Training-step time of each kerasrnn cell relative to the matching built-in Keras layer.

    python benchmarks/bench_cells.py                       # units 128, 256, 512
    python benchmarks/bench_cells.py --units 64 --steps 5  # a quick look

Every model is timed in the same process, interleaved round by round so that machine noise hits
all of them alike; the table prints ratios (ours / Keras), which is what carries across machines.
The uRNN rows compare both implementations with keras.layers.LSTM of the same `units`, and the
last row the two implementations with each other (below 1: the FFT path is the faster one).
"""

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import click  # noqa: E402


def _pairs(units):
    import keras

    from kerasrnn.layers import URNN, TextbookGRUCell, TextbookLSTMCell, VanillaRNNCell

    return [
        ("vanilla / SimpleRNN", lambda: keras.layers.RNN(VanillaRNNCell(units)),
         lambda: keras.layers.SimpleRNN(units)),
        ("gru / GRU(reset_after=False)", lambda: keras.layers.RNN(TextbookGRUCell(units)),
         lambda: keras.layers.GRU(units, reset_after=False)),
        ("lstm / LSTM", lambda: keras.layers.RNN(TextbookLSTMCell(units)), lambda: keras.layers.LSTM(units)),
        ("urnn matrix / LSTM", lambda: URNN(units, implementation="matrix", seed=0),
         lambda: keras.layers.LSTM(units)),
        ("urnn fft / LSTM", lambda: URNN(units, implementation="fft", seed=0),
         lambda: keras.layers.LSTM(units)),
        ("urnn fft / urnn matrix", lambda: URNN(units, implementation="fft", seed=0),
         lambda: URNN(units, implementation="matrix", seed=0)),
    ]


def _train_step_timer(make_layer, batch, timesteps, features, seed):
    """A compiled model with the layer and a function that runs one training step."""
    import keras
    import numpy as np

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((timesteps, features))
    model = keras.Model(inputs, keras.layers.Dense(1)(make_layer()(inputs)))
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss="mse")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, timesteps, features)).astype("float32")
    y = rng.normal(size=(batch, 1)).astype("float32")
    model.train_on_batch(x, y)  # trace and warm up

    def step():
        start = time.perf_counter()
        model.train_on_batch(x, y)
        return time.perf_counter() - start

    return step


@click.command()
@click.option("--units", "units_list", type=int, multiple=True, default=(128, 256, 512), show_default=True,
              help="Hidden sizes to measure; repeat the option for several.")
@click.option("--batch", default=32, show_default=True, help="Sequences per training step.")
@click.option("--timesteps", default=50, show_default=True, help="Length of each sequence.")
@click.option("--features", default=32, show_default=True, help="Input features per step.")
@click.option("--steps", default=10, show_default=True, help="Timed training steps per model (median kept).")
def main(units_list, batch, timesteps, features, steps):
    """Print the median training-step time of each cell relative to its Keras counterpart."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")  # each model traces its own step; the retrace warning is noise
    click.echo(f"backend {keras.backend.backend()}, batch {batch}, T {timesteps}, features {features}, "
               f"median of {steps} steps")
    click.echo(f"{'units':>5}  {'pair':<30} {'ours ms':>9} {'keras ms':>9} {'ratio':>6}")
    for units in units_list:
        for label, ours, theirs in _pairs(units):
            timers = [_train_step_timer(make, batch, timesteps, features, seed=0) for make in (ours, theirs)]
            times = [[], []]
            for _ in range(steps):  # interleaved, so a noisy moment hits both sides
                for timer, record in zip(timers, times):
                    record.append(timer())
            ours_ms, theirs_ms = (1000 * statistics.median(t) for t in times)
            click.echo(f"{units:>5}  {label:<30} {ours_ms:>9.1f} {theirs_ms:>9.1f} {ours_ms / theirs_ms:>6.2f}")


if __name__ == "__main__":
    main()
