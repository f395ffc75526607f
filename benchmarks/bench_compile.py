"""What a new sequence length costs the compiled (XLA) loops of the fused LSTM and uRNN.

XLA compiles one program per input shape. The fused loops pad the time axis to a length bucket
(`fused_tf.bucket_length`) and take the true length as a tensor, so a new length inside a bucket
already compiled reuses its program. This prints, for each cell, the time of the first forward and
gradient call at every length of a range (summed), the same calls repeated, the number of buckets
the range spans and the traces made: the first calls cost about one compile per bucket, not one per
length.

    python benchmarks/bench_compile.py                 # lengths 3..40, batch 4, 8 units
    python benchmarks/bench_compile.py --last 200 --units 64
"""

import argparse
import time

import numpy as np


def first_and_repeated(layer, lengths, batch, features):
    import tensorflow as tf

    def call(length):
        x = tf.constant(np.random.default_rng(length).random((batch, length, features), dtype=np.float32))
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(layer(x))
        tape.gradient(y, layer.trainable_variables)

    times = []
    for _ in range(2):
        start = time.perf_counter()
        for length in lengths:
            call(length)
        times.append(time.perf_counter() - start)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=int, default=3, help="shortest length")
    parser.add_argument("--last", type=int, default=40, help="longest length")
    parser.add_argument("--units", type=int, default=8)
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args()

    from kerasrnn.layers import URNN, TextbookLSTM, fused_tf, fused_urnn_tf

    lengths = range(args.first, args.last + 1)
    buckets = len({fused_tf.bucket_length(length) for length in lengths})
    features = 5
    print(f"lengths {args.first}..{args.last} ({len(lengths)} lengths, {buckets} buckets), batch {args.batch}, "
          f"{args.units} units; forward + gradient, eager")
    cells = (("lstm", TextbookLSTM(args.units, return_sequences=True), fused_tf._lstm_forward),
             ("urnn", URNN(args.units, implementation="fft", return_sequences=True), fused_urnn_tf._urnn_forward))
    for name, layer, compiled in cells:
        layer(np.zeros((args.batch, 1, features), np.float32))
        first, repeated = first_and_repeated(layer, lengths, args.batch, features)
        print(f"{name:5s} first calls {first:7.2f} s   repeated {repeated:6.2f} s   "
              f"first / repeated {first / repeated:6.1f}   traces {compiled.experimental_get_tracing_count()}")


if __name__ == "__main__":
    main()
