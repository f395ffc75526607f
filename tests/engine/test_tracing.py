"""`tracing`: one trace per model whatever the batch shapes, and no retracing warning for a process
that makes the same function for several models."""

import logging

import keras
import numpy as np
import tensorflow as tf

from kerasrnn.engine.tracing import predictor, traced_once, traced_per_object

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


def negated(scale: float):  # a code of its own: TensorFlow warns at most twice per code
    def minus(x):
        return -scale * x
    return minus


def offset(shift: float):
    def add(x):
        return x + shift
    return add


def test_traced_per_object_relaxes_shapes_and_is_quiet_across_objects(caplog):
    """Six objects' functions from one code, each called with three lengths: `traced_per_object`
    traces each at most twice (the first shape, then the length relaxed) and says nothing; plain
    `tf.function(reduce_retracing=True)` made the same way is reported."""
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for value in range(6):
            quiet, loud = traced_per_object(offset(float(value))), tf.function(negated(float(value)),
                                                                                 reduce_retracing=True)
            for length in (2, 3, 5):
                np.testing.assert_allclose(quiet(tf.ones([length])).numpy(), np.full(length, 1.0 + value))
                loud(tf.ones([length]))
            assert quiet.experimental_get_tracing_count() == 2
    warned = [record.getMessage() for record in caplog.records if RETRACING in record.getMessage()]
    assert any("negated.<locals>.minus" in message for message in warned), warned
    assert not any("offset.<locals>.add" in message for message in warned), warned


def test_several_character_models_read_and_sample_without_a_retracing_warning(caplog):
    """A process that reads texts and samples with several models (the tests, `compare`, a notebook):
    each model's reading and sampler are their own functions, and no warning is given."""
    from kerasrnn.tasks.charlm.task import CharLMConfig
    from kerasrnn.tasks.charlm.model import build_char_lm, carried_loss
    from kerasrnn.tasks.charlm.sampling import CharSampler

    config = CharLMConfig(cell="gru", units=4, layers=1, embedding_dim=3, carry_state=False)
    characters = list("abcdefghi")
    ids = tf.constant(np.random.default_rng(0).integers(1, 10, 50), tf.int32)
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for seed in range(6):
            model = build_char_lm(config, len(characters) + 2, seed=seed)
            loss, _ = carried_loss(model, config, ids, chunk=16)
            assert 0 < loss < 10
            assert len(CharSampler(model, config, characters).sample("ab", 5, seed=seed)) == 5
    assert not [record.getMessage() for record in caplog.records if RETRACING in record.getMessage()]
