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


def test_lstm_is_textbook_lstm_with_cudnn_arguments():
    """`lstm` builds `TextbookLSTM`, which takes cuDNN on a GPU where `keras.layers.LSTM` would."""
    from kerasrnn.layers import TextbookLSTM

    layer = make_recurrent_layer("lstm", UNITS, return_sequences=True, dropout=0.2, seed=3, name="rnn")
    assert type(layer) is TextbookLSTM
    config = layer.get_config()
    assert config["use_cudnn"] == "auto" and config["recurrent_dropout"] == 0
    assert config["activation"] == "tanh" and config["recurrent_activation"] == "sigmoid"
    assert config["unroll"] is False and config["use_bias"] is True
    assert config["dropout"] == 0.2 and config["seed"] == 3


# --- runs saved with the LSTM layer before it was TextbookLSTM -----------------------------------


def old_lstm_layer(units, *, dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences, return_state=False,
                   name=None):
    """What `make_recurrent_layer("lstm", ...)` built before `TextbookLSTM`, verbatim."""
    import keras

    from kerasrnn.layers import TextbookLSTMCell

    rates = dict(dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed)
    return keras.layers.RNN(TextbookLSTMCell(units, **rates), return_sequences=return_sequences,
                            return_state=return_state, name=name)


def char_lm_config():
    from kerasrnn.tasks.charlm.task import CharLMConfig

    return CharLMConfig(cell="lstm", units=6, layers=2, residual=True, dropout=0.0, embedding_dim=4,
                        carry_state=True)


def char_lm(old: bool, monkeypatch):
    """A compiled two-layer character LM that carries its state, built by the task's own builder
    with the LSTM layer of before (`old`) or of now."""
    import keras

    from kerasrnn import layers
    from kerasrnn.tasks.charlm.model import build_char_lm, loss_function

    with monkeypatch.context() as patch:
        if old:
            patch.setattr(layers, "TextbookLSTM", old_lstm_layer)
        keras.utils.set_random_seed(4)
        model = build_char_lm(char_lm_config(), 9, seed=4, rows=RUN_ROWS)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss_function())
    return model


RUN_ROWS, RUN_STEPS = 3, 7


def run_batches(seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(2, 9, size=(RUN_ROWS, RUN_STEPS + 1)).astype("int32")
    ids[0, 0] = 1  # one row starts a text ([BOS]): its carried state resets
    return ids[:, :-1], ids[:, 1:]


def train_steps(model, seeds):
    for seed in seeds:
        model.train_on_batch(*run_batches(seed))


@pytest.mark.parametrize("saved_old", [True, False], ids=["old-to-new", "new-to-old"])
def test_a_run_saved_with_either_lstm_layer_loads_and_resumes_with_the_other(tmp_path, monkeypatch, saved_old):
    """The run's two files: `backup/state.npz` resumes into the other layer with the same weights,
    optimizer and carried states, and continues as the saved model does; `model.keras` loads."""
    from kerasrnn.engine import backup
    from kerasrnn.engine import run_dir as run_files
    from kerasrnn.engine.train_config import TrainConfig
    from kerasrnn.layers import TextbookLSTM

    saved = char_lm(saved_old, monkeypatch)
    train_steps(saved, seeds=[1, 2])
    run_files.save_config(tmp_path, "charlm", char_lm_config(), TrainConfig())
    saved.save(tmp_path / run_files.MODEL_FILE)  # as BestModelCheckpoint does
    backup.save_state(tmp_path, saved, epochs=1)

    resumed = char_lm(not saved_old, monkeypatch)
    recurrent = resumed.get_layer("recurrent_1").layer
    assert isinstance(recurrent, TextbookLSTM) is saved_old
    assert backup.restore_state(tmp_path, resumed) == 1
    for a, b in zip(saved.variables, resumed.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert int(resumed.optimizer.iterations) == int(saved.optimizer.iterations) == 2
    x, _ = run_batches(3)
    saved_outputs = np.asarray(saved(x))
    np.testing.assert_allclose(np.asarray(resumed(x)), saved_outputs, atol=1e-6)

    train_steps(saved, seeds=[3, 4])
    train_steps(resumed, seeds=[3, 4])
    for a, b in zip(saved.variables, resumed.variables, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)
    carried = resumed.get_layer("recurrent_1").carried[1]
    assert np.abs(np.asarray(carried)).max() > 0.01  # the cell state was carried: not a vacuous match

    loaded = run_files.load_best_model(tmp_path, "lstm")
    assert isinstance(loaded.get_layer("recurrent_1").layer, TextbookLSTM) is not saved_old
    np.testing.assert_allclose(np.asarray(loaded(x)), saved_outputs, atol=1e-6)


@pytest.mark.parametrize("saved_old", [True, False], ids=["old-to-new", "new-to-old"])
def test_weights_move_between_the_lstm_layers_in_order(monkeypatch, saved_old):
    """`set_weights(get_weights())` moves them. (`load_weights` of a `.weights.h5` file does not: Keras
    files the layer's weights under its class name, `rnn` then, `textbook_lstm` now.)"""
    source, target = char_lm(saved_old, monkeypatch), char_lm(not saved_old, monkeypatch)
    train_steps(source, seeds=[5])
    target.set_weights(source.get_weights())
    x, _ = run_batches(6)
    assert np.abs(np.asarray(target(x)) - np.asarray(char_lm(not saved_old, monkeypatch)(x))).max() > 1e-3
    np.testing.assert_allclose(np.asarray(target(x)), np.asarray(source(x)), atol=1e-6)
