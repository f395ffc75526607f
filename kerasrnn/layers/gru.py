"""The lecture's gated recurrent unit: the reset gate is applied before the recurrent matmul."""

import keras
from keras import ops

from kerasrnn.layers.dense_layer import DenseRecurrentLayer
from kerasrnn.layers.base_cell import DenseRecurrentCell, get_activation


@keras.saving.register_keras_serializable(package="kerasrnn")
class TextbookGRUCell(DenseRecurrentCell):
    """The GRU cell exactly as the lecture writes it (Cho et al., 2014).

    One step computes

        z_t = σ(x_t W_z + h_t U_z + b_z)            update gate
        r_t = σ(x_t W_r + h_t U_r + b_r)            reset gate
        h̃_t = φ(x_t W + (r_t ⊙ h_t) U + b)          candidate, reset applied *before* U
        h_{t+1} = z_t ⊙ h_t + (1 − z_t) ⊙ h̃_t

    The update gate is a data-dependent shortcut: where z ≈ 1 the state is copied forward and the
    gradient flows through unchanged, like a ResNet skip connection. This is Keras's
    `GRUCell(reset_after=False)`; Keras's default `reset_after=True` multiplies r after U instead.

    Weight layout (the same as `keras.layers.GRUCell(reset_after=False)`, so
    `cell.set_weights(keras_gru_cell.get_weights())` copies weights both ways): `kernel` has shape
    `(input_dim, 3 * units)` with columns `[W_z | W_r | W]`; `recurrent_kernel` has shape
    `(units, 3 * units)` with columns `[U_z | U_r | U]`; `bias` has shape `(3 * units,)`, `[b_z | b_r | b]`.

    Args:
        units: Positive integer, size of the hidden state.
        activation: φ of the candidate state. Default: `"tanh"`.
        recurrent_activation: σ of the gates. Default: `"sigmoid"`.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer, *_regularizer,
        *_constraint: As in `keras.layers.GRUCell`.
        dropout: Fraction of input units dropped (one mask per sequence). Default: 0.
        recurrent_dropout: Fraction of state units dropped before U_z, U_r, U (one mask per
            sequence). Default: 0.
        seed: Random seed of the dropout masks.

    Call arguments:
        inputs: `(batch, input_dim)`. states: `[h_t]` with h_t of shape `(batch, units)`.
        training: Whether dropout is active.

    Returns:
        `(h_{t+1}, [h_{t+1}])`.

    Example:

    >>> rnn = keras.layers.RNN(TextbookGRUCell(4), return_state=True)
    >>> output, state = rnn(np.zeros((2, 6, 3), "float32"))
    >>> output.shape, state.shape
    ((2, 4), (2, 4))
    """

    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = get_activation(
            recurrent_activation, "recurrent_activation", type(self).__name__
        )
        self.state_size = self.units
        self.output_size = self.units

    def recurrent_step(self, projected, states, training):
        h = states[0] if isinstance(states, (list, tuple)) else states
        x_z, x_r, x_h = ops.split(projected, 3, axis=-1)
        h_dropped = self.dropped_state(h, training)
        u_zr, u_h = self.recurrent_kernel[:, : 2 * self.units], self.recurrent_kernel[:, 2 * self.units :]
        h_z, h_r = ops.split(ops.matmul(h_dropped, u_zr), 2, axis=-1)
        z = self.recurrent_activation(x_z + h_z)
        r = self.recurrent_activation(x_r + h_r)
        candidate = self.activation(x_h + ops.matmul(r * h_dropped, u_h))
        h_next = z * h + (1.0 - z) * candidate
        return h_next, [h_next]

    def can_fuse(self):
        """Whether `fused_sequence` computes this cell: the default activations (tanh, sigmoid)."""
        return self.activation is keras.activations.tanh and self.recurrent_activation is keras.activations.sigmoid

    def fused_sequence(self, projected, states):
        """The whole sequence on TensorFlow (`fused_tf.textbook_gru_sequence`), time-major."""
        from kerasrnn.layers import fused_tf

        outputs, h = fused_tf.textbook_gru_sequence(projected, states[0], self.recurrent_kernel.value)
        return outputs, [h]

    def get_config(self):
        config = {"recurrent_activation": keras.activations.serialize(self.recurrent_activation)}
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="kerasrnn")
class TextbookGRU(DenseRecurrentLayer):
    """`keras.layers.RNN(TextbookGRUCell(units, ...))` with flat arguments and the inputs of all steps
    projected in one matrix product before the time loop (see `DenseRecurrentLayer`).

    Example:

    >>> TextbookGRU(4, return_sequences=True)(np.zeros((2, 6, 3), "float32")).shape
    (2, 6, 4)
    """

    cell_class = TextbookGRUCell
