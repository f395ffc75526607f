"""`unit_traces`: the states, gates, surprise and guesses of a tiny random model over a text, read in
chunks with the state carried, against the model run over the whole text at once and the cells'
equations written out in NumPy; and the ranking against NumPy's correlation."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.analysis.text_features import text_features
from kerasrnn.analysis.unit_traces import (KINDS, RankedUnit, Trace, UnitTraces, cell_kinds, correlations,
                                           gru_gates, lstm_gates, rank_units, trace_text)
from kerasrnn.errors import UserInputError
from kerasrnn.tasks.charlm import data as char_data
from kerasrnn.tasks.charlm.carried_state import recurrent_layer
from kerasrnn.tasks.charlm.model import build_char_lm
from kerasrnn.tasks.charlm.task import CharLMConfig

TEXT = "def f(x):\n    return 'a' + z\n"
CHARACTERS = sorted(set(TEXT) - {"z"})  # "z" is read as [UNK]


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def random_model(cell, layers=2, residual=True, seed=0):
    config = CharLMConfig(cell=cell, units=8, layers=layers, residual=residual, dropout=0.0, embedding_dim=5,
                          carry_state=False)
    keras.utils.set_random_seed(seed)
    model = build_char_lm(config, len(CHARACTERS) + 2, seed=seed)
    rng = np.random.default_rng(seed)
    for weight in model.trainable_weights:  # asymmetric, away from the initialisation's symmetries
        weight.assign(rng.normal(0, 0.6, weight.shape).astype("float32"))
    return model, config


def whole_text_outputs(model, config):
    """Every layer's outputs and the logits, the text read in one call of the model."""
    lookup = char_data.make_char_lookup(CHARACTERS)
    ids = np.concatenate([[char_data.BOS_ID], char_data.encode(lookup, TEXT).numpy()])[None, :]
    names = [f"recurrent_{i}" for i in range(1, config.layers + 1)]
    probe = keras.Model(model.inputs, [model.get_layer(name).output for name in names] + [model.output])
    *outputs, logits = probe([ids])
    return ids[0], [np.asarray(o)[0] for o in outputs], np.asarray(logits)[0]


@pytest.mark.parametrize("cell", ["lstm", "gru", "vanilla", "urnn"])
@pytest.mark.parametrize("chunk", [3, 7, 64])
def test_a_text_read_in_chunks_gives_the_whole_reads_values(cell, chunk):
    model, config = random_model(cell)
    traces = trace_text(model, config, CHARACTERS, TEXT, chunk=chunk)
    ids, outputs, logits = whole_text_outputs(model, config)
    assert [(t.kind, t.layer) for t in traces.traces] == [(k, i) for i in (1, 2) for k in KINDS[type(
        recurrent_layer(model, 1).cell)]]
    for trace in traces.traces:
        assert trace.values.shape == (len(TEXT), 8)
        h = outputs[trace.layer - 1][1:]  # after each character ([BOS] dropped)
        if trace.kind == "hidden":
            np.testing.assert_allclose(trace.values, h, atol=1e-5)
        elif trace.kind == "modulus":
            np.testing.assert_allclose(trace.values, np.hypot(h[:, :8], h[:, 8:]), atol=1e-5)
        elif trace.kind == "phase":  # where modReLU gave 0 the phase means nothing
            some = np.hypot(h[:, :8], h[:, 8:]) > 1e-4
            np.testing.assert_allclose(np.exp(1j * trace.values)[some],
                                       np.exp(1j * np.arctan2(h[:, 8:], h[:, :8]))[some], atol=1e-3)
    log_p = np.asarray(tf.nn.log_softmax(logits.astype(np.float64)))
    np.testing.assert_allclose(traces.surprise, -log_p[np.arange(len(TEXT)), ids[1:]], rtol=1e-5, atol=1e-5)
    top = tf.math.top_k(log_p[1:], 5)
    np.testing.assert_array_equal(traces.top_ids, top.indices.numpy())
    np.testing.assert_allclose(traces.top_probabilities, np.exp(top.values.numpy()), rtol=1e-5, atol=1e-6)
    assert traces.tokens == ["[UNK]", "[BOS]", *CHARACTERS] and traces.text == TEXT and traces.cell == cell


def step_by_step(model, config, index):
    """The layer's input at each step and its cell's weights, for the NumPy references."""
    _, outputs, _ = whole_text_outputs(model, config)
    lookup = char_data.make_char_lookup(CHARACTERS)
    ids = np.concatenate([[char_data.BOS_ID], char_data.encode(lookup, TEXT).numpy()])
    x = np.asarray(model.get_layer("embedding")(ids))
    if index == 2:
        x = outputs[0]
    cell = recurrent_layer(model, index).cell
    return x, outputs[index - 1], cell, [np.asarray(w) for w in (cell.kernel, cell.recurrent_kernel, cell.bias)]


@pytest.mark.parametrize("index", [1, 2])
def test_the_lstm_gates_and_cell_state_are_its_equations(index):
    model, config = random_model("lstm")
    traces = {t.kind: t.values for t in trace_text(model, config, CHARACTERS, TEXT, chunk=7).traces
              if t.layer == index}
    x, outputs, cell, (kernel, recurrent, bias) = step_by_step(model, config, index)
    h, c = np.zeros(8), np.zeros(8)
    for t in range(len(x)):
        z = x[t] @ kernel + h @ recurrent + bias
        i, f, g, o = sigmoid(z[:8]), sigmoid(z[8:16]), np.tanh(z[16:24]), sigmoid(z[24:])
        c = f * c + i * g
        h = o * np.tanh(c)
        np.testing.assert_allclose(h, outputs[t], atol=1e-5)
        if t:  # step 0 reads [BOS]
            for kind, value in (("input gate", i), ("forget gate", f), ("output gate", o), ("cell", c)):
                np.testing.assert_allclose(traces[kind][t - 1], value, atol=1e-5, err_msg=kind)
    gates = lstm_gates(cell, np.asarray(cell.input_projection(x, training=False)),
                       np.concatenate([np.zeros((1, 8)), outputs[:-1]]), np.zeros(8))
    np.testing.assert_allclose(gates["recomputed hidden"], outputs, atol=1e-5)


@pytest.mark.parametrize("index", [1, 2])
def test_the_gru_gates_are_its_equations(index):
    model, config = random_model("gru")
    traces = {t.kind: t.values for t in trace_text(model, config, CHARACTERS, TEXT, chunk=7).traces
              if t.layer == index}
    x, outputs, cell, (kernel, recurrent, bias) = step_by_step(model, config, index)
    h = np.zeros(8)
    for t in range(len(x)):
        projected = x[t] @ kernel + bias
        z = sigmoid(projected[:8] + h @ recurrent[:, :8])
        r = sigmoid(projected[8:16] + h @ recurrent[:, 8:16])
        h = z * h + (1 - z) * np.tanh(projected[16:] + (r * h) @ recurrent[:, 16:])
        np.testing.assert_allclose(h, outputs[t], atol=1e-5)
        if t:
            np.testing.assert_allclose(traces["update gate"][t - 1], z, atol=1e-5)
            np.testing.assert_allclose(traces["reset gate"][t - 1], r, atol=1e-5)
    gates = gru_gates(cell, np.asarray(cell.input_projection(x, training=False)),
                      np.concatenate([np.zeros((1, 8)), outputs[:-1]]))
    np.testing.assert_allclose(gates["recomputed hidden"], outputs, atol=1e-5)


def test_characters_never_seen_are_read_as_unknown_and_named(caplog):
    model, config = random_model("vanilla", layers=1)
    traces = trace_text(model, config, CHARACTERS, TEXT + "zé")
    assert caplog.messages == ["3 characters of the text were never seen in training and are read as [UNK]: 'zé'"]
    assert traces.surprise.shape == (len(TEXT) + 2,)


def test_keras_own_cells_are_refused_in_one_line():
    config = CharLMConfig(cell="keras-gru", units=4, layers=1, embedding_dim=3, carry_state=False)
    model = build_char_lm(config, 6)
    with pytest.raises(UserInputError, match="layer 1 is a GRUCell: unit traces read the cells of kerasrnn"):
        cell_kinds(model, 1)
    model, config = random_model("gru", layers=1)
    with pytest.raises(UserInputError, match="no text to read"):
        trace_text(model, config, CHARACTERS, "")


def test_correlations_are_pearsons_and_zero_where_nothing_varies():
    rng = np.random.default_rng(3)
    feature = rng.normal(size=50)
    values = np.stack([rng.normal(size=50), feature * 2 + rng.normal(size=50) * 0.1, np.ones(50)], axis=1)
    r = correlations(values, feature)
    np.testing.assert_allclose(r[:2], [np.corrcoef(values[:, j], feature)[0, 1] for j in range(2)], atol=1e-12)
    assert r[2] == 0.0
    assert np.all(correlations(values, np.ones(50)) == 0.0)


def test_the_ranking_takes_the_best_units_of_every_kind_and_skips_flat_features():
    text = "ab(c)d" * 20
    features = text_features(text)
    depth = features["bracket_depth"]
    rng = np.random.default_rng(0)
    hidden = rng.normal(size=(len(text), 4)).astype(np.float32)
    hidden[:, 2] = -3 * depth  # r = -1
    gate = rng.normal(size=(len(text), 4)).astype(np.float32)
    gate[:, 1] = depth + 0.5 * rng.normal(size=len(text))
    traces = UnitTraces(text, "gru", [Trace("hidden", 1, hidden), Trace("update gate", 1, gate)],
                        np.zeros(len(text)), np.zeros((len(text), 5)), np.zeros((len(text), 5)), [])
    rows = rank_units(traces, {"bracket_depth": depth, "indentation": features["indentation"]}, per_feature=2)
    assert [(row.feature, row.kind, row.unit) for row in rows] == [
        ("bracket_depth", "hidden", 2), ("bracket_depth", "update gate", 1)]
    assert rows[0] == RankedUnit("bracket_depth", "hidden", 1, 2, pytest.approx(-1.0, abs=1e-6))
    assert rows[1].correlation == pytest.approx(np.corrcoef(gate[:, 1], depth)[0, 1], abs=1e-6)
