"""`translate --file` (#15): 10,000 texts from a file or standard input in one call, decoded in
batches, one output line per input line, in order; and a classify run's own data given as separate
validation and test files."""

import dataclasses
import random

from kerasrnn.engine.run import train
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.tasks import get_task
from tests.cli_helpers import run
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
