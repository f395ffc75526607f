"""The long short-term memory cell (Hochreiter & Schmidhuber, 1997), with Keras's weight layout."""

import keras
from keras import ops

# Keras exports no public entry to its backends' LSTM kernels (cuDNN on TensorFlow and JAX with a GPU,
# and torch's own LSTM), which `keras.layers.LSTM.inner_loop` calls as `backend.lstm`. The private
# import is the only way to run them on this cell's variables; it is looked up at call time, so the
# tests can stand a reference in for cuDNN, and tests/layers/test_lstm_cudnn.py fails if the
# function moves or changes its arguments.
from keras.src import backend as keras_backend

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
    """`keras.layers.RNN(TextbookLSTMCell(units, ...))` with flat arguments, that runs on cuDNN where
    `keras.layers.LSTM` would, and otherwise projects the inputs of all steps in one matrix product
    before the time loop (see `DenseRecurrentLayer`).

    Each call takes the first of these that applies:

    1. The backend's LSTM kernel, the one `keras.layers.LSTM` uses, on the cell's own `kernel`,
       `recurrent_kernel` and `bias` (the input dropout mask applied first, as Keras does): on
       TensorFlow, cuDNN (`CudnnRNNV3`) when a GPU is visible, the activations are tanh and sigmoid,
       `use_bias`, no `recurrent_dropout` (even outside training) and no `unroll`; a mask must then
       be right-padded (a `tf.Assert` fails otherwise: pass `use_cudnn=False`). A fully masked row
       gets what the generic loop gives it: zero outputs and the initial states. On JAX, cuDNN
       under the same conditions and no mask. On torch, torch's LSTM whenever there is no mask
       (cuDNN on a CUDA device, Keras's torch loop elsewhere).
    2. Otherwise `DenseRecurrentLayer`'s loop: the fused TensorFlow function, or the generic
       `keras.ops` step of the cell inside `keras.layers.RNN`.

    The variables are the same on every path, so weights, `.keras` files and run backups move
    between machines with and without a GPU. On TensorFlow, a layer that may take cuDNN sets
    `supports_jit = False`, as `keras.layers.LSTM` does (cuDNN ops do not compile with XLA).

    Args:
        units: Positive integer, size of h and c.
        use_cudnn: `"auto"` takes the backend's kernel when the call allows it; `True` raises a
            ValueError when it does not; `False` never takes it. Default: `"auto"`.
        **kwargs: The cell's arguments (`TextbookLSTMCell`) and `DenseRecurrentLayer`'s
            (`return_sequences`, `return_state`, `go_backwards`, `stateful`, `unroll`, `fused`,
            `name`, ...).

    Example:

    >>> TextbookLSTM(4, return_sequences=True)(np.zeros((2, 6, 3), "float32")).shape
    (2, 6, 4)
    """

    cell_class = TextbookLSTMCell

    def __init__(self, units, use_cudnn="auto", **kwargs):
        # Not `in ("auto", True, False)`, which lets 1 and 0 through (1 == True).
        if not (use_cudnn is True or use_cudnn is False or (isinstance(use_cudnn, str) and use_cudnn == "auto")):
            raise ValueError(f"TextbookLSTM: `use_cudnn` must be 'auto', True or False, got {use_cudnn!r}.")
        super().__init__(units, **kwargs)
        self.use_cudnn = use_cudnn
        cell = self.cell
        if use_cudnn is True and not self._cudnn_arguments():
            raise ValueError(
                "TextbookLSTM: use_cudnn=True needs activation='tanh', recurrent_activation='sigmoid', "
                f"use_bias=True, recurrent_dropout=0 and unroll=False; got {self._arguments_text()}."
            )
        if (keras.backend.backend() == "tensorflow" and use_cudnn is not False
                and keras_backend.cudnn_ok(cell.activation, cell.recurrent_activation, self.unroll, cell.use_bias)):
            self.supports_jit = False

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if self.use_cudnn is not False and not self.cell.recurrent_dropout:
            try:
                outputs = self._backend_lstm(sequences, initial_state, mask, training)
            except NotImplementedError:
                pass
            else:
                if keras.backend.backend() == "tensorflow":
                    self.supports_jit = False
                return outputs
        if self.use_cudnn is True:
            raise ValueError(
                f"TextbookLSTM: use_cudnn=True, but the {keras.backend.backend()} backend's LSTM kernel "
                "cannot run this call (on TensorFlow and JAX it needs a GPU, on JAX and torch no mask): "
                "pass use_cudnn='auto' to fall back."
            )
        return super().inner_loop(sequences, initial_state, mask, training=training)

    def _cudnn_arguments(self):
        """Whether the layer's arguments allow the backend's LSTM kernel (the device decides the rest)."""
        cell = self.cell
        return (cell.activation in (keras.activations.tanh, ops.tanh)
                and cell.recurrent_activation in (keras.activations.sigmoid, ops.sigmoid)
                and cell.use_bias and not cell.recurrent_dropout and not self.unroll)

    def _arguments_text(self):
        cell = self.cell
        return (f"activation={keras.activations.serialize(cell.activation)!r}, recurrent_activation="
                f"{keras.activations.serialize(cell.recurrent_activation)!r}, use_bias={cell.use_bias}, "
                f"recurrent_dropout={cell.recurrent_dropout}, unroll={self.unroll}")

    def _backend_lstm(self, sequences, initial_state, mask, training):
        """`keras.layers.LSTM.inner_loop`'s call of the backend kernel; NotImplementedError where
        the backend has none for these arguments."""
        cell = self.cell
        if keras.tree.is_nested(mask):
            mask = mask[0]
        if training and cell.dropout > 0.0:
            dropout_mask = ops.expand_dims(cell.get_dropout_mask(sequences[:, 0, :]), axis=1)
            sequences = sequences * ops.broadcast_to(dropout_mask, ops.shape(sequences))
        empty = None
        if mask is not None:
            # cuDNN takes no row of length 0 (TensorFlow's `_cudnn_lstm` asserts it at run time), and a
            # text with no token left is one. Such a row runs one step here, and its results are then
            # replaced by the generic loop's: zero outputs and the initial states.
            mask = ops.cast(mask, "bool")
            empty = ops.logical_not(ops.any(mask, axis=1))
            first_step = ops.expand_dims(ops.arange(ops.shape(mask)[1]) == 0, axis=0)
            mask = ops.logical_or(mask, ops.logical_and(ops.expand_dims(empty, axis=1), first_step))
        last_output, outputs, states = keras_backend.lstm(
            sequences,
            initial_state[0],
            initial_state[1],
            mask,
            kernel=cell.kernel,
            recurrent_kernel=cell.recurrent_kernel,
            bias=cell.bias,
            activation=cell.activation,
            recurrent_activation=cell.recurrent_activation,
            return_sequences=self.return_sequences,
            go_backwards=self.go_backwards,
            unroll=self.unroll,
        )
        if empty is None:
            return last_output, outputs, states
        row = ops.expand_dims(empty, axis=1)
        last_output = ops.where(row, ops.zeros_like(last_output), last_output)
        outputs = ops.where(ops.expand_dims(row, axis=2), ops.zeros_like(outputs), outputs)
        states = [ops.where(row, initial, final) for initial, final in zip(initial_state, states, strict=True)]
        return last_output, outputs, states

    def get_config(self):
        return {**super().get_config(), "use_cudnn": self.use_cudnn}
