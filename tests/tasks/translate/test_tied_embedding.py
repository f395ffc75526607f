"""`TiedEmbedding` and the translator with `tie_embeddings`: one matrix embeds the decoder's input
and scores its output, and decoding, saving and loading work as with two."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.errors import UserInputError
from kerasrnn.tasks.translate import TranslateConfig
from kerasrnn.tasks.translate import data as translate_data
from kerasrnn.tasks.translate.model import Translator, build_translator, output_logits
from kerasrnn.tasks.translate.tied_embedding import TiedEmbedding
from tests.tasks.translate.test_translate_model import log_probability


def test_the_layer_embeds_with_its_rows_and_scores_with_their_dot_products():
    layer = TiedEmbedding(7, 3)
    ids = np.array([[1, 6, 0]], np.int32)
    layer(ids)
    matrix = np.arange(21, dtype=np.float32).reshape(7, 3) / 10
    bias = np.linspace(-1, 1, 7).astype(np.float32)
    layer.set_weights([matrix, bias])
    np.testing.assert_allclose(layer(ids).numpy(), matrix[[[1, 6, 0]]])
    features = np.random.default_rng(0).normal(size=(2, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(layer(features, reverse=True).numpy(), features @ matrix.T + bias, rtol=1e-5)
    again = TiedEmbedding.from_config(layer.get_config())
    assert (again.input_dim, again.output_dim) == (7, 3)


def make_tied(attention="dot", units=8):
    config = TranslateConfig(cell="gru", units=units, embedding_dim=6, attention=attention, tie_embeddings=True)
    source = translate_data.make_source_lookup(list("abcde")).get_vocabulary()
    target = translate_data.make_target_lookup(list("xyz")).get_vocabulary()
    keras.utils.set_random_seed(4)
    model = build_translator(config, len(source), len(target), seed=4)
    embedding = model.get_layer("target_embedding")
    matrix, bias = embedding.get_weights()
    embedding.set_weights([matrix * 40, np.linspace(-1, 1, bias.size).astype(np.float32)])  # varied outputs
    return config, model, Translator(model, config, source, target, 6)


def test_a_tied_translator_scores_with_its_embedding_and_has_no_output_layer():
    config, model, _ = make_tied()
    assert "logits" not in [layer.name for layer in model.layers]
    untied = build_translator(TranslateConfig(cell="gru", units=8, embedding_dim=6), 7, 7, seed=4)
    # The output layer's 8 × 7 kernel and 7 biases are gone; the combine layer is 6 wide, not 8.
    assert untied.count_params() - model.count_params() == (8 * 7 + 7) - 7 + (16 * 2 + 2)
    source, inputs = np.array([[2, 3, 4]], np.int32), np.array([[2, 4, 5, 6]], np.int32)
    combined = keras.Model(model.inputs, model.get_layer("attention_combine").output)([source, inputs]).numpy()
    matrix, bias = model.get_layer("target_embedding").get_weights()
    np.testing.assert_allclose(model([source, inputs]).numpy(), combined @ matrix.T + bias, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(output_logits(model, combined).numpy(), combined @ matrix.T + bias, rtol=1e-4,
                               atol=1e-5)


@pytest.mark.parametrize("attention", ["dot", "none"])
def test_greedy_decoding_of_a_tied_translator_equals_the_network(attention):
    config, model, translator = make_tied(attention, units=6 if attention == "none" else 8)
    ids, scores = translator.search_ids(translator.encode(["abc", "ed"]), tf.constant(1), tf.constant(6))
    for row, text in enumerate(["abc", "ed"]):
        source = translator.encode([text]).numpy()
        tokens = []
        for _ in range(6):
            logits = model([source, np.array([[translate_data.START_ID, *tokens]], np.int32)])[0, -1].numpy()
            logits[[translate_data.PAD_ID, translate_data.START_ID]] = -np.inf
            tokens.append(int(logits.argmax()))
            if tokens[-1] == translate_data.END_ID:
                break
        np.testing.assert_array_equal(ids[row, :len(tokens)], tokens)
        np.testing.assert_allclose(scores[row], log_probability(model, source, tokens), atol=1e-4)


def test_a_saved_tied_translator_loads_with_the_same_outputs(tmp_path):
    _, model, _ = make_tied()
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras", compile=False)
    source, inputs = np.array([[2, 3, 4]], np.int32), np.array([[2, 4, 5]], np.int32)
    np.testing.assert_array_equal(loaded([source, inputs]).numpy(), model([source, inputs]).numpy())


def test_tying_without_attention_needs_units_equal_to_the_embedding():
    with pytest.raises(UserInputError, match="need --units equal to --embedding-dim"):
        TranslateConfig(cell="gru", units=8, embedding_dim=6, attention="none", tie_embeddings=True)
    with pytest.raises(UserInputError, match="tie embeddings must be True or False"):
        TranslateConfig(tie_embeddings="yes")
