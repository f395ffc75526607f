"""‖∂L/∂h_t‖ per step: exact values, the published picture (flat uRNN, decaying tanh RNN), the files."""

import csv

import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.analysis import gradients
from kerasrnn.analysis.gradients import GradientNormConfig, compute_gradient_norms
from kerasrnn.errors import UserInputError
from kerasrnn.tasks import get_task


@pytest.fixture(scope="module")
def at_initialisation():
    """The paper's setting at initialisation: adding, T = 1000, 128 units, float64 (a small batch)."""
    config = GradientNormConfig(length=1000, cells=("vanilla", "urnn"), batch_size=4, after_steps=0)
    return compute_gradient_norms(config)


def test_the_urnn_curve_is_flat_at_initialisation(at_initialisation):
    norms = at_initialisation.norms[("urnn", 0)]
    assert norms.shape == (1000,) and np.all(norms > 0)
    assert norms.max() / norms.min() < 1.01  # the bar; it is 1 to about 1e-12
    assert norms.max() / norms.min() < 1 + 1e-9  # with b = 0 each step is an exact isometry


def test_the_tanh_rnn_decays_exponentially_at_initialisation(at_initialisation):
    norms = at_initialisation.norms[("vanilla", 0)]
    assert np.all(norms > 0)  # float64: no underflow to zero
    assert norms[0] / norms[-1] < 1e-12  # over 1000 steps it loses more than 12 decades
    # A straight line on the log axis: the same rate in the first and the last hundred steps.
    early, late = np.log10(norms[100] / norms[0]), np.log10(norms[-1] / norms[-101])
    assert 1.0 < late < 3.0 and early == pytest.approx(late, rel=0.3)
    assert np.all(np.diff(np.log10(norms[:-1])) > 0)  # falls at every step back from T


def test_the_lecture_bound_holds_and_is_loose(at_initialisation):
    norms = at_initialisation.norms[("vanilla", 0)]
    bound = at_initialisation.bounds[("vanilla", 0)]
    assert np.all(norms <= bound * (1 + 1e-9))
    assert bound[-1] == pytest.approx(norms[-1], rel=1e-9)  # equal at t = T
    assert bound[0] / norms[0] > 1e10  # ∏‖D_s‖‖W_h‖ ≈ 1 at an orthogonal init: the decay is in D_s W_h
    assert ("urnn", 0) not in at_initialisation.bounds


def test_lstm_and_gru_decay_fastest_at_initialisation():
    result = compute_gradient_norms(
        GradientNormConfig(length=200, cells=("vanilla", "gru", "lstm"), units=32, batch_size=4,
                           after_steps=0)
    )
    rates = {cell: result.decades_per_100_steps(cell) for cell in ("vanilla", "gru", "lstm")}
    assert rates["lstm"] > 2 * rates["vanilla"] and rates["gru"] > 2 * rates["vanilla"]


def _eager_norms(model, task, inputs, targets):
    """A second exact method: step the cell eagerly and watch every state tensor on one tape (the
    readout and the loss are the task's, as in the measurement)."""
    layer, readout = model.get_layer("recurrent"), model.get_layer("readout")
    states = layer.get_initial_state(inputs.shape[0])
    states = [tf.convert_to_tensor(s) for s in (states if isinstance(states, list) else [states])]
    kept, outputs = [], []
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        for t in range(inputs.shape[1]):
            _, states = layer.cell(tf.constant(inputs[:, t]), states)
            # Copies, so that the state is the pair (h_t, c_t) of independent variables that the
            # next step reads: without them ∂L/∂c_t would also count the path c_t → h_t = o tanh(c_t).
            states = [tf.identity(s) for s in (states if isinstance(states, (list, tuple)) else [states])]
            tape.watch(states)
            kept.append(states)
            outputs.append(states[0])  # the output is the first state
        loss = task.loss()(targets, task.readout(readout, tf.stack(outputs, 0)))  # time-major
    grads = tape.gradient(loss, kept, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return np.array([np.sqrt(sum(float(tf.reduce_sum(g * g)) for g in step)) for step in grads])


@pytest.mark.parametrize("task_name", ["adding", "copy"])
@pytest.mark.parametrize("cell", ["vanilla", "gru", "lstm", "urnn", "keras-lstm"])
def test_one_backward_pass_equals_watching_every_state(task_name, cell):
    task = get_task(task_name)
    config = task.config_class(cell=cell, units=6, length=12)
    with gradients.float64_layers():
        model = task.build_model(config, None, seed=1)
    assert model.get_layer("readout").kernel.dtype == "float64"
    inputs, targets = task.make_batch(np.random.default_rng(2), 3, 12, dtype="float64")
    assert inputs.shape == (3, task.sequence_steps(12), task.input_features)
    norms, bound = gradients.state_gradient_norms(model, task, inputs, targets)
    np.testing.assert_allclose(norms, _eager_norms(model, task, inputs, targets), rtol=1e-10)
    assert (bound is not None) == (cell == "vanilla")
    if bound is not None:
        assert np.all(norms <= bound * (1 + 1e-9))


def test_copy_curves_cover_every_step_of_the_sequence():
    result = compute_gradient_norms(GradientNormConfig(task="copy", length=5, cells=("urnn",), units=4,
                                                       batch_size=2, after_steps=0))
    np.testing.assert_array_equal(result.steps, np.arange(1, 26))  # T + 20 steps
    assert result.norms[("urnn", 0)].shape == (25,) and np.all(result.norms[("urnn", 0)] > 0)


def test_training_steps_change_the_curves_and_files_are_written(tmp_path):
    config = GradientNormConfig(length=30, cells=("vanilla", "urnn"), units=8, batch_size=4, after_steps=3)
    result = compute_gradient_norms(config)
    assert result.stages == (0, 3)
    assert not np.allclose(result.norms[("urnn", 0)], result.norms[("urnn", 3)])
    out = tmp_path / "grads.png"
    gradients.write_csv(result, out.with_suffix(".csv"))
    gradients.plot_gradient_norms(result, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with out.with_suffix(".csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 30 and rows[0]["t"] == "1" and rows[-1]["t"] == "30"
    assert set(rows[0]) == {"t", "vanilla_step0", "vanilla_bound_step0", "urnn_step0", "vanilla_step3",
                            "vanilla_bound_step3", "urnn_step3"}
    assert float(rows[5]["urnn_step3"]) == pytest.approx(result.norms[("urnn", 3)][5], rel=1e-6)
    assert "urnn" in gradients.summary(result)


def test_norms_do_not_underflow_when_squared():
    tiny = np.full((3, 4), 1e-200)
    assert gradients.scaled_norm(tiny) == pytest.approx(1e-200 * np.sqrt(12))
    assert gradients.scaled_norm(np.zeros(3)) == 0.0


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"task": "charlm"}, "runs on adding or copy, not 'charlm'"),
        ({"cells": ("vanilla", "rnn")}, "unknown cell 'rnn'"),
        ({"cells": ()}, "no cells given"),
        ({"cells": ("urnn", "urnn")}, "named twice"),
        ({"length": 0}, "length must be an integer of at least 2"),
        ({"task": "copy", "length": 0}, "length must be an integer of at least 1"),
        ({"units": True}, "units must be an integer of at least 1, got True"),
        ({"after_steps": -1}, "after steps must be an integer of at least 0"),
    ],
)
def test_bad_settings(arguments, message):
    with pytest.raises(UserInputError, match=message):
        GradientNormConfig(**arguments)


def test_bad_output_paths(tmp_path):
    for path, message in ((tmp_path / "g.jpg", "must name a .png"),
                          (tmp_path / "no" / "g.png", "does not exist")):
        with pytest.raises(UserInputError, match=message):
            gradients.check_output_path(path)
    (tmp_path / "d.png").mkdir()
    with pytest.raises(UserInputError, match="is a folder"):
        gradients.check_output_path(tmp_path / "d.png")
    assert gradients.check_output_path(tmp_path / "g.png") == tmp_path / "g.png"
