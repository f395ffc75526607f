"""An export written on a machine with a GPU holds no cuDNN op (`CudnnRNN*` has no CPU kernel).

There is no GPU here: TensorFlow's Keras backend is told one is visible (`_is_gpu_available`), so
every LSTM and GRU that may take cuDNN traces `CudnnRNNV3` into its graph, as on a GPU. The exports
must not; the same export with `exporting.without_cudnn` left out does, which shows the patch
reaches the tracing.
"""

import importlib

import keras
import pytest
from tensorflow.core.protobuf import saved_model_pb2

from kerasrnn.engine import exporting
from kerasrnn.layers import TextbookLSTM
from kerasrnn.tasks import task_of_run
from tests.engine.test_export import make_char_lm_run, make_classify_run, make_translate_run

pytestmark = pytest.mark.integration  # exports: seconds each

if keras.backend.backend() != "tensorflow":
    pytest.skip("SavedModel export runs on the TensorFlow backend", allow_module_level=True)

# The module, not the `rnn` function that its package exports under the same name.
tf_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")


def op_types(export_dir):
    """Every op type in a SavedModel: its graph and all the functions of its library."""
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((export_dir / exporting.SAVED_MODEL_FILE).read_bytes())
    types = set()
    for graph in (meta.graph_def for meta in saved_model.meta_graphs):
        types |= {node.op for node in graph.node}
        for function in graph.library.function:
            types |= {node.op for node in function.node_def}
    return types


def cudnn_ops(export_dir):
    return {op for op in op_types(export_dir) if op.startswith("Cudnn")}


@pytest.fixture
def gpu_visible(monkeypatch):
    monkeypatch.setattr(tf_rnn, "_is_gpu_available", lambda: True)


# (task, cell): the character LM of each cell that has cuDNN; the classifier's bidirectional LSTM
# over a mask; the translator's stacked LSTMs with states passed from encoder to decoder.
EXPORTS = [("char_lm", "lstm"), ("char_lm", "keras-lstm"), ("char_lm", "keras-gru"), ("classify", "lstm"),
           ("translate", "lstm")]
MAKE_RUN = {"char_lm": make_char_lm_run, "classify": make_classify_run, "translate": make_translate_run}


@pytest.mark.parametrize("task, cell", EXPORTS, ids=[f"{task}-{cell}" for task, cell in EXPORTS])
def test_an_export_traced_where_a_gpu_is_visible_has_no_cudnn_op(tmp_path, gpu_visible, task, cell):
    run_dir = tmp_path / "run"
    MAKE_RUN[task](run_dir, cell)
    exporting.export_run(task_of_run(run_dir), run_dir, tmp_path / "export")
    assert "MatMul" in op_types(tmp_path / "export")  # the network is in the graph
    assert cudnn_ops(tmp_path / "export") == set()


def test_without_the_switch_the_export_would_hold_cudnn(tmp_path, gpu_visible, monkeypatch):
    """The check above can fail: the same export, cuDNN left on, traces CudnnRNNV3."""
    run_dir = tmp_path / "run"
    make_char_lm_run(run_dir, "lstm", layers=1)
    monkeypatch.setattr(exporting, "without_cudnn", lambda model: model)
    exporting.export_run(task_of_run(run_dir), run_dir, tmp_path / "export")
    assert cudnn_ops(tmp_path / "export") == {"CudnnRNNV3"}


def test_without_cudnn_reaches_the_layers_inside_wrappers():
    inputs = keras.Input((None, 3))
    inner = TextbookLSTM(4, return_sequences=True, name="inner")
    x = keras.layers.Bidirectional(inner, name="both")(inputs)
    x = keras.layers.LSTM(4, return_sequences=True, name="keras_lstm")(x)
    x = keras.layers.GRU(4, name="keras_gru")(x)
    model = keras.Model(inputs, x)
    nested = keras.Model(inputs, model(inputs))
    exporting.without_cudnn(nested)
    both = model.get_layer("both")
    layers = [both.forward_layer, both.backward_layer, model.get_layer("keras_lstm"), model.get_layer("keras_gru")]
    assert [layer.use_cudnn for layer in layers] == [False] * 4
