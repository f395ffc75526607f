"""The text classifier: config, network (masking, every cell, bidirectional, stacked), training,
prediction, evaluation, and the issue's accuracy bars."""

import dataclasses
import json
import random

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.data import spelled_numbers
from kerasrnn.engine import run_dir as run_files
from kerasrnn.engine.run import train
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import UserInputError
from kerasrnn.recurrent import CELL_NAMES
from kerasrnn.tasks import get_task
from kerasrnn.tasks.classify import ClassifyConfig, ClassifyTask
from kerasrnn.tasks.classify import data as text_data
from kerasrnn.tasks.classify.model import build_text_classifier, confusion_matrix, precision_recall

TASK = ClassifyTask()

GOOD = ["great", "lovely", "superb", "fine", "nice", "happy"]
BAD = ["awful", "terrible", "poor", "sad", "broken", "ugly"]
FILLER = ["the", "food", "phone", "was", "really", "and", "service", "very"]


def sentiment_file(path, count=300, seed=0):
    """Sentences of filler words with one good or one bad word: the label is that word's side."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        label = index % 2
        words = [rng.choice(FILLER) for _ in range(rng.randint(3, 8))]
        words.insert(rng.randrange(len(words) + 1), rng.choice(GOOD if label else BAD))
        rows.append(f"{' '.join(words)}\t{label}\n")
    path.write_text("".join(rows), "utf-8")
    return path


def test_the_task_is_registered():
    task = get_task("classify")
    assert isinstance(task, ClassifyTask) and task.name == "classify"
    assert task.config_class is ClassifyConfig
    assert task.splits[0] == "validation" and "heldout" in task.splits


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"cell": "transformer"}, "unknown cell 'transformer'"),
        ({"units": 0}, "units must be a positive integer"),
        ({"tokens": "bytes"}, "unknown token mode 'bytes'"),
        ({"max_tokens": 2}, "max tokens must be an integer of at least 3"),
        ({"data": " "}, "no data given"),
        ({"text_column": "x", "label_column": "x"}, "both 'x'"),
    ],
)
def test_config_rejects_bad_values(arguments, message):
    with pytest.raises(UserInputError, match=message):
        ClassifyConfig(**arguments)


def test_tokens_default_to_characters_only_for_spelled_numbers(tmp_path):
    assert ClassifyConfig().resolved().tokens == "characters"
    path = sentiment_file(tmp_path / "a.tsv")
    resolved = ClassifyConfig(data=str(path)).resolved()
    assert resolved.tokens == "words" and resolved.data == str(path.resolve())
    assert ClassifyConfig(tokens="characters", data=str(path)).resolved().tokens == "characters"
    assert TASK.resolve(ClassifyConfig(data=str(path))) == resolved


# --- network ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_padding_is_masked_for_every_cell(cell):
    config = ClassifyConfig(cell=cell, units=8, embedding_dim=4)
    model = build_text_classifier(config, vocabulary_size=20, classes=3, seed=1)
    short = np.array([[5, 7, 9]])
    padded = np.array([[5, 7, 9, 0, 0, 0, 0]])
    assert model(short).shape == (1, 3)
    np.testing.assert_allclose(model(padded), model(short), atol=1e-5)


@pytest.mark.parametrize("cell", ["gru", "urnn", "keras-lstm"])
def test_bidirectional_stacked_network_masks_and_reads_backwards(cell):
    config = ClassifyConfig(cell=cell, units=6, layers=2, bidirectional=True, embedding_dim=4)
    model = build_text_classifier(config, vocabulary_size=20, classes=2, seed=2)
    assert isinstance(model.get_layer("recurrent_1"), keras.layers.Bidirectional)
    assert model.get_layer("recurrent_2").output.shape[-1] == 2 * (12 if cell == "urnn" else 6)
    np.testing.assert_allclose(model(np.array([[3, 4, 0, 0]])), model(np.array([[3, 4]])), atol=1e-5)


def test_vectorizer_pads_masks_and_rebuilds_from_its_vocabulary():
    words = text_data.make_text_vectorizer("words", max_tokens=10)
    words.adapt(tf.constant(["The cat, the dog.", "a cat"]))
    ids = text_data.vectorize_batch(words, tf.constant(["the cat", "dog!", "zebra"]), max_length=5)
    vocabulary = words.get_vocabulary()
    assert vocabulary[:2] == ["", "[UNK]"]
    assert ids.numpy().tolist() == [[vocabulary.index("the"), vocabulary.index("cat")],
                                    [vocabulary.index("dog"), 0], [1, 0]]
    rebuilt = text_data.make_text_vectorizer("words", vocabulary=vocabulary)
    assert rebuilt.get_vocabulary() == vocabulary
    # Nothing left after standardising: one masked step, not an empty time axis.
    assert text_data.vectorize_batch(rebuilt, tf.constant(["!!", "?"]), 5).shape == (2, 1)
    characters = text_data.make_text_vectorizer("characters")
    characters.adapt(tf.constant(["ab c"]))
    assert text_data.vectorize_batch(characters, tf.constant(["Ab c"]), 3).shape == (1, 3)


def test_confusion_matrix_precision_recall():
    matrix = confusion_matrix([0, 0, 1, 1, 2], [0, 1, 1, 1, 1], 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 2, 0], [0, 1, 0]]
    precision, recall = precision_recall(matrix)
    np.testing.assert_allclose(precision, [1.0, 0.5, 0.0])
    np.testing.assert_allclose(recall, [0.5, 1.0, 0.0])


# --- training, prediction, evaluation --------------------------------------------------------


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classify")
    data = sentiment_file(folder / "reviews.tsv")
    config = ClassifyConfig(cell="gru", units=16, embedding_dim=16, data=str(data))
    train_config = dataclasses.replace(TASK.default_train_config(config), epochs=8, learning_rate=1e-2, seed=0)
    return train(TASK, config, train_config, folder / "run", verbose=0)


def test_training_learns_the_words_that_decide(small_run):
    validation = small_run.validation
    assert np.isfinite(validation.loss)
    assert validation.loss < 0.5 * validation.baseline_loss  # the prior baseline: ln 2
    assert validation.accuracy >= 0.9
    run_dir = small_run.run_dir
    for name in ("config.json", "model.keras", "vocabulary.json", "labels.json", "metrics.json",
                 "learning_curves.png", "confusion_validation.png"):
        assert (run_dir / name).is_file(), name
    assert json.loads((run_dir / "labels.json").read_text()) == ["0", "1"]
    assert TASK.load_configs(run_dir)[0].tokens == "words"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["accuracy"] == pytest.approx(validation.accuracy)
    assert metrics["epochs"] == small_run.epochs and 1 <= metrics["best_epoch"] <= small_run.epochs
    assert TASK.baseline(run_dir) == pytest.approx(validation.baseline_loss)


def test_classify_gives_label_and_probability(small_run):
    predictions = TASK.classify(small_run.run_dir, ["the food was superb", "awful phone"])
    assert [p.label for p in predictions] == ["1", "0"]
    assert all(0.5 < p.probability <= 1 for p in predictions)
    with pytest.raises(UserInputError, match="text 2 is empty"):
        TASK.classify(small_run.run_dir, ["fine", "  "])


def test_evaluate_writes_metrics_and_confusion_png(small_run):
    evaluation = TASK.evaluate(small_run.run_dir, split="test")
    assert evaluation.examples == 30 and sum(map(sum, evaluation.confusion)) == 30
    assert (small_run.run_dir / "confusion_test.png").is_file()
    saved = json.loads((small_run.run_dir / "evaluation_test.json").read_text())
    assert saved["accuracy"] == pytest.approx(evaluation.accuracy)
    assert "| 1 |" in evaluation.summary()
    with pytest.raises(UserInputError, match="unknown split 'dev'"):
        TASK.evaluate(small_run.run_dir, split="dev")


def test_a_run_of_another_task_is_refused(tmp_path):
    run_dir = tmp_path / "copy-run"
    run_dir.mkdir()
    run_files.save_config(run_dir, "copy", ClassifyConfig(), TrainConfig())
    with pytest.raises(UserInputError, match="holds a 'copy' run, not a classify one"):
        TASK.classify(run_dir, ["text"])


def test_resuming_reads_the_vocabulary_back_and_checks_the_classes(tmp_path):
    data = sentiment_file(tmp_path / "reviews.tsv", count=60)
    config = ClassifyConfig(cell="gru", units=4, embedding_dim=4, data=str(data))
    train_config = TrainConfig(epochs=1, steps_per_epoch=2, batch_size=8)
    run_dir = tmp_path / "run"
    train(TASK, config, train_config, run_dir, verbose=0)
    vocabulary = (run_dir / "vocabulary.json").read_text()
    longer = train(TASK, config, dataclasses.replace(train_config, epochs=2), run_dir, resume=True, verbose=0)
    assert longer.epochs == 2
    assert (run_dir / "vocabulary.json").read_text() == vocabulary
    other = tmp_path / "other.tsv"
    other.write_text(data.read_text().replace("\t1\n", "\tgood\n"))
    with pytest.raises(UserInputError, match=r"classes \['0', 'good'\] differ from the run's \['0', '1'\]"):
        TASK.evaluate(run_dir, data=str(other))
    data.write_text(other.read_text())
    with pytest.raises(UserInputError, match="differ from the run's"):
        train(TASK, config, dataclasses.replace(train_config, epochs=3), run_dir, resume=True, verbose=0)


def test_compare_trains_classify_cells_side_by_side(tmp_path):
    from kerasrnn.analysis.compare import compare_cells

    data = sentiment_file(tmp_path / "reviews.tsv", count=60)
    comparison = compare_cells("classify", ("gru", "urnn"), steps=4, evaluations=2, out_dir=tmp_path / "cmp",
                               settings={"data": str(data), "units": 4, "embedding_dim": 4})
    assert [row.cell for row in comparison.rows] == ["gru", "urnn"]
    assert all(row.baseline == pytest.approx(np.log(2), abs=0.01) for row in comparison.rows)
    assert "| urnn |" in comparison.table()


# --- the issue's bars ------------------------------------------------------------------------


def test_sentiment_sentences_bar_with_default_settings(shared_data, tmp_path):
    """The full default run (about 25 s): at least 75 % on the held-out fifth."""
    config = ClassifyConfig(data=str(shared_data / "sentiment_sentences"))
    train(TASK, config, TASK.default_train_config(config), tmp_path / "run", verbose=0)
    assert TASK.evaluate(tmp_path / "run", split="heldout").accuracy >= 0.75


@pytest.mark.integration  # half a minute of training
def test_spelled_numbers_bar_on_a_small_budget(tmp_path):
    """One epoch of 300 steps of the defaults (about 40 s): at least 98 % on the test split."""
    config = ClassifyConfig()
    train_config = dataclasses.replace(TASK.default_train_config(config), epochs=1)
    train(TASK, config, train_config, tmp_path / "run", verbose=0)
    assert TASK.evaluate(tmp_path / "run", split="test").accuracy >= 0.98


@pytest.mark.slow
def test_spelled_numbers_bar_with_default_settings(tmp_path):
    config = ClassifyConfig()
    train(TASK, config, TASK.default_train_config(config), tmp_path / "run", verbose=0)
    assert TASK.evaluate(tmp_path / "run", split="test").accuracy >= 0.98


# --- accuracy per magnitude band, and every number 0…N -----------------------------------


def test_evaluation_reports_accuracy_per_magnitude_band(tmp_path, monkeypatch):
    from kerasrnn.data.labelled_texts import LabelledTexts
    from kerasrnn.tasks.classify import model as classify_model
    from kerasrnn.tasks.classify.task import Prepared

    texts = ["one", "un", "two", "deux", "cent", "hundred", "mille"]
    numbers = [1, 1, 2, 2, 100, 100, 1000]
    labels = [0, 1, 0, 1, 1, 0, 1]  # en, fr
    answers = [0, 1, 1, 1, 1, 1, 1]  # "two" and "hundred" wrong
    data = LabelledTexts("numbers", ("en", "fr"), {split: (texts, labels) for split in ("train", "validation", "test")},
                         {split: numbers for split in ("train", "validation", "test")})
    vectorizer = text_data.make_text_vectorizer("characters")
    vectorizer.adapt(texts)
    monkeypatch.setattr(classify_model, "predict_probabilities",
                        lambda model, vectorizer, batch, max_length: np.eye(2)[[answers[texts.index(t)] for t in batch]])
    evaluation = TASK.evaluate_model(None, ClassifyConfig(tokens="characters"), Prepared(vectorizer, ("en", "fr"), data),
                                     "test", tmp_path)
    assert evaluation.accuracy == pytest.approx(5 / 7)
    assert [(b.band, b.right, b.total) for b in evaluation.bands] == [
        ("0–99", 3, 4), ("100–999", 1, 2), ("10³–10⁶", 1, 1), ("≥ 10⁶", 0, 0)]
    summary = evaluation.summary()
    for row in ("| 0–99 | 75.00% | 4 |", "| 100–999 | 50.00% | 2 |", "| 10³–10⁶ | 100.00% | 1 |", "| ≥ 10⁶ | — | 0 |",
                "| all | 71.43% | 7 |"):
        assert row in summary
    saved = json.loads((tmp_path / "evaluation_test.json").read_text())
    assert saved["bands"][0] == {"band": "0–99", "right": 3, "total": 4, "accuracy": 0.75}
    heldout = TASK.evaluate_model(None, ClassifyConfig(tokens="characters"), Prepared(vectorizer, ("en", "fr"), data),
                                  "heldout", tmp_path)
    assert [(b.right, b.total) for b in heldout.bands][:2] == [(6, 8), (2, 4)]  # validation and test


def test_numbers_check_counts_every_number_and_language_and_sets_shared_texts_apart(tmp_path, monkeypatch):
    from kerasrnn.tasks.classify import model as classify_model
    from kerasrnn.tasks.classify import numbers_check

    languages = ("de", "en", "es", "fr", "it")
    spelled = {(n, lang): spelled_numbers.spell(n, lang) for n in range(21) for lang in languages}
    truth = {}
    for (n, lang), text in spelled.items():
        truth.setdefault(text, lang)
    wrong = {"one": "it", "vingt": "de"}
    monkeypatch.setattr(numbers_check, "check_run_dir", lambda run_dir: run_dir)
    monkeypatch.setattr(TASK, "load_configs", lambda run_dir: (ClassifyConfig(tokens="characters"), None), raising=False)
    monkeypatch.setattr(TASK, "load_model", lambda run_dir: None, raising=False)
    monkeypatch.setattr(TASK, "load_vectorizer", lambda run_dir, config: (None, languages), raising=False)
    monkeypatch.setattr(classify_model, "predict_probabilities", lambda model, vectorizer, batch, max_length: np.eye(5)[
        [languages.index(wrong.get(text, truth[text])) for text in batch]])
    report = numbers_check.check_numbers(TASK, tmp_path, "0-20")
    shared = {text for text, _, _ in report.shared}
    assert {"zero", "uno", "six"} <= shared  # en/it, es/it, en/fr
    assert report.total == 5 * 21 - sum(len({lang for (n, lang), t in spelled.items() if t == text}) for text in shared)
    assert report.wrong == 2 and report.right == report.total - 2
    assert [(b.band, b.total - b.right) for b in report.bands][:2] == [("0–99", 2), ("100–999", 0)]
    assert report.languages == (("de", 21, 21), ("en", 18, 19), ("es", 20, 20), ("fr", 19, 20), ("it", 19, 19))
    assert {(number, language, answer) for number, language, _, answer in report.mistakes} == {(1, "en", "it"), (20, "fr", "de")}
    assert "'uno' es/it →" in report.summary()
    assert json.loads((tmp_path / "evaluation_numbers_0-20.json").read_text())["wrong"] == 2


@pytest.mark.parametrize("numbers, message", [("0-", "bad range"), ("9-3", "below the first"), ("x", "bad range"),
                                              ("0-2000000", "at most 1,000,000")])
def test_numbers_check_refuses_bad_ranges(numbers, message):
    from kerasrnn.data.spelled_numbers import parse_range

    with pytest.raises(UserInputError, match=message):
        parse_range(numbers)
    assert parse_range("0-999") == (0, 999) and parse_range("42") == (42, 42)
