"""`tracing`: one trace per model whatever the batch shapes, and no retracing warning for a process
that makes the same function for several models."""

import logging

import keras
import numpy as np
import tensorflow as tf

from kerasrnn.engine.tracing import predictor, traced_once

RETRACING = "triggered tf.function retracing"


def tiny_model(seed: int) -> keras.Model:
    ids = keras.Input((None,), dtype="int32", name="ids")
    x = keras.layers.Embedding(7, 3, embeddings_initializer=keras.initializers.RandomNormal(seed=seed))(ids)
    x = keras.layers.GRU(4, return_sequences=True, seed=seed)(x)
    return keras.Model(ids, keras.layers.Dense(5)(x))


def test_a_predictor_is_the_model_on_batches_of_every_shape_and_several_models_raise_no_warning(caplog):
    rng = np.random.default_rng(0)
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for seed in range(6):  # six models: TensorFlow would count six traces of "one" function
            model = tiny_model(seed)
            predict = predictor(model)
            for shape in [(3, 4), (2, 7), (1, 1), (5, 2)]:
                ids = rng.integers(0, 7, shape).astype(np.int64)  # cast to the model's int32
                np.testing.assert_allclose(predict(ids), model(ids.astype(np.int32)).numpy(), atol=1e-6)
    assert not [record for record in caplog.records if RETRACING in record.getMessage()]


def scaled(scale: float):
    def times(x):
        return x * scale
    return times


def shifted(shift: float):
    def plus(x):
        return x + shift
    return plus


def test_the_warning_is_off_for_traced_once_functions_only(caplog):
    """The control: six objects' functions made from one code with plain `tf.function` are reported
    as retracing; made with `traced_once`, they are not."""
    spec = [tf.TensorSpec([None], tf.float32)]
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for value in range(6):
            tf.function(scaled(float(value)), input_signature=spec)(tf.zeros([2]))
            traced_once(shifted(float(value)), spec)(tf.zeros([2]))
    warned = [record.getMessage() for record in caplog.records if RETRACING in record.getMessage()]
    assert any("scaled.<locals>.times" in message for message in warned), warned
    assert not any("shifted.<locals>.plus" in message for message in warned), warned
