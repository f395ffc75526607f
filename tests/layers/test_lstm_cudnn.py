"""`TextbookLSTM` takes Keras's cuDNN LSTM on the cell's own variables exactly when `keras.layers.LSTM`
would, and both of its paths compute `keras.layers.LSTM`'s numbers and gradients.

There is no GPU here. `with_cudnn` makes TensorFlow's backend believe one is visible and stands a
reference in for the cuDNN op (`keras.src.backend.tensorflow.rnn._cudnn_lstm`, which builds
`CudnnRNNV3`): Keras's own `lstm` still decides whether the arguments allow cuDNN and unwraps the
variables, the stand-in runs Keras's own mask check (`_assert_valid_mask`, as `_cudnn_lstm` does),
and `reference_cudnn_lstm` computes what cuDNN returns (zeros past a row's length, the final states
at its length), written here from the equations. A spy on `keras.src.backend.lstm` records which
variable objects each call received. Those tests skip on the other backends, whose `lstm` is a
different function; the tests of masked calls run there too, where Keras's kernel takes no mask.
"""

import importlib

import keras
import numpy as np
import pytest

from kerasrnn.layers import TextbookLSTM, TextbookLSTMCell
from tests.layers.conftest import gradients, randomize_weights, to_numpy

from keras.src import backend as keras_backend  # noqa: E402

ON_TENSORFLOW = keras.backend.backend() == "tensorflow"
NOT_TENSORFLOW = "stands a reference in for TensorFlow's cuDNN LSTM; this backend's `lstm` is another function"
if ON_TENSORFLOW:
    import tensorflow as tf
    # The module, not the `rnn` function that its package exports under the same name.
    tf_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")

BATCH, STEPS, INPUT_DIM, UNITS = 3, 6, 5, 4  # input size != units catches a transposed kernel


def reference_cudnn_lstm(inputs, initial_state_h, initial_state_c, kernel, recurrent_kernel, bias, mask,
                         time_major, go_backwards, return_sequences):
    """What `_cudnn_lstm` returns, from the LSTM equations: `(last_output, outputs, [h, c])`."""
    assert not time_major
    steps = inputs.shape[1]
    if mask is None:
        lengths = tf.fill([tf.shape(inputs)[0]], steps)
    else:
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
    if go_backwards:  # cuDNN runs each row's valid steps backwards; the padding stays at the end
        inputs = tf.reverse_sequence(inputs, lengths, seq_axis=1, batch_axis=0)
    h, c, outputs = initial_state_h, initial_state_c, []
    for t in range(steps):
        gates = inputs[:, t] @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = tf.split(gates, 4, axis=-1)
        c_next = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        h_next = tf.sigmoid(o) * tf.tanh(c_next)
        running = (t < lengths)[:, None]
        h, c = tf.where(running, h_next, h), tf.where(running, c_next, c)
        outputs.append(tf.where(running, h_next, tf.zeros_like(h_next)))
    outputs = tf.stack(outputs, axis=1)
    if go_backwards:
        outputs = tf.reverse(tf.reverse_sequence(outputs, lengths, seq_axis=1, batch_axis=0), axis=[1])
    if not return_sequences:
        outputs = h[:, None]
    return h, outputs, [h, c]


class CudnnCalls:
    """The arguments of every call of `keras.src.backend.lstm`, and how many reached cuDNN."""

    def __init__(self):
        self.calls, self.cudnn = [], 0


@pytest.fixture
def with_cudnn(monkeypatch):
    """A visible "GPU" whose cuDNN LSTM is `reference_cudnn_lstm`; returns the `CudnnCalls`."""
    if not ON_TENSORFLOW:
        pytest.skip(NOT_TENSORFLOW)
    record = CudnnCalls()
    real_lstm = keras_backend.lstm
    assert_valid_mask = tf_rnn._assert_valid_mask

    def spy(*args, **kwargs):
        record.calls.append({**kwargs, "mask": args[3]})
        return real_lstm(*args, **kwargs)

    def cudnn(*args, **kwargs):
        mask = kwargs["mask"] if "mask" in kwargs else args[6]
        if mask is not None:
            # As `_cudnn_lstm`: in graph mode a bad mask fails the run; eagerly it raises
            # InvalidArgumentError, which Keras's `lstm` turns into the generic loop, so a call
            # counts only once the check has passed.
            assert_valid_mask(mask)
        record.cudnn += 1
        return reference_cudnn_lstm(*args, **kwargs)

    monkeypatch.setattr(tf_rnn, "_is_gpu_available", lambda: True)
    monkeypatch.setattr(tf_rnn, "_cudnn_lstm", cudnn)
    monkeypatch.setattr(keras_backend, "lstm", spy)
    return record


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")
    initial = [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in range(2)]
    return x, initial


def keras_lstm_and_ours(**kwargs):
    """`keras.layers.LSTM` (generic loop) and a `TextbookLSTM`, built, with the same random weights."""
    theirs = keras.layers.LSTM(UNITS, use_cudnn=False, **kwargs)
    ours = TextbookLSTM(UNITS, **kwargs)
    x, _ = data()
    theirs(x)
    ours(x)
    randomize_weights(theirs, seed=3)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def test_the_cudnn_call_gets_the_cells_own_variables(with_cudnn):
    theirs, ours = keras_lstm_and_ours(return_sequences=True)
    x, initial = data()
    with_cudnn.calls.clear()
    with_cudnn.cudnn = 0
    ours(x, initial_state=initial)
    (call,) = with_cudnn.calls
    assert call["kernel"] is ours.cell.kernel
    assert call["recurrent_kernel"] is ours.cell.recurrent_kernel
    assert call["bias"] is ours.cell.bias
    assert call["activation"] is ours.cell.activation and call["recurrent_activation"] is ours.cell.recurrent_activation
    assert with_cudnn.cudnn == 1
    assert ours.supports_jit is False  # as keras.layers.LSTM: cuDNN ops do not compile with XLA


# (layer arguments, GPU visible, whether cuDNN runs): cuDNN exactly when keras.layers.LSTM takes it.
ROUTES = [
    ({}, True, True),
    ({"use_cudnn": True}, True, True),
    ({"go_backwards": True}, True, True),
    ({"dropout": 0.3}, True, True),
    ({}, False, False),
    ({"use_cudnn": False}, True, False),
    ({"recurrent_dropout": 0.2}, True, False),
    ({"unroll": True}, True, False),
    ({"activation": "relu"}, True, False),
    ({"recurrent_activation": "hard_sigmoid"}, True, False),
    ({"use_bias": False}, True, False),
]


@pytest.mark.parametrize("kwargs, gpu, expected", ROUTES, ids=[f"{k}-gpu={g}" for k, g, _ in ROUTES])
def test_cudnn_runs_exactly_when_keras_lstm_takes_it(with_cudnn, monkeypatch, kwargs, gpu, expected):
    monkeypatch.setattr(tf_rnn, "_is_gpu_available", lambda: gpu)
    x, initial = data()
    ours = TextbookLSTM(UNITS, return_sequences=True, seed=1, **kwargs)
    theirs = keras.layers.LSTM(UNITS, return_sequences=True, seed=1, **kwargs)
    ours(x, initial_state=initial, training=True)
    theirs(x, initial_state=initial, training=True)
    assert with_cudnn.cudnn == 2 * expected, "TextbookLSTM and keras.layers.LSTM each take cuDNN, or neither"
    assert ours.supports_jit == theirs.supports_jit


@pytest.mark.parametrize("kwargs", [{"recurrent_dropout": 0.2}, {"unroll": True}, {"activation": "relu"},
                                    {"use_bias": False}], ids=str)
def test_use_cudnn_true_with_arguments_cudnn_cannot_run_is_one_line(kwargs):
    with pytest.raises(ValueError, match=r"^TextbookLSTM: use_cudnn=True needs .*; got .*\.$") as raised:
        TextbookLSTM(UNITS, use_cudnn=True, **kwargs)
    assert "\n" not in str(raised.value)


@pytest.mark.skipif(not ON_TENSORFLOW, reason="torch's `lstm` runs on a CPU (Keras's torch loop)")
def test_use_cudnn_true_without_a_gpu_raises_at_the_call():
    x, _ = data()
    with pytest.raises(ValueError, match="use_cudnn=True, but the tensorflow backend's LSTM kernel cannot run"):
        TextbookLSTM(UNITS, use_cudnn=True)(x)


@pytest.mark.parametrize("value", ["yes", 1, 0, None, "Auto"])
def test_a_bad_use_cudnn_is_one_line(value):
    with pytest.raises(ValueError, match=r"^TextbookLSTM: `use_cudnn` must be 'auto', True or False, got .*\.$"):
        TextbookLSTM(UNITS, use_cudnn=value)


@pytest.mark.parametrize("value", ["auto", True, False])
def test_use_cudnn_round_trips_through_the_config(value):
    layer = TextbookLSTM(UNITS, use_cudnn=value, return_sequences=True)
    config = layer.get_config()
    assert config["use_cudnn"] is value or config["use_cudnn"] == value == "auto"
    assert TextbookLSTM.from_config(config).use_cudnn == value


def test_a_config_saved_before_use_cudnn_loads_with_auto():
    config = TextbookLSTM(UNITS).get_config()
    del config["use_cudnn"]
    assert TextbookLSTM.from_config(config).use_cudnn == "auto"


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("use_cudnn", ["auto", False])
def test_both_paths_equal_keras_lstm_outputs_and_gradients(with_cudnn, use_cudnn, go_backwards):
    kwargs = dict(return_sequences=True, return_state=True, go_backwards=go_backwards)
    theirs, ours = keras_lstm_and_ours(**kwargs)
    ours.use_cudnn = use_cudnn
    x, initial = data(seed=1)
    with_cudnn.cudnn = 0
    ours_out = [to_numpy(t) for t in ours(x, initial_state=initial)]
    theirs_out = [to_numpy(t) for t in theirs(x, initial_state=initial)]
    assert with_cudnn.cudnn == (use_cudnn == "auto")
    for a, b in zip(ours_out, theirs_out, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert np.abs(ours_out[2] - initial[1]).max() > 0.1  # the cell state moved: not a vacuous match

    target = np.random.default_rng(2).normal(size=ours_out[0].shape).astype("float32")

    def loss_of(layer):
        return lambda: keras.ops.sum((layer(x, initial_state=initial)[0] - target) ** 2)

    ours_grads = gradients(loss_of(ours), ours.trainable_weights)
    theirs_grads = gradients(loss_of(theirs), theirs.trainable_weights)
    assert [w.path.split("/")[-1] for w in ours.trainable_weights] == ["kernel", "recurrent_kernel", "bias"]
    for a, b in zip(ours_grads, theirs_grads, strict=True):
        assert np.abs(b).max() > 1e-3
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_with_a_right_padded_mask_cudnn_keeps_the_final_states_and_valid_outputs(with_cudnn):
    theirs, ours = keras_lstm_and_ours(return_sequences=True, return_state=True)
    x, initial = data(seed=4)
    mask = np.arange(STEPS)[None, :] < np.array([[STEPS], [2], [4]])
    with_cudnn.cudnn = 0
    outputs, h, c = [to_numpy(t) for t in ours(x, initial_state=initial, mask=mask)]
    assert with_cudnn.cudnn == 1
    expected_outputs, expected_h, expected_c = [to_numpy(t) for t in theirs(x, initial_state=initial, mask=mask)]
    np.testing.assert_allclose(h, expected_h, atol=1e-5)
    np.testing.assert_allclose(c, expected_c, atol=1e-5)
    np.testing.assert_allclose(outputs[mask], expected_outputs[mask], atol=1e-5)
    # cuDNN, as in keras.layers.LSTM on a GPU, outputs zeros past a row's length (the generic loop
    # repeats the last output there).
    assert np.all(outputs[~mask] == 0.0)


def test_input_dropout_takes_the_cells_mask_on_either_path(with_cudnn):
    """With dropout while training, both paths drop the same inputs (the cell's seeded mask)."""
    x, initial = data(seed=5)
    results = {}
    for use_cudnn in ("auto", False):
        layer = TextbookLSTM(UNITS, return_sequences=True, dropout=0.5, seed=7, use_cudnn=use_cudnn)
        layer(x)
        randomize_weights(layer, seed=3)
        results[use_cudnn] = to_numpy(layer(x, initial_state=initial, training=True))
    no_dropout = to_numpy(layer(x, initial_state=initial, training=False))
    np.testing.assert_allclose(results["auto"], results[False], atol=1e-5)
    assert np.abs(results["auto"] - no_dropout).max() > 0.1


def test_the_cells_step_and_initialisation_stay_as_they_were():
    """The cell is unchanged: the forget bias starts at 1, and the sampler's step equals the layer."""
    layer = TextbookLSTM(UNITS, return_sequences=True, return_state=True)
    x, initial = data(seed=6)
    outputs, h, c = layer(x, initial_state=initial)
    bias = to_numpy(layer.cell.bias)
    np.testing.assert_array_equal(bias[UNITS:2 * UNITS], 1.0)
    np.testing.assert_array_equal(np.delete(bias, np.s_[UNITS:2 * UNITS]), 0.0)
    assert isinstance(layer.cell, TextbookLSTMCell)
    states = initial
    for t in range(STEPS):
        step_out, states = layer.cell(x[:, t], states)
    np.testing.assert_allclose(to_numpy(step_out), to_numpy(outputs[:, -1]), atol=1e-5)
    np.testing.assert_allclose(to_numpy(states[1]), to_numpy(c), atol=1e-5)


def tiny_model(use_cudnn):
    """A compiled `TextbookLSTM` → dense regression, seeded, with input dropout."""
    keras.utils.set_random_seed(8)
    inputs = keras.Input((STEPS, INPUT_DIM))
    hidden = TextbookLSTM(UNITS, return_sequences=True, dropout=0.2, seed=2, use_cudnn=use_cudnn, name="lstm")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(hidden))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


@pytest.mark.parametrize("trained_on_cudnn", [True, False], ids=["cudnn-to-fused", "fused-to-cudnn"])
def test_a_model_trained_on_either_path_loads_and_resumes_on_the_other(with_cudnn, tmp_path, trained_on_cudnn):
    from kerasrnn.engine import backup

    rng = np.random.default_rng(9)
    x = rng.normal(size=(6, STEPS, INPUT_DIM)).astype("float32")
    y = rng.normal(size=(6, STEPS, 2)).astype("float32")
    model = tiny_model(use_cudnn=trained_on_cudnn)
    with_cudnn.cudnn = 0
    model.fit(x, y, batch_size=3, epochs=3, verbose=0, shuffle=False)
    assert (with_cudnn.cudnn > 0) is trained_on_cudnn
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "model.keras")
    backup.save_state(tmp_path, model, epochs=3)

    loaded = keras.models.load_model(tmp_path / "model.keras")
    loaded.get_layer("lstm").use_cudnn = not trained_on_cudnn
    with_cudnn.cudnn = 0
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-5)
    assert (with_cudnn.cudnn > 0) is not trained_on_cudnn
    for a, b in zip(model.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))

    resumed = tiny_model(use_cudnn=not trained_on_cudnn)
    assert backup.restore_state(tmp_path, resumed) == 3
    for a, b in zip(model.variables, resumed.variables, strict=True):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    before = to_numpy(model.get_layer("lstm").cell.kernel)
    model.fit(x, y, batch_size=3, epochs=1, verbose=0, shuffle=False)
    resumed.fit(x, y, batch_size=3, epochs=1, verbose=0, shuffle=False)
    assert np.abs(to_numpy(model.get_layer("lstm").cell.kernel) - before).max() > 1e-3
    for a, b in zip(model.variables, resumed.variables, strict=True):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=1e-5)


# Rows: all steps, none (a text with no token left), the first two.
LENGTHS = np.array([STEPS, 0, 2])
FULLY_MASKED_ROW = 1


def lengths_mask():
    return np.arange(STEPS)[None, :] < LENGTHS[:, None]


@pytest.fixture
def cudnn_where_possible(request):
    """`with_cudnn`'s record on TensorFlow; None elsewhere, where Keras's kernel takes no mask."""
    return request.getfixturevalue("with_cudnn") if ON_TENSORFLOW else None


@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
def test_a_fully_masked_row_gets_the_generic_loops_results(cudnn_where_possible, return_sequences, go_backwards):
    """A fully masked row runs on cuDNN beside the others, and ends with the generic loop's numbers:
    zero outputs, the initial states, and their gradients."""
    kwargs = dict(return_sequences=return_sequences, return_state=True, go_backwards=go_backwards)
    theirs, ours = keras_lstm_and_ours(**kwargs)
    x, initial = data(seed=10)
    mask = lengths_mask()
    if cudnn_where_possible is not None:
        cudnn_where_possible.cudnn = 0
    ours_out = [to_numpy(t) for t in ours(x, initial_state=initial, mask=mask)]
    theirs_out = [to_numpy(t) for t in theirs(x, initial_state=initial, mask=mask)]
    if cudnn_where_possible is not None:
        assert cudnn_where_possible.cudnn == 1, "the mask passed Keras's cuDNN check"

    outputs, h, c = ours_out
    np.testing.assert_array_equal(h[FULLY_MASKED_ROW], initial[0][FULLY_MASKED_ROW])
    np.testing.assert_array_equal(c[FULLY_MASKED_ROW], initial[1][FULLY_MASKED_ROW])
    np.testing.assert_array_equal(outputs[FULLY_MASKED_ROW], 0.0)
    np.testing.assert_allclose(h, theirs_out[1], atol=1e-5)
    np.testing.assert_allclose(c, theirs_out[2], atol=1e-5)
    assert np.abs(c - initial[1])[[0, 2]].min() > 1e-3  # the other rows ran

    # Where cuDNN and the generic loop agree on the outputs: everywhere, except, running forwards on
    # cuDNN, at the padded steps of a partly masked row, where cuDNN outputs zeros and the generic
    # loop repeats the row's last output (backwards, both put zeros at the padded steps first).
    agree = np.ones(outputs.shape[:-1], bool)
    if return_sequences and cudnn_where_possible is not None and not go_backwards:
        agree = mask.copy()
        agree[FULLY_MASKED_ROW] = True
        partly = ~mask[2]
        np.testing.assert_array_equal(outputs[2][partly], 0.0)
        np.testing.assert_allclose(theirs_out[0][2][partly], np.broadcast_to(h[2], (partly.sum(), UNITS)), atol=1e-5)
    np.testing.assert_allclose(outputs[agree], theirs_out[0][agree], atol=1e-5)

    rng = np.random.default_rng(11)
    targets = [keras.ops.convert_to_tensor(rng.normal(size=t.shape).astype("float32")) for t in ours_out]
    weights = [keras.ops.convert_to_tensor(agree[..., None].astype("float32")), 1.0, 1.0]

    def loss_of(layer, states):
        def loss():
            results = layer(x, initial_state=[s.value for s in states], mask=mask)
            return sum(keras.ops.sum((r * w - t) ** 2) for r, w, t in zip(results, weights, targets, strict=True))
        return loss

    grads = {}
    for name, layer in (("ours", ours), ("theirs", theirs)):
        states = [keras.Variable(s, name=n) for s, n in zip(initial, ("h0", "c0"))]
        grads[name] = gradients(loss_of(layer, states), list(layer.trainable_weights) + states)
    for a, b in zip(grads["ours"], grads["theirs"], strict=True):
        assert np.abs(b).max() > 1e-3
        np.testing.assert_allclose(a, b, atol=1e-5)
    # The fully masked row's initial states reach the loss only through the final states.
    for grad, target, state in zip(grads["ours"][-2:], targets[1:], initial, strict=True):
        expected = 2 * (state[FULLY_MASKED_ROW] - to_numpy(target)[FULLY_MASKED_ROW])
        np.testing.assert_allclose(grad[FULLY_MASKED_ROW], expected, atol=1e-5)


def test_only_the_fully_masked_row_gets_a_step_in_the_kernels_mask(with_cudnn):
    """The other rows' mask reaches cuDNN as given; without a mask, none is made up."""
    _, ours = keras_lstm_and_ours(return_sequences=True)
    x, initial = data(seed=12)
    mask = lengths_mask()
    with_cudnn.calls.clear()
    ours(x, initial_state=initial, mask=mask)
    ours(x, initial_state=initial)
    given, unmasked = with_cudnn.calls
    expected = mask.copy()
    expected[FULLY_MASKED_ROW, 0] = True
    np.testing.assert_array_equal(to_numpy(given["mask"]), expected)
    assert unmasked["mask"] is None


def test_a_fully_masked_row_in_a_compiled_function_runs(with_cudnn):
    """In graph mode Keras's check fails the run instead of falling back, as in `fit` and `predict`."""
    theirs, ours = keras_lstm_and_ours(return_sequences=True, return_state=True)
    x, initial = data(seed=13)
    mask = tf.constant(lengths_mask())
    with_cudnn.cudnn = 0
    results = tf.function(lambda: ours(x, initial_state=initial, mask=mask))()
    assert with_cudnn.cudnn == 1
    expected = theirs(x, initial_state=initial, mask=mask)
    for got, want in zip(results[1:], expected[1:], strict=True):
        np.testing.assert_allclose(to_numpy(got), to_numpy(want), atol=1e-5)
    np.testing.assert_array_equal(to_numpy(results[0])[FULLY_MASKED_ROW], 0.0)


def test_use_cudnn_true_with_a_mask_the_kernel_cannot_take_is_one_line():
    """No GPU on TensorFlow, and no masked kernel on torch: `use_cudnn=True` raises at the call."""
    x, _ = data()
    backend = keras.backend.backend()
    with pytest.raises(ValueError, match=f"use_cudnn=True, but the {backend} backend's LSTM kernel cannot run"):
        TextbookLSTM(UNITS, use_cudnn=True)(x, mask=lengths_mask())


def test_fit_on_a_batch_with_an_empty_text_matches_the_generic_loop(with_cudnn):
    """`classify`'s model shape: right-padded token ids, Embedding(mask_zero=True), one id-free row."""
    tokens = np.array([[3, 1, 4, 1, 5, 2], [0, 0, 0, 0, 0, 0], [2, 7, 0, 0, 0, 0]], "int32")
    labels = np.array([0, 1, 1])
    weights = {}
    for use_cudnn in ("auto", False):
        keras.utils.set_random_seed(14)
        model = keras.Sequential([
            keras.Input((STEPS,), dtype="int32"),
            keras.layers.Embedding(8, INPUT_DIM, mask_zero=True),
            TextbookLSTM(UNITS, use_cudnn=use_cudnn),
            keras.layers.Dense(2),
        ])
        model.compile(optimizer=keras.optimizers.Adam(1e-2),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        before = to_numpy(model.layers[1].cell.kernel)
        with_cudnn.cudnn = 0
        model.fit(tokens, labels, batch_size=3, epochs=2, verbose=0, shuffle=False)
        assert (with_cudnn.cudnn > 0) is (use_cudnn == "auto")
        assert np.abs(to_numpy(model.layers[1].cell.kernel) - before).max() > 1e-3
        weights[use_cudnn] = [to_numpy(w) for w in model.weights]
    for a, b in zip(weights["auto"], weights[False], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
