"""Every cell survives get_config/from_config, .keras save/load and TensorFlow SavedModel export."""

import keras
import numpy as np
import pytest

from kerasrnn.layers import URNN, TextbookGRUCell, TextbookLSTMCell, URNNCell, VanillaRNNCell
from tests.layers.cells import CELL_FACTORIES
from tests.layers.conftest import randomize_weights, to_numpy


def _model(name):
    inputs = keras.Input((6, 3))
    if name == "urnn-layer":
        hidden = URNN(4, seed=5, return_sequences=True, name="rnn")(inputs)
    else:
        hidden = keras.layers.RNN(CELL_FACTORIES[name](4), return_sequences=True, name="rnn")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="readout")(hidden))
    randomize_weights(model, seed=8)
    return model


NAMES = sorted(CELL_FACTORIES) + ["urnn-layer"]


@pytest.mark.parametrize(
    "cell",
    [
        VanillaRNNCell(3, activation="relu", dropout=0.1, recurrent_dropout=0.2, seed=4),
        TextbookGRUCell(3, recurrent_activation="hard_sigmoid", use_bias=False, seed=1),
        TextbookLSTMCell(3, unit_forget_bias=False, kernel_initializer="he_normal"),
        URNNCell(3, implementation="fft", epsilon=1e-4, dropout=0.3, seed=9),
    ],
    ids=lambda c: type(c).__name__,
)
def test_config_round_trip_keeps_every_argument(cell):
    config = cell.get_config()
    clone = type(cell).from_config(config)
    assert clone.get_config() == config


def test_urnn_layer_config_round_trip():
    layer = URNN(7, implementation="fft", dropout=0.2, seed=3, return_sequences=True, go_backwards=True)
    config = layer.get_config()
    clone = URNN.from_config(config)
    assert clone.get_config() == config
    assert clone.cell.implementation == "fft" and clone.go_backwards


@pytest.mark.parametrize("name", NAMES)
def test_model_from_config_with_same_weights_predicts_the_same(name, rng):
    model = _model(name)
    x = rng.normal(size=(2, 6, 3)).astype("float32")
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(to_numpy(clone(x)), to_numpy(model(x)), atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_keras_file_round_trip(name, tmp_path, rng):
    model = _model(name)
    x = rng.normal(size=(2, 6, 3)).astype("float32")
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), atol=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModel export needs TensorFlow")
@pytest.mark.parametrize("name", NAMES)
def test_saved_model_export_reloads_with_tensorflow_alone(name, tmp_path, rng):
    import tensorflow as tf

    model = _model(name)
    x = rng.normal(size=(2, 6, 3)).astype("float32")
    model.export(str(tmp_path / "saved"), format="tf_saved_model", verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "saved"))
    np.testing.assert_allclose(reloaded.serve(x).numpy(), to_numpy(model(x)), atol=1e-5)
