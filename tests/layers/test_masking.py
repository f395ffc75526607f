"""Masked, right-padded batches give the same final state as the unpadded sequences."""

import keras
import numpy as np
import pytest

from tests.layers.cells import CELL_FACTORIES
from tests.layers.conftest import randomize_weights, to_numpy


@pytest.mark.parametrize("name", sorted(CELL_FACTORIES))
def test_right_padded_batch_equals_unpadded_sequences(name, rng):
    lengths = [7, 4, 1]
    padded = np.zeros((len(lengths), max(lengths), 3), "float32")
    for row, length in enumerate(lengths):
        padded[row, :length] = rng.normal(size=(length, 3))
    padded[1, 4:] = 9.0  # junk in the padding must be ignored, not just zeros
    mask = np.arange(max(lengths))[None, :] < np.array(lengths)[:, None]

    layer = keras.layers.RNN(CELL_FACTORIES[name](5), return_state=True)
    layer(padded)
    randomize_weights(layer, seed=4)
    masked_states = [to_numpy(s) for s in layer(padded, mask=mask)[1:]]

    for row, length in enumerate(lengths):
        alone = [to_numpy(s) for s in layer(padded[row : row + 1, :length])[1:]]
        for batch_state, single_state in zip(masked_states, alone):
            np.testing.assert_allclose(batch_state[row : row + 1], single_state, atol=1e-5)
    # The padding would have changed the state had it not been masked.
    unmasked = to_numpy(layer(padded)[1])
    assert np.abs(unmasked[1] - masked_states[0][1]).max() > 1e-3


@pytest.mark.parametrize("name", sorted(CELL_FACTORIES))
def test_embedding_mask_reaches_the_cell(name):
    """mask_zero=True on an Embedding masks the recurrence inside a model, as users will write it."""
    keras.utils.set_random_seed(0)  # a draw that depends on the tests run before could leave relu all 0
    ids = np.array([[3, 1, 2, 0, 0], [3, 1, 2, 4, 4]])
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(6, 4, mask_zero=True)(inputs)
    model = keras.Model(inputs, keras.layers.RNN(CELL_FACTORIES[name](5))(embedded))
    out = to_numpy(model(ids))
    shorter = to_numpy(model(ids[:1, :3]))
    np.testing.assert_allclose(out[:1], shorter, atol=1e-5)
    assert np.abs(out[0] - out[1]).max() > 1e-4
