"""TensorFlow-only fast path of the dense cells: the whole sequence as one op with a hand-written gradient.

`DenseRecurrentLayer` uses these functions on the TensorFlow backend when a sequence needs nothing
they do not do (no mask, no recurrent dropout, the default activations, float32); everywhere else
the generic `keras.ops` cells run inside `keras.layers.RNN`. Both compute the same equations and
`tests/layers/test_dense_layers.py` compares them, values and gradients.

Why it is faster (measured with `benchmarks/bench_vs_torch.py`): TensorFlow's automatic gradient of
a `while` loop computes ∂L/∂U as one small product per step, added up step by step, and stores every
intermediate of every step; here the backward loop only computes the gradient of the state (one
product with Uᵀ per step, from the activated gates saved by the forward loop) and ∂L/∂U is one large
product hᵀ · ∂gates over all steps at once, which runs at a much higher rate.

Every function takes the projected inputs x_t W + b time-major, `(time, batch, gates * units)`,
and returns the outputs time-major `(time, batch, units)` and the final states.
"""

import tensorflow as tf


def _scan(body, length, initial, outputs):
    """A `tf.while_loop` over `range(length)` writing one TensorArray per entry of `outputs` (dtypes)."""
    arrays = [tf.TensorArray(dtype, size=length) for dtype in outputs]
    _, state, arrays = tf.while_loop(
        lambda t, *_: t < length,
        lambda t, state, arrays: (t + 1, *body(t, state, arrays)),
        (tf.constant(0), initial, arrays),
    )
    return state, [array.stack() for array in arrays]


def lstm_sequence(projected, h0, c0, recurrent_kernel):
    """The LSTM (sigmoid gates, tanh) over a sequence; `(outputs, h_T, c_T)`. Gates i, f, c, o."""

    @tf.custom_gradient
    def forward(projected, h0, c0, recurrent_kernel):
        length = tf.shape(projected)[0]
        units = tf.shape(h0)[-1]
        inputs = tf.TensorArray(projected.dtype, size=length).unstack(projected)

        def body(t, state, arrays):
            h, c = state
            gates = inputs.read(t) + tf.matmul(h, recurrent_kernel)
            i_f, g, o = tf.split(gates, [2 * units, units, units], axis=-1)
            i_f, g, o = tf.sigmoid(i_f), tf.tanh(g), tf.sigmoid(o)
            i, f = tf.split(i_f, 2, axis=-1)
            c = f * c + i * g
            tanh_c = tf.tanh(c)
            h = o * tanh_c
            saved = tf.concat([i_f, g, o, tanh_c], axis=-1)
            return (h, c), [arrays[0].write(t, h), arrays[1].write(t, c), arrays[2].write(t, saved)]

        (h, c), (hs, cs, saved) = _scan(body, length, (h0, c0), [h0.dtype] * 3)

        def gradient(d_outputs, d_h, d_c):
            d_outputs = tf.zeros_like(hs) if d_outputs is None else d_outputs
            d_h = tf.zeros_like(h0) if d_h is None else d_h
            d_c = tf.zeros_like(c0) if d_c is None else d_c
            grads = tf.TensorArray(d_outputs.dtype, size=length).unstack(d_outputs)
            saved_steps = tf.TensorArray(saved.dtype, size=length).unstack(saved)
            c_previous = tf.concat([c0[None], cs[:-1]], axis=0)
            c_steps = tf.TensorArray(cs.dtype, size=length).unstack(c_previous)
            transposed = tf.transpose(recurrent_kernel)

            def backward_body(k, state, arrays):
                d_h, d_c = state
                t = length - 1 - k
                i, f, g, o, tanh_c = tf.split(saved_steps.read(t), 5, axis=-1)
                d_h = d_h + grads.read(t)
                d_c = d_c + d_h * o * (1.0 - tanh_c * tanh_c)
                d_gates = tf.concat([
                    d_c * g * i * (1.0 - i),
                    d_c * c_steps.read(t) * f * (1.0 - f),
                    d_c * i * (1.0 - g * g),
                    d_h * tanh_c * o * (1.0 - o),
                ], axis=-1)
                return (tf.matmul(d_gates, transposed), d_c * f), [arrays[0].write(t, d_gates)]

            (d_h0, d_c0), (d_gates,) = _scan(backward_body, length, (d_h, d_c), [d_outputs.dtype])
            h_previous = tf.concat([h0[None], hs[:-1]], axis=0)
            d_kernel = tf.matmul(tf.reshape(h_previous, [-1, tf.shape(h0)[-1]]),
                                 tf.reshape(d_gates, [-1, 4 * units]), transpose_a=True)
            return d_gates, d_h0, d_c0, d_kernel

        return (hs, h, c), gradient

    return forward(projected, h0, c0, recurrent_kernel)
