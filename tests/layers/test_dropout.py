"""Dropout inside keras.layers.RNN: one mask per sequence, fresh per call, off at inference."""

import keras
import numpy as np
import pytest

from kerasrnn.layers import TextbookGRUCell, TextbookLSTMCell, URNNCell, VanillaRNNCell
from tests.layers.conftest import to_numpy


def _identity_vanilla(units, **dropout):
    """A vanilla cell whose output is exactly its (dropped-out) input: W_x = I, W_h = 0, linear."""
    cell = VanillaRNNCell(units, activation="linear", use_bias=False, seed=3, **dropout)
    cell.build((None, units))
    cell.set_weights([np.eye(units, dtype="float32"), np.zeros((units, units), "float32")])
    return cell


def test_input_dropout_mask_is_the_same_for_every_step_and_new_each_call():
    layer = keras.layers.RNN(_identity_vanilla(64, dropout=0.5), return_sequences=True)
    x = np.ones((2, 6, 64), "float32")
    first = to_numpy(layer(x, training=True))
    second = to_numpy(layer(x, training=True))
    kept = first[:, 0] != 0
    assert 0.3 < kept.mean() < 0.7
    for t in range(1, 6):
        np.testing.assert_array_equal(first[:, t], first[:, 0])  # variational: one mask per sequence
    np.testing.assert_allclose(first[kept[:, None, :].repeat(6, axis=1)], 2.0)  # scaled by 1/(1 − p)
    assert not np.array_equal(first, second)  # the mask was reset after the call
    np.testing.assert_array_equal(to_numpy(layer(x, training=False)), x)


def test_recurrent_dropout_mask_is_fixed_per_sequence():
    """W_h = W_x = I, x = 1, p = 0.5: h_t = 1 + 2 h_{t−1} (1, 3, 7, 15) where kept, 1 where dropped."""
    units = 64
    cell = VanillaRNNCell(units, activation="linear", use_bias=False, recurrent_dropout=0.5, seed=5)
    cell.build((None, units))
    cell.set_weights([np.eye(units, dtype="float32"), np.eye(units, dtype="float32")])
    out = to_numpy(keras.layers.RNN(cell, return_sequences=True)(np.ones((1, 4, units), "float32"), training=True))
    kept = out[0, 1] > 1.5
    assert 0.3 < kept.mean() < 0.7
    np.testing.assert_allclose(out[0, :, kept], np.tile([1.0, 3.0, 7.0, 15.0], (kept.sum(), 1)), atol=1e-5)
    np.testing.assert_allclose(out[0, :, ~kept], 1.0)


@pytest.mark.parametrize(
    "cell",
    [TextbookGRUCell(8, dropout=0.4, recurrent_dropout=0.4, seed=1),
     TextbookLSTMCell(8, dropout=0.4, recurrent_dropout=0.4, seed=1),
     URNNCell(8, dropout=0.4, seed=1)],
    ids=lambda c: type(c).__name__,
)
def test_dropout_changes_training_outputs_only(cell, rng):
    layer = keras.layers.RNN(cell)
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    inference = to_numpy(layer(x))
    np.testing.assert_array_equal(to_numpy(layer(x, training=False)), inference)
    assert np.abs(to_numpy(layer(x, training=True)) - inference).max() > 1e-3
