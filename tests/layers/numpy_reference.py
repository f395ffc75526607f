"""The lecture's equations in plain NumPy (float64), written independently of the Keras layers.

Weights follow the layers' documented layout, rows as vectors: x @ kernel.
"""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0.0)


def vanilla_step(x, h, kernel, recurrent_kernel, bias, activation=np.tanh):
    return activation(x @ kernel + h @ recurrent_kernel + bias)


def gru_step(x, h, kernel, recurrent_kernel, bias):
    n = h.shape[-1]
    w_z, w_r, w = kernel[:, :n], kernel[:, n : 2 * n], kernel[:, 2 * n :]
    u_z, u_r, u = recurrent_kernel[:, :n], recurrent_kernel[:, n : 2 * n], recurrent_kernel[:, 2 * n :]
    b_z, b_r, b = bias[:n], bias[n : 2 * n], bias[2 * n :]
    z = sigmoid(x @ w_z + h @ u_z + b_z)
    r = sigmoid(x @ w_r + h @ u_r + b_r)
    candidate = np.tanh(x @ w + (r * h) @ u + b)
    return z * h + (1 - z) * candidate


def lstm_step(x, h, c, kernel, recurrent_kernel, bias):
    n = h.shape[-1]
    pre = x @ kernel + h @ recurrent_kernel + bias
    i, f, g, o = (pre[:, k * n : (k + 1) * n] for k in range(4))
    c_next = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_next), c_next


def urnn_matrix(phases, reflections, permutation):
    """W = D3 R2 F⁻¹ D2 Π R1 F D1 as an n × n complex matrix, from REFERENCE.md §1."""
    n = len(permutation)
    eye = np.eye(n)
    diag = [np.diag(np.exp(1j * w)) for w in phases]
    refl = []
    for v in reflections:
        v = v[0] + 1j * v[1]
        refl.append(eye - 2 * np.outer(v, v.conj()) / np.vdot(v, v).real)
    fourier = np.fft.fft(eye, axis=0, norm="ortho")
    inverse_fourier = np.fft.ifft(eye, axis=0, norm="ortho")
    pi = eye[permutation]
    return diag[2] @ refl[1] @ inverse_fourier @ diag[1] @ pi @ refl[0] @ fourier @ diag[0]


def urnn_step(x, h, w, kernel, bias, epsilon):
    """h: complex (batch, n); returns modReLU(W h + V x) as complex (batch, n)."""
    n = h.shape[-1]
    vx = x @ kernel
    z = h @ w.T + vx[:, :n] + 1j * vx[:, n:]
    modulus = np.sqrt(np.abs(z) ** 2 + epsilon)
    return relu(modulus + bias) / modulus * z
