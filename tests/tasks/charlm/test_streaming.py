"""A streamed corpus trains the same character LM as the in-memory one: the same vocabulary, the
same training and validation batches for the same seed (a resumed stream too), the same steps per
epoch, the same weights and losses after training, the same evaluation of a finished run, with the
run's own data or another file (`evaluate --data`)."""

import json
import math
import random

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.data import corpus_stream
from kerasrnn.data.corpus import CharCorpus
from kerasrnn.data.corpus_stream import StreamedCorpus
from kerasrnn.engine.run import train
from kerasrnn.engine.run_dir import save_config
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import UserInputError
from kerasrnn.tasks.charlm import data as text_data
from kerasrnn.tasks.charlm.task import CharLMConfig, CharLMTask
from tests.cli_helpers import assert_one_line_error, run

WORDS = ["the", "cat", "sat", "on", "a", "hot", "tin", "roof", "dög", "ran", "in", "old", "barn", "日本"]


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Every test gets its own id cache (never the user's ~/.cache)."""
    monkeypatch.setenv(corpus_stream.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def write_text(path, sentences, seed=0, tail=""):
    rng = random.Random(seed)
    path.write_text("".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))) + ".\r\n"
                            for _ in range(sentences)) + tail, encoding="utf-8")
    return path


@pytest.fixture
def corpus_file(tmp_path):
    # Characters that occur only in validation or test ("Q", "€") are outside the vocabulary on both paths.
    return write_text(tmp_path / "corpus.txt", 2_500, tail="Q€ the end\n")


def configs(path, streaming, **changes):
    config = CharLMConfig(cell="keras-gru", units=16, embedding_dim=8, sequence_length=30, data=str(path),
                          streaming=streaming, **changes)
    return config, TrainConfig(epochs=2, steps_per_epoch=20, batch_size=16, learning_rate=2e-2, seed=3)


def prepared(path, streaming, run_dir):
    task = CharLMTask()
    config, train_config = configs(path, streaming)
    run_dir.mkdir()
    loaded = task.load_data(config)
    ready = task.prepare(config, train_config, loaded, run_dir, resume=False)
    return task, config, train_config, loaded, ready


def assert_same_batches(first, second, count=None):
    batches = 0
    for a, b in zip(first.take(count) if count else first, second.take(count) if count else second):
        for x, y in zip(a, b):
            assert x.dtype == y.dtype == tf.int32
            np.testing.assert_array_equal(x.numpy(), y.numpy())
        batches += 1
    return batches


def test_both_paths_give_the_same_vocabulary_windows_and_steps(corpus_file, tmp_path):
    task, config, train_config, memory_corpus, memory = prepared(corpus_file, "never", tmp_path / "m")
    _, streamed_config, _, streamed_corpus, streamed = prepared(corpus_file, "always", tmp_path / "s")

    assert isinstance(memory_corpus, CharCorpus) and isinstance(streamed_corpus, StreamedCorpus)
    assert streamed.characters == memory.characters and "Q" not in streamed.characters
    vocabulary = "vocabulary.json"
    assert (tmp_path / "s" / vocabulary).read_text() == (tmp_path / "m" / vocabulary).read_text()
    assert streamed.id_file.dtype == "uint16"
    for split in ("train", "validation", "test"):
        np.testing.assert_array_equal(streamed.ids(split).read(0, streamed.ids(split).size),
                                      memory.ids(split).numpy())
    assert (task.steps_per_epoch(config, train_config, streamed)
            == task.steps_per_epoch(config, train_config, memory))
    assert task.output_classes(config, streamed) == task.output_classes(config, memory)

    for first_step in (0, 7):  # a fresh run, and a resumed one
        memory_train, memory_validation = task.datasets(config, train_config, memory, first_step=first_step)
        streamed_train, streamed_validation = task.datasets(streamed_config, train_config, streamed,
                                                            first_step=first_step)
        assert streamed_train.element_spec == memory_train.element_spec
        assert assert_same_batches(memory_train, streamed_train, 8) == 8
    batches = assert_same_batches(memory_validation, streamed_validation)
    count = memory_corpus.size("validation") // config.sequence_length
    assert batches == math.ceil(count / train_config.batch_size)
    assert count % train_config.batch_size  # so the last batch is a short one


def test_the_baseline_and_unknown_share_agree(corpus_file, tmp_path):
    _, config, _, _, memory = prepared(corpus_file, "never", tmp_path / "m")
    _, _, _, _, streamed = prepared(corpus_file, "always", tmp_path / "s")
    size = memory.lookup.vocabulary_size()

    for split in ("validation", "test"):
        memory_covered = text_data.covered_ids(memory.ids(split), config.sequence_length)
        streamed_covered = text_data.covered_ids(streamed.ids(split), config.sequence_length)
        assert streamed_covered.size == memory_covered.size
        assert math.isclose(text_data.unigram_cross_entropy(streamed.ids("train"), streamed_covered, size),
                            text_data.unigram_cross_entropy(memory.ids("train"), memory_covered, size),
                            rel_tol=1e-12)
        assert math.isclose(text_data.unknown_share(streamed.ids(split)),
                            text_data.unknown_share(memory.ids(split)), rel_tol=1e-12)
    assert text_data.unknown_share(streamed.ids("test")) > 0  # "Q€" are unknown


def test_both_paths_train_the_same_model(corpus_file, tmp_path):
    """About 15 s: two short runs, in memory and streamed, end with the same weights and losses, and
    `evaluate` of each finished run (the test split, then another file) gives the same numbers."""
    task = CharLMTask()
    runs = {}
    for streaming in ("never", "always"):
        config, train_config = configs(corpus_file, streaming)
        keras.utils.set_random_seed(0)
        result = train(task, config, train_config, tmp_path / streaming, verbose=0)
        runs[streaming] = (result, json.loads((tmp_path / streaming / "metrics.json").read_text()))
    (_, memory_metrics), (streamed, streamed_metrics) = runs["never"], runs["always"]

    assert streamed_metrics["validation_nats_per_char"] == memory_metrics["validation_nats_per_char"]
    assert streamed_metrics["validation_characters"] == memory_metrics["validation_characters"]
    assert math.isclose(streamed_metrics["unigram_baseline_nats_per_char"],
                        memory_metrics["unigram_baseline_nats_per_char"], rel_tol=1e-12)
    assert streamed.validation.loss < streamed.validation.baseline  # it learned more than frequencies
    for memory_weights, streamed_weights in zip(task.load_model(tmp_path / "never").get_weights(),
                                                task.load_model(tmp_path / "always").get_weights()):
        np.testing.assert_array_equal(memory_weights, streamed_weights)

    # A finished run, evaluated: its own test split, then another file (evaluate --data).
    for data in (None, str(write_text(tmp_path / "other.txt", 400, seed=9))):
        memory_evaluation = task.evaluate(tmp_path / "never", split="test", data=data)
        streamed_evaluation = task.evaluate(tmp_path / "always", split="test", data=data)
        assert streamed_evaluation.loss == memory_evaluation.loss
        assert streamed_evaluation.characters == memory_evaluation.characters
        assert math.isclose(streamed_evaluation.baseline, memory_evaluation.baseline, rel_tol=1e-12)


def test_auto_streams_a_path_above_the_threshold(corpus_file, monkeypatch, tmp_path):
    task = CharLMTask()
    size = corpus_file.stat().st_size
    monkeypatch.setattr(corpus_stream, "STREAMING_THRESHOLD_BYTES", size)
    assert isinstance(task.load_data(configs(corpus_file, "auto")[0]), CharCorpus)
    monkeypatch.setattr(corpus_stream, "STREAMING_THRESHOLD_BYTES", size - 1)
    assert isinstance(task.load_data(configs(corpus_file, "auto")[0]), StreamedCorpus)
    assert corpus_stream.STREAMING_THRESHOLD_BYTES < 2**20 < 16 * 2**20  # (the real one: 1 MiB)


def test_evaluate_data_streams_a_big_file_from_the_cli(corpus_file, monkeypatch, tmp_path):
    """`evaluate RUN --data BIG`: a run trained in memory, evaluated on a file the task streams."""
    task = CharLMTask()
    config, train_config = configs(corpus_file, "auto")
    train(task, config, TrainConfig(epochs=1, steps_per_epoch=2, batch_size=16), tmp_path / "run", verbose=0)
    big = write_text(tmp_path / "big.txt", 3_000, seed=5)
    expected = task.evaluate(tmp_path / "run", split="validation", data=str(big))
    monkeypatch.setattr(corpus_stream, "STREAMING_THRESHOLD_BYTES", 1_000)

    result = run("evaluate", tmp_path / "run", "--data", big)

    assert result.exit_code == 0, result.output
    assert f"Validation loss {expected.loss:.4f} nats/char" in result.output
    assert f"unigram baseline {expected.baseline:.4f} nats/char" in result.output
    assert list((tmp_path / "cache" / "corpora").iterdir())  # it was streamed


def test_a_bad_big_file_is_one_line(tmp_path):
    task = CharLMTask()
    binary = tmp_path / "data.bin"
    binary.write_bytes(b"text " * 1000 + b"\x00")
    with pytest.raises(UserInputError, match="looks binary") as info:
        task.check_data(configs(binary, "always")[0])
    assert "\n" not in str(info.value)
    short = tmp_path / "short.txt"
    short.write_text("a few words only\n" * 3)
    with pytest.raises(UserInputError, match="too small for sequence length 30: its validation split has 3"):
        task.load_data(configs(short, "always")[0])


def test_the_streaming_setting(tmp_path):
    with pytest.raises(UserInputError, match="unknown streaming mode 'sometimes': choose one of auto, always"):
        CharLMConfig(streaming="sometimes")
    assert CharLMConfig().streaming == "auto"
    # A run saved before the setting existed loads with the default.
    save_config(tmp_path, "charlm", CharLMConfig(units=8), TrainConfig())
    saved = json.loads((tmp_path / "config.json").read_text())
    del saved["task_config"]["streaming"]
    (tmp_path / "config.json").write_text(json.dumps(saved))
    assert CharLMTask().load_configs(tmp_path)[0] == CharLMConfig(units=8)


def test_cli_train_with_streaming(corpus_file, monkeypatch, tmp_path):
    """Train through the CLI on a file streamed because it is above the threshold: a working run."""
    monkeypatch.setattr(corpus_stream, "STREAMING_THRESHOLD_BYTES", 1_000)
    result = run("train", "--data", corpus_file, "--cell", "keras-gru", "--units", "8", "--seq-len", "20",
                 "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "8", "--run-dir", tmp_path / "r")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "metrics.json").is_file()
    assert list((tmp_path / "cache" / "corpora").iterdir())  # it was streamed
    assert_one_line_error(run("train", "--data", tmp_path / "missing.txt", "--run-dir", tmp_path / "x"),
                          "no such file or folder")
