"""Complex-valued building blocks of the unitary-evolution RNN, on (real, imag) pairs of tensors.

`keras.ops` has no complex dtype that every backend supports, so a complex vector z is carried as
two real tensors `(re, im)` whose last axis indexes the n complex units. Every function here maps
such a pair (any leading batch axes) to another pair and is exactly unitary, except `mod_relu`.
"""

import math

from keras import ops


def unitary_fft(re, im):
    """F z with the unitary scaling 1/√n, so that ‖F z‖ = ‖z‖.

    `keras.ops.fft` is the unnormalised DFT; scaling only one side of the F, F⁻¹ pair (the usual
    numpy convention) leaves every singular value of W at 1/√n and the state decays.
    """
    scale = 1.0 / math.sqrt(re.shape[-1])
    fre, fim = ops.fft((re, im))
    return fre * scale, fim * scale


def unitary_ifft(re, im):
    """F⁻¹ z, from the forward transform: F⁻¹ = Fᴴ = conj(F) for the symmetric unitary DFT.

    `keras.ops` has no 1-D inverse FFT on every backend, and conj(F conj(z)) = conj(F) z needs none.
    """
    fre, fim = unitary_fft(re, -im)
    return fre, -fim


def phase_rotation(re, im, theta):
    """D z = diag(exp(i θ)) z: rotates each unit by its own angle θ_j."""
    cos, sin = ops.cos(theta), ops.sin(theta)
    return re * cos - im * sin, re * sin + im * cos


def reflection(re, im, v_re, v_im):
    """R z = (I − 2 v vᴴ / ‖v‖²) z, the complex Householder reflection about v (scale-free in v)."""
    squared_norm = ops.sum(v_re * v_re + v_im * v_im)
    # vᴴ z = Σ conj(v_j) z_j, one complex number per row.
    dot_re = ops.sum(v_re * re + v_im * im, axis=-1, keepdims=True)
    dot_im = ops.sum(v_re * im - v_im * re, axis=-1, keepdims=True)
    scale = 2.0 / squared_norm
    return (
        re - scale * (v_re * dot_re - v_im * dot_im),
        im - scale * (v_re * dot_im + v_im * dot_re),
    )


def permutation(re, im, indices):
    """Π z with (Π z)_j = z_{indices[j]}; the same permutation for both halves keeps Π unitary."""
    return ops.take(re, indices, axis=-1), ops.take(im, indices, axis=-1)


def mod_relu(re, im, bias, epsilon):
    """modReLU(z) = ReLU(|z| + b) · z / |z|, with |z| = √(re² + im² + ε).

    Keeps each unit's phase and shifts its modulus by a learned bias b. The ε sits inside the
    square root because the gradient of √(re² + im²) at 0 is NaN, and exact zeros happen (a zero
    state, masked steps). With b = 0 the map is the identity, so the cell is an exact isometry.
    """
    modulus = ops.sqrt(re * re + im * im + epsilon)
    scale = ops.relu(modulus + bias) / modulus
    return re * scale, im * scale
