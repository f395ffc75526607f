"""Bad input, row by row: every command answers with one `Error:` line and a non-zero exit, never a
traceback, and nothing already on disk changes.

Each row: the command line (with `{run}` (a character model), `{classify_run}`, `{translate_run}`,
`{copy_run}`, `{tmp}` filled in), how to damage a file of the row's copy of a run first (or nothing),
the exit code, and a fragment of the one line.
"""

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from kerasrnn.engine.run import train
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.tasks import get_task
from tests.cli_helpers import assert_one_line_error, run
from tests.test_cli_classify import reviews
from tests.test_cli_translate import word_pairs

TEXT = "the cat sat on the mat. the dog ran to the old barn. a hot tin roof. " * 80  # validation (5 %) holds a default window of 200
RUNS = ("charlm", "classify", "translate")  # copied into every row's folder; copy_run is only read


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Tiny trained runs (a character model, a word classifier, a word translator, a copy run), two
    steps each, shared by every row (never changed)."""
    root = tmp_path_factory.mktemp("runs")
    (root / "text.txt").write_text(TEXT)
    tiny = TrainConfig(epochs=1, steps_per_epoch=2, batch_size=8)
    charlm = get_task("charlm")
    train(charlm, charlm.config_class(cell="keras-gru", units=8, embedding_dim=4, sequence_length=20,
                                      data=str(root / "text.txt")), tiny, root / "charlm", verbose=0)
    classify = get_task("classify")
    train(classify, classify.config_class(cell="gru", units=4, embedding_dim=4,
                                          data=str(reviews(root / "reviews.tsv", count=60))),
          tiny, root / "classify", verbose=0)
    translate = get_task("translate")
    train(translate, translate.config_class(cell="gru", units=4, embedding_dim=4, tokens="words",
                                            data=str(word_pairs(root / "pairs.txt", count=60))),
          tiny, root / "translate", verbose=0)
    copy = get_task("copy")
    config = copy.config_class(cell="lstm", units=4, length=3, validation_size=8)
    train(copy, config, TrainConfig(**{**copy.default_train_config(config).__dict__, "epochs": 1,
                                       "steps_per_epoch": 2}), root / "copy", verbose=0)
    return root


def digest(folder: Path) -> dict:
    return {path.relative_to(folder): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(4000))


def empty(path: Path) -> None:
    path.write_bytes(b"")


def wrong_json(path: Path) -> None:
    path.write_text('{"task": "charlm", "task_config": [1, 2]')


def one_more(path: Path) -> None:
    """A well-formed list one entry longer: the file of another run, of another size."""
    path.write_text(json.dumps(json.loads(path.read_text()) + ["extra"]))


def repeated(path: Path) -> None:
    """The last entry twice."""
    values = json.loads(path.read_text())
    path.write_text(json.dumps(values + values[-1:]))


def specials_dropped(path: Path) -> None:
    """Without its first entry (padding, for a vocabulary)."""
    path.write_text(json.dumps(json.loads(path.read_text())[1:]))


DAMAGES = {"truncated": truncate, "random": random_bytes, "empty": empty, "wrong json": wrong_json,
           "one more": one_more, "repeated": repeated, "specials dropped": specials_dropped}

ROWS = [
    # generate
    (["generate", "{tmp}/missing"], None, 1, "is not a run directory: no such folder"),
    (["generate", "{run}", "--temperature", "inf"], None, 1, "temperature must be positive and finite, got inf"),
    (["generate", "{run}", "--temperature", "nan"], None, 1, "temperature must be positive and finite, got nan"),
    (["generate", "{run}", "--length", "0"], None, 2, "Invalid value for '--length'"),
    (["generate", "{run}", "--prompt", "€€€"], None, 1, "only characters the model never saw"),
    (["generate", "{copy_run}"], None, 1, "holds a copy run, which cannot generate text"),
    (["generate", "{run}"], ("charlm/model.keras", "truncated"), 1, "model.keras is damaged or not a model"),
    (["generate", "{run}"], ("charlm/model.keras", "random"), 1, "model.keras is damaged or not a model"),
    (["generate", "{run}"], ("charlm/model.keras", "empty"), 1, "model.keras is damaged or not a model"),
    (["generate", "{run}"], ("charlm/vocabulary.json", "random"), 1, "cannot read the vocabulary"),
    (["generate", "{run}"], ("charlm/vocabulary.json", "wrong json"), 1, "cannot read the vocabulary"),
    (["generate", "{run}"], ("charlm/config.json", "wrong json"), 1, "is not a kerasrnn run config"),
    (["generate", "{run}"], ("charlm/config.json", "empty"), 1, "is not a kerasrnn run config"),
    # evaluate
    (["evaluate", "{run}", "--split", "heldout"], None, 1, "unknown split 'heldout'"),
    (["evaluate", "{run}", "--beam-size", "2"], None, 2, "--beam-size does not apply to a charlm run"),
    (["evaluate", "{run}", "--data", "{tmp}/nothing.txt"], None, 1, "no such file or folder"),
    (["evaluate", "{run}"], ("charlm/model.keras", "truncated"), 1, "model.keras is damaged or not a model"),
    (["evaluate", "{copy_run}", "--data", "x"], None, 1, "generates its sequences"),
    # export
    (["export", "{run}", "{tmp}/a-file/export"], None, 1, "a-file is a file, not a folder"),
    (["export", "{run}", "{tmp}/a-file"], None, 1, "is a file, not a folder"),
    (["export", "{run}", "{tmp}/out"], ("charlm/model.keras", "random"), 1, "model.keras is damaged or not a model"),
    (["export", "{copy_run}", "{tmp}/out"], None, 1, "cannot be exported"),
    # classify and translate on runs of other tasks
    (["classify", "{run}", "some text"], None, 1, "holds a charlm run, which cannot classify texts"),
    (["translate", "{copy_run}", "one"], None, 1, "holds a copy run, which cannot translate texts"),
    # train
    (["train", "--run-dir", "{tmp}/a-file/run", "--epochs", "1"], None, 1, "cannot create the run directory"),
    (["train", "--data-dir", "{tmp}/a-file/tfds", "--run-dir", "{tmp}/r"], None, 1,
     "cannot prepare the python_docs dataset"),
    (["train", "--clipvalue", "inf", "--run-dir", "{tmp}/r"], None, 1, "clipvalue must be positive and finite"),
    (["train", "--clipnorm", "inf", "--run-dir", "{tmp}/r"], None, 1, "clipnorm must be positive and finite"),
    (["train", "--resume", "--run-dir", "{run}"], ("charlm/backup/state.npz", "truncated"), 1, "is damaged"),
    (["train", "--resume", "--run-dir", "{run}"], ("charlm/config.json", "random"), 1, "is not a kerasrnn run config"),
    (["train", "--task", "classify", "--data", "{tmp}/long-field.csv", "--run-dir", "{tmp}/r"], None, 1,
     "has only the class '5' in its training split"),  # read, though a field is over csv's limit
    (["generate", "{run}", "--top-k", "0"], None, 2, "Invalid value for '--top-k'"),
    (["generate", "{run}", "--seed", "-1"], None, 2, "Invalid value for '--seed'"),
    (["generate", "{run}", "--seed", "2147483648"], None, 2, "Invalid value for '--seed'"),
    (["generate", "{run}", "--length", "many"], None, 2, "Invalid value for '--length'"),
    (["generate", "{tmp}/a-file"], None, 1, "is not a run directory: no such folder"),
    (["generate", "{tmp}"], None, 1, "is not a run directory: it has no config.json"),
    (["evaluate", "{tmp}/missing"], None, 1, "is not a run directory"),
    (["evaluate", "{run}", "--split", "dev"], None, 2, "Invalid value for '--split'"),
    (["evaluate", "{run}"], ("charlm/vocabulary.json", "empty"), 1, "cannot read the vocabulary"),
    (["evaluate", "{copy_run}", "--split", "heldout"], None, 1, "unknown split 'heldout'"),
    (["evaluate", "{run}", "--data", "{tmp}/empty.txt"], None, 1, "is empty"),
    (["classify", "{tmp}/missing", "text"], None, 1, "is not a run directory"),
    (["classify", "{run}"], None, 2, "Missing argument 'TEXT...'"),
    (["translate", "{run}", "one", "--beam-size", "0"], None, 2, "Invalid value for '--beam-size'"),
    (["export", "{tmp}/missing", "{tmp}/out"], None, 1, "is not a run directory"),
    (["export", "{run}", "{run}"], None, 1, "holds the run"),
    (["export", "{run}", "{tmp}", "--force"], None, 1, "holds the run"),
    (["export", "{run}", "{tmp}/notes", "--force"], None, 1, "is not a SavedModel"),
    (["export", "{run}", "{tmp}/notes"], None, 1, "exists and is not empty"),
    (["train", "--task", "poetry"], None, 2, "Invalid value for '--task'"),
    (["train", "--cell", "transformer"], None, 2, "Invalid value for '--cell'"),
    (["train", "--units", "0"], None, 2, "Invalid value for '--units'"),
    (["train", "--dropout", "1"], None, 2, "Invalid value for '--dropout'"),
    (["train", "--learning-rate", "0"], None, 2, "Invalid value for '--learning-rate'"),
    (["train", "--learning-rate", "inf", "--run-dir", "{tmp}/r"], None, 1, "learning rate must be positive and finite"),
    (["train", "--seed", "-1"], None, 2, "Invalid value for '--seed'"),
    (["train", "--resume"], None, 2, "--resume needs --run-dir"),
    (["train", "--resume", "--run-dir", "{run}", "--units", "8"], None, 2, "drop --units"),
    (["train", "--data", "{tmp}/nothing.txt", "--run-dir", "{tmp}/r"], None, 1, "no such file or folder"),
    (["train", "--data", "{tmp}/empty.txt", "--run-dir", "{tmp}/r"], None, 1, "is empty"),
    (["train", "--data", "{tmp}/text.txt", "--seq-len", "100000", "--run-dir", "{tmp}/r"], None, 1,
     "is too small for sequence length 100,000"),
    (["train", "--task", "translate", "--pair", "xx-yy", "--run-dir", "{tmp}/r"], None, 1, "unknown language pair"),
    (["train", "--pair", "en-fr", "--run-dir", "{tmp}/r"], None, 2, "--pair does not apply to the charlm task"),
    (["train", "--task", "copy", "--clipvalue", "1", "--clipnorm", "1", "--run-dir", "{tmp}/r"], None, 1,
     "not both"),
    (["train", "--run-dir", "{tmp}/a-file"], None, 1, "is a file, not a folder"),
    (["train", "--run-dir", "{run}"], None, 1, "not empty: continue it with: python cli.py train --resume --run-dir"),
    (["gradients", "--out", "{tmp}/g.jpg"], None, 1, "--out must name a .png file"),
    (["gradients", "--out", "{tmp}/missing/g.png"], None, 1, "does not exist"),
    (["gradients", "--cells", "transformer", "--out", "{tmp}/g.png"], None, 1, "unknown cell 'transformer'"),
    (["gradients", "--length", "0"], None, 2, "Invalid value for '--length'"),
    (["compare", "--cells", "gru,gru", "--out-dir", "{tmp}/c"], None, 1, "named twice"),
    (["compare", "--steps", "0"], None, 2, "Invalid value for '--steps'"),
    (["compare", "--task", "adding", "--length", "1", "--out-dir", "{tmp}/c"], None, 1,
     "length must be an integer of at least 2"),
    # sizes that cannot fit: refused at once, before anything is allocated
    (["train", "--data", "{tmp}/text.txt", "--units", "100000", "--no-carry-state",
      "--run-dir", "{tmp}/r"], None, 1,
     "training this charlm model needs about"),
    (["train", "--data", "{tmp}/text.txt", "--batch-size", "10000000", "--no-carry-state",
      "--run-dir", "{tmp}/r"], None, 1,
     "of memory, more than the"),
    (["train", "--task", "copy", "--units", "60000", "--run-dir", "{tmp}/r"], None, 1, "GiB of memory"),
    # gradients and compare
    (["gradients", "--cells", "vanilla,,gru", "--out", "{tmp}/g.png"], None, 1, "an empty cell name"),
    (["compare", "--cells", "lstm,,gru", "--out-dir", "{tmp}/c"], None, 1, "an empty cell name"),
    (["compare", "--units", "100000", "--out-dir", "{tmp}/c"], None, 1,
     "training the vanilla copy model needs about"),  # refused before anything is trained or created
    # a trained classifier
    (["classify", "{classify_run}", "great food"], ("classify/labels.json", "random"), 1, "cannot read"),
    (["classify", "{classify_run}", "great food"], ("classify/labels.json", "empty"), 1, "cannot read"),
    (["classify", "{classify_run}", "great food"], ("classify/labels.json", "wrong json"), 1, "cannot read"),
    (["classify", "{classify_run}", "great food"], ("classify/labels.json", "one more"), 1,
     "labels.json is damaged or belongs to another run (3 classes, where the model has 2)"),
    (["classify", "{classify_run}", "great food"], ("classify/labels.json", "repeated"), 1,
     "labels.json is damaged or belongs to another run ('pos' appears twice)"),
    (["classify", "{classify_run}", "great food"], ("classify/vocabulary.json", "truncated"), 1, "cannot read"),
    (["classify", "{classify_run}", "great food"], ("classify/vocabulary.json", "one more"), 1,
     "vocabulary.json is damaged or belongs to another run (20 tokens, where the model has 19)"),
    (["classify", "{classify_run}", "great food"], ("classify/vocabulary.json", "specials dropped"), 1,
     "vocabulary.json is damaged or belongs to another run (it does not start with '', '[UNK]')"),
    (["classify", "{classify_run}", "great food"], ("classify/model.keras", "random"), 1,
     "model.keras is damaged or not a model"),
    (["evaluate", "{classify_run}"], ("classify/labels.json", "one more"), 1,
     "differ from the run's ['neg', 'pos', 'extra'] in "),  # the data's classes are compared first
    (["export", "{classify_run}", "{tmp}/out"], ("classify/vocabulary.json", "repeated"), 1, "appears twice"),
    (["classify", "{classify_run}", "fine", ""], None, 1, "text 2 is empty"),
    (["classify", "{classify_run}", "fine", "   "], None, 1, "text 2 is empty"),
    (["evaluate", "{classify_run}", "--beam-size", "3"], None, 2, "--beam-size does not apply to a classify run"),
    (["evaluate", "{classify_run}", "--data", "{tmp}/three-classes.tsv"], None, 1,
     "the data's classes ['meh', 'neg', 'pos'] differ from the run's ['neg', 'pos']"),
    (["evaluate", "{classify_run}", "--data", "{tmp}/nothing.tsv"], None, 1, "no such file or folder"),
    (["evaluate", "{classify_run}", "--split", "dev"], None, 2, "Invalid value for '--split'"),
    (["translate", "{classify_run}", "one"], None, 1, "holds a classify run, which cannot translate texts"),
    (["generate", "{classify_run}"], None, 1, "holds a classify run, which cannot generate text"),
    # a trained translator
    (["translate", "{translate_run}", "one", "--beam-size", "0"], None, 2, "Invalid value for '--beam-size'"),
    (["translate", "{translate_run}", "one", "--beam-size", "-5"], None, 2, "Invalid value for '--beam-size'"),
    (["translate", "{translate_run}", "one", "--beam-size", "wide"], None, 2, "Invalid value for '--beam-size'"),
    (["translate", "{translate_run}", "one", "--beam-size", "2.5"], None, 2, "Invalid value for '--beam-size'"),
    (["evaluate", "{translate_run}", "--beam-size", "0"], None, 2, "Invalid value for '--beam-size'"),
    (["translate", "{translate_run}", "one", ""], None, 1, "text 2 is empty"),
    (["translate", "{translate_run}", "one"], ("translate/source_vocabulary.json", "random"), 1, "cannot read"),
    (["translate", "{translate_run}", "one"], ("translate/source_vocabulary.json", "one more"), 1,
     "source_vocabulary.json is damaged or belongs to another run (9 tokens, where the model has 8)"),
    (["translate", "{translate_run}", "one"], ("translate/target_vocabulary.json", "specials dropped"), 1,
     "target_vocabulary.json is damaged or belongs to another run (it does not start with '', '[UNK]', "
     "'[START]', '[END]')"),
    (["translate", "{translate_run}", "one"], ("translate/target_vocabulary.json", "repeated"), 1,
     "appears twice"),
    (["translate", "{translate_run}", "one"], ("translate/target_vocabulary.json", "empty"), 1, "cannot read"),
    (["translate", "{translate_run}", "one"], ("translate/decoding.json", "wrong json"), 1,
     "decoding.json"),
    (["translate", "{translate_run}", "one"], ("translate/decoding.json", "empty"), 1, "cannot read"),
    (["translate", "{translate_run}", "one"], ("translate/model.keras", "truncated"), 1,
     "model.keras is damaged or not a model"),
    (["evaluate", "{translate_run}"], ("translate/target_vocabulary.json", "one more"), 1,
     "(11 tokens, where the model has 10)"),
    (["export", "{translate_run}", "{tmp}/out"], ("translate/source_vocabulary.json", "truncated"), 1,
     "cannot read"),
    (["evaluate", "{translate_run}", "--split", "heldout"], None, 1, "unknown split 'heldout'"),
    (["evaluate", "{translate_run}", "--data", "{tmp}/nothing.tsv"], None, 1, "no pairs file"),
    (["classify", "{translate_run}", "one"], None, 1, "holds a translate run, which cannot classify texts"),
    # texts from a file (--file), and the numbers check (evaluate --numbers)
    (["classify", "{classify_run}", "--file", "{tmp}/absent.txt"], None, 1, "no such file: "),
    (["classify", "{classify_run}", "--file", "{tmp}/notes"], None, 1, "is a folder"),
    (["classify", "{classify_run}", "--file", "{tmp}/empty.txt"], None, 1, "is empty"),
    (["classify", "{classify_run}", "--file", "{tmp}/three-classes.tsv", "more"], None, 2, "not both"),
    (["classify", "{classify_run}"], None, 2, "or --file PATH"),
    (["translate", "{translate_run}", "--file", "{tmp}/blank-line.txt"], None, 1, "line 2 of"),
    (["translate", "{translate_run}", "--file", "{tmp}/latin1.txt"], None, 1, "is not UTF-8"),
    (["evaluate", "{classify_run}", "--numbers", "0-999"], None, 1, "not languages of spelled_numbers"),
    (["evaluate", "{classify_run}", "--numbers", "9-3"], None, 1, "below the first"),
    (["evaluate", "{translate_run}", "--numbers", "0-999"], None, 1, "not spelled_numbers: --numbers checks"),
    (["evaluate", "{translate_run}", "--numbers", "0-x"], None, 1, "bad range of numbers"),
    (["evaluate", "{run}", "--numbers", "0-999"], None, 2, "--numbers does not apply to a charlm run"),
]


@pytest.mark.parametrize("arguments, damage, exit_code, message", ROWS,
                         ids=[" ".join(row[0][:2]) + (f" {row[1][0]} {row[1][1]}" if row[1] else "") + f" {i}"
                              for i, row in enumerate(ROWS)])
def test_a_bad_input_is_one_line_and_changes_nothing(runs, tmp_path, arguments, damage, exit_code, message):
    for name in RUNS:
        shutil.copytree(runs / name, tmp_path / name)
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "text.txt").write_text(TEXT)
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("not an export")
    # A CSV whose one text is longer than the csv module's default field limit (131,072).
    (tmp_path / "long-field.csv").write_text("text,label\n" + "a" * 200_000 + ",5\n")
    (tmp_path / "three-classes.tsv").write_text("".join(f"text {i}\t{('neg', 'pos', 'meh')[i % 3]}\n"
                                                        for i in range(30)))
    (tmp_path / "one-pair.tsv").write_text("one\tun\n")
    (tmp_path / "blank-line.txt").write_text("one\n\ntwo\n")
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9\n")
    if damage is not None:
        DAMAGES[damage[1]](tmp_path / damage[0])
    folders = {name: tmp_path / name for name in (*RUNS, "notes")} | {"copy": runs / "copy"}
    before = {name: digest(folder) for name, folder in folders.items()}
    filled = [a.format(run=tmp_path / "charlm", classify_run=tmp_path / "classify",
                       translate_run=tmp_path / "translate", copy_run=runs / "copy", tmp=tmp_path) for a in arguments]
    assert_one_line_error(run(*filled), message, exit_code=exit_code)
    assert {name: digest(folder) for name, folder in folders.items()} == before
    assert not (tmp_path / "r").exists() and not (tmp_path / "out").exists() and not (tmp_path / "c").exists()


def test_text_the_model_cannot_read_gets_a_warning_with_the_share_of_unknown_tokens(runs, tmp_path, caplog):
    """Not refused (some unknown characters are normal), but never answered with silent confidence."""
    (tmp_path / "greek.txt").write_text("αβγδεζηθικλμνξοπρστυφχψω " * 200)
    evaluated = run("evaluate", runs / "charlm", "--data", tmp_path / "greek.txt")
    assert evaluated.exit_code == 0, evaluated.output
    assert "Warning: 96% of the characters of the validation text were never seen in training" in caplog.text
    caplog.clear()
    assert run("evaluate", runs / "charlm").exit_code == 0
    assert "Warning" not in caplog.text


@pytest.mark.parametrize("arguments, warnings, answers", [
    (["classify", "{classify_run}", "zzyzx qwxv", "great food"],
     ["Warning: 100% of the tokens of text 1 ('zzyzx qwxv') were never seen in training: the answer is a guess"], 2),
    (["classify", "{classify_run}", "!!! ???"],
     ["Warning: text 1 ('!!! ???') has no token the model reads: the answer is a guess"], 1),
    (["translate", "{translate_run}", "zzyzx one qwxv", "one zzyzx", "one two"],
     ["Warning: 67% of the tokens of text 1 ('zzyzx one qwxv') were never seen in training",
      "Warning: 50% of the tokens of text 2 ('one zzyzx') were never seen in training"], 3),
    (["evaluate", "{classify_run}", "--data", "{tmp}/unseen-reviews.tsv"],
     ["Warning: 100% of the tokens of the given texts were never seen in training: the scores say little"],
     None),
    (["evaluate", "{translate_run}", "--data", "{tmp}/unseen-pairs.tsv", "--split", "test"],
     ["Warning: 100% of the tokens of the test sources were never seen in training: the scores say little"], None),
    (["evaluate", "{classify_run}"], [], None),
    (["evaluate", "{translate_run}", "--split", "test"], [], None),
    (["translate", "{translate_run}", "one two", "--beam-size", "5"], [], 1),
])
def test_text_a_classifier_or_translator_cannot_read_is_answered_with_a_warning(runs, tmp_path, caplog, arguments,
                                                                                warnings, answers):
    """Not refused: a few unknown tokens are normal, and one unreadable text should not cost the answers
    for the others; but each text (or split) that is mostly unknown gets a line with the share, and
    a text with no known token at all is never answered silently. Nothing of the run changes but
    the evaluation files `evaluate` writes."""
    for name in ("classify", "translate"):
        shutil.copytree(runs / name, tmp_path / name)
    (tmp_path / "unseen-reviews.tsv").write_text("".join(f"zq{i} xv{i} wk{i}\t{('neg', 'pos')[i % 2]}\n"
                                                         for i in range(60)))
    (tmp_path / "unseen-pairs.tsv").write_text("".join(f"zq{i} xv{i}\tfoo{i}\n" for i in range(60)))
    def kept(folder):  # every file but those evaluate writes
        return {k: v for k, v in digest(folder).items() if not k.name.startswith(("evaluation_", "confusion_"))}

    before = {name: kept(tmp_path / name) for name in ("classify", "translate")}
    result = run(*[a.format(classify_run=tmp_path / "classify", translate_run=tmp_path / "translate", tmp=tmp_path)
                   for a in arguments])
    assert result.exit_code == 0 and "Error" not in result.output, result.output
    lines = [line for line in caplog.text.splitlines() if "Warning" in line]
    assert len(lines) == len(warnings), caplog.text
    for line, warning in zip(lines, warnings):
        assert warning in line
    if answers is not None:
        assert len(result.output.splitlines()) == answers and all("\t" in line for line in result.output.splitlines())
    assert {name: kept(tmp_path / name) for name in ("classify", "translate")} == before


def test_compare_checks_the_memory_of_every_cell_before_training_any(monkeypatch, tmp_path, caplog):
    """1 GiB holds the vanilla copy model of 4,000 units (about 356 MiB) but not the LSTM (1.4 GiB): the
    comparison is refused at once, before the vanilla cell trains, and leaves no folder."""
    monkeypatch.setenv("KERASRNN_MEMORY_LIMIT", "1G")
    failed = run("compare", "--cells", "vanilla,lstm", "--units", "4000", "--out-dir", tmp_path / "c")
    assert_one_line_error(failed, "training the lstm copy model needs about 1.4 GiB of memory, more than the 1.0 GiB "
                          "available (KERASRNN_MEMORY_LIMIT)")
    assert "Training vanilla" not in caplog.text and not (tmp_path / "c").exists()


def test_a_wrong_column_is_reported_before_tensorflow_loads(tmp_path):
    """Read from the file's first row, in a fresh process: nothing printed or created before the error,
    and well under the seconds that importing TensorFlow takes."""
    import subprocess
    import sys
    import time

    (tmp_path / "reviews.tsv").write_text("review\tstars\n" + "great phone\t5\nawful food\t1\n" * 20)
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "cli.py"), "train",
                             "--task", "classify", "--data", str(tmp_path / "reviews.tsv"), "--text-column",
                             "body", "--run-dir", str(tmp_path / "run")], capture_output=True, text=True,
                            timeout=120, env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"})
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [f"Error: {tmp_path / 'reviews.tsv'} has no column 'body': its first row "
                                          f"('review', 'stars') is not a header naming it; name the header's "
                                          f"columns, or number the columns from 0"]
    assert time.monotonic() - started < 3.0, "TensorFlow was imported before the check"
    assert not (tmp_path / "run").exists()


def test_a_memory_ceiling_can_be_set_and_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("KERASRNN_MEMORY_LIMIT", "1M")
    failed = run("train", "--task", "adding", "--run-dir", tmp_path / "run")
    assert_one_line_error(failed, "training this adding model needs about", "more than the 1.0 MiB available "
                          "(KERASRNN_MEMORY_LIMIT): ask for fewer --units")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("arguments, message", [
    (["--data", "{tmp}/short.txt"], "is too small for sequence length 200"),
    (["--task", "translate", "--data", "{tmp}/one-pair.tsv"], "too few to split 80/10/10"),
    (["--task", "classify", "--data", "{tmp}/one-class.tsv"], "a classifier needs at least two classes"),
])
def test_the_users_own_files_are_checked_before_tensorflow_loads(tmp_path, arguments, message):
    """For every task that reads the user's files: one line, nothing printed before it, no folder."""
    import subprocess
    import sys

    (tmp_path / "short.txt").write_text("just one line\n")
    (tmp_path / "one-pair.tsv").write_text("a\tb\n")
    (tmp_path / "one-class.tsv").write_text("".join(f"text {i}\tpos\n" for i in range(50)))
    command = [sys.executable, str(Path(__file__).resolve().parents[1] / "cli.py"), "train",
               *[a.format(tmp=tmp_path) for a in arguments], "--run-dir", str(tmp_path / "run")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env={"PATH": os.environ["PATH"]})
    assert result.returncode == 1 and result.stdout == "", result.stderr
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr, result.stderr
    assert "tensorflow" not in result.stderr.lower() and not (tmp_path / "run").exists()
