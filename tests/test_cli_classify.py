"""The CLI of the classify task: train, classify, evaluate, and a one-line error for each bad input."""

import json
import random

import pytest

from kerasrnn.recurrent import CELL_NAMES
from tests.cli_helpers import assert_one_line_error, run

GOOD = ["great", "lovely", "superb", "fine", "nice"]
BAD = ["awful", "terrible", "poor", "sad", "broken"]
FILLER = ["the", "food", "phone", "was", "really", "and", "very"]


def reviews(path, count=200):
    rng = random.Random(0)
    lines = []
    for index in range(count):
        words = [rng.choice(FILLER) for _ in range(4)] + [rng.choice(GOOD if index % 2 else BAD)]
        rng.shuffle(words)
        lines.append(f"{' '.join(words)}\t{'pos' if index % 2 else 'neg'}\n")
    path.write_text("".join(lines), "utf-8")
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-classify")
    data = reviews(folder / "reviews.tsv")
    result = run("train", "--task", "classify", "--cell", "gru", "--units", "16", "--embedding-dim",
                 "16", "--data", data, "--epochs", "6", "--learning-rate", "0.01", "--run-dir",
                 folder / "run", "--bidirectional")
    assert result.exit_code == 0, result.output
    assert "Validation accuracy" in result.output and "| pos |" in result.output
    return folder / "run"


def test_classify_prints_label_and_probability(run_dir):
    result = run("classify", run_dir, "the food was superb", "awful phone")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["pos", "neg"]
    assert all(0.5 < float(line.split("\t")[1]) <= 1 for line in lines)
    assert lines[0].endswith("\tthe food was superb")


def test_evaluate_prints_accuracy_precision_recall_and_writes_the_png(run_dir):
    result = run("evaluate", run_dir, "--split", "test")
    assert result.exit_code == 0, result.output
    assert "Test accuracy" in result.output and "| neg |" in result.output
    assert (run_dir / "confusion_test.png").is_file()


def test_empty_text_is_refused(run_dir):
    assert_one_line_error(run("classify", run_dir, "fine", ""), "text 2 is empty")


def files_of(folder):
    return sorted((p.relative_to(folder).as_posix(), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_a_run_of_another_task_is_refused_and_left_intact(tmp_path, run_dir):
    other = tmp_path / "copy-run"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({
        "task": "copy", "task_config": {"cell": "lstm"}, "train_config": {}}))
    (other / "model.keras").write_bytes(b"not really")
    before = files_of(other)
    assert_one_line_error(run("classify", other, "some text"), "holds a copy run, which cannot classify texts")
    assert files_of(other) == before


@pytest.mark.parametrize(
    "content, extra, parts",
    [
        ("", [], ["is empty"]),
        ("a sentence without label\nanother\n", [], ["line 1 has no label"]),
        ("\n".join(f"text {i}\tpos" for i in range(20)), [], ["only the class 'pos'"]),
        ("review\tstars\ngood\t1\nbad\t0\n", ["--text-column", "review", "--label-column", "rating"],
         ["has no column 'rating'", "'review', 'stars'"]),
    ],
)
def test_bad_data_gives_one_line_and_creates_no_run(tmp_path, content, extra, parts):
    data = tmp_path / "data.tsv"
    data.write_text(content, "utf-8")
    result = run("train", "--task", "classify", "--data", data, "--run-dir", tmp_path / "run", *extra)
    assert_one_line_error(result, *parts)
    assert not (tmp_path / "run").exists()


def test_bad_data_leaves_an_existing_run_intact(tmp_path, run_dir):
    before = files_of(run_dir)
    data = tmp_path / "empty.tsv"
    data.write_text("")
    assert_one_line_error(run("train", "--task", "classify", "--data", data, "--run-dir", run_dir), "is empty")
    assert_one_line_error(run("evaluate", run_dir, "--data", data), "is empty")
    assert files_of(run_dir) == before


def test_imdb_offline_fails_at_once(tmp_path):
    result = run("train", "--task", "classify", "--data", "imdb_reviews", "--data-dir", tmp_path,
                 "--run-dir", tmp_path / "run")
    assert_one_line_error(result, "aclImdb_v1.tar.gz", str(tmp_path / "downloads" / "manual"))


def test_classify_options_do_not_apply_to_charlm(tmp_path):
    result = run("train", "--bidirectional", "--run-dir", tmp_path / "run")
    assert result.exit_code == 2 and "--bidirectional does not apply to the charlm task" in result.output


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_every_cell_trains_and_classifies_from_the_cli(tmp_path, cell):
    data = reviews(tmp_path / "reviews.tsv", count=40)
    result = run("train", "--task", "classify", "--cell", cell, "--units", "4", "--embedding-dim", "4",
                 "--layers", "2", "--data", data, "--epochs", "1", "--steps-per-epoch", "2",
                 "--run-dir", tmp_path / "run")
    assert result.exit_code == 0, result.output
    result = run("classify", tmp_path / "run", "nice food")
    assert result.exit_code == 0 and result.output.split("\t")[0] in ("neg", "pos"), result.output


def test_a_text_of_unknown_words_is_answered_with_a_warning(run_dir, caplog):
    result = run("classify", run_dir, "zzyzx qwxv blorp", "great food zzyzx")
    assert result.exit_code == 0, result.output
    assert "Warning: 100% of the tokens of text 1 ('zzyzx qwxv blorp') were never seen in training" in caplog.text
    assert "text 2" not in caplog.text  # a third unknown is not "most"
