"""A classifier killed with SIGKILL mid-run and resumed ends as the uninterrupted run: the kept
epoch (best validation accuracy) and early stopping are replayed from `history.csv`."""

import subprocess
import sys

import keras
import numpy as np
import pytest

from kerasrnn import fileio
from kerasrnn.engine.run import train
from tests.engine.test_resume import REPO_ROOT, _env, assert_same_run, setup

pytestmark = pytest.mark.integration  # two processes that import TensorFlow: half a minute


def test_kill_9_in_the_middle_of_a_classify_run_and_resume(tmp_path):
    task, config, train_config = setup("classify", tmp_path)
    train(task, config, train_config, tmp_path / "whole", verbose=0)
    # The same settings on the command line (the real-text preset fills what setup leaves out).
    arguments = [sys.executable, str(REPO_ROOT / "cli.py"), "train", "--task", "classify", "--cell", config.cell,
                 "--units", "8", "--embedding-dim", "8", "--dropout", "0.2", "--tokens", "words", "--data",
                 config.data, "--epochs", "3", "--batch-size", "32", "--learning-rate", "0.01", "--seed", "5",
                 "--patience", str(train_config.patience), "--run-dir", str(tmp_path / "run")]
    killed = subprocess.run(arguments, env={**_env(), fileio.FAULT_ENV: "step:7"}, capture_output=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    resumed = subprocess.run(arguments[:3] + ["--resume", "--run-dir", str(tmp_path / "run")], env=_env(),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "of the highest validation accuracy" in resumed.stdout
    assert_same_run(tmp_path / "whole", tmp_path / "run")
    kept = [keras.models.load_model(path / "model.keras", compile=False).get_weights()
            for path in (tmp_path / "whole", tmp_path / "run")]
    for expected, actual in zip(*kept):
        np.testing.assert_array_equal(actual, expected)
