"""Bad input, row by row: every command answers with one `Error:` line and a non-zero exit, never a
traceback, and nothing already on disk changes.

Each row: the command line (with `{run}`, `{copy_run}`, `{tmp}` filled in), how to damage a copy of
the run first (or nothing), the exit code, and a fragment of the one line.
"""

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from kerasrnn.engine.run import train
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.tasks import get_task
from tests.cli_helpers import assert_one_line_error, run

TEXT = "the cat sat on the mat. the dog ran to the old barn. a hot tin roof. " * 40


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A tiny trained character model and a tiny copy run, shared by every row (never changed)."""
    root = tmp_path_factory.mktemp("runs")
    (root / "text.txt").write_text(TEXT)
    charlm = get_task("charlm")
    train(charlm, charlm.config_class(cell="keras-gru", units=8, embedding_dim=4, sequence_length=20,
                                      data=str(root / "text.txt")),
          TrainConfig(epochs=1, steps_per_epoch=2, batch_size=8), root / "charlm", verbose=0)
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


DAMAGES = {"truncated": truncate, "random": random_bytes, "empty": empty, "wrong json": wrong_json}

ROWS = [
    # generate
    (["generate", "{tmp}/missing"], None, 1, "is not a run directory: no such folder"),
    (["generate", "{run}", "--temperature", "inf"], None, 1, "temperature must be positive and finite, got inf"),
    (["generate", "{run}", "--temperature", "nan"], None, 1, "temperature must be positive and finite, got nan"),
    (["generate", "{run}", "--length", "0"], None, 2, "Invalid value for '--length'"),
    (["generate", "{run}", "--prompt", "€€€"], None, 1, "only characters the model never saw"),
    (["generate", "{copy_run}"], None, 1, "holds a copy run, which cannot generate text"),
    (["generate", "{run}"], ("model.keras", "truncated"), 1, "model.keras is damaged or not a model"),
    (["generate", "{run}"], ("model.keras", "random"), 1, "model.keras is damaged or not a model"),
    (["generate", "{run}"], ("model.keras", "empty"), 1, "model.keras is damaged or not a model"),
    (["generate", "{run}"], ("vocabulary.json", "random"), 1, "cannot read the vocabulary"),
    (["generate", "{run}"], ("vocabulary.json", "wrong json"), 1, "cannot read the vocabulary"),
    (["generate", "{run}"], ("config.json", "wrong json"), 1, "is not a kerasrnn run config"),
    (["generate", "{run}"], ("config.json", "empty"), 1, "is not a kerasrnn run config"),
    # evaluate
    (["evaluate", "{run}", "--split", "heldout"], None, 1, "unknown split 'heldout'"),
    (["evaluate", "{run}", "--beam-size", "2"], None, 2, "--beam-size does not apply to a charlm run"),
    (["evaluate", "{run}", "--data", "{tmp}/nothing.txt"], None, 1, "no such file or folder"),
    (["evaluate", "{run}"], ("model.keras", "truncated"), 1, "model.keras is damaged or not a model"),
    (["evaluate", "{copy_run}", "--data", "x"], None, 1, "generates its sequences"),
    # export
    (["export", "{run}", "{tmp}/a-file/export"], None, 1, "a-file is a file, not a folder"),
    (["export", "{run}", "{tmp}/a-file"], None, 1, "is a file, not a folder"),
    (["export", "{run}", "{tmp}/out"], ("model.keras", "random"), 1, "model.keras is damaged or not a model"),
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
    (["train", "--resume", "--run-dir", "{run}"], ("backup/state.npz", "truncated"), 1, "is damaged"),
    (["train", "--resume", "--run-dir", "{run}"], ("config.json", "random"), 1, "is not a kerasrnn run config"),
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
    (["evaluate", "{run}"], ("vocabulary.json", "empty"), 1, "cannot read the vocabulary"),
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
    (["train", "--run-dir", "{run}"], None, 1, "exists and is not empty: continue it with --resume"),
    (["gradients", "--out", "{tmp}/g.jpg"], None, 1, "--out must name a .png file"),
    (["gradients", "--out", "{tmp}/missing/g.png"], None, 1, "does not exist"),
    (["gradients", "--cells", "transformer", "--out", "{tmp}/g.png"], None, 1, "unknown cell 'transformer'"),
    (["gradients", "--length", "0"], None, 2, "Invalid value for '--length'"),
    (["compare", "--cells", "gru,gru", "--out-dir", "{tmp}/c"], None, 1, "named twice"),
    (["compare", "--steps", "0"], None, 2, "Invalid value for '--steps'"),
    (["compare", "--task", "adding", "--length", "1", "--out-dir", "{tmp}/c"], None, 1,
     "length must be an integer of at least 2"),
    # sizes that cannot fit: refused at once, before anything is allocated
    (["train", "--data", "{tmp}/text.txt", "--units", "100000", "--run-dir", "{tmp}/r"], None, 1,
     "training this charlm model needs about"),
    (["train", "--data", "{tmp}/text.txt", "--batch-size", "10000000", "--run-dir", "{tmp}/r"], None, 1,
     "of memory, more than the"),
    (["train", "--task", "copy", "--units", "60000", "--run-dir", "{tmp}/r"], None, 1, "GiB of memory"),
    # gradients and compare
    (["gradients", "--cells", "vanilla,,gru", "--out", "{tmp}/g.png"], None, 1, "an empty cell name"),
    (["compare", "--cells", "lstm,,gru", "--out-dir", "{tmp}/c"], None, 1, "an empty cell name"),
]


@pytest.mark.parametrize("arguments, damage, exit_code, message", ROWS,
                         ids=[" ".join(row[0][:2]) + (f" {row[1][0]} {row[1][1]}" if row[1] else "") + f" {i}"
                              for i, row in enumerate(ROWS)])
def test_a_bad_input_is_one_line_and_changes_nothing(runs, tmp_path, arguments, damage, exit_code, message):
    run_dir = tmp_path / "charlm"
    shutil.copytree(runs / "charlm", run_dir)
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "text.txt").write_text(TEXT)
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("not an export")
    # A CSV whose one text is longer than the csv module's default field limit (131,072).
    (tmp_path / "long-field.csv").write_text("text,label\n" + "a" * 200_000 + ",5\n")
    if damage is not None:
        DAMAGES[damage[1]](run_dir / damage[0])
    before = {"run": digest(run_dir), "copy": digest(runs / "copy"), "notes": digest(tmp_path / "notes")}
    filled = [a.format(run=run_dir, copy_run=runs / "copy", tmp=tmp_path) for a in arguments]
    assert_one_line_error(run(*filled), message, exit_code=exit_code)
    assert {"run": digest(run_dir), "copy": digest(runs / "copy"), "notes": digest(tmp_path / "notes")} == before
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
    (["--data", "{tmp}/short.txt"], "is too small for sequence length 100"),
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
