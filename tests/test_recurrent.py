"""The name → recurrent layer registry: every name builds a working layer, unknown names fail."""

import numpy as np
import pytest

from kerasrnn.errors import UserInputError
from kerasrnn.recurrent import CELL_NAMES, make_recurrent_layer, recurrent_output_size

BATCH, TIME, FEATURES, UNITS = 2, 4, 3, 5


def test_the_seven_names():
    assert CELL_NAMES == (
        "vanilla", "gru", "lstm", "urnn", "keras-gru", "keras-lstm", "keras-simplernn"
    )


@pytest.mark.parametrize("cell_name", CELL_NAMES)
def test_every_name_builds_a_layer_of_the_right_output_size(cell_name):
    layer = make_recurrent_layer(cell_name, UNITS, return_sequences=True, seed=1, name="rnn")
    x = np.random.default_rng(0).normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    y = np.asarray(layer(x))
    size = 2 * UNITS if cell_name == "urnn" else UNITS
    assert recurrent_output_size(cell_name, UNITS) == size
    assert y.shape == (BATCH, TIME, size)
    assert np.all(np.isfinite(y))
    assert layer.name == "rnn"


@pytest.mark.parametrize("cell_name", CELL_NAMES)
def test_return_state_gives_states_like_get_initial_state(cell_name):
    layer = make_recurrent_layer(cell_name, UNITS, return_sequences=False, return_state=True, seed=1)
    x = np.ones((BATCH, TIME, FEATURES), "float32")
    output, *states = layer(x)
    initial = layer.get_initial_state(BATCH)
    assert output.shape == (BATCH, recurrent_output_size(cell_name, UNITS))
    assert len(states) == len(initial) == (2 if cell_name.endswith("lstm") else 1)
    for state, start in zip(states, initial):
        assert state.shape == start.shape
    # Feeding the final states back in continues the sequence: two halves equal the whole.
    whole = make_recurrent_layer(cell_name, UNITS, return_sequences=True, return_state=True, seed=1)
    first_output, *first_states = whole(x[:, :2])
    second_output, *_ = whole(x[:, 2:], initial_state=first_states)
    all_outputs, *_ = whole(x)
    np.testing.assert_allclose(np.asarray(all_outputs[:, 2:]), np.asarray(second_output), atol=1e-5)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(UserInputError, match="unknown cell 'transformer'.*vanilla, gru, lstm, urnn"):
        make_recurrent_layer("transformer", UNITS, return_sequences=True)


@pytest.mark.parametrize("units", [0, -3, 2.5, True])
def test_bad_units(units):
    with pytest.raises(UserInputError, match="units must be a positive integer"):
        make_recurrent_layer("gru", units, return_sequences=True)


def test_urnn_has_no_recurrent_dropout():
    with pytest.raises(UserInputError, match="no recurrent dropout"):
        make_recurrent_layer("urnn", UNITS, return_sequences=True, recurrent_dropout=0.1)


def test_dropout_out_of_range():
    with pytest.raises(UserInputError, match=r"dropout must be in \[0, 1\)"):
        make_recurrent_layer("lstm", UNITS, return_sequences=True, dropout=1.0)


def test_keras_layers_keep_their_cudnn_arguments():
    """cuDNN needs recurrent_dropout 0, tanh/sigmoid and no unroll: the registry passes no others."""
    layer = make_recurrent_layer("keras-lstm", UNITS, return_sequences=True, dropout=0.2)
    config = layer.get_config()
    assert config["recurrent_dropout"] == 0
    assert config["activation"] == "tanh" and config["recurrent_activation"] == "sigmoid"
    assert config["unroll"] is False and config["use_bias"] is True
    assert layer.use_cudnn == "auto"
