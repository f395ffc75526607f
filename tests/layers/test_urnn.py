"""The unitary-evolution cell: unitary factors, norm preservation, both implementations, NumPy."""

import keras
import numpy as np
import pytest

from kerasrnn.layers import URNN, URNNCell
from kerasrnn.layers.urnn import FACTOR_NAMES
from tests.layers import numpy_reference as ref
from tests.layers.conftest import gradients, randomize_weights, to_numpy

UNITS, INPUT_DIM = 16, 3


def _built_cell(implementation="matrix", seed=7, units=UNITS, bias=0.0):
    cell = URNNCell(units, implementation=implementation, seed=seed)
    cell.build((None, INPUT_DIM))
    if bias:
        cell.bias.assign(np.full((units,), bias, "float32"))
    return cell


def _complex_to_real_block(w):
    return np.block([[w.real, -w.imag], [w.imag, w.real]])


@pytest.mark.parametrize("name", FACTOR_NAMES)
def test_every_factor_is_unitary(name):
    factor = to_numpy(_built_cell().recurrent_factors()[name])
    assert factor.shape == (2 * UNITS, 2 * UNITS)
    np.testing.assert_allclose(factor.T @ factor, np.eye(2 * UNITS), atol=1e-5)
    # Not trivially the identity (except the permutation could be; it is not for this seed).
    assert np.abs(factor - np.eye(2 * UNITS)).max() > 0.1


@pytest.mark.parametrize("units", [1, 5, 16, 64])
def test_recurrent_matrix_is_unitary_and_the_product_of_its_factors(units):
    cell = _built_cell(units=units)
    w = to_numpy(cell.recurrent_matrix()).astype("float64")
    np.testing.assert_allclose(w.T @ w, np.eye(2 * units), atol=1e-5)
    product = np.eye(2 * units)
    for factor in cell.recurrent_factors().values():
        product = to_numpy(factor) @ product
    np.testing.assert_allclose(product, w, atol=1e-5)


def test_recurrent_matrix_equals_numpy_construction():
    """W from the layer equals D3 R2 F⁻¹ D2 Π R1 F D1 built in complex NumPy with np.fft, ortho."""
    cell = _built_cell()
    expected = ref.urnn_matrix(
        [to_numpy(p) for p in cell.phases],
        [to_numpy(r) for r in cell.reflections],
        to_numpy(cell.permutation),
    )
    np.testing.assert_allclose(to_numpy(cell.recurrent_matrix()), _complex_to_real_block(expected), atol=1e-5)


def test_unscaled_fft_would_fail_the_unitarity_check():
    """Guards the test itself: the most common bug (no 1/√n) gives singular values √n or 1/√n."""
    w = ref.urnn_matrix([np.zeros(UNITS)] * 3, [np.ones((2, UNITS))] * 2, np.arange(UNITS))
    unscaled = w * np.sqrt(UNITS)  # F without its 1/√n
    block = _complex_to_real_block(unscaled)
    assert np.abs(block.T @ block - np.eye(2 * UNITS)).max() > 1.0


def test_norm_of_w_h_is_preserved(rng):
    cell = _built_cell()
    h = rng.normal(size=(8, 2 * UNITS)).astype("float32")
    for implementation_output in (cell.apply_recurrence(h), h @ to_numpy(cell.recurrent_matrix()).T):
        np.testing.assert_allclose(
            np.linalg.norm(to_numpy(implementation_output), axis=1), np.linalg.norm(h, axis=1), rtol=1e-5
        )


@pytest.mark.parametrize("implementation", ["matrix", "fft"])
def test_recurrence_preserves_norm_of_h_over_many_steps(implementation):
    """With no input and b = 0 the whole step is an isometry: ‖h_t‖ = ‖h_0‖ for every t."""
    cell = _built_cell(implementation)
    layer = keras.layers.RNN(cell, return_sequences=True)
    states = to_numpy(layer(np.zeros((2, 200, INPUT_DIM), "float32")))
    h0_norm = np.linalg.norm(to_numpy(cell.initial_state))
    np.testing.assert_allclose(np.linalg.norm(states, axis=-1), h0_norm, rtol=1e-5)
    assert np.abs(states[:, -1] - to_numpy(cell.initial_state)).max() > 1e-2  # it did evolve


@pytest.mark.parametrize("implementation", ["matrix", "fft"])
def test_sequence_matches_numpy_reference(implementation, rng):
    cell = _built_cell(implementation, bias=-0.05)  # b < 0 so modReLU is not the identity
    x = rng.normal(size=(3, 6, INPUT_DIM)).astype("float32")
    outputs = to_numpy(keras.layers.RNN(cell, return_sequences=True)(x))
    w = ref.urnn_matrix(
        [to_numpy(p) for p in cell.phases], [to_numpy(r) for r in cell.reflections], to_numpy(cell.permutation)
    )
    h0 = to_numpy(cell.initial_state)
    h = np.tile(h0[:UNITS] + 1j * h0[UNITS:], (3, 1))
    for t in range(6):
        h = ref.urnn_step(x[:, t], h, w, to_numpy(cell.kernel), to_numpy(cell.bias), cell.epsilon)
        np.testing.assert_allclose(outputs[:, t], np.concatenate([h.real, h.imag], axis=1), atol=1e-5)


def test_both_implementations_give_the_same_outputs(rng):
    x = rng.normal(size=(4, 12, INPUT_DIM)).astype("float32")
    layers = {impl: URNN(UNITS, implementation=impl, seed=3, return_sequences=True) for impl in ("matrix", "fft")}
    for layer in layers.values():
        layer(x)
    randomize_weights(layers["matrix"], seed=9)
    layers["fft"].set_weights(layers["matrix"].get_weights())
    # Same maths, different float32 rounding (one matmul against eight small ops per step).
    np.testing.assert_allclose(to_numpy(layers["matrix"](x)), to_numpy(layers["fft"](x)), atol=5e-5)


def test_matrix_is_materialised_once_per_sequence(monkeypatch):
    cell = _built_cell("matrix")
    calls = []
    original = cell._row_matrix
    monkeypatch.setattr(cell, "_row_matrix", lambda factors: calls.append(1) or original(factors))
    layer = keras.layers.RNN(cell, unroll=True)  # unrolled: each step is a separate Python call
    layer(np.zeros((2, 9, INPUT_DIM), "float32"))
    assert len(calls) == 1
    assert cell._batch_matrix is None  # released after the call


@pytest.mark.parametrize("units, expected", [(8, "matrix"), (256, "matrix"), (257, "fft"), (512, "fft")])
def test_auto_picks_the_implementation_measured_faster(units, expected):
    cell = URNNCell(units)
    assert cell.recurrence == expected
    assert cell.get_config()["implementation"] == "auto"
    assert URNNCell(units, implementation="fft").recurrence == "fft"


def test_gradients_are_finite_at_a_zero_state(rng):
    # With ε outside the square root this fails under KERAS_BACKEND=torch (0 · ∞ = NaN in the
    # sqrt gradient); TensorFlow's sqrt gradient happens to hide it, hence the torch run in CI.
    layer = URNN(UNITS, seed=1, implementation="fft")
    x = np.zeros((2, 5, INPUT_DIM), "float32")  # zero state and zero input: z = 0 exactly
    zero_state = [np.zeros((2, 2 * UNITS), "float32")]
    layer(x, initial_state=zero_state)
    grads = gradients(lambda: keras.ops.sum(layer(x, initial_state=zero_state)), layer.trainable_weights)
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_initial_state_is_learned_and_has_unit_expected_norm():
    cell = URNNCell(512, seed=0)
    layer = keras.layers.RNN(cell)
    x = np.ones((2, 3, INPUT_DIM), "float32")
    layer(x)
    h0 = to_numpy(cell.get_initial_state(batch_size=2)[0])
    np.testing.assert_array_equal(h0[0], to_numpy(cell.initial_state))
    assert 0.85 < np.sum(h0[0] ** 2) < 1.15  # E‖h0‖² = 1 with 1024 reals
    grads = gradients(lambda: keras.ops.sum(layer(x)), [cell.initial_state])
    assert np.abs(grads[0]).max() > 0


def test_recurrent_side_has_ten_n_parameters():
    cell = _built_cell()
    names = [w.name for w in cell.trainable_weights]
    recurrent = sum(int(np.prod(w.shape)) for w in cell.trainable_weights if w.name != "kernel")
    assert recurrent == 10 * UNITS
    assert "kernel" in names and "permutation" not in names


def test_permutation_is_seeded_and_a_permutation():
    a, b, c = _built_cell(seed=11), _built_cell(seed=11), _built_cell(seed=12)
    perm = to_numpy(a.permutation)
    assert sorted(perm.tolist()) == list(range(UNITS))
    np.testing.assert_array_equal(perm, to_numpy(b.permutation))
    assert not np.array_equal(perm, to_numpy(c.permutation))


def test_seed_none_is_drawn_once_and_kept_in_config():
    cell = URNNCell(8)
    assert isinstance(cell.get_config()["seed"], int)
    clone = URNNCell.from_config(cell.get_config())
    cell.build((None, 2))
    clone.build((None, 2))
    np.testing.assert_array_equal(to_numpy(cell.permutation), to_numpy(clone.permutation))


def test_permutation_survives_save_and_load(tmp_path):
    inputs = keras.Input((5, INPUT_DIM))
    model = keras.Model(inputs, URNN(UNITS, seed=21, name="urnn")(inputs))
    layer = model.get_layer("urnn")
    # Overwrite Π with one no seed would draw, so only the saved weight can bring it back.
    custom = np.arange(UNITS)[::-1].astype("int32")
    layer.cell.permutation.assign(custom)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(to_numpy(loaded.get_layer("urnn").cell.permutation), custom)


def test_mixed_precision_computes_the_recurrence_in_float32(rng):
    x = rng.normal(size=(2, 20, INPUT_DIM)).astype("float32")
    full = URNN(UNITS, seed=4, return_sequences=True)
    half = URNN(UNITS, seed=4, return_sequences=True, dtype="mixed_float16")
    full(x)
    half(x)
    half.set_weights(full.get_weights())
    out = half(x)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert all(keras.backend.standardize_dtype(w.dtype) in ("float32", "int32") for w in half.weights)
    # Only the float16 hand-over between steps rounds (relative 1e-3 each): no drift over 20 steps.
    np.testing.assert_allclose(to_numpy(out).astype("float32"), to_numpy(full(x)), rtol=5e-3, atol=5e-3)


def test_float64_layers_compute_in_float64(rng):
    layer = URNN(UNITS, seed=4, return_sequences=True, dtype="float64")
    out = layer(rng.normal(size=(2, 5, INPUT_DIM)))
    assert keras.backend.standardize_dtype(out.dtype) == "float64"
    w = to_numpy(layer.recurrent_matrix())
    np.testing.assert_allclose(w.T @ w, np.eye(2 * UNITS), atol=1e-12)
