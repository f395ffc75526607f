"""TensorFlow-only fast path of the uRNN: its FFT recurrence as one op with a hand-written gradient.

`URNN` uses `urnn_sequence` on the TensorFlow backend when a call allows it (see `URNN`'s `fused`
argument); `tests/layers/test_urnn_fused.py` compares it with the generic `keras.ops` cell, values
and gradients. The dense cells' fast path is `kerasrnn.layers.fused_tf`.
"""

import tensorflow as tf

from kerasrnn.layers.fused_tf import scan


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
            return _urnn_backward(d_outputs, d_h, frozen[1], frozen[0], outputs, zs, frozen[2:7], permutation,
                                  frozen[7], epsilon)

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
    h, (zs,) = scan(body, length, _complex(h0), [tf.complex64])
    return _pair(mod_relu(zs)), _pair(h), zs


@tf.function(jit_compile=True)
def _urnn_backward(d_outputs, d_h, h0, projected, outputs, zs, weights, permutation, bias, epsilon):
    length = tf.shape(zs)[0]
    units = tf.shape(zs)[-1]
    parts = _chain_parts(*weights)
    inverse_permutation = tf.math.invert_permutation(permutation)
    d_outputs = _complex(d_outputs)
    grads = tf.TensorArray(tf.complex64, size=length).unstack(d_outputs)
    pre_activations = tf.TensorArray(tf.complex64, size=length).unstack(zs)

    def backward_body(k, g, arrays):
        t = length - 1 - k
        g = g + grads.read(t)
        return _apply_w_adjoint(_mod_relu_adjoint(g, pre_activations.read(t), bias, epsilon), parts,
                                inverse_permutation), [arrays[0].write(t, g)]

    # The loop stores G_t = ∂L/∂h_t, the whole gradient of each state. Everything else is one batch
    # after it: ∂L/∂z_t is modReLU's adjoint of G_t, and Wᴴ ∂L/∂z_t = G_{t−1} − ∂L/∂output_{t−1}.
    g_h0, (g_states,) = scan(backward_body, length, _complex(d_h), [tf.complex64])
    g_zs = _mod_relu_adjoint(g_states, zs, bias, epsilon)
    modulus = _modulus(zs, epsilon)
    along = tf.math.real(g_states * tf.math.conj(zs)) / modulus
    d_bias = tf.reduce_sum(along * tf.cast(modulus + bias > 0, tf.float32), axis=[0, 1])
    previous = tf.concat([_complex(h0)[None], _complex(outputs)[:-1]], axis=0)
    g_previous = tf.concat([g_h0[None], (g_states - d_outputs)[:-1]], axis=0)
    d_weights = _chain_weight_gradients(
        tf.reshape(previous, [-1, units]), tf.reshape(g_previous, [-1, units]),
        tf.reshape(zs - _complex(projected), [-1, units]), tf.reshape(g_zs, [-1, units]), parts, permutation)
    return (_pair(g_zs), _pair(g_h0), *d_weights, d_bias)


def _mod_relu_adjoint(g, z, bias, epsilon):
    """∂L/∂z from g = ∂L/∂modReLU(z), complex gradients (∂L/∂Re + i ∂L/∂Im)."""
    modulus = _modulus(z, epsilon)
    active = tf.cast(modulus + bias > 0, modulus.dtype)
    shrink = tf.nn.relu(modulus + bias) / modulus
    along = tf.math.real(g * tf.math.conj(z)) / modulus  # ∂L/∂|z| before the shrink
    return g * tf.complex(shrink, 0.0) + z * tf.complex(along * (active - shrink) / modulus, 0.0)


def _phase_gradient(g, a):
    """∂L/∂θ of a = diag(exp(iθ)) b, summed over rows, from g = ∂L/∂a: Σ Im(g ā)."""
    return tf.reduce_sum(tf.math.imag(g * tf.math.conj(a)), axis=0)


def _reflection_gradient(g, a, v):
    """∂L/∂v of (I − s v vᴴ) a, s = 2 / ‖v‖², summed over rows, from g = ∂L/∂(its output); `(2, n)`.

    With c = vᴴ a and p = gᴴ v per row: ∂L/∂v = Σ −s (c̄ g + p a) + s² Re(p c) v.
    """
    s = 2.0 / tf.reduce_sum(tf.math.real(v * tf.math.conj(v)))
    c = tf.linalg.matvec(a, tf.math.conj(v))
    p = tf.linalg.matvec(tf.math.conj(g), v)
    s_c = tf.complex(s, 0.0)
    grad = (-s_c * (tf.linalg.matvec(g, tf.math.conj(c), transpose_a=True) + tf.linalg.matvec(a, p, transpose_a=True))
            + tf.complex(s * s * tf.reduce_sum(tf.math.real(p * c)), 0.0) * v)
    return tf.stack([tf.math.real(grad), tf.math.imag(grad)])


def _chain_weight_gradients(previous, g_previous, moved, g_moved, parts, permutation):
    """∂L/∂(θ1, θ2, θ3, v1, v2) of Σ Re⟨g_moved, W previous⟩ over all rows (every step at once).

    `moved` = W previous and `g_previous` = Wᴴ g_moved are known from the loops, so the
    intermediate values of the chain come from both ends: D1, F, R1, Π, D2 forward from
    `previous` (and their gradients from `g_previous`), D3 and R2 backward from `moved` and
    `g_moved`; two FFTs in all.
    """
    diagonals, vectors, scaled = parts
    a1, g1 = previous * diagonals[0], g_previous * diagonals[0]  # at D1's output
    scale = tf.complex(tf.math.rsqrt(tf.cast(tf.shape(previous)[-1], tf.float32)), 0.0)
    a2, g2 = tf.signal.fft(a1) * scale, tf.signal.fft(g1) * scale  # at F's output, ∂L/∂a1 = F⁻¹ ∂L/∂a2
    g3 = _reflect(g2, vectors[0], scaled[0])  # R1 is its own adjoint and inverse
    a5 = tf.gather(_reflect(a2, vectors[0], scaled[0]), permutation, axis=-1) * diagonals[1]
    g5 = tf.gather(g3, permutation, axis=-1) * diagonals[1]
    a7 = moved * tf.math.conj(diagonals[2])  # at R2's output
    g7 = g_moved * tf.math.conj(diagonals[2])
    a6 = _reflect(a7, vectors[1], scaled[1])
    return (_phase_gradient(g1, a1), _phase_gradient(g5, a5), _phase_gradient(g_moved, moved),
            _reflection_gradient(g3, a2, vectors[0]), _reflection_gradient(g7, a6, vectors[1]))
