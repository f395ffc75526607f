"""The click CLI: help, one-line errors for every bad input, and a tiny train → generate → evaluate."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tensorflow as tf

from tests.cli_helpers import assert_internal_error, assert_one_line_error, run

REPO_ROOT = Path(__file__).resolve().parents[1]
TEXT = "the cat sat on the mat. the dog ran to the old barn. a hot tin roof. " * 60

TINY_TRAIN = [
    "train", "--cell", "keras-gru", "--units", "16", "--embedding-dim", "8", "--seq-len", "20",
    "--batch-size", "8", "--epochs", "2", "--steps-per-epoch", "3", "--learning-rate", "0.01",
]


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One tiny run (a few seconds) shared by the tests that need a run directory."""
    folder = tmp_path_factory.mktemp("cli")
    corpus = folder / "corpus.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    run_dir = folder / "run"
    result = run(*TINY_TRAIN, "--data", corpus, "--run-dir", run_dir)
    assert result.exit_code == 0, result.output
    return run_dir, corpus, result


# --- help ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command, expected",
    [
        ("train", ["--cell [vanilla|gru|lstm|urnn|keras-gru|keras-lstm|keras-simplernn]", "--resume",
                   "--residual / --no-residual", "--device [auto|cpu|gpu]", "--mixed-precision",
                   "--seq-len", "--steps-per-epoch", "--learning-rate", "[default: python_docs]",
                   "[default: gru]", "[default: 512; x>=1]", "--task [charlm|copy|adding", "--length", "--clipvalue"]),
        ("generate", ["RUN_DIR", "--prompt", "--length", "--temperature", "--top-k", "--seed", "--num-samples",
                      "[default: 300; x>=1]"]),
        ("evaluate", ["RUN_DIR", "--split [validation|test|train", "--data", "--data-dir"]),
    ],
)
def test_help_explains_every_option(command, expected):
    result = run(command, "--help")
    assert result.exit_code == 0
    for text in expected:
        assert text in result.output, text


def test_help_does_not_import_tensorflow():
    code = (
        "import sys, cli\n"
        "from click.testing import CliRunner\n"
        "for command in (['--help'], ['train', '--help'], ['generate', '--help']):\n"
        "    assert CliRunner().invoke(cli.cli, command).exit_code == 0\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True, timeout=60)


# --- bad input to train ----------------------------------------------------------------------


def _file(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file or folder"),
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "looks binary"),
        ("caf\u00e9 cr\u00e8me".encode("latin-1") * 50, "is not UTF-8"),
        (b"tiny text", "too small for sequence length"),
    ],
)
def test_bad_corpus_files(tmp_path, content, message):
    path = tmp_path / "missing.txt" if content is None else _file(tmp_path, "corpus.txt", content)
    result = run(*TINY_TRAIN, "--data", path, "--run-dir", tmp_path / "run")
    assert_one_line_error(result, message)
    assert not (tmp_path / "run").exists()  # nothing left behind


def test_unknown_cell_name(tmp_path):
    result = run("train", "--cell", "transformer", "--run-dir", tmp_path / "run")
    assert_one_line_error(result, "'transformer' is not one of 'vanilla', 'gru', 'lstm'", exit_code=2)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--units", "0"], "Invalid value for '--units'"),
        (["--dropout", "1.0"], "Invalid value for '--dropout'"),
        (["--learning-rate", "0"], "Invalid value for '--learning-rate'"),
        (["--task", "poetry"], "Invalid value for '--task'"),
        (["--device", "tpu"], "Invalid value for '--device'"),
    ],
)
def test_bad_train_options(tmp_path, arguments, message):
    assert_one_line_error(run("train", *arguments), message, exit_code=2)


@pytest.mark.skipif(bool(tf.config.list_physical_devices("GPU")), reason="this machine has a GPU")
@pytest.mark.parametrize(
    "arguments, message",
    [(["--device", "gpu"], "sees no GPU"), (["--mixed-precision"], "mixed precision needs a GPU")],
)
def test_gpu_options_without_a_gpu(tmp_path, arguments, message):
    result = run(*TINY_TRAIN, *arguments, "--data", _file(tmp_path, "c.txt", TEXT.encode()),
                 "--run-dir", tmp_path / "run")
    assert_one_line_error(result, message)
    assert not (tmp_path / "run").exists()


def test_train_refuses_a_non_empty_run_dir(trained_run, tmp_path):
    run_dir, corpus, _ = trained_run
    before = snapshot(run_dir)
    result = run(*TINY_TRAIN, "--data", corpus, "--run-dir", run_dir)
    assert_one_line_error(result, f"exists and is not empty: continue it with: python cli.py train --resume "
                                  f"--run-dir {run_dir}, or choose another --run-dir")
    assert snapshot(run_dir) == before

    other = tmp_path / "notes"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    refused = run(*TINY_TRAIN, "--data", corpus, "--run-dir", other)
    assert_one_line_error(refused, "is not empty: choose another --run-dir")  # not a run: nothing to resume
    assert (other / "notes.txt").read_text() == "mine"


def test_resume_needs_a_run_and_keeps_its_settings(trained_run, tmp_path):
    run_dir, _, _ = trained_run
    before = snapshot(run_dir)
    assert_one_line_error(run("train", "--resume"), "--resume needs --run-dir", exit_code=2)
    assert_one_line_error(run("train", "--resume", "--run-dir", run_dir, "--units", "32", "--seq-len", "9"),
                          "drop --seq-len, --units", exit_code=2)
    assert_one_line_error(run("train", "--resume", "--run-dir", tmp_path),
                          "is not a run directory")
    assert snapshot(run_dir) == before


# --- bad input to generate and evaluate ------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, message, exit_code",
    [
        (["--length", "0"], "Invalid value for '--length'", 2),
        (["--length", "-5"], "Invalid value for '--length'", 2),
        (["--temperature", "0"], "Invalid value for '--temperature'", 2),
        (["--temperature", "-1"], "Invalid value for '--temperature'", 2),
        (["--top-k", "0"], "Invalid value for '--top-k'", 2),
        (["--prompt", "ÆØÅ€"], "only characters the model never saw", 1),
    ],
)
def test_bad_generate_requests(trained_run, arguments, message, exit_code):
    run_dir, _, _ = trained_run
    before = snapshot(run_dir)
    assert_one_line_error(run("generate", run_dir, *arguments), message, exit_code=exit_code)
    assert snapshot(run_dir) == before


@pytest.mark.parametrize("command", ["generate", "evaluate"])
def test_a_folder_that_is_not_a_run(tmp_path, command):
    assert_one_line_error(run(command, tmp_path), "is not a run directory: it has no config.json")
    assert_one_line_error(run(command, tmp_path / "nope"), "is not a run directory: no such folder")


def test_evaluate_on_a_bad_corpus(trained_run, tmp_path):
    run_dir, _, _ = trained_run
    before = snapshot(run_dir)
    assert_one_line_error(run("evaluate", run_dir, "--data", tmp_path / "missing.txt"),
                          "no such file or folder")
    assert_one_line_error(run("evaluate", run_dir, "--split", "dev"), "Invalid value for '--split'", exit_code=2)
    assert snapshot(run_dir) == before


# --- the happy path --------------------------------------------------------------------------


def test_train_generate_evaluate(trained_run):
    run_dir, _, result = trained_run
    assert "bits/char" in result.output and "unigram baseline" in result.output
    assert "Sample (300 characters" in result.output
    assert f"Run saved in {run_dir}" in result.output
    for name in ("model.keras", "vocabulary.json", "config.json", "history.csv", "history.json",
                 "learning_curves.png", "metrics.json", "sample.txt"):
        assert (run_dir / name).is_file(), name

    first = run("generate", run_dir, "--prompt", "the ", "--length", "40", "--seed", "3")
    assert first.exit_code == 0, first.output
    assert first.output.startswith("the ") and len(first.output.rstrip("\n")) >= 44
    again = run("generate", run_dir, "--prompt", "the ", "--length", "40", "--seed", "3")
    assert again.output == first.output
    empty_prompt = run("generate", run_dir, "--length", "10", "--top-k", "3", "--temperature", "2")
    assert empty_prompt.exit_code == 0, empty_prompt.output

    evaluated = run("evaluate", run_dir, "--split", "test")
    assert evaluated.exit_code == 0, evaluated.output
    assert evaluated.output.startswith("Test loss ") and "bits/char" in evaluated.output


def test_resume_trains_longer(trained_run, tmp_path):
    _, corpus, _ = trained_run
    run_dir = tmp_path / "run"
    assert run(*TINY_TRAIN, "--epochs", "1", "--data", corpus, "--run-dir", run_dir).exit_code == 0
    result = run("train", "--resume", "--run-dir", run_dir, "--epochs", "2")
    assert result.exit_code == 0, result.output
    assert "Trained 2 epochs" in result.output


@pytest.mark.slow
def test_the_default_run_reaches_its_losses_and_samples_corpus_words(tmp_path):
    """`python cli.py train` with no options, the dataset prepared from scratch: at most 1.35
    nats/char over independent windows and 1.25 with the state carried (measured 1.2596 / 1.2075),
    and at least 85 % of the words `generate` samples with its defaults over seeds 1–5 are words of
    the training text (measured 89.9 %). Its time is a benchmark's business:
    `benchmarks/bench_charlm_default.py default` (216 s of training on the quiet machine)."""
    import importlib.util
    import json
    import os

    spec = importlib.util.spec_from_file_location("bench", REPO_ROOT / "benchmarks" / "bench_charlm_default.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    environment = {**os.environ, "TFDS_DATA_DIR": str(tmp_path / "tfds")}
    finished = subprocess.run([sys.executable, "cli.py", "train", "--run-dir", str(tmp_path / "run")],
                              cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=1800)
    assert finished.returncode == 0, finished.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["validation_nats_per_char"] <= 1.35, metrics
    assert metrics["validation_carried_nats_per_char"] <= 1.25, metrics
    samples = [subprocess.run([sys.executable, "cli.py", "generate", str(tmp_path / "run"), "--seed", str(seed),
                               "--length", "300"], cwd=REPO_ROOT, env=environment, capture_output=True, text=True,
                              timeout=300, check=True).stdout for seed in range(1, 6)]
    share, _ = bench.word_share(samples, bench.training_words(data_dir=str(tmp_path / "tfds")))
    assert share >= 0.85, (share, samples)


# What TensorFlow and tensorflow-datasets print while they load (`TF_CPP_MIN_LOG_LEVEL=0 python -c
# "import tensorflow"`), on a machine with or without a GPU.
TENSORFLOW_LINE_MARKERS = (
    "absl::InitializeLog", "oneDNN custom operations", "cudart", "Could not find cuda", "cuda_", "I0000", "W0000",
    "E0000", "This TensorFlow binary is optimized", "tensorflow/core", "TF-TRT",
)


def tensorflow_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(marker in line for marker in TENSORFLOW_LINE_MARKERS)]


def test_tensorflow_lines_are_hidden_unless_the_log_level_is_0(tmp_path):
    """TensorFlow's C++ start-up lines come before it reads TF_CPP_MIN_LOG_LEVEL, at every level: the
    CLI keeps them off stderr when the variable is unset or at least 1 (the user's 3 included), and
    lets everything through for 0. The lines print while TensorFlow is imported, so each case is a
    fresh process (`generate` of a missing run: it fails right after the import); the three run side
    by side."""
    missing = tmp_path / "missing"
    command = [sys.executable, str(REPO_ROOT / "cli.py"), "generate", str(missing)]
    unset = {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}
    cases = {"unset": unset, "3": {**unset, "TF_CPP_MIN_LOG_LEVEL": "3"}, "0": {**unset, "TF_CPP_MIN_LOG_LEVEL": "0"}}
    children = {case: subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for case, env in cases.items()}
    finished = {case: (*child.communicate(timeout=180), child.returncode) for case, child in children.items()}
    error = f"Error: {missing} is not a run directory: no such folder"
    for case, (stdout, stderr, returncode) in finished.items():
        assert returncode == 1 and stdout == "", (case, stderr)
        assert stderr.splitlines()[-1] == error, (case, stderr)
    for case in ("unset", "3"):
        assert finished[case][1].splitlines() == [error], (case, finished[case][1])
        assert tensorflow_lines(finished[case][1]) == [], case
    assert any("absl::InitializeLog" in line for line in tensorflow_lines(finished["0"][1])), finished["0"][1]


def test_verbose_shows_tensorflow_lines_whatever_the_log_level(monkeypatch, tmp_path):
    """--verbose takes the path of level 0 (`import_tensorflow_quietly(verbose=True)`), over a 3
    the user set."""
    from kerasrnn.engine import devices

    calls = []
    monkeypatch.setattr(devices, "import_tensorflow_quietly", lambda verbose=False: calls.append(verbose))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    assert_one_line_error(run("generate", tmp_path / "missing", "--verbose"), "is not a run directory")
    assert_one_line_error(run("generate", tmp_path / "missing"), "is not a run directory")
    assert calls == [True, False]


@pytest.mark.parametrize("value, level", [
    (None, None), ("3", 3), ("1", 1), (" 2 ", 2), ("+1", 1), ("0", 0), ("", 0), ("1.5", 0), ("quiet", 0),
])
def test_the_log_level_is_read_as_tensorflow_reads_it(monkeypatch, value, level):
    """TensorFlow's C++ takes a whole integer and reads anything else as 0 (logs everything): the
    CLI hides its start-up lines by the same reading."""
    from kerasrnn.engine.devices import tensorflow_log_level

    if value is None:
        monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    else:
        monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", value)
    assert tensorflow_log_level() == level


def test_the_installed_command_is_the_same_cli_as_the_script():
    """`pip install .` puts `kerasrnn` on the PATH through [project.scripts]: the same group, the same
    commands, as `python cli.py`."""
    import importlib
    import tomllib

    import cli
    import kerasrnn.cli

    target = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]["kerasrnn"]
    module, function = target.split(":")
    assert getattr(importlib.import_module(module), function) is kerasrnn.cli.main
    assert cli.cli is kerasrnn.cli.cli
    assert sorted(cli.cli.commands) == ["classify", "compare", "evaluate", "export", "generate", "gradients",
                                        "train", "translate", "visualize"]


def test_an_unexpected_exception_is_one_line_unless_verbose(monkeypatch, tmp_path):
    """The CLI's last line of defence: a bug still ends in one `Error:` line, with the traceback
    only for --verbose."""
    from kerasrnn.engine import run as engine_run

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug\nwith a second line")

    monkeypatch.setattr(engine_run, "train", broken)
    arguments = ["train", "--task", "adding", "--run-dir", tmp_path / "run"]
    assert_internal_error(run(*arguments), "internal error (ZeroDivisionError: a bug); rerun with --verbose for the "
                          f"traceback: python cli.py train --verbose --task adding --run-dir {tmp_path / 'run'}")
    loud = run(*arguments, "--verbose")
    assert isinstance(loud.exception, ZeroDivisionError)
