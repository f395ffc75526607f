"""Helpers for the layer tests: seeded asymmetric weights and numpy conversion."""

import keras
import numpy as np
import pytest

if keras.backend.backend() == "torch":
    import torch

    # PyTorch lets cuDNN compute in TF32 by default, so Keras's own LSTM on a GPU (cuDNN) is only
    # good to about 1e-4, and the 1e-5 equivalence tests would measure that, not our cells. Seen on
    # an H100 (KERAS_BACKEND=torch): with TF32 off every layer test passes. No effect on a CPU.
    torch.backends.cudnn.allow_tf32 = False


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def randomize_weights(layer, seed):
    """Gives every float weight of `layer` distinct seeded values in [-0.5, 0.5].

    Constant weights make every gate identical, so a swapped z/r or i/f would still pass.
    """
    rng = np.random.default_rng(seed)
    for weight in layer.weights:
        if "int" in str(weight.dtype):
            continue
        weight.assign(rng.uniform(-0.5, 0.5, size=weight.shape).astype("float32"))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def gradients(loss_fn, variables):
    """d loss_fn() / d variables as numpy arrays, on the active Keras backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn()
        grads = tape.gradient(loss, [v.value for v in variables])
        return [np.zeros(v.shape) if g is None else to_numpy(g) for v, g in zip(variables, grads)]
    if backend == "torch":
        import torch

        loss = loss_fn()
        grads = torch.autograd.grad(loss, [v.value for v in variables], allow_unused=True)
        return [np.zeros(v.shape) if g is None else to_numpy(g) for v, g in zip(variables, grads)]
    pytest.skip(f"no gradient helper for the {backend} backend")
