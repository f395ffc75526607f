"""`SmoothedSparseCrossentropy` equals Keras's one-hot `CategoricalCrossentropy(label_smoothing=ε)`
on integer targets, padding weights included, and is the plain cross-entropy at ε = 0."""

import keras
import numpy as np
import pytest

from kerasrnn.tasks.translate.smoothed_loss import SmoothedSparseCrossentropy
from kerasrnn.tasks.translate.task import loss_function

RANDOM = np.random.default_rng(7)
LOGITS = RANDOM.normal(size=(3, 5, 11)).astype(np.float32) * 3
TARGETS = RANDOM.integers(0, 11, size=(3, 5)).astype(np.int32)
WEIGHTS = (np.arange(5)[None, :] < np.array([[5], [3], [1]])).astype(np.float32)  # padding: weight 0


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.35])
def test_it_equals_keras_one_hot_label_smoothing(smoothing):
    ours = SmoothedSparseCrossentropy(smoothing, reduction="mean_with_sample_weight")
    keras_loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing,
                                                      reduction="mean_with_sample_weight")
    expected = float(keras_loss(keras.ops.one_hot(TARGETS, 11), LOGITS, sample_weight=WEIGHTS))
    assert float(ours(TARGETS, LOGITS, sample_weight=WEIGHTS)) == pytest.approx(expected, rel=1e-5)


def test_no_smoothing_is_the_tasks_plain_cross_entropy_and_smoothing_changes_it():
    plain = float(loss_function()(TARGETS, LOGITS, sample_weight=WEIGHTS))
    assert float(loss_function(0.0)(TARGETS, LOGITS, sample_weight=WEIGHTS)) == plain
    assert float(SmoothedSparseCrossentropy(0.0, reduction="mean_with_sample_weight")(
        TARGETS, LOGITS, sample_weight=WEIGHTS)) == pytest.approx(plain, rel=1e-6)
    smoothed = float(loss_function(0.1)(TARGETS, LOGITS, sample_weight=WEIGHTS))
    assert smoothed != pytest.approx(plain, rel=1e-3)


def test_its_config_round_trips_and_a_bad_value_is_refused():
    loss = SmoothedSparseCrossentropy(0.2, reduction="mean_with_sample_weight")
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(again, SmoothedSparseCrossentropy) and again.smoothing == 0.2
    with pytest.raises(ValueError, match="label smoothing must be in"):
        SmoothedSparseCrossentropy(1.0)
