"""The layers VanillaRNN, TextbookGRU and TextbookLSTM equal Keras's layers, values and gradients.

On TensorFlow they run the fused whole-sequence function (`kerasrnn.layers.fused_tf`, hand-written
gradient) unless `fused=False` or the call needs the generic path (a mask); both paths are tested.
"""

import keras
import numpy as np
import pytest

from kerasrnn.layers import TextbookGRU, TextbookLSTM, VanillaRNN
from tests.layers.conftest import gradients, randomize_weights, to_numpy

CASES = {
    "vanilla-tanh": (lambda u, **kw: VanillaRNN(u, **kw), lambda u, **kw: keras.layers.SimpleRNN(u, **kw), 1),
    "vanilla-relu": (lambda u, **kw: VanillaRNN(u, activation="relu", **kw),
                     lambda u, **kw: keras.layers.SimpleRNN(u, activation="relu", **kw), 1),
    "gru": (lambda u, **kw: TextbookGRU(u, **kw), lambda u, **kw: keras.layers.GRU(u, reset_after=False, **kw), 1),
    "lstm": (lambda u, **kw: TextbookLSTM(u, **kw), lambda u, **kw: keras.layers.LSTM(u, **kw), 2),
}
ON_TENSORFLOW = keras.backend.backend() == "tensorflow"


def _pair(name, fused, go_backwards, rng, units=4, input_dim=5):
    make_ours, make_keras, n_states = CASES[name]
    x = rng.normal(size=(3, 7, input_dim)).astype("float32")
    initial = [rng.normal(size=(3, units)).astype("float32") for _ in range(n_states)]
    kwargs = dict(return_sequences=True, return_state=True, go_backwards=go_backwards)
    ours, theirs = make_ours(units, fused=fused, **kwargs), make_keras(units, **kwargs)
    ours(x, initial_state=initial)
    theirs(x, initial_state=initial)
    randomize_weights(theirs, seed=0)
    ours.set_weights(theirs.get_weights())
    return ours, theirs, x, initial


def _loss(layer, x, initial):
    """A loss that weighs every output step and every final state differently."""
    x = keras.ops.convert_to_tensor(x)
    outputs = layer(x, initial_state=[keras.ops.convert_to_tensor(s) for s in initial])
    weights = keras.ops.arange(1, 1 + outputs[0].shape[-1], dtype="float32")
    loss = keras.ops.sum(keras.ops.sin(outputs[0] * weights))
    for power, state in enumerate(outputs[1:], start=2):
        loss = loss + keras.ops.sum(state**power)
    return loss


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_equals_keras_values_and_gradients(name, go_backwards, fused, rng, monkeypatch):
    ours, theirs, x, initial = _pair(name, fused, go_backwards, rng)
    calls = []
    if ON_TENSORFLOW:
        from kerasrnn.layers import fused_tf

        for function in ("lstm_sequence", "textbook_gru_sequence", "vanilla_sequence"):
            original = getattr(fused_tf, function)
            monkeypatch.setattr(fused_tf, function, lambda *a, _f=original, **k: calls.append(1) or _f(*a, **k))

    for a, b in zip(ours(x, initial_state=initial), theirs(x, initial_state=initial)):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=1e-5)
    ours_grads = gradients(lambda: _loss(ours, x, initial), ours.trainable_weights)
    theirs_grads = gradients(lambda: _loss(theirs, x, initial), theirs.trainable_weights)
    for a, b in zip(ours_grads, theirs_grads):
        assert np.abs(b).max() > 1e-3  # not vacuous
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert bool(calls) == (fused and ON_TENSORFLOW)  # the path under test is the one that ran


@pytest.mark.skipif(not ON_TENSORFLOW, reason="the fused path is TensorFlow's")
@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_gradient_of_inputs_and_initial_states(name, rng):
    import tensorflow as tf

    results = []
    for fused in (True, False):
        layer, _, x, initial = _pair(name, fused, False, np.random.default_rng(3))
        x, initial = tf.constant(x), [tf.constant(s) for s in initial]
        with tf.GradientTape() as tape:
            tape.watch([x, *initial])
            loss = _loss(layer, x, initial)
        results.append([g.numpy() for g in tape.gradient(loss, [x, *initial])])
    for a, b in zip(*results):
        assert np.abs(b).max() > 1e-3
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_masked_call_takes_the_generic_path_and_masks(name, rng):
    ours, theirs, x, initial = _pair(name, True, False, rng)
    mask = np.arange(7)[None, :] < np.array([7, 4, 1])[:, None]
    for a, b in zip(ours(x, initial_state=initial, mask=mask), theirs(x, initial_state=initial, mask=mask)):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=1e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_and_keras_file_round_trip(name, rng, tmp_path):
    make_ours = CASES[name][0]
    layer = make_ours(3, fused=False, dropout=0.1, recurrent_dropout=0.2, seed=4, return_sequences=True, name="rnn")
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config and not clone.fused and clone.cell.dropout == 0.1

    inputs = keras.Input((6, 2))
    model = keras.Model(inputs, make_ours(3, return_sequences=True, name="rnn")(inputs))
    randomize_weights(model, seed=2)
    x = rng.normal(size=(2, 6, 2)).astype("float32")
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), atol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_training_with_dropout_runs_and_is_finite(name, rng):
    make_ours = CASES[name][0]
    for recurrent_dropout in (0.0, 0.3):  # 0: the fused path on TensorFlow; 0.3: the generic one
        layer = make_ours(4, dropout=0.3, recurrent_dropout=recurrent_dropout, seed=1)
        out = to_numpy(layer(rng.normal(size=(2, 5, 3)).astype("float32"), training=True))
        assert out.shape == (2, 4) and np.isfinite(out).all()


@pytest.mark.parametrize("go_backwards", [False, True])
def test_fused_input_dropout_is_one_mask_per_sequence(go_backwards):
    """W = I, U = 0, no bias: h_t = tanh(x_t ⊙ m / (1 − p)), with the mask m of the sequence's row."""
    layer = VanillaRNN(64, dropout=0.5, seed=3, use_bias=False, return_sequences=True, go_backwards=go_backwards)
    x = np.full((3, 5, 64), 0.5, "float32")
    layer(x)
    layer.set_weights([np.eye(64, dtype="float32"), np.zeros((64, 64), "float32")])
    outputs = to_numpy(layer(x, training=True))
    kept = outputs[:, 0] != 0
    assert 0.3 < kept.mean() < 0.7 and not (kept[0] == kept[1]).all()  # one mask per row of the batch
    for t in range(5):
        np.testing.assert_allclose(outputs[:, t], np.where(kept, np.tanh(1.0), 0.0), rtol=1e-6)
