"""Subword tokens (`kerasrnn.tasks.translate.subwords`): learned from the training split, they give
back the references exactly as written (French spacing, apostrophes), leave no word unknown whose
characters were seen, and travel inside an export that a plain TensorFlow process loads with
`tensorflow_text`."""

import json
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
from kerasrnn.tasks import get_task, task_of_run
from kerasrnn.tasks.translate import TranslateConfig
from kerasrnn.tasks.translate import data as translate_data
from kerasrnn.tasks.translate import task as translate
from kerasrnn.tasks.translate.model import Translator, build_translator
from kerasrnn.tasks.translate.subwords import Subwords, learn_subwords

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED = REPO_ROOT.parent / "shared" / "data"
FRENCH_PAIRS = SHARED / "eng_fra_pairs_1864.txt"
GERMAN_PAIRS = SHARED / "eng_deu_pairs_50k.txt"
needs_shared = pytest.mark.skipif(not FRENCH_PAIRS.exists() or not GERMAN_PAIRS.exists(),
                                  reason="../shared/data has no sentence pairs here")


def read_pairs(path: Path, limit: int | None = None) -> tuple[list[str], list[str]]:
    lines = path.read_text("utf-8").splitlines()[:limit]
    sources, targets = zip(*(line.split("\t")[:2] for line in lines))
    return list(sources), list(targets)


def round_trip(subwords: Subwords, texts: list[str]) -> list[str]:
    return [text.decode("utf-8") for text in
            subwords.detokenize(subwords.tokenize(tf.constant(texts))).numpy()]


@pytest.fixture(scope="module")
def french():
    """The French side of the shared pairs and a model of 500 pieces learned from it."""
    _, targets = read_pairs(FRENCH_PAIRS)
    return targets, Subwords(learn_subwords(targets, 500))


@needs_shared
def test_every_french_reference_comes_back_exactly_as_written(french):
    targets, subwords = french
    assert round_trip(subwords, targets) == targets
    # What the references do that word tokens did not give back: a space (or the narrow no-break
    # space U+202F) before ? and !, apostrophes joined, hyphens inside words.
    written = {"Vrai ?", "Cours\u202f!", "C’est triste.", "Qui a gagné ?"}
    assert written <= set(targets)
    assert round_trip(subwords, sorted(written)) == sorted(written)
    assert any(" ?" in text for text in targets) and any("\u202f!" in text for text in targets)


@needs_shared
def test_german_references_and_new_french_sentences_come_back_exactly():
    _, targets = read_pairs(GERMAN_PAIRS, 6000)
    subwords = Subwords(learn_subwords(targets[:5000], 2000))
    held_out = targets[5000:]  # not learned from: longer sentences, other words
    assert round_trip(subwords, held_out) == held_out
    french = Subwords(learn_subwords(read_pairs(FRENCH_PAIRS)[1], 400))
    new = ["Où est mon petit frère ?", "L’homme n’est pas là : il dort ; viens !", "Aujourd’hui, c’est l’été."]
    assert round_trip(french, new) == new


def test_joining_never_leaves_a_doubled_space_nor_one_at_the_ends():
    pieces = tf.ragged.constant([["▁", "▁Wo", "▁", "▁ist", "▁", "?", "▁"], ["▁Ich", "▁", "▁", "▁bin"], []])
    assert Subwords.detokenize(pieces).numpy().tolist() == [b"Wo ist ?", b"Ich bin", b""]


@needs_shared
def test_words_never_seen_in_training_are_spelled_with_known_pieces(french):
    targets, subwords = french
    lookup = translate_data.make_target_lookup(subwords.pieces())
    unseen = ["Les pommes vertes du marché", "Nous marchions jusqu’à la gare", "Elle lisait un nouveau livre"]
    seen_words = {word for text in targets for word in text.split()}
    assert {"vertes", "marchions", "lisait", "marché"}.isdisjoint(seen_words)
    ids = lookup(subwords.tokenize(tf.constant(unseen)))
    assert translate_data.UNK_ID not in ids.flat_values.numpy()
    # The same words as word tokens of the same text: unknown.
    words = translate_data.make_target_lookup(translate_data.vocabulary_tokens(targets, "cased-words", None))
    assert translate_data.UNK_ID in words(translate_data.tokenize(tf.constant(unseen), "cased-words")).flat_values


@needs_shared
def test_the_same_texts_give_the_same_model_and_every_character_is_a_piece(french):
    targets, subwords = french
    assert learn_subwords(targets, 500) == subwords.model
    pieces = set(subwords.pieces())
    assert 450 <= len(pieces) <= 500 and "<unk>" not in pieces
    characters = {character for text in targets for character in text if not character.isspace()}
    assert {character for character in characters if character not in pieces
            and "▁" + character not in pieces} == set()


def test_a_model_that_cannot_be_learned_or_read_is_one_line():
    with pytest.raises(UserInputError, match=r"^cannot learn subword tokens with at most 5 of them: .*smaller"):
        learn_subwords(["abcdefghij klmnop"] * 20, 5)
    with pytest.raises(UserInputError, match="the training split has no text"):
        learn_subwords(["", "  "], 100)
    with pytest.raises(UserInputError, match="^not a SentencePiece model"):
        Subwords(b"\x00garbage")


def test_a_saved_model_is_read_back_and_a_damaged_one_named(tmp_path):
    subwords = Subwords(learn_subwords(["ich bin müde", "wir sind müde", "du bist klug"] * 30, 40))
    subwords.write(tmp_path / "target_subwords.model")
    assert Subwords.read(tmp_path / "target_subwords.model").model == subwords.model
    assert [path.name for path in tmp_path.iterdir()] == ["target_subwords.model"]  # no temporary left
    (tmp_path / "target_subwords.model").write_bytes(subwords.model[:50])
    with pytest.raises(UserInputError, match="target_subwords.model: not a SentencePiece model"):
        Subwords.read(tmp_path / "target_subwords.model")
    with pytest.raises(UserInputError, match="cannot read .*missing.model"):
        Subwords.read(tmp_path / "missing.model")


# --- a run with subword tokens ------------------------------------------------------------------

SOURCES = ["I am tired.", "We are tired.", "You are clever.", "I like tea.", "We like apples."] * 20
TARGETS = ["Ich bin müde.", "Wir sind müde.", "Du bist klug.", "Ich mag Tee.", "Wir mögen Äpfel."] * 20
TRANSLATED = ["I like green apples.", "We are walking to the station.", "tired", ""]


def make_subword_run(run_dir: Path) -> tuple[Translator, keras.Model]:
    """A translate run with subword tokens and tied embeddings (the preset), written directly; its
    output bias favours `[UNK]`."""
    config = TranslateConfig(data="pairs.tsv", cell="gru", units=8, embedding_dim=4, bidirectional=False)
    assert (config.tokens, config.tie_embeddings) == ("subwords", True)  # the real-pairs preset
    run_dir.mkdir(parents=True)
    sides = translate._learn_token_sides(config, SOURCES, TARGETS, run_dir)
    source = translate_data.make_source_lookup(sides[0].pieces()).get_vocabulary()
    target = translate_data.make_target_lookup(sides[1].pieces()).get_vocabulary()
    keras.utils.set_random_seed(5)  # clears TensorFlow's eager kernels: the tokenizers must survive it
    model = build_translator(config, len(source), len(target), seed=5)
    embeddings, bias = model.get_layer("target_embedding").get_weights()  # tied: they also score
    bias[translate_data.UNK_ID] = 50.0  # an untrained model that would write nothing but [UNK]
    model.get_layer("target_embedding").set_weights([embeddings * 4, bias])
    model.save(run_dir / run_files.MODEL_FILE)
    run_files.save_config(run_dir, "translate", config, TrainConfig())
    run_files.write_tokens(source, run_dir / translate.SOURCE_VOCABULARY_FILE)
    run_files.write_tokens(target, run_dir / translate.TARGET_VOCABULARY_FILE)
    fileio.write_json(run_dir / translate.DECODING_FILE, {"max_output_length": 9})
    return get_task("translate").load_translator(run_dir), get_task("translate").load_model(run_dir)


@pytest.fixture(scope="module")
def subword_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("subwords")
    return (root, *make_subword_run(root / "run"))


def test_a_subword_run_saves_its_models_and_reads_them_back(subword_run):
    root, translator, _ = subword_run
    assert {path.name for path in (root / "run").iterdir()} >= set(translate.SUBWORD_FILES)
    assert all(isinstance(side, Subwords) for side in translator.tokens)
    source = Subwords.read(root / "run" / "source_subwords.model")
    assert source.model == translator.tokens[0].model
    # Each side's model is learned from that side's training texts, with the preset's 4,000 pieces at most.
    assert source.model == learn_subwords(SOURCES, 4000)
    assert translator.tokens[1].model == learn_subwords(TARGETS, 4000) != source.model


def test_a_subword_translation_never_holds_unknown(subword_run):
    _, translator, model = subword_run
    translations = translator.translate(TRANSLATED) + translator.translate(TRANSLATED, beam_size=3)
    assert all("[UNK]" not in text for text in translations)
    assert all(translations[:3])
    # The same network with a target side of characters may write [UNK], and here writes nothing else.
    unruled = Translator(model, translator.config, translator.source_lookup.get_vocabulary(),
                         translator.target_lookup.get_vocabulary(), 9, tokens=(translator.tokens[0], "characters"))
    assert all(text == "[UNK]" * 9 for text in unruled.translate(TRANSLATED[:2]))


@pytest.mark.integration
def test_a_new_process_translates_with_the_run_as_the_command_line_does(subword_run):
    """`kerasrnn translate` in a process of its own: it finds the tied embedding's layer class and the
    subword models from the run directory alone."""
    root, translator, _ = subword_run
    texts = TRANSLATED[:3]
    result = subprocess.run([sys.executable, str(REPO_ROOT / "cli.py"), "translate", str(root / "run"), *texts],
                            cwd=root, text=True, capture_output=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == [f"{text}\t{translation}" for text, translation in
                                          zip(texts, translator.translate(texts))]


@pytest.mark.integration
def test_the_export_tokenizes_inside_and_loads_with_tensorflow_text_alone(subword_run):
    root, translator, _ = subword_run
    exporting.export_run(task_of_run(root / "run"), root / "run", root / "export")
    request = {"path": str(root / "export"), "result": str(root / "result.json"), "imports": ["tensorflow_text"],
               "calls": [{"signature": "translate", "inputs": {"text": TRANSLATED}},
                         {"signature": "beam_search", "inputs": {"text": TRANSLATED, "beam_size": 3}}]}
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    checker = subprocess.run([sys.executable, "-I", str(REPO_ROOT / "tests" / "engine" / "export_check.py")],
                             cwd=root, input=json.dumps(request) + "\n", text=True, capture_output=True,
                             env=environment, timeout=300)
    assert checker.returncode == 0, checker.stderr[-3000:]
    greedy, beam = json.loads((root / "result.json").read_text("utf-8"))["outputs"]
    assert greedy["translation"] == translator.translate(TRANSLATED)
    assert beam["translation"] == translator.translate(TRANSLATED, beam_size=3)
    # Without tensorflow_text, TensorFlow does not know the tokenizer's op: what the export docs say.
    plain = subprocess.run([sys.executable, "-I", "-c", "import sys, tensorflow as tf\n"
                            "try:\n    tf.saved_model.load(sys.argv[1])\nexcept Exception as error:\n"
                            "    print(type(error).__name__, error)\nelse:\n    print('loaded')", str(root / "export")],
                           cwd=root, text=True, capture_output=True, env=environment, timeout=300)
    assert "Sentencepiece" in plain.stdout and "loaded" not in plain.stdout.split()[:1], plain.stdout[-2000:]
