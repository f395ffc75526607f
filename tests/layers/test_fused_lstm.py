"""`fused_tf.lstm_sequence`, the TensorFlow fast path of `TextbookLSTM`, in both of its shapes.

On a machine whose TensorFlow inter-op pool has two threads the batch runs as two concurrent halves,
on one thread as one loop; both must equal `keras.layers.LSTM` (values and every gradient: inputs,
initial h and c, kernels, bias), including batches that do not halve evenly, a batch of one (an
empty half), one step, and `go_backwards`. The whole-layer comparison over the other options
(`return_state`, masks, dropout) is in `test_dense_layers.py`.
"""

import keras
import numpy as np
import pytest

from kerasrnn.layers import TextbookLSTM
from tests.layers import numpy_reference
from tests.layers.conftest import randomize_weights

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the fused path is TensorFlow's")


def _values_and_gradients(layer, x, initial):
    import tensorflow as tf

    x, initial = tf.constant(x), [tf.constant(s) for s in initial]
    with tf.GradientTape() as tape:
        tape.watch([x, *initial])
        outputs, h, c = layer(x, initial_state=initial)
        weights = tf.range(1, 1 + outputs.shape[-1], dtype=tf.float32)
        loss = tf.reduce_sum(tf.sin(outputs * weights)) + tf.reduce_sum(h**2) + tf.reduce_sum(c**3)
    grads = tape.gradient(loss, [x, *initial, *[w.value for w in layer.trainable_weights]])
    return [t.numpy() for t in (outputs, h, c)], [g.numpy() for g in grads]


@pytest.mark.parametrize("parts", [1, 2])
@pytest.mark.parametrize("batch, steps, go_backwards", [(4, 6, False), (3, 5, True), (1, 4, False), (5, 1, False)])
def test_fused_lstm_equals_keras_lstm(parts, batch, steps, go_backwards, monkeypatch):
    from kerasrnn.layers import fused_tf

    monkeypatch.setattr(fused_tf, "_parallel_parts", lambda: parts)
    calls = []
    original = fused_tf._lstm_part
    monkeypatch.setattr(fused_tf, "_lstm_part", lambda *a: calls.append(1) or original(*a))
    rng = np.random.default_rng(batch * 10 + steps)
    units = 6
    x = rng.normal(size=(batch, steps, 5)).astype("float32")
    initial = [rng.normal(size=(batch, units)).astype("float32") for _ in range(2)]
    kwargs = dict(return_sequences=True, return_state=True, go_backwards=go_backwards)
    ours, theirs = TextbookLSTM(units, **kwargs), keras.layers.LSTM(units, **kwargs)
    for layer in (theirs, ours):
        layer(x, initial_state=initial)
    randomize_weights(theirs, seed=batch)
    ours.set_weights(theirs.get_weights())
    calls.clear()

    (values, grads), (expected_values, expected_grads) = (_values_and_gradients(l, x, initial) for l in (ours, theirs))
    for a, b in zip(values, expected_values):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(grads, expected_grads):
        assert np.abs(b).max() > 1e-3  # not vacuous
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert len(calls) == parts  # the loops that ran are the ones asked for


def test_fused_lstm_sequence_equals_the_numpy_step():
    """The function itself, time-major, against `numpy_reference.lstm_step` with the projection folded in."""
    import tensorflow as tf

    from kerasrnn.layers import fused_tf

    rng = np.random.default_rng(7)
    steps, batch, units = 5, 3, 4
    projected = rng.normal(size=(steps, batch, 4 * units)).astype("float32")
    h, c = (rng.normal(size=(batch, units)).astype("float32") for _ in range(2))
    recurrent_kernel = rng.uniform(-0.5, 0.5, size=(units, 4 * units)).astype("float32")
    outputs, h_last, c_last = fused_tf.lstm_sequence(*(tf.constant(a) for a in (projected, h, c, recurrent_kernel)))
    identity, no_bias = np.eye(4 * units, dtype="float32"), np.zeros(4 * units, "float32")
    for t in range(steps):
        h, c = numpy_reference.lstm_step(projected[t], h, c, identity, recurrent_kernel, no_bias)
        np.testing.assert_allclose(outputs[t].numpy(), h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_last.numpy(), h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c_last.numpy(), c, rtol=1e-5, atol=1e-6)


def test_exported_model_runs_the_compiled_loops_and_matches(tmp_path):
    """`model.export` traces the XLA-compiled loops into a SavedModel; the reloaded graph gives the same outputs."""
    import tensorflow as tf

    inputs = keras.Input((6, 3))
    model = keras.Model(inputs, TextbookLSTM(5, return_sequences=True)(inputs))
    randomize_weights(model, seed=3)
    x = np.random.default_rng(4).normal(size=(4, 6, 3)).astype("float32")
    model.export(str(tmp_path / "export"), verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "export"))  # held: its variables live as long as it does
    served = reloaded.serve(tf.constant(x))
    expected = model(x).numpy()
    assert np.abs(expected).max() > 0.1
    np.testing.assert_allclose(served.numpy(), expected, rtol=1e-5, atol=1e-6)
