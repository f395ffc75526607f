"""Attention plots of a translator: the weights are the attention layer's own softmax over the
teacher-forced decoder outputs, the translation is the one `translate` finds, and the PNG shows the
tokens it should, at the size it should. Small untrained networks (no training needed for any of it)."""

import struct

import keras
import matplotlib.figure
import numpy as np
import pytest

from kerasrnn.analysis import attention_plot
from kerasrnn.analysis.attention_plot import Alignment, align, check_plot_path, numbered_paths, write_plot
from kerasrnn.errors import UserInputError
from kerasrnn.tasks.translate import data as translate_data
from tests.tasks.translate.test_translate_model import make_translator

TEXTS = ["abc", "eedcbaa", "b", "dda"]  # three lengths: the teacher-forced batch is padded


def ending_translator(**options):
    """`make_translator` with larger embeddings (recurrent outputs far from 0: attention far from
    uniform) and `[END]` likely enough that most translations end before the limit."""
    translator, model = make_translator(**options)
    for name in ("source_embedding", "target_embedding"):
        (weights,) = model.get_layer(name).get_weights()
        model.get_layer(name).set_weights([weights * 30])
    kernel, bias = model.get_layer("logits").get_weights()
    bias[translate_data.END_ID] = 0.8
    model.get_layer("logits").set_weights([kernel, bias])
    return translator, model


def softmax(scores):
    scores = scores - scores.max(axis=-1, keepdims=True)
    return np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)


def independent_weights(model, config, text_ids, target_ids):
    """One text's attention recomputed in NumPy from the training network's own decoder and encoder
    outputs (alone in its batch: no padding anywhere), by the score formulas of Keras's layers."""
    last = config.layers
    inner = keras.Model(model.inputs, [model.get_layer(f"decoder_{last}").output[0],
                                       model.get_layer(f"encoder_{last}").output[0]])
    inputs = np.array([[translate_data.START_ID, *target_ids[:-1]]], np.int32)
    queries, values = (np.asarray(x, np.float64)[0] for x in inner([np.array([text_ids], np.int32), inputs]))
    attention = model.get_layer("attention")
    if config.attention == "dot":
        scores = queries @ values.T
        if attention.use_scale:
            scores = scores * float(attention.scale.numpy())
    else:  # Bahdanau: Σ scale · tanh(q + k)
        scale = attention.scale.numpy() if attention.use_scale else 1.0
        scores = (scale * np.tanh(queries[:, None, :] + values[None, :, :])).sum(axis=-1)
    return softmax(scores), queries, values, inputs


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1")  # the network on a one-token text
@pytest.mark.parametrize("options", [dict(attention="dot"), dict(attention="additive", bidirectional=True),
                                     dict(attention="dot", layers=2, cell="gru")],
                         ids=["dot", "additive-bidirectional", "dot-2-layers"])
def test_the_weights_are_the_attention_layers_softmax_and_give_the_networks_logits(options):
    translator, model = ending_translator(**options)
    config = translator.config
    alignments = align(model, translator, TEXTS, beam_size=2)
    assert [a.source for a in alignments] == TEXTS
    for alignment in alignments:
        text_ids = [int(i) for i in translator.encode([alignment.source]).numpy()[0]]
        target_ids = [translate_data.END_ID if token == "[END]" else translator.target_lookup.get_vocabulary().index(token)
                      for token in alignment.target_tokens]
        expected, queries, values, inputs = independent_weights(model, config, text_ids, target_ids)
        assert alignment.weights.shape == (len(target_ids), len(text_ids))
        np.testing.assert_allclose(alignment.weights, expected, atol=1e-5)
        np.testing.assert_allclose(alignment.weights.sum(axis=1), 1.0, atol=1e-5)
        assert alignment.weights.min() >= 0.0
        # The weights are the ones the output uses: context = weights · encoder outputs, then the
        # network's own combine and logits layers, equal the training network's logits.
        context = alignment.weights @ values
        combined = model.get_layer("attention_combine")(np.concatenate([queries, context], -1)[None].astype(np.float32))
        np.testing.assert_allclose(model.get_layer("logits")(combined).numpy()[0],
                                   model([np.array([text_ids], np.int32), inputs]).numpy()[0], atol=1e-4)
    # Not a uniform spread (0 to 1e-7 apart), which the recomputation could not tell from others.
    assert max(float(np.ptp(a.weights)) for a in alignments) > 0.02


def test_the_translation_is_translates_with_an_end_row_unless_cut_at_the_longest():
    translator, model = ending_translator(attention="dot", layers=2, cell="gru")
    ended = []
    for beam_size in (1, 3):
        alignments = align(model, translator, TEXTS, beam_size=beam_size)
        assert [a.translation for a in alignments] == translator.translate(TEXTS, beam_size=beam_size)
        for alignment in alignments:
            assert alignment.source_tokens == tuple(alignment.source)
            ended.append(alignment.target_tokens[-1] == "[END]")
            if ended[-1]:
                assert "".join(alignment.target_tokens[:-1]) == alignment.translation  # character tokens
            else:  # cut off by the limit: every row is a token of the translation
                assert alignment.target_tokens == tuple(alignment.translation)
                assert len(alignment.translation) == translator.max_output_length
    assert any(ended) and not all(ended)  # both kinds were seen


def test_source_tokens_are_those_the_encoder_reads():
    translator, model = ending_translator(attention="dot")
    (alignment,) = align(model, translator, ["ab?c"])
    assert alignment.source_tokens == ("a", "b", "[UNK]", "c")
    assert alignment.weights.shape[1] == 4


def make_alignment(source_tokens=("the", "cat", " ", "sat"), target_tokens=("le", "chat", "[END]")):
    rng = np.random.default_rng(0)
    weights = rng.random((len(target_tokens), len(source_tokens))).astype(np.float32)
    return Alignment(source="the cat sat", translation="le chat", source_tokens=tuple(source_tokens),
                     target_tokens=tuple(target_tokens), weights=weights / weights.sum(axis=1, keepdims=True),
                     reference="le chat")


def png_size(path):
    """(width, height) in pixels, from the PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_plot_labels_each_token_and_is_saved_at_its_size(tmp_path, monkeypatch):
    seen = {}
    save = matplotlib.figure.Figure.savefig

    def recording_savefig(figure, *args, **kwargs):
        axis = figure.axes[0]
        seen.update(x=[label.get_text() for label in axis.get_xticklabels()],
                    y=[label.get_text() for label in axis.get_yticklabels()],
                    inches=tuple(figure.get_size_inches()), dpi=figure.dpi,
                    image=axis.images[0].get_array().data.copy(), limits=axis.images[0].get_clim(),
                    title=axis.get_title())
        return save(figure, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", recording_savefig)
    alignment = make_alignment()
    path = tmp_path / "plot.png"
    write_plot(alignment, path)
    assert seen["x"] == ["the", "cat", "␣", "sat"]
    assert seen["y"] == ["le", "chat", "[END]"]
    np.testing.assert_array_equal(seen["image"], alignment.weights)
    assert seen["limits"] == (0.0, 1.0)
    assert seen["title"] == "the cat sat → le chat   (reference: le chat)"
    assert seen["inches"] == pytest.approx(attention_plot.figure_inches(alignment))
    assert png_size(path) == tuple(round(inches * seen["dpi"]) for inches in seen["inches"])
    assert seen["dpi"] == attention_plot.DPI
    assert not list(tmp_path.glob(".*"))  # no temporary file left beside it


def test_a_longer_text_gets_a_larger_figure_within_bounds():
    small = attention_plot.figure_inches(make_alignment())
    large = attention_plot.figure_inches(make_alignment([f"w{i}" for i in range(40)], [f"v{i}" for i in range(30)]))
    assert large[0] > small[0] and large[1] > small[1]
    huge = attention_plot.figure_inches(make_alignment([f"w{i}" for i in range(1000)], ["x", "[END]"]))
    assert huge[0] == attention_plot.LARGEST_INCHES


def test_plot_paths(tmp_path):
    assert numbered_paths(tmp_path / "p.png", 1) == [tmp_path / "p.png"]
    assert numbered_paths(tmp_path / "p.png", 3) == [tmp_path / f"p-{n}.png" for n in (1, 2, 3)]
    assert check_plot_path(tmp_path / "P.PNG") == tmp_path / "P.PNG"
    for path, message in [(tmp_path / "p.jpg", "its name must end in .png"),
                          (tmp_path / "missing" / "p.png", "no such folder"),
                          (tmp_path, "its name must end in .png")]:
        with pytest.raises(UserInputError, match=message):
            check_plot_path(path)
    (tmp_path / "d.png").mkdir()
    with pytest.raises(UserInputError, match="is a folder"):
        check_plot_path(tmp_path / "d.png")


def test_a_plot_that_cannot_be_written_is_one_error_and_leaves_the_old_file(tmp_path, monkeypatch):
    from kerasrnn.fileio import reset_write_counts

    path = tmp_path / "plot.png"
    path.write_bytes(b"old")
    monkeypatch.setenv("KERASRNN_FAULT", "write:plot.png:1")
    monkeypatch.setenv("KERASRNN_FAULT_MODE", "enospc")
    reset_write_counts()
    with pytest.raises(UserInputError, match=f"cannot write {path}: no space left on device"):
        write_plot(make_alignment(), path)
    assert path.read_bytes() == b"old"

