"""The fused LSTM and uRNN pad the time axis to a bucket length before their XLA-compiled loops.

XLA compiles once per input shape: with the padding, every length of a bucket runs the same compiled
program (the true length is a runtime tensor, never a constant of the program), and the results are
those of the unpadded sequence: values and gradients equal to `keras.layers.LSTM` and to the generic
uRNN cell at lengths inside a bucket, at a bucket's boundary, across buckets, and at one step.
"""

import keras
import numpy as np
import pytest

from kerasrnn.layers import URNN, TextbookLSTM
from tests.layers.conftest import randomize_weights

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the fused path is TensorFlow's")

# Bucket 8 holds 1 and 8 (its boundary), bucket 10 holds 9 and 10 (its boundary).
LENGTHS = (1, 8, 9, 10)


def _values_and_gradients(layer, x, initial):
    import tensorflow as tf

    x, initial = tf.constant(x), [tf.constant(s) for s in initial]
    with tf.GradientTape() as tape:
        tape.watch([x, *initial])
        outputs = layer(x, initial_state=initial)
        weights = tf.range(1, 1 + outputs[0].shape[-1], dtype=tf.float32)
        loss = tf.reduce_sum(tf.sin(outputs[0] * weights)) + sum(tf.reduce_sum(s**2) for s in outputs[1:])
    variables = [w.value for w in layer.trainable_weights if w.name != "initial_state"]
    grads = tape.gradient(loss, [x, *initial, *variables])
    return [t.numpy() for t in outputs], [g.numpy() for g in grads]


def _assert_close(ours, theirs, gradient_tolerance=1e-5):
    """Values to 1e-5, gradients to `gradient_tolerance` of their largest entry."""
    (values, grads), (expected_values, expected_grads) = ours, theirs
    for a, b in zip(values, expected_values):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    for a, b in zip(grads, expected_grads):
        scale = np.abs(b).max()
        assert scale > 1e-3  # not vacuous
        np.testing.assert_allclose(a / scale, b / scale, atol=gradient_tolerance)


@pytest.mark.parametrize("parts", [1, 2])
def test_lstm_at_lengths_in_and_across_buckets_equals_keras(parts, monkeypatch):
    from kerasrnn.layers import fused_tf

    monkeypatch.setattr(fused_tf, "_parallel_parts", lambda: parts)
    rng = np.random.default_rng(parts)
    units, batch = 5, 3
    kwargs = dict(return_sequences=True, return_state=True)
    ours, theirs = TextbookLSTM(units, **kwargs), keras.layers.LSTM(units, **kwargs)
    for layer in (theirs, ours):
        layer.build((batch, None, 4))
    randomize_weights(theirs, seed=parts)
    ours.set_weights(theirs.get_weights())
    for steps in LENGTHS:
        x = rng.normal(size=(batch, steps, 4)).astype("float32")
        initial = [rng.normal(size=(batch, units)).astype("float32") for _ in range(2)]
        _assert_close(_values_and_gradients(ours, x, initial), _values_and_gradients(theirs, x, initial))


def test_urnn_at_lengths_in_and_across_buckets_equals_the_generic_cell():
    rng = np.random.default_rng(5)
    kwargs = dict(implementation="fft", seed=3, return_sequences=True, return_state=True,
                  bias_initializer=keras.initializers.RandomUniform(-1.0, 0.3, seed=1))
    fused, generic = URNN(6, **kwargs), URNN(6, fused=False, **kwargs)
    for layer in (fused, generic):
        layer.build((2, None, 3))
    generic.set_weights(fused.get_weights())
    for steps in LENGTHS:
        x = rng.normal(size=(2, steps, 3)).astype("float32")
        initial = [rng.normal(size=(2, 12)).astype("float32")]
        # 5e-5, as in test_urnn_fused.py: the fused gradients sum in another order (XLA's FFTs and
        # reductions); unpadded, they differed from the generic cell's by up to 1.3e-5 of the largest.
        _assert_close(_values_and_gradients(fused, x, initial), _values_and_gradients(generic, x, initial), 5e-5)


def test_bucket_lengths():
    """m · 2^e with m in 4…7, at least 8: at most a quarter longer than the sequence; a tensor's the same."""
    import tensorflow as tf

    from kerasrnn.layers.fused_tf import bucket_length

    assert [bucket_length(t) for t in (1, 7, 8, 9, 10, 11, 16, 17, 100, 112, 113)] == [
        8, 8, 8, 10, 10, 12, 16, 20, 112, 112, 128]
    lengths = np.arange(1, 3000)
    buckets = np.array([bucket_length(int(t)) for t in lengths])
    assert (buckets >= lengths).all() and (buckets[lengths >= 8] <= 1.25 * lengths[lengths >= 8]).all()
    assert len(set(buckets[(lengths > 1024) & (lengths <= 2048)])) == 4
    some = [1, 7, 8, 9, 16, 17, 100, 112, 113, 2047, 2048, 2049]
    assert [int(bucket_length(tf.constant(t))) for t in some] == [bucket_length(t) for t in some]


def _recorded_calls(module, names, monkeypatch):
    """Wraps the compiled `module.<name>` of each name; `{name: (function, [arguments of each call])}`."""
    calls = {name: (getattr(module, name), []) for name in names}
    for name, (function, arguments) in calls.items():
        monkeypatch.setattr(module, name, lambda *a, _f=function, _k=arguments: _k.append(a) or _f(*a))
    return calls


def _compiled_programs(function, calls):
    """The HLO XLA compiles `function` to for each call's arguments: one compile per distinct text."""
    return [function.experimental_get_compiler_ir(*arguments)(stage="hlo") for arguments in calls]


def test_lstm_lengths_of_one_bucket_run_one_compiled_program(monkeypatch):
    import tensorflow as tf

    from kerasrnn.layers import fused_tf

    monkeypatch.setattr(fused_tf, "_parallel_parts", lambda: 1)
    names = ("_lstm_forward", "_lstm_backward")
    calls = _recorded_calls(fused_tf, names, monkeypatch)
    layer = TextbookLSTM(4, return_sequences=True)
    for steps in (9, 10, 8):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(np.ones((2, steps, 3), "float32")))
        tape.gradient(loss, layer.trainable_weights)
    for function, arguments in calls.values():
        nine, ten, eight = _compiled_programs(function, arguments)
        assert nine == ten  # 9 and 10: bucket 10, one program
        assert nine != eight  # bucket 8: another (the comparison can tell programs apart)


def test_urnn_lengths_of_one_bucket_run_one_compiled_program(monkeypatch):
    import tensorflow as tf

    from kerasrnn.layers import fused_urnn_tf

    names = ("_urnn_forward", "_urnn_backward")
    calls = _recorded_calls(fused_urnn_tf, names, monkeypatch)
    layer = URNN(4, implementation="fft", return_sequences=True, seed=0)
    for steps in (11, 12):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(np.ones((2, steps, 3), "float32")))
        tape.gradient(loss, layer.trainable_weights)
    for function, arguments in calls.values():
        eleven, twelve = _compiled_programs(function, arguments)
        assert eleven == twelve


def test_a_length_known_only_when_the_graph_runs_gives_the_eager_values():
    """In a `tf.function` traced for any length, the bucket is computed in the graph."""
    import tensorflow as tf

    x = np.random.default_rng(2).normal(size=(2, 9, 3)).astype("float32")
    for layer in (TextbookLSTM(4, return_sequences=True), URNN(4, implementation="fft", return_sequences=True)):
        layer.build((2, None, 3))
        randomize_weights(layer, seed=1)

        @tf.function(input_signature=[tf.TensorSpec([2, None, 3])])
        def call(x, layer=layer):
            with tf.GradientTape() as tape:
                tape.watch(x)
                outputs = layer(x)
                loss = tf.reduce_sum(tf.sin(outputs))
            return outputs, tape.gradient(loss, x)

        outputs, grad = call(tf.constant(x))
        with tf.GradientTape() as tape:
            eager_x = tf.constant(x)
            tape.watch(eager_x)
            expected = layer(eager_x)
            loss = tf.reduce_sum(tf.sin(expected))
        expected_grad = tape.gradient(loss, eager_x)
        assert outputs.shape == (2, 9, 4 if isinstance(layer, TextbookLSTM) else 8)
        np.testing.assert_allclose(outputs.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(grad.numpy(), expected_grad.numpy(), rtol=1e-6, atol=1e-6)
