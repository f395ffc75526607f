"""`visualize`: a tiny character model's page and printed ranking, checked against the model's own
carried loss and the page's data; and a one-line error for every bad request."""

import json
import re

import numpy as np
import pytest

from kerasrnn.analysis.text_features import text_features
from kerasrnn.analysis.unit_traces import rank_units, trace_run
from kerasrnn.engine.run import train
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.tasks import get_task
from kerasrnn.tasks.charlm import data as char_data
from kerasrnn.tasks.charlm.model import carried_loss
from tests.cli_helpers import assert_one_line_error, run

TEXT = "def f(x):\n    return (x, 'a')\n" * 40
READ = "print(f(1), 'b')\nx = [f(2)]\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A tiny character model of the lecture's LSTM (two steps) and a copy run."""
    root = tmp_path_factory.mktemp("visualize")
    (root / "text.txt").write_text(TEXT)
    tiny = TrainConfig(epochs=1, steps_per_epoch=2, batch_size=8)
    charlm = get_task("charlm")
    train(charlm, charlm.config_class(cell="lstm", units=8, embedding_dim=4, sequence_length=20,
                                      data=str(root / "text.txt")), tiny, root / "charlm", verbose=0)
    copy = get_task("copy")
    config = copy.config_class(cell="lstm", units=4, length=3, validation_size=8)
    train(copy, config, TrainConfig(**{**copy.default_train_config(config).__dict__, "epochs": 1,
                                       "steps_per_epoch": 2}), root / "copy", verbose=0)
    return root


def printed_lines(result):
    """The command's lines, without the device line that logging may add."""
    return [line for line in result.output.splitlines() if not line.startswith("Running on the")]


def test_the_page_and_the_ranking_of_a_run(runs, tmp_path):
    out = tmp_path / "page.html"
    result = run("visualize", runs / "charlm", "--text", READ, "--out", out)
    assert result.exit_code == 0, result.output
    lines = printed_lines(result)
    assert re.fullmatch(rf"Wrote {re.escape(str(out))} \(0\.\d MB\): {len(READ)} characters, 40 of 40 series "
                        r"\(state, layer, unit\)", lines[0]), lines[0]
    assert lines[1] == "Units that track the text's features best (Pearson's r):"
    traces = trace_run(runs / "charlm", READ)
    ranking = rank_units(traces, text_features(READ))
    assert lines[2:] == [f"  {r.feature:<17} {r.kind:<12} layer {r.layer} unit {r.unit:<4} r = {r.correlation:+.3f}"
                         for r in ranking[:10]]
    html = out.read_text("utf-8")
    data = json.loads(re.search(r'<script id="data" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert data["text"] == READ and data["cell"] == "lstm"
    assert [(k["kind"], k["units"]) for k in data["kinds"]] == [
        ("hidden", 8), ("cell", 8), ("input gate", 8), ("forget gate", 8), ("output gate", 8)]
    # The surprise is the model's loss on each character, its state carried: its mean is the
    # carried loss `evaluate` reports.
    task = get_task("charlm")
    config, _ = task.load_configs(runs / "charlm")
    characters = char_data.load_vocabulary(runs / "charlm" / "vocabulary.json")
    ids = char_data.encode(char_data.make_char_lookup(characters), READ)
    loss, _ = carried_loss(task.load_model(runs / "charlm"), config, ids)
    assert float(np.mean(traces.surprise)) == pytest.approx(loss, abs=1e-5)
    assert np.all(np.diff(traces.top_probabilities, axis=1) <= 0) and np.all(traces.top_probabilities.sum(1) <= 1 + 1e-6)


def test_a_long_text_is_cut_with_one_line(runs, tmp_path, monkeypatch):
    monkeypatch.setattr("kerasrnn.analysis.visualize_page.MAX_CHARACTERS", 30)
    result = run("visualize", runs / "charlm", "--text", READ * 2, "--out", tmp_path / "p.html")
    assert result.exit_code == 0, result.output
    lines = printed_lines(result)
    assert lines[0] == f"The text has {2 * len(READ)} characters: only the first 30 are shown."
    assert "30 characters, 40 of 40 series" in lines[1]


@pytest.mark.parametrize("arguments, message, exit_code", [
    ([], "give the text to visualize with --text TEXT or --file FILE (one of them)", 2),
    (["--text", "ab", "--file", "{tmp}/a.txt"], "give the text to visualize with --text TEXT or --file FILE", 2),
    (["--file", "{tmp}/missing.txt"], "no such file: {tmp}/missing.txt", 1),
    (["--file", "{tmp}/empty.txt"], "{tmp}/empty.txt is empty: give a file with some text", 1),
    (["--file", "{tmp}/latin1.txt"], "{tmp}/latin1.txt is not UTF-8 text (offset 1)", 1),
    (["--file", "{tmp}"], "is a folder: give a UTF-8 text file", 1),
    (["--text", ""], "the text is empty", 1),
    (["--text", "ab", "--out", "{tmp}/no/page.html"], "cannot write {tmp}/no/page.html: no folder {tmp}/no", 1),
])
def test_bad_requests_are_one_line(runs, tmp_path, arguments, message, exit_code):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "latin1.txt").write_bytes("aé".encode("latin-1"))
    arguments = [a.replace("{tmp}", str(tmp_path)) for a in arguments]
    if "--out" not in arguments:
        arguments += ["--out", str(tmp_path / "page.html")]
    result = run("visualize", runs / "charlm", *arguments)
    assert_one_line_error(result, message.replace("{tmp}", str(tmp_path)), exit_code=exit_code)
    assert not (tmp_path / "page.html").exists()


def test_a_run_that_is_not_a_character_model_or_no_run(runs, tmp_path):
    assert_one_line_error(run("visualize", runs / "copy", "--text", "ab", "--out", tmp_path / "p.html"),
                          "holds a copy run: visualize reads character language models (--task charlm runs)")
    assert_one_line_error(run("visualize", tmp_path, "--text", "ab", "--out", tmp_path / "p.html"),
                          "is not a run directory")
