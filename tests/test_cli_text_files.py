"""`translate --file`: 10,000 texts from a file or standard input in one call, decoded in
batches, one output line per input line, in order; and a classify run's own data given as separate
validation and test files, and a translate run's too."""

import dataclasses
import random

from kerasrnn.engine.run import train
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.tasks import get_task
from tests.cli_helpers import assert_one_line_error, run
from tests.test_cli_classify import reviews
from tests.test_cli_translate import WORDS, word_pairs


def test_translate_10000_lines_of_a_file_in_one_call(tmp_path, monkeypatch):
    from kerasrnn.tasks.translate import model as translate_model

    task = get_task("translate")
    config = task.config_class(cell="gru", units=4, embedding_dim=4, tokens="words",
                               data=str(word_pairs(tmp_path / "pairs.txt", count=60)))
    train(task, config, TrainConfig(epochs=1, steps_per_epoch=2, batch_size=8), tmp_path / "run", verbose=0)
    rng = random.Random(2)
    texts = [" ".join(rng.choice(list(WORDS)) for _ in range(rng.randint(1, 3))) + f" {i}" for i in range(10_000)]
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(texts) + "\n", "utf-8")
    batches = []
    decode = translate_model.Translator.decode
    monkeypatch.setattr(translate_model.Translator, "decode",
                        lambda self, texts, **options: batches.append(len(texts)) or decode(self, texts, **options))
    result = run("translate", tmp_path / "run", "--file", path)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "\t" in line]
    assert len(lines) == 10_000
    assert [line.split("\t")[0] for line in lines] == texts  # one line per input, in order
    assert batches == [10_000]  # one call: the translator batches inside it, never a call per line


def test_separate_validation_and_test_files_of_a_classify_run(tmp_path):
    task = get_task("classify")
    train_file = reviews(tmp_path / "train.tsv", count=80)
    test_file = reviews(tmp_path / "held.tsv", count=24)
    config = task.config_class(cell="gru", units=4, embedding_dim=4, data=str(train_file),
                               validation_data=str(test_file), test_data=str(test_file))
    train(task, config, TrainConfig(epochs=1, steps_per_epoch=2, batch_size=8), tmp_path / "run", verbose=0)
    resolved = task.load_configs(tmp_path / "run")[0]
    assert resolved.test_data == str(test_file.resolve())  # saved absolute, for evaluate
    assert task.evaluate(tmp_path / "run", split="test").examples == 24
    assert task.evaluate(tmp_path / "run", split="validation").examples == 24
    assert dataclasses.replace(config, test_data=None).test_data is None


def test_separate_validation_and_test_files_of_a_translate_run(tmp_path):
    train_file = word_pairs(tmp_path / "pairs.txt", count=80)
    held = {"held-dev.txt": ["one two\tun deux", "three\ttrois", "two two one\tdeux deux un"],
            "held-test.txt": ["four one\tquatre un", "three three\ttrois trois"]}
    for name, lines in held.items():
        (tmp_path / name).write_text("\n".join(lines) + "\n", "utf-8")
    result = run("train", "--task", "translate", "--cell", "gru", "--units", "4", "--embedding-dim", "4",
                 "--tokens", "words", "--data", train_file, "--validation-data", tmp_path / "held-dev.txt",
                 "--test-data", tmp_path / "held-test.txt", "--epochs", "1", "--steps-per-epoch", "2",
                 "--batch-size", "8", "--run-dir", tmp_path / "run")
    assert result.exit_code == 0, result.output
    task = get_task("translate")
    config = task.load_configs(tmp_path / "run")[0]
    assert config.test_data == str((tmp_path / "held-test.txt").resolve())  # saved absolute, for evaluate
    pairs = task.load_data(config)
    assert pairs.split("validation")[0] == ["one two", "three", "two two one"]
    assert pairs.split("test")[0] == ["four one", "three three"]
    assert len(pairs.split("train")[0]) == 80  # the whole training file, none of it held out
    assert task.evaluate(tmp_path / "run", split="test").examples == 2
    # A spelled_numbers run cannot take files of its own splits.
    refused = run("train", "--task", "translate", "--test-data", tmp_path / "held-test.txt",
                  "--run-dir", tmp_path / "refused")
    assert_one_line_error(refused, "separate validation or test data go with pairs of your own")
