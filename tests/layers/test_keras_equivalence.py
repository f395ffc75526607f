"""The custom vanilla, GRU and LSTM cells equal Keras's built-in layers with the same weights."""

import keras
import numpy as np
import pytest

from kerasrnn.layers import TextbookGRUCell, TextbookLSTMCell, VanillaRNNCell
from tests.layers.conftest import randomize_weights, to_numpy

CASES = {
    "vanilla-tanh": (lambda u: VanillaRNNCell(u), lambda u, **kw: keras.layers.SimpleRNN(u, **kw), 1),
    "vanilla-relu": (
        lambda u: VanillaRNNCell(u, activation="relu"),
        lambda u, **kw: keras.layers.SimpleRNN(u, activation="relu", **kw),
        1,
    ),
    "gru": (lambda u: TextbookGRUCell(u), lambda u, **kw: keras.layers.GRU(u, reset_after=False, **kw), 1),
    "lstm": (lambda u: TextbookLSTMCell(u), lambda u, **kw: keras.layers.LSTM(u, **kw), 2),
}


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("name", sorted(CASES))
def test_equals_keras_layer_with_same_weights(name, go_backwards, rng):
    make_cell, make_keras, n_states = CASES[name]
    batch, steps, input_dim, units = 3, 7, 5, 4  # input size != units catches transposed kernels
    x = rng.normal(size=(batch, steps, input_dim)).astype("float32")
    initial = [rng.normal(size=(batch, units)).astype("float32") for _ in range(n_states)]
    kwargs = dict(return_sequences=True, return_state=True, go_backwards=go_backwards)
    ours = keras.layers.RNN(make_cell(units), **kwargs)
    theirs = make_keras(units, **kwargs)
    ours(x, initial_state=initial)
    theirs(x, initial_state=initial)
    randomize_weights(theirs, seed=0)
    ours.set_weights(theirs.get_weights())

    ours_out = [to_numpy(t) for t in ours(x, initial_state=initial)]
    theirs_out = [to_numpy(t) for t in theirs(x, initial_state=initial)]

    assert len(ours_out) == len(theirs_out) == 1 + n_states
    for a, b in zip(ours_out, theirs_out):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # The comparison must not be vacuous: the states moved away from where they started.
    assert np.abs(ours_out[1] - initial[0]).max() > 0.1


def test_weights_copy_back_into_keras_layer(rng):
    """The documented layout works both ways: our GRU weights load into keras.layers.GRU."""
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    ours = keras.layers.RNN(TextbookGRUCell(6))
    theirs = keras.layers.GRU(6, reset_after=False)
    ours(x)
    theirs(x)
    randomize_weights(ours, seed=5)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(to_numpy(ours(x)), to_numpy(theirs(x)), atol=1e-5)
