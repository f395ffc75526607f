"""The unitary-evolution RNN (Arjovsky, Shah & Bengio, ICML 2016): its cell and its layer."""

import math

import keras
import numpy as np
from keras import ops

from kerasrnn.layers import unitary
from kerasrnn.layers.base_cell import DropoutRNNCell, check_rate, check_units

IMPLEMENTATIONS = ("auto", "matrix", "fft")

# Largest n for which "auto" materialises W in the generic (keras.ops) loop. Measured with
# benchmarks/bench_cells.py on a 2-core CPU (batch 32, T 50): the matrix path took 0.36x the FFT
# path's time at n = 256, but the FFT path took 0.66x the matrix path's at n = 384 and 0.38x at
# n = 512, where the 2n x 2n matmul dominates. `URNN` on TensorFlow runs "auto" as the fused FFT
# sequence instead, faster at every size measured (16 to 512, see `URNN`).
AUTO_MATRIX_MAX_UNITS = 256

# The order in which the factors of W = D3 R2 F⁻¹ D2 Π R1 F D1 act on h (D1 first).
FACTOR_NAMES = ("D1", "F", "R1", "Pi", "D2", "F_inv", "R2", "D3")


@keras.saving.register_keras_serializable(package="kerasrnn")
class URNNCell(keras.Layer, DropoutRNNCell):
    """The unitary-evolution recurrent cell.

    The state is a complex vector h ∈ ℂⁿ, carried as one real vector `[Re h, Im h]` of size 2n.
    One step computes

        z_t = W h_{t−1} + V x_t,        h_t = modReLU(z_t),
        W = D3 R2 F⁻¹ D2 Π R1 F D1

    where D_k = diag(exp(i w_k)) are learned phases, R_k = I − 2 v_k v_kᴴ / ‖v_k‖² learned complex
    reflections, Π a fixed random permutation, F and F⁻¹ the unitary DFT pair (scaled 1/√n), and
    modReLU(z) = ReLU(|z| + b) z / |z| per unit. Every factor of W is unitary, so ‖W h‖ = ‖h‖ for
    any weights: the recurrence neither explodes nor vanishes, and with b = 0 (the default) the
    whole step is an exact isometry of h. The recurrent side costs about 10n parameters, against
    4n² for an LSTM.

    Two exact implementations of W h:
    - `"matrix"`: W is materialised once per batch as a real 2n × 2n matrix (the chain applied to
      the identity) and each step is one O(n²) matmul. Inside `keras.layers.RNN` (or `URNN`) this
      happens once per call, before the time loop; a cell called on its own builds W per call.
    - `"fft"`: each step applies the eight factors, O(n log n) per step but many small ops.
    - `"auto"` (default): the faster of the two in the generic loop on a CPU, measured by
      `benchmarks/bench_cells.py`: `"matrix"` up to n = 256, `"fft"` above. On a GPU, where one
      matmul beats many small kernels, `"matrix"` is likely the better choice at every size. `URNN`
      on TensorFlow runs "auto" as its fused FFT sequence wherever a call allows it (see `URNN`).

    Weights: `kernel` V `(input_dim, 2n)` (columns `[Re | Im]`); `phase1..3` w_k `(n,)`;
    `reflection1..2` `(2, n)` rows `[Re v; Im v]`; `permutation` `(n,)` int32, not trainable;
    `bias` b of modReLU `(n,)`; `initial_state` h0 `(2n,)`, learned and returned by
    `get_initial_state`.

    Args:
        units: Positive integer n, the number of complex units (state and output size 2n).
        implementation: `"auto"` (default), `"matrix"` or `"fft"`, see above. The one in use is
            the attribute `recurrence`.
        kernel_initializer: Initializer of V. Default: `"glorot_uniform"`.
        bias_initializer: Initializer of the modReLU bias. Default: `"zeros"` (the paper's; the
            authors' code used U[−0.01, 0.01]).
        epsilon: ε inside the modulus √(re² + im² + ε) of modReLU. Default: 1e-5.
        dropout: Fraction of input units dropped (one mask per sequence). Default: 0. There is no
            recurrent dropout: zeroing state units would break the unitary evolution.
        seed: Integer seed of the permutation Π, the phase / reflection / h0 initialisers and the
            dropout masks. `None` draws one at construction; it is then kept in `get_config`, and
            Π itself is saved as a weight, so Π is never redrawn on reload.

    Call arguments:
        inputs: `(batch, input_dim)`. states: `[h]` with h of shape `(batch, 2 * units)`.
        training: Whether dropout is active.

    Returns:
        `(h_t, [h_t])`, h_t of shape `(batch, 2 * units)`.

    Example:

    >>> cell = URNNCell(16, seed=1)
    >>> rnn = keras.layers.RNN(cell, return_sequences=True)
    >>> rnn(np.zeros((2, 7, 3), "float32")).shape
    (2, 7, 32)
    >>> w = keras.ops.convert_to_numpy(cell.recurrent_matrix())
    >>> bool(np.allclose(w.T @ w, np.eye(32), atol=1e-5))
    True
    """

    def __init__(
        self,
        units,
        implementation="auto",
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        epsilon=1e-5,
        dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_units(units, "URNNCell")
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(
                f"URNNCell: `implementation` must be one of {IMPLEMENTATIONS}, got {implementation!r}."
            )
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(f"URNNCell: `epsilon` must be a positive number, got {epsilon!r}.")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"URNNCell: `seed` must be an integer or None, got {seed!r}.")
        self.implementation = implementation
        if implementation == "auto":
            implementation = "matrix" if self.units <= AUTO_MATRIX_MAX_UNITS else "fft"
        self.recurrence = implementation
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.epsilon = float(epsilon)
        self.dropout = check_rate(dropout, "dropout", "URNNCell")
        # DropoutRNNCell reads these; the uRNN has no recurrent dropout (see the docstring).
        self.recurrent_dropout = 0.0
        self.seed = int(np.random.randint(0, 2**31 - 1)) if seed is None else seed
        self.seed_generator = keras.random.SeedGenerator(seed=self.seed)
        self.state_size = 2 * self.units
        self.output_size = 2 * self.units
        self._batch_matrix = None

    def _uniform(self, limit, offset):
        # Distinct seeds per weight: one shared seed would give D1 = D2 = D3 at initialisation.
        return keras.initializers.RandomUniform(-limit, limit, seed=self.seed + offset)

    def add_weight(self, *args, **kwargs):
        # FFTs need float32 or float64, and a unitary recurrence carried over many steps drifts in
        # float16: under mixed precision the weights are never cast down and the maths (`call`,
        # `_row_matrix`, also when keras.layers.RNN calls the hook below) runs in float32.
        kwargs.setdefault("autocast", False)
        return super().add_weight(*args, **kwargs)

    def build(self, input_shape):
        n = self.units
        self.kernel = self.add_weight(
            shape=(input_shape[-1], 2 * n), name="kernel", initializer=self.kernel_initializer
        )
        self.phases = [
            self.add_weight(shape=(n,), name=f"phase{k}", initializer=self._uniform(math.pi, k))
            for k in (1, 2, 3)
        ]
        self.reflections = [
            self.add_weight(shape=(2, n), name=f"reflection{k}", initializer=self._uniform(1.0, 3 + k))
            for k in (1, 2)
        ]
        order = np.random.default_rng(self.seed).permutation(n).astype("int32")
        self.permutation = self.add_weight(
            shape=(n,),
            name="permutation",
            dtype="int32",
            trainable=False,
            initializer=lambda shape, dtype=None: ops.convert_to_tensor(order, dtype="int32"),
        )
        self.bias = self.add_weight(shape=(n,), name="bias", initializer=self.bias_initializer)
        # U[±√(3/(2n))] on 2n reals gives E‖h0‖² = 1.
        self.initial_state = self.add_weight(
            shape=(2 * n,), name="initial_state", initializer=self._uniform(math.sqrt(3 / (2 * n)), 6)
        )

    def _factors(self):
        """The eight maps of W as (name, function of (re, im)) in the order they act on h."""
        (d1, d2, d3), (r1, r2) = self.phases, self.reflections
        return [
            ("D1", lambda re, im: unitary.phase_rotation(re, im, d1)),
            ("F", unitary.unitary_fft),
            ("R1", lambda re, im: unitary.reflection(re, im, r1[0], r1[1])),
            ("Pi", lambda re, im: unitary.permutation(re, im, self.permutation)),
            ("D2", lambda re, im: unitary.phase_rotation(re, im, d2)),
            ("F_inv", unitary.unitary_ifft),
            ("R2", lambda re, im: unitary.reflection(re, im, r2[0], r2[1])),
            ("D3", lambda re, im: unitary.phase_rotation(re, im, d3)),
        ]

    @property
    def _math_dtype(self):
        """float64 when the layer computes in float64, float32 otherwise (float16 policies too)."""
        return "float64" if self.compute_dtype == "float64" else "float32"

    def apply_recurrence(self, h):
        """W h for a batch of real states `[Re h, Im h]` of shape `(batch, 2n)`, by the FFT chain."""
        h = ops.cast(ops.convert_to_tensor(h), self._math_dtype)
        re, im = h[..., : self.units], h[..., self.units :]
        for _, factor in self._factors():
            re, im = factor(re, im)
        return ops.concatenate([re, im], axis=-1)

    def _row_matrix(self, factors):
        """M with `h @ M == chain(h)` for row states, by applying the chain to the identity.

        Row j of chain(I) is (A e_j)ᵀ, so chain(I) = Aᵀ = P + iQ and, for [Re h, Im h] rows,
        h Aᵀ = [Re h P − Im h Q, Re h Q + Im h P], i.e. M = [[P, Q], [−Q, P]].
        """
        re = ops.eye(self.units, dtype=self._math_dtype)
        im = ops.zeros_like(re)
        for factor in factors:
            re, im = factor(re, im)
        return ops.concatenate(
            [ops.concatenate([re, im], axis=1), ops.concatenate([-im, re], axis=1)], axis=0
        )

    def recurrent_matrix(self):
        """W as the real (2n, 2n) block matrix [[Re W, −Im W], [Im W, Re W]] acting on [Re h; Im h]."""
        return ops.transpose(self._row_matrix([f for _, f in self._factors()]))

    def recurrent_factors(self):
        """Each factor of W as a real (2n, 2n) matrix like `recurrent_matrix`, keyed by name.

        Keys in the order the factors act on h: D1, F, R1, Pi, D2, F_inv, R2, D3, so
        W = D3 @ R2 @ F_inv @ D2 @ Pi @ R1 @ F @ D1.
        """
        return {name: ops.transpose(self._row_matrix([f])) for name, f in self._factors()}

    # keras.layers.RNN calls the two mask hooks of DropoutRNNCell once before the time loop and
    # resets them after it. The uRNN has no recurrent dropout, so that hook materialises W once per
    # batch instead; `call` falls back to building it itself when used outside keras.layers.RNN.
    def get_recurrent_dropout_mask(self, step_input):
        if self.recurrence == "matrix" and self._batch_matrix is None:
            self._batch_matrix = self._row_matrix([f for _, f in self._factors()])
        return None

    def reset_recurrent_dropout_mask(self):
        self._batch_matrix = None

    def call(self, inputs, states, training=False):
        h = states[0] if isinstance(states, (list, tuple)) else states
        h = ops.cast(h, self._math_dtype)
        inputs = ops.cast(inputs, self._math_dtype)
        if training and self.dropout > 0.0:
            inputs = inputs * ops.cast(self.get_dropout_mask(inputs), self._math_dtype)
        if self.recurrence == "matrix":
            matrix = self._batch_matrix
            if matrix is None:
                matrix = self._row_matrix([f for _, f in self._factors()])
            recurrent = ops.matmul(h, matrix)
        else:
            recurrent = self.apply_recurrence(h)
        z = recurrent + ops.matmul(inputs, self.kernel)
        re, im = unitary.mod_relu(z[..., : self.units], z[..., self.units :], self.bias, self.epsilon)
        h_next = ops.cast(ops.concatenate([re, im], axis=-1), self.compute_dtype)
        return h_next, [h_next]

    def get_initial_state(self, batch_size=None):
        h0 = ops.cast(self.initial_state, self.compute_dtype)
        return [ops.broadcast_to(ops.expand_dims(h0, 0), (batch_size, 2 * self.units))]

    def get_config(self):
        config = {
            "units": self.units,
            "implementation": self.implementation,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "epsilon": self.epsilon,
            "dropout": self.dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="kerasrnn")
class URNN(keras.layers.RNN):
    """The unitary-evolution RNN layer: `keras.layers.RNN(URNNCell(...))` with flat arguments.

    See `URNNCell` for the recurrence. Outputs are the real states `[Re h, Im h]` of size
    `2 * units`; put a `Dense` layer after it for a real readout.

    Args:
        units: Number of complex units n; the output size is 2n.
        implementation, kernel_initializer, bias_initializer, epsilon, dropout, seed: As in
            `URNNCell`.
        return_sequences: Return every step's output, not only the last. Default: `False`.
        return_state: Also return the final state. Default: `False`.
        go_backwards: Process the sequence backwards. Default: `False`.
        stateful: Carry the final state of batch i to batch i + 1. Default: `False`.
        unroll: Unroll the time loop (short sequences only). Default: `False`.
        fused: On the TensorFlow backend, with `implementation` `"fft"` or `"auto"`, run the whole
            sequence as one function with a hand-written gradient (`fused_urnn_tf.urnn_sequence`: the
            FFT chain on complex tensors, Wᴴ in the backward loop) whenever the call allows it: no
            mask, no `unroll`, float32. Same numbers, less time: in a character-LM training step
            (batch 64, 100 steps, 1 CPU thread) 0.53x the time of `"matrix"` at n = 16, 0.70x at
            n = 64, 0.74x at 128, 0.59x at 256. Calls it does not allow run the cell's `recurrence`
            (`"auto"`: the matrix up to n = 256). Default: `True`.

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: Optional `[h0]` of shape `(batch, 2 * units)`; by default the learned h0.
        mask: Optional boolean `(batch, timesteps)`; masked steps keep the previous state.
        training: Whether dropout is active.

    Example:

    >>> layer = URNN(8, return_sequences=True, seed=0)
    >>> layer(np.ones((3, 10, 2), "float32")).shape
    (3, 10, 16)
    """

    def __init__(
        self,
        units,
        implementation="auto",
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        epsilon=1e-5,
        dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        fused=True,
        **kwargs,
    ):
        self.fused = bool(fused)
        cell = URNNCell(
            units,
            implementation=implementation,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            epsilon=epsilon,
            dropout=dropout,
            seed=seed,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="urnn_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            **kwargs,
        )
        self.input_spec = keras.layers.InputSpec(ndim=3)

    @property
    def units(self):
        return self.cell.units

    def recurrent_matrix(self):
        """W of the cell, see `URNNCell.recurrent_matrix`."""
        return self.cell.recurrent_matrix()

    def _can_fuse(self, mask):
        cell = self.cell
        return (self.fused and keras.backend.backend() == "tensorflow" and mask is None and not self.unroll
                and cell.compute_dtype == "float32" and cell.implementation in ("fft", "auto"))

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not self._can_fuse(mask):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        from kerasrnn.layers import fused_urnn_tf

        cell = self.cell
        if training and cell.dropout > 0.0:
            sequences = sequences * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0]), 1)
        if self.go_backwards:
            sequences = ops.flip(sequences, axis=1)
        # Batch-major throughout: the fused loops slice step t out of (batch, time, 2n) themselves.
        outputs, h = fused_urnn_tf.urnn_sequence(
            ops.matmul(sequences, cell.kernel), initial_state[0], [w.value for w in cell.phases],
            [w.value for w in cell.reflections], cell.permutation.value, cell.bias.value, cell.epsilon)
        return outputs[:, -1], outputs, [h]

    def get_config(self):
        cell_config = self.cell.get_config()
        config = {key: cell_config[key] for key in (
            "units", "implementation", "kernel_initializer", "bias_initializer", "epsilon",
            "dropout", "seed",
        )}
        base_config = super().get_config()
        base_config["fused"] = self.fused
        del base_config["cell"]
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
