"""TensorFlow-only fast path of the uRNN: its FFT recurrence as one op with a hand-written gradient.

`URNN` uses `urnn_sequence` on the TensorFlow backend when a call allows it (see `URNN`'s `fused`
argument); `tests/layers/test_urnn_fused.py` compares it with the generic `keras.ops` cell, values
and gradients. The dense cells' fast path is `kerasrnn.layers.fused_tf`.

As there, the compiled loops see the sequence padded on its time axis to a bucket length
(`fused_tf.bucket_length`) and run its true length, a runtime tensor: XLA compiles once per shape,
so once per bucket instead of once per length (see `fused_tf`'s docstring); the padded steps are
never read by a loop and are sliced off the results.
"""

import os

import tensorflow as tf
from tensorflow.compiler.tf2xla.python import xla

from kerasrnn.layers.fused_tf import pad_to_bucket, scan


def _complex(pair):
    """`[Re | Im]` on the last axis → one complex tensor."""
    re, im = tf.split(pair, 2, axis=-1)
    return tf.complex(re, im)


def _pair(z):
    """A complex tensor → `[Re | Im]` on the last axis."""
    return tf.concat([tf.math.real(z), tf.math.imag(z)], axis=-1)


def urnn_sequence(projected, h0, phases, reflections, permutation, bias, epsilon):
    """The uRNN's FFT recurrence with modReLU over a sequence; `(outputs, h_T)`, states `[Re h | Im h]`.

    h_t = modReLU(W h_{t−1} + V x_t), W = D3 R2 F⁻¹ D2 Π R1 F D1 (see `URNNCell`), here on complex
    tensors; `projected` (V x_t for every step) and the outputs are batch-major `(batch, time, 2n)`.
    The backward loop applies Wᴴ = D1ᴴ F⁻¹ R1 Πᵀ D2ᴴ F R2 D3ᴴ to the state gradient, one O(n log n)
    chain per step like the forward loop, and accumulates the gradients of the phases and reflections
    in the same loop (see `_urnn_backward`): every pass over the whole sequence outside the loops
    costs about as much as a tenth of a loop, so there are none. Both loops are compiled with XLA:
    a step is a few dozen tiny ops, whose dispatch would cost more than their arithmetic (measured:
    1.4 ms a step at n = 128 without XLA).

    Args:
        projected: `(batch, time, 2n)` float32, V x_t as `[Re | Im]`.
        h0: `(batch, 2n)` initial state `[Re | Im]`.
        phases: θ1, θ2, θ3, each `(n,)`.
        reflections: v1, v2, each `(2, n)` rows `[Re v; Im v]`.
        permutation: `(n,)` int32, Π.
        bias: `(n,)`, modReLU's b.
        epsilon: ε inside modReLU's modulus.

    Returns:
        `(outputs, h_T)`: `(batch, time, 2n)` and `(batch, 2n)`.
    """
    weights = [*phases, *reflections]
    sizes = _batch_parts(projected.shape[0])
    # A tensor, not the layer's variable: a compiled function traced for one layer is reused by every
    # layer of the same shapes, and a variable it captured would be gone with the first layer
    # ("Called a function referencing variables which have been deleted").
    permutation = tf.convert_to_tensor(permutation)

    @tf.custom_gradient
    def forward(projected, h0, theta1, theta2, theta3, v1, v2, bias):
        # stop_gradient: no tape records the compiled loop itself (its gradient is `gradient` below,
        # and TensorFlow cannot differentiate through an XLA TensorList boundary).
        frozen = [tf.stop_gradient(w) for w in (projected, h0, theta1, theta2, theta3, v1, v2, bias)]
        padded, length = pad_to_bucket(frozen[0], axis=1)
        # Rows are independent: one loop per part of the batch, which TensorFlow runs concurrently
        # (the loops themselves use one core each).
        pieces = list(zip(tf.split(padded, sizes), tf.split(frozen[1], sizes)))
        results = [_urnn_forward(p, length, h, frozen[2:7], permutation, frozen[7], epsilon) for p, h in pieces]
        outputs = tf.concat([r[0] for r in results], axis=0)[:, :length]
        h = tf.concat([r[1] for r in results], axis=0)

        def gradient(d_outputs, d_h):
            d_outputs = tf.zeros_like(outputs) if d_outputs is None else d_outputs
            d_h = tf.zeros_like(h0) if d_h is None else d_h
            d_outputs = pad_to_bucket(d_outputs, axis=1)[0]
            grads = [_urnn_backward(d_o, length, d_s, h_0, p, r[2], frozen[2:7], permutation, frozen[7], epsilon)
                     for d_o, d_s, (p, h_0), r in zip(tf.split(d_outputs, sizes), tf.split(d_h, sizes), pieces,
                                                       results)]
            return (tf.concat([g[0] for g in grads], axis=0)[:, :length], tf.concat([g[1] for g in grads], axis=0),
                    *[tf.add_n([g[k] for g in grads]) for k in range(2, 8)])

        return (outputs, h), gradient

    return forward(projected, h0, *weights, bias)


# Fewest rows per part when the batch is split across cores: below it a loop step is mostly overhead.
MIN_ROWS_PER_PART = 16


def _batch_parts(batch):
    """Sizes of the parts of the batch run concurrently: one per inter-op thread, `[batch]` if unknown."""
    threads = tf.config.threading.get_inter_op_parallelism_threads() or os.cpu_count() or 1
    if batch is None:
        return [-1]
    count = max(1, min(threads, batch // MIN_ROWS_PER_PART))
    return [batch // count + (1 if k < batch % count else 0) for k in range(count)]


def _chain_parts(theta1, theta2, theta3, v1, v2):
    """exp(iθ_k) of the three diagonals, the two reflection vectors v_k and 2 / ‖v_k‖²."""
    diagonals = [tf.exp(tf.complex(tf.zeros_like(t), t)) for t in (theta1, theta2, theta3)]
    vectors = [tf.complex(v[0], v[1]) for v in (v1, v2)]
    scales = [2.0 / tf.reduce_sum(v[0] ** 2 + v[1] ** 2) for v in (v1, v2)]
    return diagonals, vectors, scales


def _reflect(z, v, scale):
    """(I − s v vᴴ) z for rows z, and vᴴ z per row `(rows, 1)`."""
    dot = tf.reduce_sum(z * tf.math.conj(v), axis=-1, keepdims=True)
    return z - dot * tf.complex(scale, 0.0) * v, dot


# The unitary DFT pair is F = fft / √n and F⁻¹ = √n · ifft (TensorFlow's ifft divides by n). Between
# the two sit only linear maps, so the two scalings cancel in W and in Wᴴ: both use the bare pair.


def _apply_w(z, parts, permutation):
    diagonals, vectors, scales = parts
    z = _reflect(tf.signal.fft(z * diagonals[0]), vectors[0], scales[0])[0]
    z = tf.signal.ifft(tf.gather(z, permutation, axis=-1) * diagonals[1])
    return _reflect(z, vectors[1], scales[1])[0] * diagonals[2]


def _modulus(z, epsilon):
    return tf.sqrt(tf.math.real(z) ** 2 + tf.math.imag(z) ** 2 + epsilon)


def _mod_relu(z, bias, epsilon):
    modulus = _modulus(z, epsilon)
    return z * tf.complex(tf.nn.relu(modulus + bias) / modulus, 0.0)


def _step(sequence, t):
    """Step t of a batch-major sequence `(batch, time, features)`: a slice, no transpose."""
    return xla.dynamic_slice(sequence, [0, t, 0], [tf.shape(sequence)[0], 1, tf.shape(sequence)[2]])[:, 0]


def _write_step(sequence, t, value):
    """`sequence` with step t replaced by `value`, in place inside the compiled loop."""
    return xla.dynamic_update_slice(sequence, value[:, None], [0, t, 0])


@tf.function(jit_compile=True, reduce_retracing=True)
def _urnn_forward(projected, length, h0, weights, permutation, bias, epsilon):
    """Outputs, h_T and the pre-activations z of every step, for a `projected` padded to its bucket:
    `length` (T) steps run; the outputs past T are zeros, the pre-activations unset."""
    parts = _chain_parts(*weights)

    def body(t, state, arrays):
        h, outputs = state
        z = _apply_w(h, parts, permutation) + _complex(_step(projected, t))
        h = _mod_relu(z, bias, epsilon)
        return (h, _write_step(outputs, t, _pair(h))), [arrays[0].write(t, z)]

    (h, outputs), (zs,) = scan(body, length, (_complex(h0), tf.zeros_like(projected)), [tf.complex64],
                               size=tf.shape(projected)[1])
    return outputs, _pair(h), zs


@tf.function(jit_compile=True, reduce_retracing=True)
def _urnn_backward(d_outputs, length, d_h, h0, projected, zs, weights, permutation, bias, epsilon):
    """∂L/∂(projected, h0, θ1, θ2, θ3, v1, v2, bias) in one loop from t = T−1 down to 0.

    `d_outputs`, `projected` and `zs` are padded to the bucket, T is `length`; ∂L/∂projected has
    the bucket's size, zeros past T.

    Each step takes ∂L/∂z_t through Wᴴ = D1ᴴ F⁻¹ R1 Πᵀ D2ᴴ F R2 D3ᴴ, and the values inside the chain
    a_k from its output end, a = W h_{t−1} = z_t − V x_t, through the same inverse maps (stacked
    under the gradients, one batch of 2B rows), so the phase and reflection gradients are sums over
    the step's rows of products of a_k and ∂L/∂a_k, accumulated in the loop while the step's data
    are in cache. A step costs three FFTs of B rows.
    """
    units = tf.shape(zs)[-1]
    (d1, d2, d3), (v1, v2), (s1, s2) = _chain_parts(*weights)
    inverse_permutation = tf.math.invert_permutation(permutation)
    pre_activations = tf.TensorArray(tf.complex64, size=tf.shape(zs)[0]).unstack(zs)
    h0 = _complex(h0)

    def reflection_terms(dot, rows):
        # For R = I − s v vᴴ with input a, output adjoint g: c = vᴴ a = −vᴴ(R a) (R reverses v), and
        # p = gᴴ v = conj(vᴴ g). ∂L/∂v = Σ −s (c̄ g + p a) + s² Re(p c) v; returns Σ (c̄ g + p a), Σ Re(p c).
        a_dot, g_dot = tf.split(dot, 2, axis=0)
        a, g = rows
        c, p = -a_dot, tf.math.conj(g_dot)
        return (tf.reduce_sum(tf.math.conj(c) * g + p * a, axis=0), tf.reduce_sum(tf.math.real(p * c)))

    def phase_terms(a, g):
        return tf.reduce_sum(tf.math.imag(g * tf.math.conj(a)), axis=0)

    def backward_body(k, state, arrays):
        g, z, sums, g_zs = state
        t = length - 1 - k
        z_previous = pre_activations.read(tf.maximum(t - 1, 0))
        h_previous = tf.where(t > 0, _mod_relu(z_previous, bias, epsilon), h0)
        g = g + _complex(_step(d_outputs, t))
        modulus = _modulus(z, epsilon)
        active = tf.cast(modulus + bias > 0, modulus.dtype)
        shrink = tf.nn.relu(modulus + bias) / modulus
        along = tf.math.real(g * tf.math.conj(z)) / modulus  # ∂L/∂|z| before the shrink
        g_z = g * tf.complex(shrink, 0.0) + z * tf.complex(along * (active - shrink) / modulus, 0.0)
        moved = z - _complex(_step(projected, t))
        # Rows [a; g] from D3's input down to R1's output: a_7, a_6 = R2 a_7, a_5 = F a_6, ...
        stacked = tf.concat([moved, g_z], axis=0) * tf.math.conj(d3)
        after_r2, dot2 = _reflect(stacked, v2, s2)
        r2_terms = reflection_terms(dot2, (tf.split(after_r2, 2)[0], tf.split(stacked, 2)[1]))
        stacked = tf.signal.fft(after_r2)  # √n times F: its products get 1/n at the end
        theta2 = phase_terms(*tf.split(stacked, 2))
        stacked = tf.gather(stacked * tf.math.conj(d2), inverse_permutation, axis=-1)
        after_r1, dot1 = _reflect(stacked, v1, s1)
        r1_terms = reflection_terms(dot1, (tf.split(after_r1, 2)[0], tf.split(stacked, 2)[1]))
        g_previous = tf.signal.ifft(tf.split(after_r1, 2)[1]) * tf.math.conj(d1)
        sums = [
            sums[0] + phase_terms(h_previous, g_previous),
            sums[1] + theta2,
            sums[2] + phase_terms(moved, g_z),
            sums[3] + r1_terms[0], sums[4] + r1_terms[1],
            sums[5] + r2_terms[0], sums[6] + r2_terms[1],
            sums[7] + tf.reduce_sum(along * active, axis=0),
        ]
        return (g_previous, z_previous, sums, _write_step(g_zs, t, _pair(g_z))), arrays

    zeros = tf.zeros([units], tf.float32)
    complex_zeros = tf.zeros([units], tf.complex64)
    initial = (_complex(d_h), pre_activations.read(length - 1),
               [zeros, zeros, zeros, complex_zeros, 0.0, complex_zeros, 0.0, zeros], tf.zeros_like(projected))
    (g_h0, _, sums, g_zs), _ = scan(backward_body, length, initial, [], size=tf.shape(zs)[0])
    size = tf.cast(units, tf.float32)
    d_v1 = _reflection_gradient(v1, s1, sums[3] / tf.complex(size, 0.0), sums[4] / size)
    d_v2 = _reflection_gradient(v2, s2, sums[5], sums[6])
    return (g_zs, _pair(g_h0), sums[0], sums[1] / size, sums[2], d_v1, d_v2, sums[7])


def _reflection_gradient(v, scale, vector_sum, real_sum):
    """−s Σ (c̄ g + p a) + s² Σ Re(p c) v as the `(2, n)` gradient `[Re; Im]` of the weight."""
    grad = (tf.complex(-scale, 0.0) * vector_sum + tf.complex(scale * scale * real_sum, 0.0) * v)
    return tf.stack([tf.math.real(grad), tf.math.imag(grad)])
