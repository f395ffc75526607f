"""No TensorFlow warning in any command's normal output: the default training of every task, and
evaluate, generate, classify, translate and export of its run, print no line of TensorFlow's (nor
absl's, Keras's, tfds's) warnings — retracing warnings included; `--verbose` still shows them.

Every command runs in this process (one TensorFlow import, via click's CliRunner). TensorFlow warns
through Python's `logging` (the `tensorflow` and `absl` loggers), through `warnings`, and from C++
straight onto file descriptor 2: the first two are caught as records (a handler on the root,
`tensorflow` and `absl` loggers; `warnings` as Python's default filters would show them), the last as
lines of the captured descriptors with TensorFlow's prefixes. C++ logs at the level
`TF_CPP_MIN_LOG_LEVEL` sets: 3 here, as the commands set it when the user has not.

The commands, on each task's default data and settings made tiny (8 units, 2 epochs of 3 steps,
2 validation batches): `train` and `evaluate` of charlm (python_docs), classify and translate
(spelled_numbers), translate on a small pairs file of real sentences (its own preset: cased words,
a bidirectional keras-lstm encoder), copy and adding (T = 10); then `generate` and `export` of the
charlm run, `classify` of the classify run, `translate` of both translate runs; and
`evaluate --verbose` of the copy run with a real TensorFlow warning raised in its middle.
"""

from __future__ import annotations

import copy
import functools
import logging
import random
import re
import shlex
import warnings

import pytest
import tensorflow as tf

from tests.cli_helpers import run

pytestmark = pytest.mark.integration  # trains every task in turn

# TensorFlow's lines, as printed: its Python logger's default format, absl's, C++'s
# ("W0000 00:00:1733… file.cc:123] …", "2026-12-03 10:00:00.000000: W tensorflow/…"), and the
# retracing warning in whatever format.
TF_LINE = re.compile(r"^(WARNING|ERROR):(tensorflow|absl)|^[WE]\d{4} |^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [WE] "
                     r"|triggered tf\.function retracing|^WARNING: All log messages before absl")
OURS = "kerasrnn"  # the project's own warnings are messages to the user, not noise
# Python shows these only to developers (its default filters), never in a command's output.
HIDDEN_BY_DEFAULT = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)

TINY = ["--units", "8", "--batch-size", "8", "--epochs", "2", "--steps-per-epoch", "3", "--validation-steps", "2",
        "--seed", "1"]


class Caught(logging.Handler):
    """Every record at WARNING and above that is not the project's own."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if not record.name.startswith(OURS):
            self.records.append(record)


@pytest.fixture
def quiet(capfd):
    """`check(*arguments)`: runs a command and returns the TensorFlow lines it printed or logged."""
    caught = Caught()
    loggers = [logging.getLogger(), logging.getLogger("tensorflow"), logging.getLogger("absl")]

    def check(*arguments):
        caught.records.clear()
        capfd.readouterr()
        with warnings.catch_warnings(record=True) as python_warnings:
            warnings.simplefilter("always")
            result = run(*arguments)
        assert result.exit_code == 0, result.output
        captured = capfd.readouterr()
        lines = [line for text in (result.output, captured.out, captured.err) for line in text.splitlines()
                 if TF_LINE.search(line)]
        lines += [f"{r.name} {r.levelname}: {r.getMessage()}" for r in dict.fromkeys(caught.records)]
        lines += [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in python_warnings
                  if not issubclass(w.category, HIDDEN_BY_DEFAULT)]
        return result, lines

    for logger in loggers:
        logger.addHandler(caught)
    yield check
    for logger in loggers:
        logger.removeHandler(caught)


def pairs_file(path):
    """A few real-looking sentence pairs: the pairs-file preset of translate (cased words, a
    bidirectional encoder), not spelled_numbers'."""
    english = ["Go.", "Run!", "I am happy.", "He is tall.", "We sat down.", "She ran home.", "Come in.",
               "I see a cat.", "The dog sleeps.", "It is late.", "You are kind.", "They left early."]
    french = ["Va.", "Cours !", "Je suis heureux.", "Il est grand.", "Nous nous sommes assis.",
              "Elle a couru chez elle.", "Entre.", "Je vois un chat.", "Le chien dort.", "Il est tard.",
              "Tu es gentil.", "Ils sont partis tôt."]
    rng = random.Random(0)
    rows = [f"{english[i]}\t{french[i]}" for i in range(len(english))]
    rows += [f"{english[i]} {english[j]}\t{french[i]} {french[j]}"
             for i, j in ((rng.randrange(12), rng.randrange(12)) for _ in range(100))]
    path.write_text("\n".join(dict.fromkeys(rows)) + "\n", encoding="utf-8")
    return path


def text_file(path):
    path.write_text("the cat sat on the mat. the dog ran to the old barn. a hot tin roof. " * 80, encoding="utf-8")
    return path


@pytest.fixture
def spelled_numbers_read_once(monkeypatch):
    """spelled_numbers read from its prepared tfds files once for the whole test (seconds each time),
    not once per command: the same rows every time, as the commands would read them."""
    from kerasrnn.data import sentence_pairs, spelled_numbers

    read = functools.lru_cache(maxsize=None)(spelled_numbers.load_spelled_numbers)

    def load(data_dir=None):
        return copy.deepcopy(read(data_dir))

    monkeypatch.setattr(spelled_numbers, "load_spelled_numbers", load)
    monkeypatch.setattr(sentence_pairs, "load_spelled_numbers", load)


def test_every_task_trains_and_is_used_without_a_tensorflow_warning(quiet, spelled_numbers_read_once, tmp_path):
    found = {}

    def check(*arguments):
        result, lines = quiet(*arguments)
        if lines:
            found[shlex.join(map(str, arguments))] = lines
        return result

    runs = {  # each task's default data and settings, made tiny
        "charlm": ["--task", "charlm", "--seq-len", "16", "--embedding-dim", "8"],
        "classify": ["--task", "classify", "--embedding-dim", "8"],
        "translate": ["--task", "translate", "--embedding-dim", "8"],
        "pairs": ["--task", "translate", "--embedding-dim", "8", "--data", pairs_file(tmp_path / "pairs.tsv")],
        "copy": ["--task", "copy", "--length", "10"],
        "adding": ["--task", "adding", "--length", "10"],
    }
    for name, arguments in runs.items():
        check("train", *arguments, *TINY, "--run-dir", tmp_path / name)
        check("evaluate", tmp_path / name)
    check("generate", tmp_path / "charlm", "--length", "20")
    check("export", tmp_path / "charlm", tmp_path / "charlm-export")
    check("classify", tmp_path / "classify", "forty two", "trois cent")
    check("translate", tmp_path / "translate", "forty two", "seven hundred and one")
    check("translate", tmp_path / "pairs", "I am happy.", "Go.", "The dog sleeps. It is late.")
    assert not found, "\n".join(f"{command}:\n  " + "\n  ".join(lines) for command, lines in found.items())

    # --verbose still shows TensorFlow's warnings: nothing mutes its loggers. A real one, from
    # TensorFlow's own retracing check, raised in the middle of the command.
    from kerasrnn.tasks.memory import model as memory_model

    evaluate = memory_model.evaluate_on_fixed_set

    def retracing_then_evaluate(*args, **kwargs):
        identity = tf.function(lambda x: x)
        for length in range(1, 7):
            identity(tf.zeros([length]))
        return evaluate(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(memory_model, "evaluate_on_fixed_set", retracing_then_evaluate)
        result, lines = quiet("evaluate", "--verbose", tmp_path / "copy")
    assert any("triggered tf.function retracing" in line for line in lines), result.output
