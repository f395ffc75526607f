"""The real-text preset of the classifier (chosen by the kind of data) and its masked pooling over
time, against NumPy; the toy task's defaults as they always were."""

import json

import keras
import numpy as np
import pytest

from kerasrnn.engine import run_dir as run_files
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import UserInputError
from kerasrnn.tasks.classify import ClassifyConfig, ClassifyTask
from kerasrnn.tasks.classify import task as classify_task
from kerasrnn.tasks.classify.model import build_text_classifier
from kerasrnn.tasks.classify.pooling import MaskedPooling

TASK = ClassifyTask()


# --- the preset ----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["reviews.csv", "reviews.tsv", "glue_folder", "class_folders", "imdb_reviews"])
def test_real_text_gets_the_real_text_preset(data):
    config = ClassifyConfig(data=data)
    assert {name: getattr(config, name) for name in classify_task.REAL_TEXT_DEFAULTS} == \
        classify_task.REAL_TEXT_DEFAULTS
    assert config.bidirectional and config.pooling != "last" and config.tokens == "words"
    assert TASK.default_train_config(config) == TrainConfig(**classify_task.REAL_TEXT_TRAINING)


def test_spelled_numbers_keeps_the_toy_defaults_it_always_had():
    config = ClassifyConfig()
    # The values of the toy run whose 0-999 figures docs/classification.md gives.
    assert (config.cell, config.units, config.embedding_dim, config.bidirectional, config.pooling, config.dropout,
            config.embedding_dropout, config.tokens, config.max_tokens, config.max_length, config.layers) == (
        "lstm", 64, 64, False, "last", 0.0, 0.0, "characters", 20_000, 300, 1)
    assert TASK.default_train_config(config) == TrainConfig(epochs=4, steps_per_epoch=300, batch_size=32,
                                                            learning_rate=3e-3, patience=3)


def test_settings_given_win_over_the_preset():
    config = ClassifyConfig(data="reviews.tsv", cell="gru", units=8, bidirectional=False, pooling="last", dropout=0.0)
    assert (config.cell, config.units, config.bidirectional, config.pooling, config.dropout) == (
        "gru", 8, False, "last", 0.0)
    assert config.embedding_dim == classify_task.REAL_TEXT_DEFAULTS["embedding_dim"]  # what was not given
    assert ClassifyConfig(pooling="max").pooling == "max"  # and on the toy data too


@pytest.mark.parametrize("arguments, message", [
    ({"pooling": "sum"}, "unknown pooling 'sum'"),
    ({"embedding_dropout": 1.0}, "embedding dropout"),
    ({"bidirectional": "yes"}, "bidirectional must be True or False"),
])
def test_bad_preset_settings_are_refused(arguments, message):
    with pytest.raises(UserInputError, match=message):
        ClassifyConfig(data="reviews.tsv", **arguments)


def test_a_run_saved_before_pooling_existed_reads_as_the_last_state(tmp_path):
    saved = ClassifyConfig(data="reviews.tsv", cell="gru", units=8, bidirectional=False, pooling="last",
                           embedding_dropout=0.0, dropout=0.0)
    run_files.save_config(tmp_path, "classify", saved, TrainConfig())
    payload = json.loads((tmp_path / "config.json").read_text())
    for name in ("pooling", "embedding_dropout"):
        del payload["task_config"][name]
    (tmp_path / "config.json").write_text(json.dumps(payload))
    assert TASK.load_configs(tmp_path)[0] == saved


# --- masked pooling --------------------------------------------------------------------------------


def _steps(seed=0):
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(3, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], bool)
    return inputs, mask


def _reference(mode, inputs, mask, weights=None):
    """NumPy pooling of each row over its unmasked steps; zeros for a row without one."""
    rows = []
    for steps, keep in zip(inputs, mask):
        kept = steps[keep]
        if not len(kept):
            rows.append(np.zeros(steps.shape[-1]))
        elif mode == "max":
            rows.append(kept.max(axis=0))
        elif mode == "mean":
            rows.append(kept.mean(axis=0))
        else:
            projection, bias, score = weights
            scores = np.tanh(kept @ projection + bias) @ score
            softmax = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
            rows.append(softmax @ kept)
    return np.array(rows)


@pytest.mark.parametrize("mode", ["max", "mean", "attention"])
def test_masked_pooling_matches_numpy_and_ignores_padding(mode):
    inputs, mask = _steps()
    layer = MaskedPooling(mode, attention_units=3)
    pooled = np.asarray(layer(inputs, mask=mask))
    weights = [np.asarray(weight) for weight in layer.weights] if mode == "attention" else None
    np.testing.assert_allclose(pooled, _reference(mode, inputs, mask, weights), rtol=1e-5, atol=1e-6)
    noisy = np.where(mask[..., None], inputs, 1e3).astype("float32")  # padding of any value changes nothing
    np.testing.assert_allclose(np.asarray(layer(noisy, mask=mask)), pooled, rtol=1e-5, atol=1e-6)


def test_max_pooling_of_all_negative_steps_is_not_the_padding():
    inputs = -np.arange(1, 7, dtype="float32").reshape(1, 3, 2)  # padding at 0 would win a plain max
    np.testing.assert_array_equal(np.asarray(MaskedPooling("max")(inputs, mask=np.array([[0, 1, 1]], bool))),
                                  [[-3.0, -4.0]])


@pytest.mark.parametrize("pooling", ["max", "attention"])
def test_the_preset_network_gives_a_padded_text_the_same_answer(pooling):
    config = ClassifyConfig(data="reviews.tsv", cell="keras-lstm", units=4, embedding_dim=4, pooling=pooling)
    model = build_text_classifier(config, vocabulary_size=20, classes=2, seed=3)
    assert model.get_layer("pooling").mode == pooling
    short = np.array([[5, 7, 9]])
    np.testing.assert_allclose(model(np.array([[5, 7, 9, 0, 0, 0]])), model(short), atol=1e-6)
    assert not np.allclose(model(np.array([[5, 7, 8]])), model(short), atol=1e-6)  # the words do count


@pytest.mark.parametrize("pooling", ["max", "attention"])
def test_a_saved_and_reloaded_preset_model_gives_the_same_outputs(pooling, tmp_path):
    config = ClassifyConfig(data="reviews.tsv", cell="keras-lstm", units=4, embedding_dim=4, pooling=pooling)
    model = build_text_classifier(config, vocabulary_size=20, classes=3, seed=4)
    ids = np.array([[5, 7, 9, 0], [1, 2, 3, 4]])
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras", compile=False)
    assert isinstance(reloaded.get_layer("pooling"), MaskedPooling)
    np.testing.assert_array_equal(np.asarray(reloaded(ids)), np.asarray(model(ids)))
