"""The lecture's vanilla recurrent cell, h_{t+1} = σ(W_h h_t + W_x x_t + b)."""

import keras
from keras import ops

from kerasrnn.layers.dense_layer import DenseRecurrentLayer
from kerasrnn.layers.base_cell import DenseRecurrentCell


@keras.saving.register_keras_serializable(package="kerasrnn")
class VanillaRNNCell(DenseRecurrentCell):
    """The vanilla (Elman) recurrent cell of the lecture.

    Computes one step of

        h_{t+1} = σ(h_t W_h + x_t W_x + b)

    with σ = tanh by default or ReLU (the lecture's case where every ‖D_s‖ ≤ 1, so only ‖W_h‖ can
    make the gradient ∂L/∂h_t explode). Its gradient is a product of T − t factors D_s W_h, which is
    why it forgets quickly. With the same weights it equals `keras.layers.SimpleRNNCell`.

    Weight layout (the same as `SimpleRNNCell`, so `set_weights(simple_rnn.get_weights())` copies):
    `kernel` is W_x with shape `(input_dim, units)`, `recurrent_kernel` is W_h with shape
    `(units, units)`, `bias` is b with shape `(units,)`. Vectors are rows: `x @ kernel`.

    Args:
        units: Positive integer, size of the hidden state.
        activation: σ; `"tanh"` (default), `"relu"` or any `keras.activations` name.
        use_bias: Whether to add b. Default: `True`.
        kernel_initializer: Initializer of W_x. Default: `"glorot_uniform"`.
        recurrent_initializer: Initializer of W_h. Default: `"orthogonal"`.
        bias_initializer: Initializer of b. Default: `"zeros"`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: Optional constraints.
        dropout: Fraction of input units dropped (one mask per sequence). Default: 0.
        recurrent_dropout: Fraction of state units dropped before W_h (one mask per sequence).
            Default: 0.
        seed: Random seed of the dropout masks.

    Call arguments:
        inputs: `(batch, input_dim)`, the step's input x_t.
        states: `[h_t]`, a list holding one `(batch, units)` tensor.
        training: Whether dropout is active.

    Returns:
        `(h_{t+1}, [h_{t+1}])`.

    Example:

    >>> rnn = keras.layers.RNN(VanillaRNNCell(8, activation="relu"), return_sequences=True)
    >>> rnn(np.zeros((2, 5, 3), "float32")).shape
    (2, 5, 8)
    """

    gates = 1

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.state_size = self.units
        self.output_size = self.units

    def recurrent_step(self, projected, states, training):
        h = states[0] if isinstance(states, (list, tuple)) else states
        pre_activation = projected + ops.matmul(
            self.dropped_state(h, training), self.recurrent_kernel
        )
        h_next = self.activation(pre_activation)
        return h_next, [h_next]

    def can_fuse(self):
        """Whether `fused_sequence` computes this cell: tanh or relu."""
        return self.activation in (keras.activations.tanh, keras.activations.relu)

    def fused_sequence(self, projected, states):
        """The whole sequence on TensorFlow (`fused_tf.vanilla_sequence`), time-major."""
        from kerasrnn.layers import fused_tf

        name = "tanh" if self.activation is keras.activations.tanh else "relu"
        outputs, h = fused_tf.vanilla_sequence(projected, states[0], self.recurrent_kernel.value, name)
        return outputs, [h]


@keras.saving.register_keras_serializable(package="kerasrnn")
class VanillaRNN(DenseRecurrentLayer):
    """`keras.layers.RNN(VanillaRNNCell(units, ...))` with flat arguments and the inputs of all steps
    projected in one matrix product before the time loop (see `DenseRecurrentLayer`).

    Example:

    >>> VanillaRNN(4, return_sequences=True)(np.zeros((2, 6, 3), "float32")).shape
    (2, 6, 4)
    """

    cell_class = VanillaRNNCell
