"""The translate task's data: pairs files, the split by source, tokens and teacher-forcing batches."""

import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.errors import UserInputError
from kerasrnn.tasks import translate_data


@pytest.mark.parametrize("pair, expected", [("en-fr", ("en", "fr")), ("digits-de", ("digits", "de")),
                                            ("it-es", ("it", "es"))])
def test_pairs_name_two_fields(pair, expected):
    assert translate_data.parse_pair(pair) == expected


@pytest.mark.parametrize("pair", ["en", "en-xx", "fr-fr", "en-fr-de", "", "EN-FR"])
def test_unknown_pairs_are_refused_in_one_line(pair):
    with pytest.raises(UserInputError, match="unknown language pair .* digits, en, fr, de, es, it"):
        translate_data.parse_pair(pair)


def write(path, text):
    path.write_text(text, "utf-8")
    return path


def test_a_pairs_file_in_the_lstm_seq2seq_format(tmp_path):
    path = write(tmp_path / "fra.txt", "Go.\tVa !\tCC-BY 2.0 (France) Attribution\n\nHi.\tSalut !\tCC-BY\n")
    assert translate_data.read_pairs_file(path) == [("Go.", "Va !"), ("Hi.", "Salut !")]


@pytest.mark.parametrize("text, message", [
    ("", "has no pairs"),
    ("\n \n", "has no pairs"),
    ("Go.\tVa !\nHi.\n", "line 2 has no tab"),
    ("Go.\tVa !\tCC\nHi.\tSalut !\n", "line 2 has 2 tab-separated columns, the first line 3"),
    ("Go.\tVa !\n\tSalut !\n", "line 2 has an empty source"),
    ("Go.\t \n", "line 1 has an empty target"),
])
def test_bad_pairs_files_are_refused_in_one_line(tmp_path, text, message):
    with pytest.raises(UserInputError, match=message):
        translate_data.read_pairs_file(write(tmp_path / "pairs.txt", text))


def test_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_bytes(b"caf\xe9\tcaf\xe9\n")
    with pytest.raises(UserInputError, match="not UTF-8"):
        translate_data.read_pairs_file(path)


def test_missing_data_is_refused(tmp_path):
    with pytest.raises(UserInputError, match="no pairs file"):
        translate_data.load_pairs(str(tmp_path / "absent.txt"), "en-fr")


def test_the_split_keeps_every_translation_of_a_source_together():
    pairs = [(f"sentence {i % 300}", f"phrase {i}") for i in range(1200)]
    splits = translate_data.split_by_source(pairs)
    seen = {}
    for split, (sources, _) in splits.items():
        for source in sources:
            assert seen.setdefault(source, split) == split
    sizes = {split: len(sources) for split, (sources, _) in splits.items()}
    assert sum(sizes.values()) == 1200
    assert 0.7 < sizes["train"] / 1200 < 0.9  # 80 % expected, by hash
    assert splits == translate_data.split_by_source(pairs)  # no seed, no randomness


def test_too_few_pairs_to_split():
    with pytest.raises(UserInputError, match="too few to split"):
        translate_data.split_by_source([("a", "b")])


def test_word_tokens_split_punctuation_and_lower_case():
    tokens = translate_data.tokenize(tf.constant(["Va, l'ami !", "Vingt-DEUX"]), "words")
    assert tokens.to_list() == [[b"va", b",", b"l'ami", b"!"], [b"vingt-deux"]]
    assert translate_data.detokenize(tokens, "words").numpy().tolist() == [b"va , l'ami !", b"vingt-deux"]


def test_character_tokens_keep_the_text():
    tokens = translate_data.tokenize(tf.constant(["Ça va"]), "characters")
    assert [t.decode() for t in tokens.to_list()[0]] == ["Ç", "a", " ", "v", "a"]
    assert translate_data.detokenize(tokens, "characters").numpy()[0].decode() == "Ça va"


def test_teacher_forcing_ids_by_hand():
    source_lookup = translate_data.make_source_lookup(["a", "b"])
    target_lookup = translate_data.make_target_lookup(["x", "y"])
    assert target_lookup.get_vocabulary() == ["", "[UNK]", "[START]", "[END]", "x", "y"]
    (source, decoder_inputs), targets, weights = translate_data.teacher_forcing_batch(
        source_lookup, target_lookup, tf.constant(["ab", "bza"]), tf.constant(["yx", "y"]), "characters", 10)
    np.testing.assert_array_equal(source, [[2, 3, 0], [3, 1, 2]])  # z unknown → 1, padding 0
    np.testing.assert_array_equal(decoder_inputs, [[2, 5, 4], [2, 5, 0]])  # [START] y x
    np.testing.assert_array_equal(targets, [[5, 4, 3], [5, 3, 0]])  # y x [END]
    np.testing.assert_array_equal(weights, [[1, 1, 1], [1, 1, 0]])


def test_texts_are_cut_to_max_length_before_end():
    lookup = translate_data.make_target_lookup(["x"])
    (source, decoder_inputs), targets, _ = translate_data.teacher_forcing_batch(
        translate_data.make_source_lookup(["x"]), lookup, tf.constant(["xxxxx"]), tf.constant(["xxxxx"]),
        "characters", 3)
    assert source.shape == (1, 3)
    np.testing.assert_array_equal(targets, [[4, 4, 4, 3]])


def test_vocabulary_is_most_frequent_first_and_capped():
    assert translate_data.vocabulary_tokens(["b a b", "c b a"], "words", 2) == ["b", "a"]
    assert translate_data.vocabulary_tokens(["ba"], "characters", None) == ["a", "b"]
