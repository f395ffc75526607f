"""TensorFlow-only fast path of the dense cells: the whole sequence as one op with a hand-written gradient.

`DenseRecurrentLayer` uses these functions on the TensorFlow backend when a sequence needs nothing
they do not do (no mask, no recurrent dropout, the default activations, float32); everywhere else
the generic `keras.ops` cells run inside `keras.layers.RNN`. Both compute the same equations and
`tests/layers/test_dense_layers.py` compares them, values and gradients.

Why it is faster (measured with `benchmarks/bench_vs_torch.py`): TensorFlow's automatic gradient of
a `while` loop computes ∂L/∂U as one small product per step, added up step by step, and stores every
intermediate of every step; here the backward loop only computes the gradient of the state (one
product with Uᵀ per step, from the activated gates saved by the forward loop) and ∂L/∂U is one large
product hᵀ · ∂gates over all steps at once, which runs at a much higher rate. The LSTM's loops are
also compiled with XLA and run as two concurrent halves of the batch on two threads (see
`lstm_sequence`).

Why the compiled loops see padded sequences: XLA compiles a function once per distinct shape of
its inputs, and a compile costs far more than a short sequence's steps (measured: 0.2–1 s for each
new length of a tiny LSTM, against milliseconds to run it), while translation and classification
batches, each padded to its own longest text, come in dozens of lengths. So the time axis is padded
to a bucket length (`bucket_length`: the smallest m · 2^e ≥ T with m in 4…7, at least 8; at most
about a quarter longer than T, four buckets per octave), and the true length enters as a runtime
tensor: the loops run exactly T steps, only their buffers have the bucket's size, so one compile
serves every length of a bucket. The ∂L/∂U product runs on the first T steps only, outside the
compiled functions; no step past T reaches a result: the padded steps are sliced off the loops'
results (a slice of the leading axis, no copy), never masked by a product.

Every function takes the projected inputs x_t W + b time-major, `(time, batch, gates * units)`,
and returns the outputs time-major `(time, batch, units)` and the final states.
"""

import bisect
import os

import tensorflow as tf

# Every bucket length m · 2^e (m in 4…7, e ≥ 1), up to the largest below 2^31.
BUCKETS = sorted(m << e for m in (4, 5, 6, 7) for e in range(1, 29))


def bucket_length(length):
    """The length a sequence of `length` steps is padded to before a compiled loop.

    The smallest m · 2^e ≥ `length` with m in {4, 5, 6, 7}, at least 8: 8, 10, 12, 14, 16, 20, 24, ...
    A Python int for a Python int (a static length), else an int32 scalar tensor (a length only
    known when the graph runs).

    Args:
        length: The number of steps, a Python int or an int32 scalar tensor, at least 1.

    Returns:
        The bucket length, of the same kind as `length`.

    Example:

    >>> [bucket_length(t) for t in (1, 8, 9, 16, 17, 100)]
    [8, 8, 10, 16, 20, 112]
    """
    if isinstance(length, int):
        index = bisect.bisect_left(BUCKETS, length)
        if index == len(BUCKETS):
            raise ValueError(f"A sequence of {length} steps is longer than the largest bucket, {BUCKETS[-1]}.")
        return BUCKETS[index]
    table = tf.constant(BUCKETS, tf.int32)
    return tf.gather(table, tf.searchsorted(table, tf.reshape(length, [1]))[0])


def pad_to_bucket(sequence, axis):
    """`(padded, length)`: `sequence` with zeros appended on `axis` up to `bucket_length`, and its length.

    `length` is an int32 scalar tensor, so a compiled function called with it is traced once for
    all lengths of a bucket (a Python int would be a constant of the trace, one per length).
    """
    static = sequence.shape[axis]
    length = tf.shape(sequence)[axis]
    target = bucket_length(static) if static is not None else bucket_length(length)
    paddings = [[0, 0]] * len(sequence.shape)
    paddings[axis] = [0, target - length]
    return tf.pad(sequence, paddings), length


def scan(body, length, initial, outputs, size=None):
    """A `tf.while_loop` over `range(length)` writing one TensorArray per entry of `outputs` (dtypes).

    `size`: the arrays' size, when it is larger than `length` (a padded sequence's bucket length;
    the entries from `length` on are never written, the caller slices them off).
    """
    size = length if size is None else size
    arrays = [tf.TensorArray(dtype, size=size) for dtype in outputs]
    _, state, arrays = tf.while_loop(
        lambda t, *_: t < length,
        lambda t, state, arrays: (t + 1, *body(t, state, arrays)),
        (tf.constant(0), initial, arrays),
        maximum_iterations=size,
    )
    return state, [array.stack() for array in arrays]


def lstm_sequence(projected, h0, c0, recurrent_kernel):
    """The LSTM (sigmoid gates, tanh) over a sequence; `(outputs, h_T, c_T)`. Gates i, f, c, o.

    Both loops are compiled with XLA: a step's dozen elementwise ops become one kernel instead of a
    dozen dispatches. When TensorFlow's inter-op pool has two threads or more (and no GPU is
    visible), the batch is cut in two halves whose loops are independent ops, so the executor runs
    them at the same time, one per thread: a product of 64 rows by a (units, 4 units) matrix is too
    small for TensorFlow to share between two threads (measured: 64 × 256 × 1024 runs at the same
    rate on one thread and on two), two products of 32 rows on two threads are not. Rows of a batch
    never mix in the loops; ∂L/∂U is the sum of the halves' products, so the cut changes its float32
    rounding, not its value (`tests/layers/test_fused_lstm.py` compares both with Keras's LSTM).

    Args:
        projected: x_t W + b of every step, time-major `(time, batch, 4 * units)`, float32.
        h0, c0: The initial states, `(batch, units)`.
        recurrent_kernel: U, `(units, 4 * units)`, columns `[U_i | U_f | U_c | U_o]`.

    Returns:
        `(outputs, h_T, c_T)`: outputs `(time, batch, units)` (h of every step), the final states.
    """
    if _parallel_parts() == 1:
        return _lstm_part(projected, h0, c0, recurrent_kernel)
    batch = tf.shape(h0)[0]
    sizes = tf.stack([batch // 2, batch - batch // 2])
    parts = zip(tf.split(projected, sizes, axis=1), tf.split(h0, sizes), tf.split(c0, sizes))
    results = [_lstm_part(part, h, c, recurrent_kernel) for part, h, c in parts]
    return tuple(tf.concat(pieces, axis=axis) for pieces, axis in zip(zip(*results), (1, 0, 0)))


def _parallel_parts():
    """2 when TensorFlow's inter-op pool (0: its default, one thread per core) can run two loops at once.

    1 where a GPU is visible: there the ops of the two halves would queue on one device, twice as many.
    """
    if tf.config.list_logical_devices("GPU"):
        return 1
    threads = tf.config.threading.get_inter_op_parallelism_threads() or os.cpu_count() or 1
    return 2 if threads >= 2 else 1


def _lstm_part(projected, h0, c0, recurrent_kernel):
    @tf.custom_gradient
    def forward(projected, h0, c0, recurrent_kernel):
        # stop_gradient: no tape records the compiled loops (`gradient` is their derivative, and
        # TensorFlow cannot differentiate through an XLA TensorList boundary).
        frozen = [tf.stop_gradient(x) for x in (projected, h0, c0, recurrent_kernel)]
        padded, length = pad_to_bucket(frozen[0], axis=0)
        outputs, h, c, activations, cells = _lstm_forward(padded, length, *frozen[1:])
        # A slice of the leading axis shares the buffer, no copy.
        outputs = outputs[:length]

        def gradient(d_outputs, d_h, d_c):
            d_outputs = tf.zeros_like(outputs) if d_outputs is None else d_outputs
            d_h = tf.zeros_like(h) if d_h is None else d_h
            d_c = tf.zeros_like(c) if d_c is None else d_c
            d_outputs = pad_to_bucket(d_outputs, axis=0)[0]
            d_gates, d_h0, d_c0 = _lstm_backward(d_outputs, length, d_h, d_c, frozen[2], frozen[3], activations, cells)
            d_gates = d_gates[:length]
            # ∂L/∂U out here, on the first T steps: TensorFlow's product (oneDNN) is also faster than
            # XLA's, measured 6.1 ms against 9.1 ms for (3200 × 256)ᵀ · (3200 × 1024) on two threads.
            return d_gates, d_h0, d_c0, _state_kernel_gradient(frozen[1], outputs, d_gates)

        return (outputs, h, c), gradient

    return forward(projected, h0, c0, recurrent_kernel)


@tf.function(jit_compile=True, reduce_retracing=True)
def _lstm_forward(projected, length, h0, c0, recurrent_kernel):
    """Outputs, h_T, c_T, and what the backward needs: the activated gates `[i|f|s|o]` and c, per step.

    `projected` is padded to its bucket and `length` (T) steps run; the outputs and the saved arrays
    have the bucket's size, and their steps from T on are unset (the caller slices them off).
    """
    units = tf.shape(h0)[-1]
    # tanh(x) = 2σ(2x) − 1: with the candidate's pre-activation doubled one sigmoid activates all four
    # gates in one tensor (s = σ(2x), g = 2s − 1), no split before the activations.
    scale = tf.concat([tf.ones([2 * units]), tf.fill([units], 2.0), tf.ones([units])], axis=0)

    def body(t, state, arrays):
        h, c = state
        activations = tf.sigmoid((projected[t] + tf.matmul(h, recurrent_kernel)) * scale)
        i, f, s, o = tf.split(activations, 4, axis=-1)
        c = f * c + i * (2.0 * s - 1.0)
        h = o * tf.tanh(c)
        return (h, c), [arrays[0].write(t, activations), arrays[1].write(t, c)]

    # Two arrays written per step, not three: a write costs about as much as the step's elementwise
    # arithmetic; the outputs are o ⊙ tanh(c) of all steps at once. The inputs are sliced, not
    # unstacked into a TensorArray (a copy of the whole sequence).
    (h, c), (activations, cells) = scan(body, length, (h0, c0), [h0.dtype] * 2, size=tf.shape(projected)[0])
    # On the whole bucket, fused into one pass: measured 2.7 times faster than three TensorFlow ops on
    # the first T steps alone (100 of 112 steps, 32 × 256 units).
    outputs = tf.split(activations, 4, axis=-1)[3] * tf.tanh(cells)
    return outputs, h, c, activations, cells


@tf.function(jit_compile=True, reduce_retracing=True)
def _lstm_backward(d_outputs, length, d_h, d_c, c0, recurrent_kernel, activations, cells):
    """∂L/∂(pre-activations, h0, c0) from `_lstm_forward`'s saved gates and cells, all padded to the
    bucket; the pre-activations' gradient is set for the first `length` steps only."""
    transposed = tf.transpose(recurrent_kernel)

    def backward_body(k, state, arrays):
        d_h, d_c = state
        t = length - 1 - k
        # gather, not `activations[t]`: a slice's start is a compile-time constant input to XLA, and
        # t derives from `length`, which would make every length a compile of its own.
        i, f, s, o = tf.split(tf.gather(activations, t), 4, axis=-1)
        g = 2.0 * s - 1.0
        tanh_c = tf.tanh(tf.gather(cells, t))
        c_previous = tf.where(t > 0, tf.gather(cells, tf.maximum(t - 1, 0)), c0)
        d_h = d_h + tf.gather(d_outputs, t)
        d_c = d_c + d_h * o * (1.0 - tanh_c * tanh_c)
        d_gates = tf.concat([
            d_c * g * i * (1.0 - i),
            d_c * c_previous * f * (1.0 - f),
            d_c * i * (1.0 - g * g),
            d_h * tanh_c * o * (1.0 - o),
        ], axis=-1)
        return (tf.matmul(d_gates, transposed), d_c * f), [arrays[0].write(t, d_gates)]

    size = tf.shape(activations)[0]
    (d_h0, d_c0), (d_gates,) = scan(backward_body, length, (d_h, d_c), [d_outputs.dtype], size=size)
    return d_gates, d_h0, d_c0


def _state_kernel_gradient(h0, hs, d_pre_activations):
    """∂L/∂U = Σ_t h_{t−1}ᵀ ∂pre-activation_t as one product over all steps and rows."""
    h_previous = tf.concat([h0[None], hs[:-1]], axis=0)
    return tf.matmul(tf.reshape(h_previous, [-1, tf.shape(h0)[-1]]),
                     tf.reshape(d_pre_activations, [-1, tf.shape(d_pre_activations)[-1]]), transpose_a=True)


def vanilla_sequence(projected, h0, recurrent_kernel, activation="tanh"):
    """h_{t+1} = σ(x_t W + b + h_t U) over a sequence, σ = tanh or relu; `(outputs, h_T)`."""

    @tf.custom_gradient
    def forward(projected, h0, recurrent_kernel):
        length = tf.shape(projected)[0]
        inputs = tf.TensorArray(projected.dtype, size=length).unstack(projected)
        function = tf.tanh if activation == "tanh" else tf.nn.relu

        def body(t, state, arrays):
            h = function(inputs.read(t) + tf.matmul(state, recurrent_kernel))
            return h, [arrays[0].write(t, h)]

        h, (hs,) = scan(body, length, h0, [h0.dtype])

        def gradient(d_outputs, d_h):
            d_outputs = tf.zeros_like(hs) if d_outputs is None else d_outputs
            d_h = tf.zeros_like(h0) if d_h is None else d_h
            grads = tf.TensorArray(d_outputs.dtype, size=length).unstack(d_outputs)
            outputs = tf.TensorArray(hs.dtype, size=length).unstack(hs)
            transposed = tf.transpose(recurrent_kernel)

            def backward_body(k, d_h, arrays):
                t = length - 1 - k
                h = outputs.read(t)
                d_h = d_h + grads.read(t)
                slope = 1.0 - h * h if activation == "tanh" else tf.cast(h > 0, h.dtype)
                d_pre = d_h * slope
                return tf.matmul(d_pre, transposed), [arrays[0].write(t, d_pre)]

            d_h0, (d_pre,) = scan(backward_body, length, d_h, [d_outputs.dtype])
            return d_pre, d_h0, _state_kernel_gradient(h0, hs, d_pre)

        return (hs, h), gradient

    return forward(projected, h0, recurrent_kernel)


def textbook_gru_sequence(projected, h0, recurrent_kernel):
    """The lecture's GRU (reset before U; sigmoid, tanh) over a sequence; `(outputs, h_T)`. Gates z, r, h."""

    @tf.custom_gradient
    def forward(projected, h0, recurrent_kernel):
        length = tf.shape(projected)[0]
        units = tf.shape(h0)[-1]
        inputs = tf.TensorArray(projected.dtype, size=length).unstack(projected)
        u_zr, u_h = recurrent_kernel[:, : 2 * units], recurrent_kernel[:, 2 * units:]

        def body(t, h, arrays):
            x_zr, x_h = tf.split(inputs.read(t), [2 * units, units], axis=-1)
            zr = tf.sigmoid(x_zr + tf.matmul(h, u_zr))
            z, r = tf.split(zr, 2, axis=-1)
            candidate = tf.tanh(x_h + tf.matmul(r * h, u_h))
            h_next = z * h + (1.0 - z) * candidate
            saved = tf.concat([zr, candidate], axis=-1)
            return h_next, [arrays[0].write(t, h_next), arrays[1].write(t, saved)]

        h, (hs, saved) = scan(body, length, h0, [h0.dtype] * 2)

        def gradient(d_outputs, d_h):
            d_outputs = tf.zeros_like(hs) if d_outputs is None else d_outputs
            d_h = tf.zeros_like(h0) if d_h is None else d_h
            h_previous = tf.concat([h0[None], hs[:-1]], axis=0)
            grads = tf.TensorArray(d_outputs.dtype, size=length).unstack(d_outputs)
            saved_steps = tf.TensorArray(saved.dtype, size=length).unstack(saved)
            previous = tf.TensorArray(hs.dtype, size=length).unstack(h_previous)
            u_zr_t, u_h_t = tf.transpose(u_zr), tf.transpose(u_h)

            def backward_body(k, d_h, arrays):
                t = length - 1 - k
                z, r, candidate = tf.split(saved_steps.read(t), 3, axis=-1)
                h = previous.read(t)
                d_h = d_h + grads.read(t)
                d_candidate = d_h * (1.0 - z) * (1.0 - candidate * candidate)
                d_reset_state = tf.matmul(d_candidate, u_h_t)
                d_zr = tf.concat([d_h * (h - candidate) * z * (1.0 - z),
                                  d_reset_state * h * r * (1.0 - r)], axis=-1)
                d_previous = d_h * z + d_reset_state * r + tf.matmul(d_zr, u_zr_t)
                return d_previous, [arrays[0].write(t, tf.concat([d_zr, d_candidate], axis=-1))]

            d_h0, (d_pre,) = scan(backward_body, length, d_h, [d_outputs.dtype])
            d_zr, d_candidate = tf.split(d_pre, [2 * units, units], axis=-1)
            r = tf.split(saved, 3, axis=-1)[1]
            d_kernel = tf.concat([_state_kernel_gradient(h0, hs, d_zr),
                                  tf.matmul(tf.reshape(r * h_previous, [-1, units]),
                                            tf.reshape(d_candidate, [-1, units]), transpose_a=True)], axis=1)
            return d_pre, d_h0, d_kernel

        return (hs, h), gradient

    return forward(projected, h0, recurrent_kernel)
