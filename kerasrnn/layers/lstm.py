"""The long short-term memory cell (Hochreiter & Schmidhuber, 1997), with Keras's weight layout."""

import keras
from keras import ops

from kerasrnn.layers.dense_layer import DenseRecurrentLayer
from kerasrnn.layers.base_cell import DenseRecurrentCell, get_activation


@keras.saving.register_keras_serializable(package="kerasrnn")
class TextbookLSTMCell(DenseRecurrentCell):
    """The standard LSTM cell, written out gate by gate.

    One step computes

        i_t = σ(x_t W_i + h_t U_i + b_i)            input gate
        f_t = σ(x_t W_f + h_t U_f + b_f)            forget gate
        g_t = φ(x_t W_c + h_t U_c + b_c)            candidate cell
        o_t = σ(x_t W_o + h_t U_o + b_o)            output gate
        c_{t+1} = f_t ⊙ c_t + i_t ⊙ g_t
        h_{t+1} = o_t ⊙ φ(c_{t+1})

    The cell state c is the gated shortcut: where f ≈ 1 and i ≈ 0 it is carried forward untouched,
    so ∂c_{t+1}/∂c_t = diag(f_t) instead of a product with a weight matrix. The forget bias starts
    at 1 (`unit_forget_bias=True`, as in Keras) so that memories are kept early in training.

    Weight layout (the same as `keras.layers.LSTMCell`, so `set_weights(get_weights())` copies
    between them): `kernel` `(input_dim, 4 * units)` with columns `[W_i | W_f | W_c | W_o]`;
    `recurrent_kernel` `(units, 4 * units)`, columns `[U_i | U_f | U_c | U_o]`; `bias` `(4 * units,)`.

    Args:
        units: Positive integer, size of h and c.
        activation: φ. Default: `"tanh"`.
        recurrent_activation: σ of the gates. Default: `"sigmoid"`.
        unit_forget_bias: Add 1 to the forget-gate bias at initialisation. Default: `True`.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer, *_regularizer,
        *_constraint: As in `keras.layers.LSTMCell`.
        dropout: Fraction of input units dropped (one mask per sequence). Default: 0.
        recurrent_dropout: Fraction of h units dropped before U (one mask per sequence). Default: 0.
        seed: Random seed of the dropout masks.

    Call arguments:
        inputs: `(batch, input_dim)`. states: `[h_t, c_t]`, each `(batch, units)`.
        training: Whether dropout is active.

    Returns:
        `(h_{t+1}, [h_{t+1}, c_{t+1}])`.

    Example:

    >>> rnn = keras.layers.RNN(TextbookLSTMCell(4), return_state=True)
    >>> output, h, c = rnn(np.zeros((2, 6, 3), "float32"))
    >>> c.shape
    (2, 4)
    """

    gates = 4

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        unit_forget_bias=True,
        **kwargs,
    ):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = get_activation(
            recurrent_activation, "recurrent_activation", type(self).__name__
        )
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]
        self.output_size = self.units

    def _bias_initializer_for_build(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def bias_with_forget_one(shape, dtype=None):
            return ops.concatenate(
                [
                    base((units,), dtype=dtype),
                    ops.ones((units,), dtype=dtype),
                    base((2 * units,), dtype=dtype),
                ]
            )

        return bias_with_forget_one

    def recurrent_step(self, projected, states, training):
        h, c = states[0], states[1]
        gates = projected + ops.matmul(
            self.dropped_state(h, training), self.recurrent_kernel
        )
        x_i, x_f, x_c, x_o = ops.split(gates, 4, axis=-1)
        i = self.recurrent_activation(x_i)
        f = self.recurrent_activation(x_f)
        o = self.recurrent_activation(x_o)
        c_next = f * c + i * self.activation(x_c)
        h_next = o * self.activation(c_next)
        return h_next, [h_next, c_next]

    def can_fuse(self):
        """Whether `fused_sequence` computes this cell: the default activations (tanh, sigmoid)."""
        return self.activation is keras.activations.tanh and self.recurrent_activation is keras.activations.sigmoid

    def fused_sequence(self, projected, states):
        """The whole sequence on TensorFlow, from time-major projected inputs (`fused_tf.lstm_sequence`)."""
        from kerasrnn.layers import fused_tf

        outputs, h, c = fused_tf.lstm_sequence(projected, states[0], states[1], self.recurrent_kernel.value)
        return outputs, [h, c]

    def get_config(self):
        config = {
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
        }
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="kerasrnn")
class TextbookLSTM(DenseRecurrentLayer):
    """`keras.layers.RNN(TextbookLSTMCell(units, ...))` with flat arguments and the inputs of all steps
    projected in one matrix product before the time loop (see `DenseRecurrentLayer`).

    Example:

    >>> TextbookLSTM(4, return_sequences=True)(np.zeros((2, 6, 3), "float32")).shape
    (2, 6, 4)
    """

    cell_class = TextbookLSTMCell
