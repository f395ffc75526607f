"""Runs that survive anything: a crash at any point, resumed, ends bit for bit where the
uninterrupted run ends; a full disk at any write is one line and loses nothing; divergence stops.

Crashes are injected with `KERASRNN_FAULT` (training points: `kerasrnn.engine.faults`; writes:
`kerasrnn.fileio`): in this process as a `SimulatedCrash` raised at the chosen point, and once for
real with SIGKILL in a child process.
"""

import errno
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kerasrnn import fileio
from kerasrnn.engine.run import train
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import UserInputError
from kerasrnn.tasks import get_task
from tests.cli_helpers import assert_one_line_error, run

pytestmark = pytest.mark.integration  # crashes, kill -9 and full disks at every write of every task: minutes

REPO_ROOT = Path(__file__).resolve().parents[2]
WORDS = ["the", "cat", "sat", "on", "mat", "dog", "ran", "to", "old", "barn", "a", "hot", "tin", "roof"]


def text_file(path: Path) -> Path:
    rng = random.Random(0)
    path.write_text("".join(" ".join(rng.choice(WORDS) for _ in range(6)) + ". " for _ in range(400)))
    return path


def labelled_file(path: Path) -> Path:
    rng = random.Random(1)
    rows = [f"{' '.join(rng.choice(WORDS) for _ in range(4))} {'good' if i % 2 else 'bad'}\t{i % 2}\n"
            for i in range(160)]
    path.write_text("".join(rows))
    return path


def pairs_file(path: Path) -> Path:
    numbers = {"one": "un", "two": "deux", "three": "trois", "four": "quatre", "five": "cinq", "six": "six"}
    rng = random.Random(2)
    rows = set()
    while len(rows) < 120:
        source = [rng.choice(list(numbers)) for _ in range(rng.randint(1, 4))]
        rows.add(f"{' '.join(source)}\t{' '.join(numbers[word] for word in source)}\n")
    path.write_text("".join(sorted(rows)))
    return path


def setup(task_name: str, folder: Path):
    """`(task, config, train_config)` of a tiny run of `task_name` that trains 3 epochs in seconds."""
    task = get_task(task_name)
    budget = dict(epochs=3, seed=5, learning_rate=1e-2)
    if task_name == "charlm":  # two layers with dropout: the seed generators' state must come back
        config = task.config_class(cell="gru", units=16, layers=2, dropout=0.3, embedding_dim=8,
                                   sequence_length=20, data=str(text_file(folder / "text.txt")), carry_state=True)
        return task, config, TrainConfig(steps_per_epoch=4, batch_size=8, **budget)
    if task_name == "classify":  # one pass per epoch: the shuffled order must continue across epochs
        config = task.config_class(cell="lstm", units=8, embedding_dim=8, dropout=0.2, tokens="words",
                                   data=str(labelled_file(folder / "labelled.tsv")))
        return task, config, TrainConfig(steps_per_epoch=None, batch_size=32, **budget)
    if task_name == "translate":
        config = task.config_class(cell="gru", units=8, embedding_dim=8, tokens="words", dropout=0.2,
                                   data=str(pairs_file(folder / "pairs.tsv")))
        return task, config, TrainConfig(steps_per_epoch=None, batch_size=16, **budget)
    config = task.config_class(cell="urnn" if task_name == "copy" else "lstm", units=8, length=6,
                               validation_size=40)
    defaults = task.default_train_config(config)
    return task, config, TrainConfig(**{**defaults.__dict__, "epochs": 3, "steps_per_epoch": 4, "seed": 5})


def assert_same_run(expected: Path, actual: Path) -> None:
    """Same history, same metrics, same backup (weights, optimizer, dropout seeds), same best model."""
    assert (actual / "history.csv").read_text() == (expected / "history.csv").read_text()
    metrics = (actual / "metrics.json").read_text().replace(str(actual), str(expected))  # paths differ
    assert json.loads(metrics) == json.loads((expected / "metrics.json").read_text())
    with np.load(expected / "backup" / "state.npz") as a, np.load(actual / "backup" / "state.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert not [path for path in actual.rglob(".*") if path.is_file()], "a temporary file was left"


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """One uninterrupted run per task, made on first use."""
    made = {}

    def get(task_name):
        if task_name not in made:
            folder = tmp_path_factory.mktemp(f"{task_name}-whole")
            task, config, train_config = setup(task_name, folder)
            train(task, config, train_config, folder / "run", verbose=0)
            made[task_name] = folder / "run"
        return made[task_name]

    return get


def crash_and_resume(monkeypatch, tmp_path, task_name, point):
    task, config, train_config = setup(task_name, tmp_path)
    fileio.reset_write_counts()
    monkeypatch.setenv(fileio.FAULT_ENV, point)
    monkeypatch.setenv(fileio.MODE_ENV, "raise")
    with pytest.raises(fileio.SimulatedCrash):
        train(task, config, train_config, tmp_path / "run", verbose=0)
    monkeypatch.delenv(fileio.FAULT_ENV)
    result = train(task, config, train_config, tmp_path / "run", resume=True, verbose=0)
    assert result.epochs == 3
    return tmp_path / "run"


@pytest.mark.parametrize("point", [
    "step:6",                   # in the middle of epoch 2
    "validation:2",             # while epoch 2 is validated
    "write:history.csv:2",      # while epoch 2's row is written
    "write:state.npz:2",        # while epoch 2's backup is written
    "write:model.keras:2",      # while epoch 2's best model is written
])
def test_a_crashed_char_lm_with_dropout_resumes_exactly(point, uninterrupted, monkeypatch, tmp_path):
    assert_same_run(uninterrupted("charlm"), crash_and_resume(monkeypatch, tmp_path, "charlm", point))


@pytest.mark.parametrize("task_name, point", [
    ("classify", "step:12"),    # epoch 2 of 5 steps each
    ("translate", "validation:2"),
    ("copy", "step:7"),
    ("adding", "write:state.npz:2"),
])
def test_every_task_resumes_exactly(task_name, point, uninterrupted, monkeypatch, tmp_path):
    assert_same_run(uninterrupted(task_name), crash_and_resume(monkeypatch, tmp_path, task_name, point))


def test_kill_9_in_the_middle_of_an_epoch_and_resume(uninterrupted, tmp_path):
    """The real thing: a child process SIGKILLs itself during epoch 2; `--resume` finishes the run."""
    _, config, train_config = setup("charlm", tmp_path)
    arguments = [sys.executable, str(REPO_ROOT / "cli.py"), "train", "--cell", config.cell, "--units", "16",
                 "--layers", "2", "--dropout", "0.3", "--embedding-dim", "8", "--seq-len", "20",
                 "--data", config.data, "--epochs", "3", "--steps-per-epoch", "4", "--batch-size", "8",
                 "--learning-rate", "0.01", "--warmup-steps", "0", "--seed", "5", "--run-dir", str(tmp_path / "run")]
    killed = subprocess.run(arguments, env={**_env(), fileio.FAULT_ENV: "step:7"}, capture_output=True,
                            timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    resumed = subprocess.run(arguments[:3] + ["--resume", "--run-dir", str(tmp_path / "run")], env=_env(),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run(uninterrupted("charlm"), tmp_path / "run")


def _env():
    import os

    return {name: value for name, value in os.environ.items() if not name.startswith("KERASRNN_FAULT")}


# --- a full disk -------------------------------------------------------------------------------

TINY = ["train", "--cell", "gru", "--units", "16", "--layers", "2", "--dropout", "0.3", "--embedding-dim", "8",
        "--seq-len", "20", "--epochs", "3", "--steps-per-epoch", "4", "--batch-size", "8",
        "--learning-rate", "0.01", "--warmup-steps", "0", "--seed", "5"]


@pytest.mark.parametrize("site, resumable", [
    ("vocabulary.json:1", False), ("config.json:1", False), ("history.csv:1", False),
    ("model.keras:1", False), ("state.npz:2", True), ("history.csv:3", True), ("history.json:1", True),
    ("timing.json:1", True), ("learning_curves.png:1", True), ("metrics.json:1", True),
    ("sample.txt:1", True),
])
def test_no_space_left_at_any_write_is_one_line_and_loses_nothing(site, resumable, uninterrupted, monkeypatch,
                                                                   tmp_path):
    data = str(text_file(tmp_path / "text.txt"))
    fileio.reset_write_counts()
    monkeypatch.setenv(fileio.FAULT_ENV, f"write:{site}")
    monkeypatch.setenv(fileio.MODE_ENV, "enospc")
    name = site.split(":")[0]
    failed = run(*TINY, "--data", data, "--run-dir", tmp_path / "run")
    assert_one_line_error(failed, f"no space left on device while writing {tmp_path / 'run'}", name)
    monkeypatch.delenv(fileio.FAULT_ENV)  # room is made
    if resumable:
        assert "the run can be resumed from epoch" in failed.output
        assert not [path for path in (tmp_path / "run").rglob(".*") if path.is_file()]
        again = run("train", "--resume", "--run-dir", tmp_path / "run")
    else:  # no epoch had finished: nothing kept, and the same command runs again
        assert "nothing was kept" in failed.output and not (tmp_path / "run").exists()
        again = run(*TINY, "--data", data, "--run-dir", tmp_path / "run")
    assert again.exit_code == 0, again.output
    assert_same_run(uninterrupted("charlm"), tmp_path / "run")


def test_a_run_killed_before_its_first_epoch_can_be_started_again(tmp_path):
    """What `kill -9` during epoch 1 leaves (a config, no model, no backup) blocks nothing."""
    task, config, train_config = setup("copy", tmp_path)
    (tmp_path / "run").mkdir()
    from kerasrnn.engine.run_dir import save_config

    save_config(tmp_path / "run", "copy", config, train_config)
    (tmp_path / "run" / "history.csv").write_text("epoch,loss\n")
    result = train(task, config, train_config, tmp_path / "run", verbose=0)
    assert result.epochs == 3
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text('{"mine": true}')  # not a run: never deleted
    with pytest.raises(UserInputError, match="exists and is not empty"):
        train(task, config, train_config, tmp_path / "other", verbose=0)
    assert (tmp_path / "other" / "config.json").read_text() == '{"mine": true}'


# --- divergence ---------------------------------------------------------------------------------


def test_an_exploding_loss_stops_with_the_epoch_and_keeps_the_best_model(tmp_path):
    """Two good epochs, then a learning rate that blows the loss up without a NaN."""
    task, config, train_config = setup("charlm", tmp_path)
    train(task, config, train_config.__class__(**{**train_config.__dict__, "epochs": 2}), tmp_path / "run",
          verbose=0)
    best_model = (tmp_path / "run" / "model.keras").read_bytes()
    exploding = train_config.__class__(**{**train_config.__dict__, "epochs": 4})
    from kerasrnn.engine import backup, fitting

    # Resume with the same settings, but every step far too large (as --learning-rate 1e6 would be).
    original = fitting.make_optimizer

    def huge(config, total_steps):
        return original(config.__class__(**{**config.__dict__, "learning_rate": 1e6, "clipnorm": None}),
                        total_steps)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fitting, "make_optimizer", huge)
        with pytest.raises(UserInputError) as raised:
            train(task, config, exploding, tmp_path / "run", resume=True, verbose=0)
    message = str(raised.value)
    assert message.startswith("training diverged in epoch 3: "), message
    assert "2 epochs finished before it; the best model (epoch" in message and "smaller --learning-rate" in message
    assert (tmp_path / "run" / "model.keras").read_bytes() == best_model
    assert backup.saved_epochs(tmp_path / "run") == 2  # the diverged epoch is not a resumable one
    assert "\n" not in message


def test_a_nan_from_the_first_step_leaves_nothing_and_says_so(tmp_path):
    data = str(text_file(tmp_path / "text.txt"))
    failed = run(*TINY, "--data", data, "--learning-rate", "1e30", "--run-dir", tmp_path / "run")
    assert_one_line_error(failed, "training diverged in epoch 1", "no epoch finished before it, so nothing was kept",
                          "smaller --learning-rate than 1e+30")
    assert not (tmp_path / "run").exists()


def test_a_write_error_other_than_a_full_disk_names_its_cause(monkeypatch, tmp_path):
    def refuse(path, *args, **kwargs):
        raise OSError(errno.EACCES, "Permission denied", str(path))

    task, config, train_config = setup("adding", tmp_path)
    monkeypatch.setattr(Path, "write_text", refuse)
    with pytest.raises(UserInputError, match="Permission denied while writing .*config.json; no epoch had"):
        train(task, config, train_config, tmp_path / "run", verbose=0)


# --- a longer resume ------------------------------------------------------------------------------


def test_resuming_with_more_epochs_is_the_longer_run_when_the_rate_is_constant(uninterrupted, tmp_path):
    """copy trains at a constant rate (the paper's): 2 epochs, then `--epochs 3`, is the 3-epoch run."""
    task, config, train_config = setup("copy", tmp_path)
    assert not train_config.decay
    train(task, config, train_config.__class__(**{**train_config.__dict__, "epochs": 2}), tmp_path / "run",
          verbose=0)
    train(task, config, train_config, tmp_path / "run", resume=True, verbose=0)
    assert_same_run(uninterrupted("copy"), tmp_path / "run")


def test_resuming_with_more_epochs_says_that_a_decaying_schedule_is_stretched(tmp_path, caplog):
    task, config, train_config = setup("charlm", tmp_path)
    train(task, config, train_config, tmp_path / "run", verbose=0)
    longer = train_config.__class__(**{**train_config.__dict__, "epochs": 4})
    train(task, config, longer, tmp_path / "run", resume=True, verbose=0)
    assert "The learning-rate schedule is stretched: the epochs done followed a cosine decay over 3 epochs" \
        in caplog.text
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs"] == 4


def test_a_run_backed_up_by_an_earlier_kerasrnn_is_refused_in_one_line(tmp_path):
    task, config, train_config = setup("adding", tmp_path)
    train(task, config, train_config, tmp_path / "run", verbose=0)
    (tmp_path / "run" / "backup" / "state.npz").rename(tmp_path / "run" / "backup" / "latest.weights.h5")
    with pytest.raises(UserInputError, match="backed up by an earlier kerasrnn .* cannot be resumed exactly"):
        train(task, config, train_config, tmp_path / "run", resume=True, verbose=0)
