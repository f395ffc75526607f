"""The translate task's data: tokens, vocabularies and teacher-forcing batches (the pairs
themselves: tests/data/test_sentence_pairs.py)."""

import collections

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


def test_cased_word_tokens_keep_the_case_and_accents_and_join_back_like_the_text():
    texts = ["Ich bin müde.", "Où est l'école ? „Hallo!“", "Tom's 20% (fast)."]
    tokens = translate_data.tokenize(tf.constant(texts), "cased-words")
    assert [[t.decode() for t in row] for row in tokens.to_list()] == [
        ["Ich", "bin", "müde", "."], ["Où", "est", "l'école", "?", "„", "Hallo", "!", "“"],
        ["Tom's", "20", "%", "(", "fast", ")", "."]]
    assert [t.decode() for t in translate_data.detokenize(tokens, "cased-words").numpy()] == [
        "Ich bin müde.", "Où est l'école? „Hallo! “", "Tom's 20% (fast)."]


def test_lower_cased_words_keep_letters_outside_ascii_whole():
    tokens = translate_data.tokenize(tf.constant(["Zéro, MÜDE"]), "words")
    assert [t.decode() for t in tokens.to_list()[0]] == ["zéro", ",", "müde"]


def test_pooled_batches_hold_similar_lengths_and_every_pair_once_per_pass():
    """32 pairs of lengths 1…8 (4 of each), batches of 4 from pools of 4 batches: the first pass
    over the pairs is in the first 8 batches but for those shuffled among the next pool's (4 at
    most), 16 batches hold every pair 1 to 3 times, and a batch's lengths span less than 0.4 times as much
    as in random batches: each pool of 16 sorted and cut in four."""
    sources = [" ".join(["w"] * length) + f" {index}" for length in range(1, 9) for index in range(4)]
    targets = [f"t{index}" for index in range(len(sources))]
    lookup = translate_data.make_source_lookup(["w", *map(str, range(4))])
    target_lookup = translate_data.make_target_lookup(targets)

    def passes(pool_batches):
        dataset = translate_data.make_dataset(lookup, target_lookup, sources, targets, "words", 4, 20, seed=1,
                                              pool_batches=pool_batches)
        batches = [((source != 0).numpy().sum(axis=1), decoder_targets[:, 0].numpy())
                   for (source, _), decoder_targets, _ in dataset.take(16)]
        return batches

    for pool_batches in (4, None):
        batches = passes(pool_batches)
        counts = collections.Counter(int(t) for _, ids in batches for t in ids)
        assert set(counts) <= set(range(4, 36)) and 1 <= min(counts.values()) and max(counts.values()) <= 3
        first_pass = {int(t) for _, ids in batches[:12] for t in ids}
        assert first_pass == set(range(4, 36))
    pooled, plain = ([int(lengths.max() - lengths.min()) for lengths, _ in passes(k)] for k in (4, None))
    assert max(pooled) <= 3 and max(plain) >= 5
    assert np.mean(pooled) < 0.4 * np.mean(plain)
