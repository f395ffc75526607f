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


# --- texts from a file -------------------------------------------------------------------


def test_classify_labels_10000_lines_of_a_file_in_one_call(tmp_path, run_dir, monkeypatch):
    from kerasrnn.tasks.classify import model as classify_model

    rng = random.Random(1)
    texts = [f"{rng.choice(FILLER)} {rng.choice(GOOD if i % 2 else BAD)} {i}" for i in range(10_000)]
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(texts) + "\n", "utf-8")
    calls = []
    make_predictor = classify_model.predictor

    def counting_predictor(model):
        predict = make_predictor(model)
        return lambda ids: calls.append(len(ids)) or predict(ids)

    monkeypatch.setattr(classify_model, "predictor", counting_predictor)
    result = run("classify", run_dir, "--file", path)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "\t" in line]
    assert len(lines) == 10_000
    assert [line.split("\t")[2] for line in lines] == texts  # one line per input, in order
    assert sum(calls) == 10_000 and len(calls) == 40  # batches of 256, not one call per line
    right = sum(line.split("\t")[0] == ("pos" if i % 2 else "neg") for i, line in enumerate(lines))
    assert right >= 9_000


def test_classify_reads_standard_input(run_dir):
    from click.testing import CliRunner

    import cli

    result = CliRunner().invoke(cli.cli, ["classify", str(run_dir), "--file", "-"],
                                input="the food was superb\nawful phone\n")
    assert result.exit_code == 0, result.output
    assert [line.split("\t")[0] for line in result.output.strip().splitlines()] == ["pos", "neg"]


@pytest.mark.parametrize("content, extra, code, part", [
    (None, ["some text"], 2, "as TEXT arguments or with --file, not both"),
    ("good\n\nbad\n", [], 1, "line 2 of"),
    ("", [], 1, "is empty"),
    (b"caf\xe9\n", [], 1, "is not UTF-8"),
])
def test_bad_text_files_are_one_line(tmp_path, run_dir, content, extra, code, part):
    path = tmp_path / "texts.txt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text("fine\n" if content is None else content, "utf-8")
    assert_one_line_error(run("classify", run_dir, "--file", path, *extra), part, exit_code=code)


def test_evaluate_data_scores_the_whole_file(tmp_path, run_dir):
    data = reviews(tmp_path / "more.tsv", count=37)
    result = run("evaluate", run_dir, "--data", data)
    assert result.exit_code == 0, result.output
    assert "Accuracy on the whole of the given data" in result.output and "over 37 texts" in result.output


def test_a_glue_folder_trains_on_train_tsv_and_tests_on_test_tsv(tmp_path, caplog):
    folder = tmp_path / "glue"
    folder.mkdir()
    for name, count in (("train", 120), ("dev", 20), ("test", 30)):
        (folder / f"{name}.tsv").write_text(
            "sentence\tlabel\n" + reviews(tmp_path / "x.tsv", count).read_text().replace("\n", f" {name}\n")
            .replace(f"\tneg {name}", f" {name}\tneg").replace(f"\tpos {name}", f" {name}\tpos"), "utf-8")
    result = run("train", "--task", "classify", "--data", folder, "--text-column", "sentence", "--units", "4",
                 "--embedding-dim", "4", "--epochs", "1", "--steps-per-epoch", "2", "--run-dir", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert "train ← train.tsv (120 examples); validation ← dev.tsv (20 examples); test ← test.tsv (30 examples)" in \
        caplog.text
    assert "over 20 texts" in result.output
    test = run("evaluate", tmp_path / "run", "--split", "test")
    assert test.exit_code == 0 and "over 30 texts" in test.output, test.output


def test_train_help_says_which_defaults_change_with_the_data():
    result = run("train", "--help")
    text = " ".join(result.output.split())
    assert result.exit_code == 0
    assert "classify takes its defaults from the kind of data. spelled_numbers: an lstm of 64 units over characters" in text
    assert "Real text (a CSV/TSV file, a folder, imdb_reviews): words, embeddings of 128, a bidirectional" in text
    assert "--pooling [last|max|mean|attention]" in text and "--embedding-dropout" in text


def test_a_file_of_reviews_gets_the_real_text_preset_where_no_option_says_otherwise(run_dir):
    saved = json.loads((run_dir / "config.json").read_text())
    assert {name: saved["task_config"][name] for name in ("cell", "units", "bidirectional", "pooling",
                                                          "embedding_dropout", "dropout", "tokens")} == {
        "cell": "gru", "units": 16, "bidirectional": True,  # given
        "pooling": "max", "embedding_dropout": 0.2, "dropout": 0.3, "tokens": "words"}  # the preset's
    assert (saved["train_config"]["batch_size"], saved["train_config"]["warmup_steps"]) == (64, 0)
    assert saved["train_config"]["epochs"] == 6  # given
