"""`python cli.py export`: SavedModels that serve strings, checked against the in-memory models.

Every cell name gets a character-LM run, and `CLASSIFY_CELLS` a classify and a translate run
(the other cells' with -m slow): tiny, untrained, written directly as run directories and exported
once per module. One separate process, `tests/engine/export_check.py` under `python -I` from a temporary folder, loads each
export with TensorFlow alone and calls every signature, while this process writes the next; the
tests compare what it got with the Keras models and `CharSampler` in this process.
"""

import errno
import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn import fileio
from kerasrnn.engine import exporting
from kerasrnn.engine import run_dir as run_files
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import UserInputError
from kerasrnn.recurrent import CELL_NAMES
from kerasrnn.tasks import get_task, task_of_run
from kerasrnn.tasks.charlm import data as char_data
from kerasrnn.tasks.charlm.task import CharLMConfig
from kerasrnn.tasks.classify import data as classify_data
from kerasrnn.tasks.translate import data as translate_data
from kerasrnn.tasks.translate import task as translate
from kerasrnn.tasks.charlm.model import build_char_lm
from kerasrnn.tasks.charlm.sampling import DRAW_CHUNK, CharSampler
from kerasrnn.tasks.classify import ClassifyConfig
from kerasrnn.tasks.classify.model import build_text_classifier, predict_probabilities
from kerasrnn.tasks.translate import TranslateConfig
from kerasrnn.tasks.translate.model import build_translator
from tests.cli_helpers import assert_internal_error, assert_one_line_error, run

pytestmark = pytest.mark.integration  # a separate TensorFlow process checks every export

REPO_ROOT = Path(__file__).resolve().parents[2]
CHARACTERS = list(" .abcdeghilnorst")
# "": from the initial state alone; "€" is unknown: [UNK]; the first prompt twice: two samples.
PROMPTS = ["the cat", "", "a dog €", "the cat"]
SAMPLINGS = [(1.0, 3), (0.6, 11)]  # (temperature, seed)
LENGTH = DRAW_CHUNK + 6  # crosses a chunk of the XLA loop
GREEDY = 1e-6  # a temperature that leaves only the most likely character, whatever the random numbers
STEP_IDS = [[1, 4, 9, 2, 15, 3, 6], [1, 2, 2, 17, 0, 5, 8]]
SCORED = ["the cat sat.", "a", "", "old barn €"]
WORDS = ["", "[UNK]", "one", "two", "three", "un", "deux", "trois", "eins", "zwei"]
CLASS_NAMES = ["de", "en", "fr"]
CLASSIFIED = ["one two", "un deux trois un deux trois", "", "zzz", "Eins, ZWEI!"]
MAX_LENGTH = 3  # tokens kept: the second text is cut
# The classifier runs the Keras model as it is in the graph, whatever the cell: three cells (a
# lecture cell, the uRNN, a Keras layer) in the default suite, the others with -m slow.
CLASSIFY_CELLS = ("lstm", "urnn", "keras-gru")
SOURCE_WORDS = ["one", "two", "three", "four"]
TARGET_WORDS = ["un", "deux", "trois", "quatre"]
TRANSLATED = ["one two", "four four three one", "five", ""]  # "five" is unknown; "" is no text
BEAM = 3


def make_char_lm_run(run_dir: Path, cell: str, *, layers: int = 2):
    """A character-LM run directory with untrained weights; returns `{"model", "config"}`."""
    config = CharLMConfig(cell=cell, units=8, layers=layers, residual=True, dropout=0.0, embedding_dim=4,
                          carry_state=False)
    keras.utils.set_random_seed(1)
    model = build_char_lm(config, len(CHARACTERS) + 2, seed=1)
    # Inputs and logits larger than at initialisation (embeddings within ±0.05): what is sampled
    # then depends on the prompt and on the cell, as in a trained model.
    for name, scale in (("embedding", 20.0), ("logits", 15.0)):
        weights = model.get_layer(name).weights[0]
        weights.assign(weights * scale)
    run_dir.mkdir(parents=True)
    model.save(run_dir / run_files.MODEL_FILE)
    run_files.save_config(run_dir, "charlm", config, TrainConfig())
    char_data.save_vocabulary(char_data.make_char_lookup(CHARACTERS), run_dir / run_files.VOCABULARY_FILE)
    return {"model": model, "config": config}


def make_classify_run(run_dir: Path, cell: str):
    """A classify run directory with untrained weights; returns `{"model", "vectorizer"}`."""
    config = ClassifyConfig(cell=cell, units=8, layers=2, bidirectional=True, embedding_dim=4,
                            tokens="words", max_length=MAX_LENGTH).resolved()
    vectorizer = classify_data.make_text_vectorizer("words", vocabulary=WORDS)
    keras.utils.set_random_seed(2)
    model = build_text_classifier(config, len(WORDS), len(CLASS_NAMES), seed=2)
    run_dir.mkdir(parents=True)
    model.save(run_dir / run_files.MODEL_FILE)
    run_files.save_config(run_dir, "classify", config, TrainConfig())
    run_files.write_tokens(vectorizer.get_vocabulary(), run_dir / run_files.VOCABULARY_FILE)
    run_files.write_tokens(CLASS_NAMES, run_dir / "labels.json")
    return {"model": model, "vectorizer": vectorizer}


def make_translate_run(run_dir: Path, cell: str):
    """A translate run directory with untrained (sharpened) weights; returns `{"translator"}`."""
    config = TranslateConfig(cell=cell, units=8, layers=2 if cell == "lstm" else 1, embedding_dim=4,
                             tokens="words", attention="additive" if cell == "urnn" else "dot")
    source = translate_data.make_source_lookup(SOURCE_WORDS).get_vocabulary()
    target = translate_data.make_target_lookup(TARGET_WORDS).get_vocabulary()
    keras.utils.set_random_seed(3)
    model = build_translator(config, len(source), len(target), seed=3)
    weights = model.get_layer("logits").weights[0]
    weights.assign(weights * 6.0)  # peaked distributions, as in a trained model
    run_dir.mkdir(parents=True)
    model.save(run_dir / run_files.MODEL_FILE)
    run_files.save_config(run_dir, "translate", config, TrainConfig())
    run_files.write_tokens(source, run_dir / translate.SOURCE_VOCABULARY_FILE)
    run_files.write_tokens(target, run_dir / translate.TARGET_VOCABULARY_FILE)
    fileio.write_json(run_dir / translate.DECODING_FILE, {"max_output_length": 7})
    return {"translator": get_task("translate").load_translator(run_dir)}


def char_lm_calls() -> dict:
    """The calls to an exported character LM, by a key the tests read their outputs with."""
    calls = {("generate", t, seed): {"signature": "generate", "inputs": {
        "prompt": PROMPTS, "length": LENGTH, "temperature": t, "seed": seed}} for t, seed in SAMPLINGS}
    calls["greedy"] = {"signature": "generate", "inputs": {
        "prompt": PROMPTS, "length": 20, "temperature": GREEDY, "seed": 0}}
    calls["initial_state"] = {"signature": "initial_state", "inputs": {"batch_size": len(STEP_IDS)}}
    # The ids in two calls, the state of the first fed to the second.
    calls["step_1"] = {"signature": "step", "inputs": {
        "ids": [row[:3] for row in STEP_IDS], "state": {"output_of": [len(calls) - 1, "state"]}}}
    calls["step_2"] = {"signature": "step", "inputs": {
        "ids": [row[3:] for row in STEP_IDS], "state": {"output_of": [len(calls) - 1, "state"]}}}
    calls["score"] = {"signature": "score", "inputs": {"text": SCORED}}
    return calls


TASK_RUNS = {"char_lm": make_char_lm_run, "classify": make_classify_run, "translate": make_translate_run}


def task_calls(task: str) -> dict:
    if task == "char_lm":
        return char_lm_calls()
    if task == "classify":
        return {"classify": {"signature": "classify", "inputs": {"text": CLASSIFIED}}}
    return {"translate": {"signature": "translate", "inputs": {"text": TRANSLATED}},
            "beam_search": {"signature": "beam_search", "inputs": {"text": TRANSLATED, "beam_size": BEAM}}}


def export_and_check(root: Path, char_lm_cells, classify_cells, translate_cells=()) -> dict:
    """Makes and exports a run per cell and task, and has one separate process call every export.

    The process starts first and checks each export as soon as it is written, while this one makes
    the next: the two CPU cores work side by side. Returns, per cell, the in-memory models
    (`char_lm`: model and config; `classify`: model and vectorizer) and what the process got:
    `<task>_signatures` and `<task>_outputs`.
    """
    with open(root / "checker.log", "w") as log:
        checker = subprocess.Popen(
            [sys.executable, "-I", str(REPO_ROOT / "tests" / "engine" / "export_check.py")], cwd=root, text=True,
            stdin=subprocess.PIPE, stderr=log, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        found, requested = {}, []
        try:
            for task, cells in (("char_lm", char_lm_cells), ("classify", classify_cells),
                                ("translate", translate_cells)):
                for cell in cells:
                    run_dir = root / f"{task}-{cell}"
                    found.setdefault(cell, {})[task] = TASK_RUNS[task](run_dir, cell)
                    exporting.export_run(task_of_run(run_dir), run_dir, root / f"{task}-{cell}-export")
                    calls = task_calls(task)
                    result = root / f"{task}-{cell}.json"
                    request = {"path": str(root / f"{task}-{cell}-export"), "result": str(result),
                               "calls": list(calls.values())}
                    checker.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
                    checker.stdin.flush()
                    requested.append((cell, task, calls, result))
        except BrokenPipeError:
            pass  # the checker has stopped: its exit status and log, below, say why
        finally:
            try:
                checker.stdin.close()
            except BrokenPipeError:
                pass
            returncode = checker.wait()
    assert returncode == 0, (root / "checker.log").read_text()[-3000:]
    assert len(requested) == len(char_lm_cells) + len(classify_cells) + len(translate_cells)
    for cell, task, calls, result in requested:
        got = json.loads(result.read_text("utf-8"))
        found[cell][f"{task}_signatures"] = got["signatures"]
        found[cell][f"{task}_outputs"] = dict(zip(calls, got["outputs"]))
    return found


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every cell's character LM and `CLASSIFY_CELLS`' classifiers, exported and called.

    Also starts `saved_model_cli show --all` on the LSTM's export (`"saved_model_cli"`), which
    imports TensorFlow for seconds: it runs beside the tests that come before it.
    """
    root = tmp_path_factory.mktemp("export")
    found = export_and_check(root, CELL_NAMES, CLASSIFY_CELLS, CLASSIFY_CELLS)
    tool = Path(sys.executable).with_name("saved_model_cli")
    shown = subprocess.Popen([str(tool), "show", "--all", "--dir", str(root / "char_lm-lstm-export")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    yield {**found, "root": root, "saved_model_cli": shown}
    shown.kill()  # if its test did not run
    shown.communicate()


@pytest.fixture(scope="module")
def exported_other_cells(tmp_path_factory):
    """The classifiers and translators of the cells not in `CLASSIFY_CELLS` (the slow tests)."""
    cells = [cell for cell in CELL_NAMES if cell not in CLASSIFY_CELLS]
    return export_and_check(tmp_path_factory.mktemp("export-slow"), [], cells, cells)


# --- the exports against the in-memory models, every cell ---------------------------------------


def test_the_signatures_take_and_return_plain_tensors(exported):
    states = 2 * (8 + 8)  # two LSTM layers of 8 units: h and c each
    assert exported["lstm"]["char_lm_signatures"] == {
        "generate": {
            "inputs": {"length": ["int32", []], "prompt": ["string", [None]], "seed": ["int32", []],
                       "temperature": ["float32", []]},
            "outputs": {"text": ["string", [None]]}},
        "initial_state": {"inputs": {"batch_size": ["int32", []]},
                          "outputs": {"state": ["float32", [None, states]]}},
        "score": {"inputs": {"text": ["string", [None]]}, "outputs": {"nats_per_char": ["float32", [None]]}},
        "serving_default": exported["lstm"]["char_lm_signatures"]["generate"],
        "step": {"inputs": {"ids": ["int32", [None, None]], "state": ["float32", [None, states]]},
                 "outputs": {"logits": ["float32", [None, None, len(CHARACTERS) + 2]],
                             "state": ["float32", [None, states]]}},
    }
    classify = {"inputs": {"text": ["string", [None]]},
                "outputs": {"label": ["string", [None]],
                            "probabilities": ["float32", [None, len(CLASS_NAMES)]]}}
    assert exported["lstm"]["classify_signatures"] == {"classify": classify, "serving_default": classify}
    for cell in CELL_NAMES:
        assert sorted(exported[cell]["char_lm_signatures"]) == ["generate", "initial_state", "score",
                                                                "serving_default", "step"]
    assert exported["urnn"]["char_lm_signatures"]["step"]["inputs"]["state"] == ["float32", [None, 2 * 16]]


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_exported_generate_samples_what_char_sampler_samples(exported, cell):
    run, outputs = exported[cell]["char_lm"], exported[cell]["char_lm_outputs"]
    sampler = CharSampler(run["model"], run["config"], CHARACTERS)
    for t, seed in SAMPLINGS:
        texts = outputs[("generate", t, seed)]["text"]
        # The first row draws as CharSampler does; the others draw on, independently.
        assert texts[0] == sampler.sample(PROMPTS[0], LENGTH, temperature=t, seed=seed), (t, seed)
        assert all(len(text) == LENGTH and set(text) <= set(CHARACTERS) for text in texts)
    if cell == "lstm":  # the least peaked distributions of these untrained models
        assert all(outputs[("generate", *sampling)]["text"][3] != outputs[("generate", *sampling)]["text"][0]
                   for sampling in SAMPLINGS)  # the same prompt again: another sample
    # Prompts of different lengths in one batch: each row carries the state of its own prompt.
    greedy = [sampler.sample(prompt, 20, temperature=GREEDY, seed=0) for prompt in PROMPTS]
    assert outputs["greedy"]["text"] == greedy
    assert len(set(greedy)) > 1  # the prompts matter


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_exported_step_and_score_match_the_keras_model(exported, cell):
    run, outputs = exported[cell]["char_lm"], exported[cell]["char_lm_outputs"]
    model = run["model"]
    layers = [model.get_layer(f"recurrent_{i}") for i in range(1, run["config"].layers + 1)]
    initial = np.concatenate(
        [np.asarray(s) for layer in layers for s in layer.get_initial_state(len(STEP_IDS))], axis=-1)
    np.testing.assert_allclose(outputs["initial_state"]["state"], initial, rtol=1e-6, atol=1e-6)
    if cell == "urnn":
        assert np.abs(initial).min() > 0  # the learned h0, not zeros
    # The state the first call returned carries the second call on: the logits of the whole.
    whole = np.asarray(model(np.array(STEP_IDS, "int32")))
    steps = np.concatenate([outputs["step_1"]["logits"], outputs["step_2"]["logits"]], axis=1)
    # float32 rounding grows with the logits (up to about 20 here), and the uRNN's two calls round in
    # another order than its one whole-sequence call: 1e-5 of the largest logit, not of each.
    np.testing.assert_allclose(steps, whole, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(whole).max())))

    lookup = char_data.make_char_lookup(CHARACTERS)
    for text, score in zip(SCORED, outputs["score"]["nats_per_char"]):
        if not text:
            assert math.isnan(score)  # no characters to score
            continue
        targets = char_data.encode(lookup, text)
        inputs = tf.concat([[char_data.BOS_ID], targets[:-1]], axis=0)
        logits = model(inputs[None, :])[0]
        losses = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
        assert math.isclose(score, float(np.mean(losses)), rel_tol=1e-5, abs_tol=1e-5), text


def check_classifier(found: dict) -> None:
    """The exported probabilities and labels are the in-memory model's (`predict_probabilities`)."""
    run, [outputs] = found["classify"], found["classify_outputs"].values()
    expected = predict_probabilities(run["model"], run["vectorizer"], CLASSIFIED, MAX_LENGTH)
    np.testing.assert_allclose(outputs["probabilities"], expected, rtol=1e-5, atol=1e-6)
    assert outputs["label"] == [CLASS_NAMES[i] for i in expected.argmax(axis=1)]
    # The graph keeps MAX_LENGTH tokens: without the cut, the second text would score otherwise.
    uncut = predict_probabilities(run["model"], run["vectorizer"], CLASSIFIED[1:2], 99)
    assert not np.allclose(uncut[0], expected[1])


@pytest.mark.parametrize("cell", CLASSIFY_CELLS)
def test_exported_classifier_matches_the_keras_probabilities(exported, cell):
    check_classifier(exported[cell])


@pytest.mark.slow
@pytest.mark.parametrize("cell", [cell for cell in CELL_NAMES if cell not in CLASSIFY_CELLS])
def test_exported_classifier_of_the_other_cells(exported_other_cells, cell):
    check_classifier(exported_other_cells[cell])


def check_translator(found: dict) -> None:
    """The exported translations are the in-memory `Translator`'s, greedy and beam search alike."""
    translator, outputs = found["translate"]["translator"], found["translate_outputs"]
    assert outputs["translate"]["translation"] == translator.translate(TRANSLATED)
    assert outputs["beam_search"]["translation"] == translator.translate(TRANSLATED, beam_size=BEAM)
    _, scores = translator.search(translator.encode(TRANSLATED), tf.constant(BEAM),
                                  tf.constant(translator.max_output_length))
    np.testing.assert_allclose(outputs["beam_search"]["log_probability"], scores.numpy(), rtol=1e-5, atol=1e-5)
    assert len(set(outputs["translate"]["translation"])) > 1  # the sources matter


@pytest.mark.parametrize("cell", CLASSIFY_CELLS)
def test_exported_translator_matches_the_in_memory_decoding(exported, cell):
    check_translator(exported[cell])
    text = {"inputs": {"text": ["string", [None]]}, "outputs": {"translation": ["string", [None]]}}
    assert exported[cell]["translate_signatures"] == {
        "translate": text, "serving_default": text,
        "beam_search": {"inputs": {"beam_size": ["int32", []], "text": ["string", [None]]},
                        "outputs": {"log_probability": ["float32", [None]], "translation": ["string", [None]]}},
    }


@pytest.mark.slow
@pytest.mark.parametrize("cell", [cell for cell in CELL_NAMES if cell not in CLASSIFY_CELLS])
def test_exported_translator_of_the_other_cells(exported_other_cells, cell):
    check_translator(exported_other_cells[cell])


def test_saved_model_cli_lists_the_signatures_with_dtypes_and_shapes(exported):
    stdout, stderr = exported["saved_model_cli"].communicate(timeout=120)
    assert exported["saved_model_cli"].returncode == 0, stderr[-2000:]
    for text in ("signature_def['generate']", "signature_def['step']", "signature_def['score']",
                 "signature_def['initial_state']", "signature_def['serving_default']",
                 "inputs['prompt'] tensor_info:", "dtype: DT_STRING", "inputs['temperature'] tensor_info:",
                 "outputs['text'] tensor_info:", "outputs['logits'] tensor_info:", "shape: (-1, -1, 18)",
                 "outputs['nats_per_char'] tensor_info:"):
        assert text in stdout, text


def test_the_exported_graph_refuses_bad_values(exported):
    loaded = tf.saved_model.load(str(exported["root"] / "char_lm-gru-export"))
    generate = loaded.signatures["generate"]
    for length, temperature, seed, message in ((0, 1.0, 0, "length must be positive"),
                                               (5, 0.0, 0, "temperature must be positive"),
                                               (5, 1.0, -1, "seed must be from 0")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            generate(prompt=tf.constant(["a"]), length=tf.constant(length),
                     temperature=tf.constant(temperature), seed=tf.constant(seed))
    beam_search = tf.saved_model.load(str(exported["root"] / "translate-lstm-export")).signatures["beam_search"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="beam_size must be a positive integer"):
        beam_search(text=tf.constant(["one"]), beam_size=tf.constant(0))
    state = loaded.signatures["initial_state"](batch_size=tf.constant(1))["state"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="one time step or more"):
        loaded.signatures["step"](ids=tf.zeros([1, 0], tf.int32), state=state)


# --- the command line ------------------------------------------------------------------------


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A one-layer keras-simplernn character LM: the quickest to export."""
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    make_char_lm_run(run_dir, "keras-simplernn", layers=1)
    return run_dir


def test_cli_exports_and_replaces_only_with_force(small_run, tmp_path):
    out = tmp_path / "exports" / "charlm"
    result = run("export", small_run, out)
    assert result.exit_code == 0, result.output
    assert (out / "saved_model.pb").is_file()
    for name in ("generate", "step", "initial_state", "score"):
        assert f"  {name}(" in result.output
    assert "generate is also serving_default" in result.output
    (out / "note.txt").write_text("mine")
    before = snapshot(out)

    refused = run("export", small_run, out)
    assert_one_line_error(refused, "exists and is not empty: add --force")
    assert snapshot(out) == before

    replaced = run("export", small_run, out, "--force")
    assert replaced.exit_code == 0, replaced.output
    assert (out / "saved_model.pb").is_file() and not (out / "note.txt").exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["charlm"]  # no temporary folders left


def test_a_failed_export_leaves_nothing_and_keeps_the_old_export(small_run, tmp_path, monkeypatch):
    def half_written(self, filepath, options=None, verbose=True):
        Path(filepath, "saved_model.pb").write_text("half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(keras.export.ExportArchive()), "write_out", half_written)
    new = tmp_path / "new" / "charlm"
    failed = run("export", small_run, new)
    assert_internal_error(failed, "internal error (RuntimeError: disk full); rerun with --verbose")
    assert list(tmp_path.iterdir()) == []  # neither the export nor the folder made for it

    old = tmp_path / "old"
    old.mkdir()
    (old / "saved_model.pb").write_text("the earlier export")
    before = snapshot(old)
    failed = run("export", small_run, old, "--force")
    assert_internal_error(failed, "internal error (RuntimeError: disk full)")
    assert snapshot(old) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]


def test_an_export_onto_a_full_disk_is_one_line_and_keeps_the_old_export(small_run, tmp_path, monkeypatch):
    def no_space(self, filepath, options=None, verbose=True):
        Path(filepath, "saved_model.pb").write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device", str(Path(filepath, "variables")))

    old = tmp_path / "old"
    old.mkdir()
    (old / "saved_model.pb").write_text("the earlier export")
    before = snapshot(old)
    monkeypatch.setattr(type(keras.export.ExportArchive()), "write_out", no_space)
    failed = run("export", small_run, old, "--force")
    assert_one_line_error(failed, f"no space left on device while writing the export {old}; the export that "
                                  f"was there is unchanged")
    assert snapshot(old) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]


def test_the_next_export_removes_what_a_killed_export_left(small_run, tmp_path):
    """A kill between the steps of the atomic export leaves hidden folders beside it: a half-written
    new export (removed), or the previous export moved aside with nothing in its place (put back)."""
    out = tmp_path / "charlm"
    (tmp_path / ".charlm.new-abc123").mkdir()
    (tmp_path / ".charlm.new-abc123" / "saved_model.pb").write_text("half")
    aside = tmp_path / ".charlm.old-def456"
    aside.mkdir()
    (aside / "saved_model.pb").write_text("the earlier export")
    (aside / "fingerprint.pb").write_text("x")
    assert run("export", small_run, out, "--force").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["charlm"]
    assert (out / "saved_model.pb").read_bytes() != b"the earlier export"  # the new export replaced it


def test_cli_export_errors_are_one_line(small_run, tmp_path):
    assert_one_line_error(run("export", tmp_path / "missing", tmp_path / "out"), "no such folder")

    copy_run = tmp_path / "copy-run"
    copy_run.mkdir()
    run_files.save_config(copy_run, "copy", get_task("copy").config_class(), TrainConfig())
    (copy_run / run_files.MODEL_FILE).write_bytes(b"")
    assert_one_line_error(run("export", copy_run, tmp_path / "out"), "copy run, which cannot be exported")

    not_an_export = tmp_path / "documents"
    not_an_export.mkdir()
    (not_an_export / "thesis.tex").write_text("precious")
    assert_one_line_error(run("export", small_run, not_an_export, "--force"), "is not a SavedModel")
    assert (not_an_export / "thesis.tex").read_text() == "precious"

    assert_one_line_error(run("export", small_run, small_run.parent, "--force"), "holds the run")
    (tmp_path / "file").write_text("")
    assert_one_line_error(run("export", small_run, tmp_path / "file"), "is a file")
    assert not (tmp_path / "out").exists()


def test_check_out_dir_accepts_new_and_empty_folders(small_run, tmp_path):
    assert exporting.check_out_dir(tmp_path / "a" / "b", small_run, force=False) == tmp_path / "a" / "b"
    (tmp_path / "empty").mkdir()
    assert exporting.check_out_dir(tmp_path / "empty", small_run, force=False) == tmp_path / "empty"
    with pytest.raises(UserInputError, match="holds the run"):
        exporting.check_out_dir(small_run, small_run, force=True)
