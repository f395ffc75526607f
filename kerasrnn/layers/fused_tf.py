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
        maximum_iterations=length,
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
            return d_gates, d_h0, d_c0, _state_kernel_gradient(h0, hs, d_gates)

        return (hs, h, c), gradient

    return forward(projected, h0, c0, recurrent_kernel)


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

        h, (hs,) = _scan(body, length, h0, [h0.dtype])

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

            d_h0, (d_pre,) = _scan(backward_body, length, d_h, [d_outputs.dtype])
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

        h, (hs, saved) = _scan(body, length, h0, [h0.dtype] * 2)

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

            d_h0, (d_pre,) = _scan(backward_body, length, d_h, [d_outputs.dtype])
            d_zr, d_candidate = tf.split(d_pre, [2 * units, units], axis=-1)
            r = tf.split(saved, 3, axis=-1)[1]
            d_kernel = tf.concat([_state_kernel_gradient(h0, hs, d_zr),
                                  tf.matmul(tf.reshape(r * h_previous, [-1, units]),
                                            tf.reshape(d_candidate, [-1, units]), transpose_a=True)], axis=1)
            return d_pre, d_h0, d_kernel

        return (hs, h), gradient

    return forward(projected, h0, recurrent_kernel)


def _complex(pair):
    """`[Re | Im]` on the last axis → one complex tensor."""
    re, im = tf.split(pair, 2, axis=-1)
    return tf.complex(re, im)


def _pair(z):
    """A complex tensor → `[Re | Im]` on the last axis."""
    return tf.concat([tf.math.real(z), tf.math.imag(z)], axis=-1)


def _reflect(z, v, scaled_v):
    """(I − 2 v vᴴ / ‖v‖²) z for rows z; `scaled_v` = 2 v / ‖v‖²."""
    return z - tf.matmul(z, tf.math.conj(v)[:, None]) * scaled_v


def urnn_sequence(projected, h0, phases, reflections, permutation, bias, epsilon):
    """The uRNN's FFT recurrence with modReLU over a sequence; `(outputs, h_T)`, states `[Re h | Im h]`.

    h_t = modReLU(W h_{t−1} + V x_t), W = D3 R2 F⁻¹ D2 Π R1 F D1 (see `URNNCell`), here on complex
    tensors. The backward loop applies Wᴴ = D1ᴴ F⁻¹ R1 Πᵀ D2ᴴ F R2 D3ᴴ to the state gradient, one
    O(n log n) chain per step like the forward loop; the gradients of the phases and reflections are
    taken after it, from one batched chain over all steps (W applied to every h_{t−1} at once). Both
    loops are compiled with XLA: a step is a few dozen tiny ops, whose dispatch would cost more than
    their arithmetic (measured: 1.4 ms a step at n = 128 without XLA).
    """
    weights = [*phases, *reflections]

    @tf.custom_gradient
    def forward(projected, h0, theta1, theta2, theta3, v1, v2, bias):
        # stop_gradient: no tape records the compiled loop itself (its gradient is `gradient` below,
        # and TensorFlow cannot differentiate through an XLA TensorList boundary).
        frozen = [tf.stop_gradient(w) for w in (projected, h0, theta1, theta2, theta3, v1, v2, bias)]
        outputs, h, zs = _urnn_forward(frozen[0], frozen[1], frozen[2:7], permutation, frozen[7], epsilon)

        def gradient(d_outputs, d_h):
            d_outputs = tf.zeros_like(outputs) if d_outputs is None else d_outputs
            d_h = tf.zeros_like(h0) if d_h is None else d_h
            return _urnn_backward(d_outputs, d_h, frozen[1], outputs, zs, frozen[2:7], permutation, frozen[7],
                                  epsilon)

        return (outputs, h), gradient

    return forward(projected, h0, *weights, bias)


def _chain_parts(theta1, theta2, theta3, v1, v2):
    diagonals = [tf.exp(tf.complex(tf.zeros_like(t), t)) for t in (theta1, theta2, theta3)]
    vectors = [tf.complex(v[0], v[1]) for v in (v1, v2)]
    scaled = [2.0 * v / tf.cast(tf.reduce_sum(tf.math.real(v * tf.math.conj(v))), v.dtype) for v in vectors]
    return diagonals, vectors, scaled


def _apply_w(z, parts, permutation):
    diagonals, vectors, scaled = parts
    scale = tf.complex(tf.math.rsqrt(tf.cast(tf.shape(z)[-1], tf.float32)), 0.0)
    z = tf.signal.fft(z * diagonals[0]) * scale
    z = tf.gather(_reflect(z, vectors[0], scaled[0]), permutation, axis=-1) * diagonals[1]
    z = tf.signal.ifft(z) / scale
    return _reflect(z, vectors[1], scaled[1]) * diagonals[2]


def _apply_w_adjoint(g, parts, inverse_permutation):
    diagonals, vectors, scaled = parts
    scale = tf.complex(tf.math.rsqrt(tf.cast(tf.shape(g)[-1], tf.float32)), 0.0)
    g = _reflect(g * tf.math.conj(diagonals[2]), vectors[1], scaled[1])
    g = tf.signal.fft(g) * scale * tf.math.conj(diagonals[1])
    g = _reflect(tf.gather(g, inverse_permutation, axis=-1), vectors[0], scaled[0])
    return tf.signal.ifft(g) / scale * tf.math.conj(diagonals[0])


def _modulus(z, epsilon):
    return tf.sqrt(tf.math.real(z) ** 2 + tf.math.imag(z) ** 2 + epsilon)


@tf.function(jit_compile=True)
def _urnn_forward(projected, h0, weights, permutation, bias, epsilon):
    length = tf.shape(projected)[0]
    parts = _chain_parts(*weights)
    inputs = tf.TensorArray(tf.complex64, size=length).unstack(_complex(projected))

    def mod_relu(z):
        modulus = _modulus(z, epsilon)
        return z * tf.complex(tf.nn.relu(modulus + bias) / modulus, 0.0)

    def body(t, h, arrays):
        z = _apply_w(h, parts, permutation) + inputs.read(t)
        return mod_relu(z), [arrays[0].write(t, z)]

    # Only z_t is stored per step (each TensorArray write costs more than the step's arithmetic
    # here); the outputs are modReLU of all of them at once.
    h, (zs,) = _scan(body, length, _complex(h0), [tf.complex64])
    return _pair(mod_relu(zs)), _pair(h), zs


@tf.function(jit_compile=True)
def _urnn_backward(d_outputs, d_h, h0, outputs, zs, weights, permutation, bias, epsilon):
    length = tf.shape(zs)[0]
    units = tf.shape(zs)[-1]
    parts = _chain_parts(*weights)
    inverse_permutation = tf.math.invert_permutation(permutation)
    grads = tf.TensorArray(tf.complex64, size=length).unstack(_complex(d_outputs))
    pre_activations = tf.TensorArray(tf.complex64, size=length).unstack(zs)

    def backward_body(k, state, arrays):
        g, d_bias = state
        t = length - 1 - k
        g = g + grads.read(t)
        z = pre_activations.read(t)
        modulus = _modulus(z, epsilon)
        active = tf.cast(modulus + bias > 0, modulus.dtype)
        shrink = tf.nn.relu(modulus + bias) / modulus
        along = tf.math.real(g * tf.math.conj(z)) / modulus  # ∂L/∂|z| before the shrink
        d_bias = d_bias + tf.reduce_sum(along * active, axis=0)
        g_z = g * tf.complex(shrink, 0.0) + z * tf.complex(along * (active - shrink) / modulus, 0.0)
        return (_apply_w_adjoint(g_z, parts, inverse_permutation), d_bias), [arrays[0].write(t, g_z)]

    (g_h0, d_bias), (g_zs,) = _scan(backward_body, length, (_complex(d_h), tf.zeros_like(bias)), [tf.complex64])
    # ∂L/∂(phases, reflections): Σ_t Re⟨∂L/∂z_t, W h_{t−1}⟩ differentiated as one batch.
    previous = tf.reshape(tf.concat([_complex(h0)[None], _complex(outputs)[:-1]], axis=0), [-1, units])
    with tf.GradientTape() as tape:
        tape.watch(weights)
        moved = _apply_w(previous, _chain_parts(*weights), permutation)
        inner = tf.reduce_sum(tf.math.real(tf.math.conj(tf.reshape(g_zs, [-1, units])) * moved))
    d_weights = tape.gradient(inner, weights)
    return (_pair(g_zs), _pair(g_h0), *d_weights, d_bias)
