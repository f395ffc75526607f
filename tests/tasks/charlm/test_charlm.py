"""The character language model: vocabulary, windows, network, state-carrying sampler, learning."""

import json
import math
import random

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.errors import UserInputError
from kerasrnn.recurrent import CELL_NAMES
from kerasrnn.engine.run import train
from kerasrnn.engine.run_dir import read_history, save_config
from kerasrnn.tasks import get_task
from kerasrnn.tasks.charlm import data as text_data
from kerasrnn.tasks.charlm.task import SAMPLE_FILE, SAMPLE_LENGTH, CharLMConfig, CharLMTask
from kerasrnn.tasks.charlm.model import build_char_lm, evaluate_loss, loss_function
from kerasrnn.tasks.charlm.sampling import CharSampler
from kerasrnn.engine.train_config import TrainConfig

CHARACTERS = list(" .abcdeghilnorst")
WORDS = ["the", "cat", "sat", "on", "a", "hot", "tin", "roof", "dog", "ran", "in", "old", "barn"]


def small_text(sentences, seed=0):
    """Sentences of 4–7 words from a small word list: spelling is learnable, word order is not."""
    rng = random.Random(seed)
    return "".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 7))) + ". "
                   for _ in range(sentences))


def test_the_task_is_registered():
    task = get_task("charlm")
    assert isinstance(task, CharLMTask) and task.config_class is CharLMConfig
    with pytest.raises(UserInputError, match="unknown task 'poetry': choose one of charlm"):
        get_task("poetry")


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"cell": "transformer"}, "unknown cell 'transformer'"),
        ({"units": 0}, "units must be a positive integer"),
        ({"layers": 0}, "layers must be a positive integer"),
        ({"sequence_length": -5}, "sequence length must be a positive integer"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
        ({"data": " "}, "no corpus given"),
    ],
)
def test_config_rejects_bad_values(arguments, message):
    with pytest.raises(UserInputError, match=message):
        CharLMConfig(**arguments)


# --- vocabulary and windows ------------------------------------------------------------------


def test_vocabulary_ids_and_the_oov_id(tmp_path):
    lookup = text_data.make_char_lookup(text_data.corpus_characters("abca"))
    assert lookup.get_vocabulary() == ["[UNK]", "[BOS]", "a", "b", "c"]
    assert text_data.encode(lookup, "cab").numpy().tolist() == [4, 2, 3]
    assert text_data.encode(lookup, "aéz").numpy().tolist() == [2, 0, 0]  # unknown → the OOV id 0
    inverse = text_data.make_char_lookup(["a", "b", "c"], invert=True)
    assert text_data.decode(inverse, [4, 2, 3]) == "cab"
    text_data.save_vocabulary(lookup, tmp_path / "vocabulary.json")
    assert text_data.load_vocabulary(tmp_path / "vocabulary.json") == ["a", "b", "c"]


def test_vocabulary_handles_any_unicode_character():
    text = "naïve 日本\n\t👍"
    lookup = text_data.make_char_lookup(text_data.corpus_characters(text))
    ids = text_data.encode(lookup, text)
    assert ids.shape == (len(text),) and int(tf.reduce_min(ids)) >= 2
    inverse = text_data.make_char_lookup(text_data.corpus_characters(text), invert=True)
    assert text_data.decode(inverse, ids) == text


def test_a_file_that_is_not_a_vocabulary(tmp_path):
    (tmp_path / "v.json").write_text('["a", "b"]')
    with pytest.raises(UserInputError, match="not a kerasrnn character vocabulary"):
        text_data.load_vocabulary(tmp_path / "v.json")


def test_random_windows_are_bos_then_the_text_shifted():
    ids = tf.range(2, 40, dtype=tf.int32)
    batch = next(iter(text_data.random_windows(ids, sequence_length=6, batch_size=8, seed=3)))
    inputs, targets = (t.numpy() for t in batch)
    assert inputs.shape == targets.shape == (8, 6)
    assert np.all(inputs[:, 0] == text_data.BOS_ID)
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    assert np.all(np.diff(targets, axis=1) == 1)  # a contiguous piece of the text
    again = next(iter(text_data.random_windows(ids, sequence_length=6, batch_size=8, seed=3)))
    np.testing.assert_array_equal(again[1].numpy(), targets)


def test_consecutive_windows_predict_every_character_once():
    ids = tf.range(2, 25, dtype=tf.int32)  # 23 ids: 4 windows of 5, 3 left over
    targets = np.concatenate([t.numpy().ravel() for _, t in text_data.consecutive_windows(ids, 5, 3)])
    np.testing.assert_array_equal(targets, np.arange(2, 22))
    np.testing.assert_array_equal(text_data.covered_ids(ids, 5), targets)


def test_unigram_cross_entropy_by_hand():
    # Vocabulary of 4 ids ([UNK], [BOS], a, b); train "aaab" → counts +1: UNK 1, a 4, b 2 → 7.
    train = [2, 2, 2, 3]
    expected = -(math.log(4 / 7) + math.log(2 / 7) + math.log(1 / 7)) / 3
    assert math.isclose(text_data.unigram_cross_entropy(train, [2, 3, 0], 4), expected)


# --- the network ----------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_every_cell_builds_a_language_model(cell):
    config = CharLMConfig(cell=cell, units=6, layers=2, residual=True, dropout=0.1, embedding_dim=5,
                          carry_state=False)
    keras.utils.set_random_seed(0)
    model = build_char_lm(config, vocabulary_size=11, seed=0)
    ids = np.random.default_rng(0).integers(0, 11, size=(3, 7)).astype("int32")
    logits = model(ids)
    assert logits.shape == (3, 7, 11)
    loss = float(loss_function()(ids, logits))
    assert math.isfinite(loss) and abs(loss - math.log(11)) < 0.5  # about uniform at the start
    assert model.get_layer("recurrent_2").name == "recurrent_2"
    assert model.get_layer("residual_2") is not None


# --- sampling --------------------------------------------------------------------------------


def _sampler(cell, layers=2, residual=True, seed=1):
    config = CharLMConfig(cell=cell, units=8, layers=layers, residual=residual, dropout=0.2, embedding_dim=4,
                          carry_state=False)
    keras.utils.set_random_seed(seed)
    model = build_char_lm(config, len(CHARACTERS) + 2, seed=seed)
    return model, CharSampler(model, config, CHARACTERS)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_carried_state_gives_the_same_distribution_as_rerunning_the_prefix(cell):
    model, sampler = _sampler(cell)
    prompt = "the cat sat on"
    carried = tf.nn.softmax(sampler.carried_logits(prompt)).numpy()
    ids = tf.concat([[text_data.BOS_ID], text_data.encode(sampler.lookup, prompt)], axis=0)
    full = tf.nn.softmax(model(ids[None, :])[0]).numpy()
    assert carried.shape == full.shape == (len(prompt) + 1, len(CHARACTERS) + 2)
    np.testing.assert_allclose(carried, full, rtol=1e-5, atol=1e-6)
    # The prompt run once through the sequence model leaves the same last distribution and states.
    last_logits, _ = sampler.start(prompt)
    np.testing.assert_allclose(tf.nn.softmax(last_logits)[0].numpy(), full[-1], rtol=1e-5, atol=1e-6)


def test_greedy_sampling_equals_rerunning_the_whole_text_each_step():
    model, sampler = _sampler("lstm")
    prompt, text = "a dog", ""
    for _ in range(12):
        ids = tf.concat([[text_data.BOS_ID], text_data.encode(sampler.lookup, prompt + text)], axis=0)
        logits = model(ids[None, :])[0, -1].numpy()
        logits[:2] = -np.inf  # never [UNK] or [BOS]
        text += CHARACTERS[int(np.argmax(logits)) - 2]
    assert sampler.sample(prompt, 12, top_k=1, seed=5) == text


def test_seeded_sampling_is_reproducible_and_uses_the_vocabulary():
    _, sampler = _sampler("gru")
    first = sampler.sample("", 80, temperature=1.5, seed=7)
    assert sampler.sample("", 80, temperature=1.5, seed=7) == first
    assert sampler.sample("", 80, temperature=1.5, seed=8) != first
    assert len(first) == 80 and set(first) <= set(CHARACTERS)
    assert set(sampler.sample("the ", 50, top_k=3, seed=1)) <= set(CHARACTERS)


def test_urnn_sampling_starts_from_the_learned_initial_state():
    model, sampler = _sampler("urnn", layers=1)
    h0 = model.get_layer("recurrent_1").cell.initial_state
    h0.assign(h0 * 0 + 0.3)
    assert np.allclose(sampler.initial_states()[0].numpy(), 0.3)  # read at use, not copied
    full = model(np.array([[text_data.BOS_ID]], "int32"))[0, -1]
    np.testing.assert_allclose(sampler.start("")[0][0].numpy(), full.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_a_saved_and_loaded_model_samples_the_same(cell, tmp_path):
    model, sampler = _sampler(cell)
    config = CharLMConfig(cell=cell, units=8, layers=2, residual=True, dropout=0.2, embedding_dim=4,
                          carry_state=False)
    model.save(tmp_path / "model.keras")
    save_config(tmp_path, "charlm", config, TrainConfig())
    loaded = CharLMTask().load_model(tmp_path)  # imports kerasrnn.layers for the lecture's cells
    ids = np.array([[1, 4, 5, 2, 9]], "int32")
    np.testing.assert_allclose(np.asarray(loaded(ids)), np.asarray(model(ids)), rtol=1e-6, atol=1e-6)
    loaded_sampler = CharSampler(loaded, config, CHARACTERS)
    assert loaded_sampler.sample("hat", 30, seed=4) == sampler.sample("hat", 30, seed=4)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"length": 0}, "length must be a positive number"),
        ({"temperature": 0.0}, "temperature must be positive"),
        ({"temperature": -1.0}, "temperature must be positive"),
        ({"top_k": 0}, "top-k must be a positive integer"),
        ({"prompt": "ÆØÅ€"}, "only characters the model never saw"),
    ],
)
def test_bad_sampling_requests(arguments, message):
    _, sampler = _sampler("keras-gru", layers=1)
    request = {"prompt": "", "length": 5, "temperature": 1.0, "top_k": None, **arguments}
    with pytest.raises(UserInputError, match=message):
        sampler.sample(request.pop("prompt"), request.pop("length"), **request)


def test_a_prompt_with_some_unknown_characters_is_fine(caplog):
    _, sampler = _sampler("keras-gru", layers=1)
    assert len(sampler.sample("the cat €", 5)) == 5
    assert "never seen in training" in caplog.text


# --- training --------------------------------------------------------------------------------


def test_short_training_beats_the_unigram_baseline(tmp_path):
    """About 15 s: 120 steps of a 64-unit LSTM must get below half the unigram cross-entropy.

    The words are spelled the same every time, so context helps a lot: measured 0.32 of the baseline
    with seeds 0, 1 and 2.
    """
    corpus = tmp_path / "words.txt"
    corpus.write_text(small_text(3000))
    config = CharLMConfig(cell="keras-lstm", units=64, dropout=0.0, sequence_length=40, data=str(corpus),
                          carry_state=False)
    train_config = TrainConfig(epochs=3, steps_per_epoch=40, batch_size=32, learning_rate=1e-2)
    task = CharLMTask()
    result = train(task, config, train_config, tmp_path / "run", verbose=0)

    assert result.validation.loss < 0.5 * result.validation.baseline, result.summary()
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert math.isclose(metrics["validation_nats_per_char"], result.validation.loss)
    sample = (tmp_path / "run" / SAMPLE_FILE).read_text("utf-8")
    assert result.details[-1] == sample and len(sample) == SAMPLE_LENGTH
    assert set(sample) <= set(small_text(3000))
    # Evaluating the saved run gives the same number; generating is reproducible.
    evaluation = task.evaluate(tmp_path / "run")
    assert math.isclose(evaluation.loss, result.validation.loss, rel_tol=1e-5)
    assert math.isclose(evaluation.bits, evaluation.loss / math.log(2))
    sample = task.generate(tmp_path / "run", "the ", 30, seed=3)
    assert sample == task.generate(tmp_path / "run", "the ", 30, seed=3)

    # Resuming with other settings is refused; with more epochs it trains on.
    with pytest.raises(UserInputError, match="task settings differ"):
        train(task, CharLMConfig(**{**config.__dict__, "units": 32}), train_config, tmp_path / "run",
              resume=True)
    longer = train(task, config, TrainConfig(**{**train_config.__dict__, "epochs": 4}),
                   tmp_path / "run", resume=True, verbose=0)
    assert longer.epochs == 4
    assert read_history(tmp_path / "run")["epoch"] == [1, 2, 3, 4]


def test_evaluate_loss_is_the_mean_over_characters():
    config = CharLMConfig(cell="keras-gru", units=4, dropout=0.0, embedding_dim=3, carry_state=False)
    keras.utils.set_random_seed(0)
    model = build_char_lm(config, 6, seed=0)
    ids = tf.constant([2, 3, 4, 5, 2, 3, 4, 5, 2, 3, 4], tf.int32)  # two windows of 4, 3 dropped
    inputs = np.array([[1, 2, 3, 4], [1, 2, 3, 4]], "int32")
    targets = np.array([[2, 3, 4, 5], [2, 3, 4, 5]], "int32")
    expected = float(loss_function()(targets, model(inputs)))
    assert math.isclose(evaluate_loss(model, ids, 4, batch_size=1), expected, rel_tol=1e-5)


def test_streamed_sampling_is_the_same_text_in_pieces():
    """`generate` prints a long sample as it is drawn; the pieces join to exactly `sample`'s text."""
    _, sampler = _sampler("gru")
    pieces = list(sampler.stream("the ", 150, temperature=1.2, seed=9, block=64))
    assert [len(piece) for piece in pieces] == [64, 64, 22]
    assert "".join(pieces) == sampler.sample("the ", 150, temperature=1.2, seed=9)
    assert "".join(sampler.stream("", 7, seed=2)) == sampler.sample("", 7, seed=2)
