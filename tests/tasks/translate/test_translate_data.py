"""The translate task's data: tokens, vocabularies and teacher-forcing batches (the pairs
themselves: tests/data/test_sentence_pairs.py)."""

import numpy as np
import tensorflow as tf

from kerasrnn.tasks.translate import data as translate_data


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
