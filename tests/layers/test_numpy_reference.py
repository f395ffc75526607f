"""Each dense cell against the lecture's equations in NumPy: one step, a sequence, and pasted values."""

import keras
import numpy as np
import pytest

from kerasrnn.layers import TextbookGRUCell, TextbookLSTMCell, VanillaRNNCell
from tests.layers import numpy_reference as ref
from tests.layers.conftest import to_numpy

BATCH, STEPS, INPUT_DIM, UNITS = 2, 5, 3, 4

# Final h of the NumPy reference for the inputs and weights of `_case` (float64, printed once and
# pasted): a regression check that does not depend on the reference staying correct.
GOLDEN_FINAL_H = {
    "vanilla": [[-0.462735, 0.332594, 0.240686, -0.102708], [-0.203511, 0.002537, 0.132286, -0.768265]],
    "gru": [[-0.223185, -0.352988, 0.027927, -0.173977], [0.027553, -0.385287, -0.311662, -0.145262]],
    "lstm": [[0.211219, 0.136263, 0.094544, 0.117915], [0.230952, 0.1722, 0.131533, 0.075273]],
}
CELLS = {"vanilla": (VanillaRNNCell, 1, 1), "gru": (TextbookGRUCell, 3, 2), "lstm": (TextbookLSTMCell, 4, 3)}


def _case(name):
    cell_class, gates, seed = CELLS[name]
    x = np.random.default_rng(42).uniform(-1, 1, (BATCH, STEPS, INPUT_DIM))
    r = np.random.default_rng(seed)
    weights = [
        r.uniform(-0.5, 0.5, (INPUT_DIM, gates * UNITS)),
        r.uniform(-0.5, 0.5, (UNITS, gates * UNITS)),
        r.uniform(-0.5, 0.5, (gates * UNITS,)),
    ]
    cell = cell_class(UNITS)
    cell.build((None, INPUT_DIM))
    cell.set_weights([w.astype("float32") for w in weights])
    return cell, x, weights


def _reference_sequence(name, x, weights):
    h, c, outputs = np.zeros((BATCH, UNITS)), np.zeros((BATCH, UNITS)), []
    for t in range(x.shape[1]):
        if name == "vanilla":
            h = ref.vanilla_step(x[:, t], h, *weights)
        elif name == "gru":
            h = ref.gru_step(x[:, t], h, *weights)
        else:
            h, c = ref.lstm_step(x[:, t], h, c, *weights)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


@pytest.mark.parametrize("name", sorted(CELLS))
def test_one_step_matches_numpy(name):
    cell, x, weights = _case(name)
    rng = np.random.default_rng(0)
    h = rng.normal(size=(BATCH, UNITS))
    c = rng.normal(size=(BATCH, UNITS))
    states = [h.astype("float32")] + ([c.astype("float32")] if name == "lstm" else [])
    out, new_states = cell(x[:, 0].astype("float32"), states)
    if name == "vanilla":
        expected = ref.vanilla_step(x[:, 0], h, *weights)
    elif name == "gru":
        expected = ref.gru_step(x[:, 0], h, *weights)
    else:
        expected, expected_c = ref.lstm_step(x[:, 0], h, c, *weights)
        np.testing.assert_allclose(to_numpy(new_states[1]), expected_c, atol=1e-5)
    np.testing.assert_allclose(to_numpy(out), expected, atol=1e-5)
    np.testing.assert_allclose(to_numpy(new_states[0]), expected, atol=1e-5)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_sequence_matches_numpy_and_golden_values(name):
    cell, x, weights = _case(name)
    outputs = keras.layers.RNN(cell, return_sequences=True)(x.astype("float32"))
    expected_outputs, expected_h, _ = _reference_sequence(name, x, weights)
    np.testing.assert_allclose(to_numpy(outputs), expected_outputs, atol=1e-5)
    np.testing.assert_allclose(to_numpy(outputs)[:, -1], GOLDEN_FINAL_H[name], atol=2e-6)
    np.testing.assert_allclose(expected_h, GOLDEN_FINAL_H[name], atol=1e-6)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_stepping_by_hand_equals_rnn_layer(name):
    """Calling the cell T times, carrying the states, equals keras.layers.RNN(cell)."""
    cell, x, _ = _case(name)
    x = x.astype("float32")
    rnn_out = keras.layers.RNN(cell, return_state=True)(x)
    states = [np.zeros((BATCH, UNITS), "float32") for _ in np.atleast_1d(cell.state_size)]
    for t in range(STEPS):
        out, states = cell(x[:, t], states)
    np.testing.assert_allclose(to_numpy(out), to_numpy(rnn_out[0]), atol=1e-6)
    for mine, theirs in zip(states, rnn_out[1:]):
        np.testing.assert_allclose(to_numpy(mine), to_numpy(theirs), atol=1e-6)
