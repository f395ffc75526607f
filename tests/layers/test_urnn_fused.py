"""On TensorFlow the URNN layer runs its FFT recurrence fused (`fused_urnn_tf.urnn_sequence`, hand-written
gradient); it equals the generic `keras.ops` cell, values and gradients, and stays unitary."""

import keras
import numpy as np
import pytest

from kerasrnn.layers import URNN
from tests.layers.conftest import to_numpy

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the fused path is TensorFlow's")


def _run(layer, x, initial):
    import tensorflow as tf

    x, initial = tf.constant(x), tf.constant(initial)
    with tf.GradientTape() as tape:
        tape.watch([x, initial])
        outputs = layer(x, initial_state=[initial])
        weights = tf.range(1, 1 + outputs[0].shape[-1], dtype=tf.float32)
        loss = tf.reduce_sum(tf.sin(outputs[0] * weights)) + tf.reduce_sum(outputs[1] ** 2)
    # The learned initial_state weight gets no gradient here: the call passes its own initial state.
    weights = [w for w in layer.trainable_weights if w.name != "initial_state"]
    grads = tape.gradient(loss, [x, initial, *weights])
    return [o.numpy() for o in outputs], [g.numpy() for g in grads]


@pytest.mark.parametrize("go_backwards", [False, True])
def test_fused_equals_generic_values_and_gradients(go_backwards, rng, monkeypatch):
    from kerasrnn.layers import fused_urnn_tf

    calls = []
    original = fused_urnn_tf.urnn_sequence
    monkeypatch.setattr(fused_urnn_tf, "urnn_sequence", lambda *a, **k: calls.append(1) or original(*a, **k))
    x = rng.normal(size=(3, 7, 5)).astype("float32")
    initial = rng.normal(size=(3, 12)).astype("float32")
    results, weights, paths = [], None, []
    for fused in (True, False):
        # A bias that switches some units off exercises both branches of modReLU.
        layer = URNN(6, implementation="fft", fused=fused, seed=3, return_sequences=True, return_state=True,
                     go_backwards=go_backwards, bias_initializer=keras.initializers.RandomUniform(-1.0, 0.3, seed=1))
        layer(x, initial_state=[initial])
        if weights is None:
            weights = layer.get_weights()
        layer.set_weights(weights)
        calls.clear()
        results.append(_run(layer, x, initial))
        paths.append(bool(calls))
    assert paths == [True, False]  # the path under test is the one that ran
    (fused_out, fused_grads), (generic_out, generic_grads) = results
    for a, b in zip(fused_out, generic_out):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for a, b in zip(fused_grads, generic_grads):
        scale = np.abs(b).max()
        assert scale > 1e-2  # not vacuous
        # 5e-5 of the largest: the fused backward pass sums the phase and reflection gradients of
        # all steps in another order (XLA); it reached 1.4e-5 in a full-suite run.
        np.testing.assert_allclose(a / scale, b / scale, atol=5e-5)


def test_fused_recurrence_is_an_isometry_without_input():
    """With b = 0 and zero inputs each step is W h: the norm of h is kept over many steps."""
    layer = URNN(16, implementation="fft", seed=0, return_sequences=True)
    x = np.zeros((2, 50, 3), "float32")
    initial = np.random.default_rng(0).normal(size=(2, 32)).astype("float32")
    outputs = to_numpy(layer(x, initial_state=[initial]))
    norms = np.linalg.norm(outputs, axis=-1)
    np.testing.assert_allclose(norms, np.linalg.norm(initial, axis=-1)[:, None] * np.ones((1, 50)), rtol=1e-4)


def test_the_fused_path_runs_for_fft_and_auto_not_for_matrix(monkeypatch):
    from kerasrnn.layers import fused_urnn_tf

    calls = []
    original = fused_urnn_tf.urnn_sequence
    monkeypatch.setattr(fused_urnn_tf, "urnn_sequence", lambda *a, **k: calls.append(1) or original(*a, **k))
    x = np.ones((1, 4, 2), "float32")
    URNN(8, implementation="matrix", seed=0)(x)
    assert not calls
    URNN(8, implementation="fft", seed=0)(x, mask=np.array([[True, True, False, False]]))  # a mask: generic
    assert not calls
    URNN(8, implementation="fft", seed=0, dropout=0.5)(x, training=True)
    assert len(calls) == 1
    auto = URNN(8, seed=0)  # the cell's own choice at this size is the matrix; the layer fuses anyway
    auto(x)
    assert auto.cell.recurrence == "matrix" and len(calls) == 2


def test_auto_fused_equals_the_generic_matrix_loop(rng):
    """"auto" runs the fused FFT sequence, "matrix" the generic loop: the same numbers."""
    x = rng.normal(size=(2, 9, 3)).astype("float32")
    auto = URNN(5, seed=4, return_sequences=True)
    matrix = URNN(5, implementation="matrix", seed=4, return_sequences=True)
    auto(x), matrix(x)
    matrix.set_weights(auto.get_weights())
    np.testing.assert_allclose(to_numpy(auto(x)), to_numpy(matrix(x)), atol=1e-5)
    assert np.abs(to_numpy(auto(x))).max() > 0.1


def test_fused_config_round_trip():
    layer = URNN(5, implementation="fft", fused=False, seed=2)
    clone = URNN.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config() and not clone.fused


def test_batch_parts_one_per_thread_with_enough_rows(monkeypatch):
    import tensorflow as tf

    from kerasrnn.layers import fused_urnn_tf

    monkeypatch.setattr(tf.config.threading, "get_inter_op_parallelism_threads", lambda: 3)
    assert fused_urnn_tf._batch_parts(64) == [22, 21, 21]
    assert fused_urnn_tf._batch_parts(40) == [20, 20]  # 16 rows at least per part
    assert fused_urnn_tf._batch_parts(20) == [20]
    assert fused_urnn_tf._batch_parts(None) == [-1]


def test_split_batch_equals_generic_values_and_gradients(rng, monkeypatch):
    """Rows split into three concurrent loops give the generic cell's values and gradients."""
    import tensorflow as tf

    from kerasrnn.layers import fused_urnn_tf

    monkeypatch.setattr(tf.config.threading, "get_inter_op_parallelism_threads", lambda: 3)
    monkeypatch.setattr(fused_urnn_tf, "MIN_ROWS_PER_PART", 1)
    assert fused_urnn_tf._batch_parts(7) == [3, 2, 2]
    x = rng.normal(size=(7, 6, 4)).astype("float32")
    initial = rng.normal(size=(7, 10)).astype("float32")
    results, weights = [], None
    for fused in (True, False):
        layer = URNN(5, implementation="fft", fused=fused, seed=2, return_sequences=True, return_state=True,
                     bias_initializer=keras.initializers.RandomUniform(-1.0, 0.3, seed=4))
        layer(x, initial_state=[initial])
        weights = layer.get_weights() if weights is None else weights
        layer.set_weights(weights)
        results.append(_run(layer, x, initial))
    (fused_out, fused_grads), (generic_out, generic_grads) = results
    for a, b in zip(fused_out, generic_out):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for a, b in zip(fused_grads, generic_grads):
        scale = np.abs(b).max()
        assert scale > 1e-2
        np.testing.assert_allclose(a / scale, b / scale, atol=5e-5)


def test_a_layer_of_the_same_shapes_runs_after_the_first_is_deleted(rng):
    """The compiled loops are traced once per shape; no trace may keep a deleted layer's variable."""
    import gc

    import tensorflow as tf

    x = rng.normal(size=(3, 7, 5)).astype("float32")
    first = URNN(6, implementation="fft", return_sequences=True, seed=0)
    with tf.GradientTape():  # recorded, the custom gradient's trace once captured the permutation
        first(x)
    del first
    gc.collect()
    second = URNN(6, implementation="fft", return_sequences=True, seed=1)
    with tf.GradientTape():
        fused = to_numpy(second(x))
    generic = URNN(6, implementation="fft", fused=False, return_sequences=True, seed=1)
    generic.build(x.shape)
    generic.set_weights(second.get_weights())
    np.testing.assert_allclose(fused, to_numpy(generic(x)), rtol=1e-5, atol=1e-5)
