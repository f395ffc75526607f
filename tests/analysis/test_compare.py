"""Side-by-side comparison, and the CLI of the long-memory work: compare, gradients, train --task copy."""

import csv
import hashlib
import json
import math
import os

import pytest

from kerasrnn.analysis import compare
from kerasrnn.errors import OptionError, UserInputError
from kerasrnn.recurrent import parse_cells
from tests.cli_helpers import assert_one_line_error, run

COPY_BASELINE_T5 = 10 * math.log(8) / 25


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the library -----------------------------------------------------------------------------


def test_parse_cells():
    assert parse_cells("vanilla, gru,lstm,urnn") == ("vanilla", "gru", "lstm", "urnn")
    for text, message in (("vanilla,rnn", "unknown cell 'rnn'"), (" , ", "no cells given"),
                          ("gru,gru", "named twice")):
        with pytest.raises(UserInputError, match=message):
            parse_cells(text)


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ({"task_name": "charlm", "settings": {"length": 5}}, OptionError,
         "--length does not apply to the charlm task"),
        ({"settings": {"seq_len": 5}, "flags": {"seq_len": "--seq-len"}}, OptionError,
         "--seq-len does not apply to the copy task"),
        ({"steps": 0}, UserInputError, "steps must be a positive integer, got 0"),
        ({"evaluations": True}, UserInputError, "evaluations must be a positive integer, got True"),
        ({"cells": ("vanilla", "rnn")}, UserInputError, "unknown cell 'rnn'"),
        ({"settings": {"length": 1}, "task_name": "adding"}, UserInputError, "at least 2, got 1"),
        ({"seed": -1}, UserInputError, "seed must be an integer from 0"),
    ],
)
def test_compare_cells_checks_everything_before_it_trains(tmp_path, arguments, error, message):
    """Bad settings fail before any run starts, and leave no folder behind."""
    given = {"task_name": "copy", "cells": ("vanilla",), "steps": 4, **arguments}
    with pytest.raises(error, match=message):
        compare.compare_cells(given.pop("task_name"), given.pop("cells"), out_dir=tmp_path / "out", **given)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("steps, evaluations, expected", [(1000, 10, (10, 100)), (1050, 10, (10, 105)),
                                                          (3, 10, (3, 1)), (7, 2, (2, 3))])
def test_split_steps(steps, evaluations, expected):
    assert compare.split_steps(steps, evaluations) == expected


@pytest.fixture(scope="module")
def small_comparison(tmp_path_factory):
    """`compare` from the CLI: copy, T = 5, two tiny cells, 6 steps each (a few seconds)."""
    out_dir = tmp_path_factory.mktemp("compare") / "out"
    result = run("compare", "--task", "copy", "--length", 5, "--units", 4, "--cells", "vanilla,urnn",
                 "--steps", 6, "--evaluations", 2, "--batch-size", 8, "--out-dir", out_dir)
    return out_dir, result


def test_compare_prints_the_table_and_saves_runs_table_and_plot(small_comparison):
    out_dir, result = small_comparison
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == ("| cell | parameters | final validation loss (nats/step) | loss / baseline | "
                        "time per step (ms) |")
    assert f"Memoryless baseline: {COPY_BASELINE_T5:.4f} nats/step; 6 training steps per cell." in lines
    for name in (compare.TABLE_MD, compare.TABLE_CSV, compare.CURVES_PNG, "vanilla/model.keras",
                 "urnn/model.keras"):
        assert (out_dir / name).is_file(), name
    with (out_dir / compare.TABLE_CSV).open() as handle:
        rows = {row["cell"]: row for row in csv.DictReader(handle)}
    assert list(rows) == ["vanilla", "urnn"]
    for cell, parameters in (("vanilla", 10 * 4 + 4 * 4 + 4 + 4 * 9 + 9),  # kernel, recurrent, bias, readout
                             ("urnn", 10 * 8 + 10 * 4 + 4 + 8 * 9 + 9)):  # V, 10n, the permutation, readout
        row = rows[cell]
        assert int(row["parameters"]) == parameters
        assert int(row["steps"]) == 6
        assert float(row["baseline"]) == pytest.approx(COPY_BASELINE_T5, rel=1e-5)
        history = json.loads((out_dir / cell / "history.json").read_text())
        assert float(row["final_validation_loss"]) == pytest.approx(history["val_loss"][-1], rel=1e-5)
        assert float(row["loss_over_baseline"]) == pytest.approx(history["val_loss"][-1] / COPY_BASELINE_T5,
                                                                 rel=1e-4)
        assert float(row["seconds_per_step"]) > 0
        assert len(history["val_loss"]) == 2  # the two evaluations
        config = json.loads((out_dir / cell / "config.json").read_text())
        assert config["task_config"]["cell"] == cell and config["train_config"]["seed"] == 0
        assert config["train_config"]["clipvalue"] == (None if cell == "urnn" else 1.0)
        assert config["train_config"]["batch_size"] == 8


def test_compare_never_reuses_a_folder(small_comparison):
    out_dir, _ = small_comparison
    before = {path: digest(path) for path in out_dir.rglob("*") if path.is_file()}
    result = run("compare", "--task", "copy", "--length", 5, "--cells", "vanilla", "--steps", 2,
                 "--out-dir", out_dir)
    assert_one_line_error(result, "exists and is not an empty folder")
    assert {path: digest(path) for path in out_dir.rglob("*") if path.is_file()} == before


@pytest.mark.parametrize(
    "arguments, message, exit_code",
    [
        (["--cells", "vanilla,transformer"], "unknown cell 'transformer'", 1),
        (["--cells", "gru,gru"], "named twice", 1),
        (["--task", "poetry"], "Invalid value for '--task'", 2),
        (["--length", "0"], "Invalid value for '--length'", 2),
        (["--steps", "0"], "Invalid value for '--steps'", 2),
        (["--task", "charlm", "--length", "5"], "--length does not apply to the charlm task", 2),
        (["--task", "adding", "--length", "1"], "length must be an integer of at least 2, got 1", 1),
    ],
)
def test_bad_compare_requests(tmp_path, arguments, message, exit_code):
    result = run("compare", *arguments, "--out-dir", tmp_path / "out")
    assert_one_line_error(result, message, exit_code=exit_code)
    assert not (tmp_path / "out").exists()


# --- gradients from the CLI ------------------------------------------------------------------


def test_gradients_command_writes_the_picture_and_the_numbers(tmp_path):
    out = tmp_path / "grads.png"
    result = run("gradients", "--length", 40, "--cells", "vanilla,urnn", "--units", 8, "--batch-size", 2,
                 "--after-steps", 0, "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    umask = os.umask(0)
    os.umask(umask)
    for written in (out, out.with_suffix(".csv")):  # a normal file's mode, not a temporary file's 0600
        assert written.stat().st_mode & 0o777 == 0o666 & ~umask
    with out.with_suffix(".csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 40 and {"vanilla_step0", "vanilla_bound_step0", "urnn_step0"} <= set(rows[0])
    urnn = [float(row["urnn_step0"]) for row in rows]
    assert max(urnn) / min(urnn) < 1.01
    assert "urnn" in result.output and f"Wrote {out}" in result.output


@pytest.mark.parametrize(
    "arguments, message, exit_code",
    [
        (["--cells", "vanilla,rnn"], "unknown cell 'rnn'", 1),
        (["--length", "0"], "Invalid value for '--length'", 2),
        (["--length", "1"], "length must be an integer of at least 2", 1),
        (["--task", "charlm"], "Invalid value for '--task'", 2),
        (["--out", "grads.jpg"], "--out must name a .png file", 1),
        (["--out", "missing/grads.png"], "does not exist", 1),
        (["--after-steps", "-1"], "Invalid value for '--after-steps'", 2),
    ],
)
def test_bad_gradients_requests(tmp_path, monkeypatch, arguments, message, exit_code):
    monkeypatch.chdir(tmp_path)
    old = tmp_path / "gradients.png"
    old.write_bytes(b"an earlier picture")
    assert_one_line_error(run("gradients", "--length", 10, *arguments), message, exit_code=exit_code)
    assert old.read_bytes() == b"an earlier picture"  # nothing already written is lost
    assert sorted(path.name for path in tmp_path.iterdir()) == ["gradients.png"]


# --- train and evaluate the memory tasks from the CLI ----------------------------------------


def test_train_copy_uses_the_paper_defaults_and_prints_the_baseline(tmp_path):
    run_dir = tmp_path / "run"
    result = run("train", "--task", "copy", "--cell", "urnn", "--length", 5, "--units", 4, "--epochs", 1,
                 "--steps-per-epoch", 2, "--run-dir", run_dir)
    assert result.exit_code == 0, result.output
    assert f"memoryless baseline {COPY_BASELINE_T5:.4f} nats/step" in result.output
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["task_config"] == {"cell": "urnn", "units": 4, "length": 5, "validation_size": 1000}
    train_config = saved["train_config"]
    assert (train_config["optimizer"], train_config["learning_rate"], train_config["batch_size"]) == \
        ("rmsprop", 1e-3, 20)
    assert train_config["clipvalue"] is None and train_config["clipnorm"] is None
    evaluation = run("evaluate", run_dir, "--split", "test")
    assert evaluation.exit_code == 0, evaluation.output
    assert "Test loss" in evaluation.output and "memoryless baseline 0.8318" in evaluation.output


@pytest.mark.parametrize(
    "arguments, message, exit_code",
    [
        (["--task", "copy", "--seq-len", "50"], "--seq-len does not apply to the copy task", 2),
        (["--task", "charlm", "--length", "50"], "--length does not apply to the charlm task", 2),
        (["--task", "adding", "--length", "1"], "length must be an integer of at least 2", 1),
        (["--task", "copy", "--clipvalue", "1", "--clipnorm", "1"], "not both", 1),
    ],
)
def test_bad_memory_task_options(tmp_path, arguments, message, exit_code):
    result = run("train", *arguments, "--run-dir", tmp_path / "run")
    assert_one_line_error(result, message, exit_code=exit_code)
    assert not (tmp_path / "run").exists()
