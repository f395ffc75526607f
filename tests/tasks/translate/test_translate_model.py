"""The encoder-decoder: masks reach every recurrent call, and one-step decoding with carried state
(greedy and beam search) matches the teacher-forced network and a brute-force search."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.recurrent import CELL_NAMES
from kerasrnn.tasks.translate import data as translate_data
from kerasrnn.tasks.translate import TranslateConfig
from kerasrnn.tasks.translate.model import Translator, build_translator

SOURCE_TOKENS = list("abcde")
TARGET_TOKENS = list("xyz")


def make_translator(cell="lstm", attention="dot", layers=1, units=8, max_output_length=6, seed=3,
                    bidirectional=False):
    config = TranslateConfig(cell=cell, units=units, layers=layers, attention=attention, embedding_dim=6,
                             bidirectional=bidirectional)
    source = translate_data.make_source_lookup(SOURCE_TOKENS).get_vocabulary()
    target = translate_data.make_target_lookup(TARGET_TOKENS).get_vocabulary()
    keras.utils.set_random_seed(seed)
    model = build_translator(config, len(source), len(target), seed=seed)
    # Larger output weights than the initialiser's: sharper, more varied distributions to decode.
    kernel, bias = model.get_layer("logits").get_weights()
    model.get_layer("logits").set_weights([kernel * 4, np.linspace(-1, 1, bias.size).astype(np.float32)])
    return Translator(model, config, source, target, max_output_length), model


def log_probability(model, source_ids, tokens):
    """log p(tokens | source) by teacher forcing the whole sequence through the training network."""
    inputs = np.array([[translate_data.START_ID, *tokens[:-1]]], np.int32)
    logits = model([source_ids, inputs], training=False)
    log_p = tf.nn.log_softmax(logits)[0].numpy()
    return float(sum(log_p[t, token] for t, token in enumerate(tokens)))


def batched_log_probabilities(model, source_ids, sequences):
    """`log_probability` of many token sequences of one length, in one call of the network."""
    tokens = np.array(sequences, np.int32)
    inputs = np.concatenate([np.full((len(tokens), 1), translate_data.START_ID), tokens[:, :-1]], axis=1)
    logits = model([np.repeat(source_ids, len(tokens), axis=0), inputs.astype(np.int32)], training=False)
    log_p = tf.nn.log_softmax(logits).numpy()
    return np.take_along_axis(log_p, tokens[:, :, None], axis=2)[:, :, 0].sum(axis=1)


@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("attention", ["dot", "none"])
def test_padding_changes_nothing(cell, attention):
    """Extra padding on either side leaves the logits of the real steps unchanged: the masks reach
    the encoder, the decoder (which also gets `initial_state`) and the attention."""
    _, model = make_translator(cell, attention, layers=2 if cell == "lstm" else 1)
    source = np.array([[2, 3, 4, 5]], np.int32)
    decoder_inputs = np.array([[2, 4, 5]], np.int32)
    reference = model([source, decoder_inputs]).numpy()
    padded = model([np.pad(source, [[0, 0], [0, 3]]), np.pad(decoder_inputs, [[0, 0], [0, 2]])]).numpy()
    np.testing.assert_allclose(padded[:, :3], reference, atol=1e-5)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_greedy_decoding_equals_rerunning_the_network_on_each_prefix(cell):
    translator, model = make_translator(cell, "dot", layers=2 if cell == "gru" else 1)
    texts = ["abc", "eda", "b"]
    ids, scores = translator.search_ids(translator.encode(texts), tf.constant(1), tf.constant(6))
    for row, text in enumerate(texts):
        source = translator.encode([text]).numpy()
        tokens = []
        for _ in range(6):
            inputs = np.array([[translate_data.START_ID, *tokens]], np.int32)
            logits = model([source, inputs])[0, -1].numpy()
            logits[[translate_data.PAD_ID, translate_data.START_ID]] = -np.inf
            tokens.append(int(logits.argmax()))
            if tokens[-1] == translate_data.END_ID:
                break
        np.testing.assert_array_equal(ids[row, :len(tokens)], tokens)
        assert not ids[row, len(tokens):].numpy().any()
        np.testing.assert_allclose(scores[row], log_probability(model, source, tokens), atol=1e-4)


@pytest.mark.parametrize("cell", ["lstm", "gru", "keras-lstm", "urnn"])
def test_a_bidirectional_encoder_ignores_padding_and_decodes_like_the_network(cell):
    """Both directions get the mask (the backward one must start at the last real token, not in the
    padding), and greedy decoding with the encoder split off equals the teacher-forced network."""
    translator, model = make_translator(cell, "dot", layers=2 if cell == "lstm" else 1, bidirectional=True)
    source = np.array([[2, 3, 4, 5]], np.int32)
    decoder_inputs = np.array([[2, 4, 5]], np.int32)
    reference = model([source, decoder_inputs]).numpy()
    padded = model([np.pad(source, [[0, 0], [0, 3]]), np.pad(decoder_inputs, [[0, 0], [0, 2]])]).numpy()
    np.testing.assert_allclose(padded[:, :3], reference, atol=1e-5)
    ids, scores = translator.search_ids(translator.encode(["abcd"]), tf.constant(1), tf.constant(6))
    tokens = [int(t) for t in ids[0].numpy() if t]
    np.testing.assert_allclose(scores[0], log_probability(model, translator.encode(["abcd"]).numpy(), tokens),
                               atol=1e-4)


def test_a_bidirectional_state_is_the_forward_then_the_backward_final_state():
    """Each decoder state is [forward final state; backward final state] of units / 2 each: here
    recomputed with one-way layers holding the two directions' weights, one reading the reversed
    source."""
    translator, model = make_translator("keras-gru", "none", units=8, bidirectional=True)
    encoder = model.get_layer("encoder_1")
    assert encoder.forward_layer.units == encoder.backward_layer.units == 4
    source = np.array([[2, 3, 4, 5, 0]], np.int32)  # four tokens and padding
    outputs, state = translator.encoder(source)
    embedded = model.get_layer("source_embedding")(source[:, :4])
    directions = []
    for layer, inputs in ((encoder.forward_layer, embedded), (encoder.backward_layer, embedded[:, ::-1])):
        one_way = keras.layers.GRU(4, return_state=True)
        one_way(inputs)
        one_way.set_weights(layer.get_weights())
        directions.append(one_way(inputs)[1].numpy())
    np.testing.assert_allclose(state.numpy(), np.concatenate(directions, axis=-1), atol=1e-5)
    assert outputs.shape == (1, 5, 8)


def brute_force_best(model, source, length_limit):
    """The best of every finished sequence of at most `length_limit` tokens (`[END]` last), by mean
    log-probability per token, found by scoring them all: `(mean, sum, tokens)`."""
    allowed = [translate_data.UNK_ID, translate_data.END_ID, 4, 5, 6]
    candidates = []
    for length in range(1, length_limit + 1):
        sequences = [tokens + (translate_data.END_ID,) for tokens in itertools.product(
            [t for t in allowed if t != translate_data.END_ID], repeat=length - 1)]
        sums = batched_log_probabilities(model, source, sequences)
        candidates += [(total / length, total, tokens) for total, tokens in zip(sums, sequences)]
    return max(candidates)


@pytest.mark.parametrize("cell", ["lstm", "urnn"])
def test_a_wide_beam_finds_the_best_translation(cell):
    """With beams as many as the allowed prefixes, beam search is exhaustive: it must return the
    best (by mean log-probability per token) of every finished sequence of at most 3 tokens, found
    here by brute force."""
    translator, model = make_translator(cell, "additive", max_output_length=3, seed=5)
    for text in ["abcd", "e"]:
        source = translator.encode([text]).numpy()
        best_mean, best_sum, best = brute_force_best(model, source, 3)
        ids, scores = translator.search_ids(tf.constant(source), tf.constant(25), tf.constant(3))
        assert tuple(t for t in ids[0].numpy() if t) == best
        np.testing.assert_allclose(scores[0], best_sum, atol=1e-4)


def test_the_empty_translation_does_not_win_a_wide_beam():
    """The plain sum of log-probabilities favours stopping at once (every token lowers it): here
    `[END]` first has the best sum of all sequences, yet it is not the best per token, and neither a
    beam of 1 nor an exhaustive one returns it."""
    translator, model = make_translator("gru", "dot", max_output_length=3, seed=0)
    source = translator.encode(["abc"]).numpy()
    end_first = float(batched_log_probabilities(model, source, [(translate_data.END_ID,)])[0])
    best_mean, best_sum, best = brute_force_best(model, source, 3)
    longer = [(total, tokens) for _, total, tokens in [brute_force_best(model, source, n) for n in (2, 3)]]
    assert end_first > max(total for total, _ in longer)  # the sum alone would pick the empty output
    assert best != (translate_data.END_ID,) and best_mean > end_first
    for beam_size in (1, 125, 10**6):
        ids, scores = translator.search_ids(tf.constant(source), tf.constant(beam_size), tf.constant(3))
        assert ids[0, 0].numpy() != translate_data.END_ID
    assert tuple(t for t in ids[0].numpy() if t) == best


def test_a_beam_wider_than_can_exist_is_the_exhaustive_search_at_no_extra_cost():
    """5 producible tokens and at most 3 of them: 5³ = 125 hypotheses can ever exist. A beam of a
    million returns the same ids and scores as one of 125, in about the same time."""
    import time

    translator, _ = make_translator("lstm", "dot", max_output_length=3, seed=2)
    assert translator.target_vocabulary_size == 7 and translator.widest_useful_beam() == 5 ** 3
    source = translator.encode(["abcd", "e", "edcba"])
    widest = translator.search(source, tf.constant(125), tf.constant(3))
    started = time.monotonic()
    huge = translator.search(source, tf.constant(10**6), tf.constant(3))
    assert time.monotonic() - started < 5.0
    np.testing.assert_array_equal(huge[0], widest[0])
    np.testing.assert_allclose(huge[1], widest[1], atol=1e-6)
    assert translator.beam_width(10**6, 5) == 125


def test_beam_search_scores_are_the_translations_log_probabilities():
    translator, model = make_translator("gru", "dot")
    texts = ["abc", "dd", "eeeab"]
    ids, scores = translator.search_ids(translator.encode(texts), tf.constant(3), tf.constant(6))
    for row, text in enumerate(texts):
        tokens = [int(t) for t in ids[row].numpy() if t]
        np.testing.assert_allclose(scores[row], log_probability(model, translator.encode([text]).numpy(), tokens),
                                   atol=1e-4)


def test_texts_stop_at_the_end_symbol():
    translator, _ = make_translator()
    ids = np.array([[4, 5, 3, 6, 0], [6, 6, 6, 6, 6], [3, 4, 0, 0, 0]], np.int32)
    assert translator.ids_to_texts(ids).numpy().tolist() == [b"xy", b"zzzzz", b""]


def test_the_work_of_one_search_is_bounded(caplog):
    """5 producible tokens and 20 at most: 5²⁰ hypotheses could exist, but a search may take at most
    a million decoder steps, so 50,000 hypotheses of 20 tokens; a wider beam is narrowed, with a warning."""
    translator, _ = make_translator("gru", "dot", max_output_length=20)
    assert translator.widest_useful_beam() == 5 ** 20
    assert translator.beam_width(50_000, 5) == 50_000 and "Warning" not in caplog.text
    assert translator.beam_width(10 ** 9, 5) == 50_000
    assert ("Warning: a beam of 1,000,000,000 would take up to 20,000,000,000 decoder steps per text (20 tokens at "
            "most), more than the 1,000,000 a search may: searching with a beam of 50,000 instead") in caplog.text
