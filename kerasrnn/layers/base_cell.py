"""What every kerasrnn cell shares: argument checks, dropout masks, and the dense-matrix cell base.

The vanilla, GRU and LSTM cells all keep their weights the way Keras does: an input `kernel` of
shape `(input_dim, gates * units)`, a `recurrent_kernel` of shape `(units, gates * units)` and a
`bias` of shape `(gates * units,)`, with the gates side by side in the columns. `DenseRecurrentCell`
owns those weights and their Keras-style arguments once, so each cell file holds only its equations.
"""

import numbers

import keras
from keras import ops

# keras.layers.RNN fixes one dropout mask per sequence only for cells that inherit this mixin: it
# calls `get_dropout_mask` / `get_recurrent_dropout_mask` once before the time loop and resets them
# after it (see `RNN._maybe_config_dropout_masks`). Keras exports no public equivalent, so the private
# import is the only way for a custom cell to get per-sequence (variational) dropout inside
# `keras.layers.RNN`; keras is pinned in requirements.txt and tests/layers/test_dropout.py fails if
# the mixin moves or changes behaviour.
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell


def check_units(units, owner):
    """Returns `units` as an int, or raises a ValueError naming the bad value."""
    if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
        raise ValueError(f"{owner}: `units` must be a positive integer, got {units!r}.")
    return int(units)


def check_rate(value, name, owner):
    """Returns a dropout rate in [0, 1), or raises a ValueError naming the bad value."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value < 1.0:
        raise ValueError(f"{owner}: `{name}` must be a number in [0, 1), got {value!r}.")
    return float(value)


def get_activation(identifier, name, owner):
    """`keras.activations.get` with an error message that names the argument and the cell."""
    try:
        return keras.activations.get(identifier)
    except (ValueError, TypeError):
        raise ValueError(
            f"{owner}: unknown {name} {identifier!r}; use a keras.activations name such as "
            "'tanh', 'relu' or 'sigmoid'."
        ) from None


class DenseRecurrentCell(keras.Layer, DropoutRNNCell):
    """Base of the cells whose recurrence is dense matrices (vanilla RNN, GRU, LSTM).

    Subclasses set `gates` (how many `units`-wide blocks the kernels hold) and implement `call`.
    One dropout mask is drawn per sequence for the inputs and one for the recurrent state, applied
    to all gates alike (Keras's `implementation=2` convention).

    Args:
        units: Positive integer, size of the hidden state h.
        activation: Activation of the candidate state. Default: `"tanh"`.
        use_bias: Whether the cell has the bias vector. Default: `True`.
        kernel_initializer: Initializer of `kernel`. Default: `"glorot_uniform"`.
        recurrent_initializer: Initializer of `recurrent_kernel`. Default: `"orthogonal"`.
        bias_initializer: Initializer of `bias`. Default: `"zeros"`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: Optional constraints.
        dropout: Fraction of the input units to drop, in [0, 1). Default: 0.
        recurrent_dropout: Fraction of the state units to drop before the recurrent matmul.
            Default: 0.
        seed: Random seed of the dropout masks. Default: `None`.
    """

    gates = 1

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.units = check_units(units, owner)
        self.activation = get_activation(activation, "activation", owner)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.dropout = check_rate(dropout, "dropout", owner)
        self.recurrent_dropout = check_rate(recurrent_dropout, "recurrent_dropout", owner)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        # True only while a DenseRecurrentLayer runs its time loop on pre-projected inputs.
        self.inputs_projected = False

    def build(self, input_shape):
        input_dim = input_shape[-1]
        width = self.gates * self.units
        self.kernel = self.add_weight(
            shape=(input_dim, width),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, width),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(width,),
                name="bias",
                initializer=self._bias_initializer_for_build(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def _bias_initializer_for_build(self):
        """The initializer `build` gives `bias`; the LSTM overrides it to add the forget bias."""
        return self.bias_initializer

    def input_projection(self, inputs, training):
        """x W + b for all gates at once, with the sequence's input dropout mask applied to x.

        `inputs` is one step `(batch, input_dim)` or a whole sequence `(batch, time, input_dim)`
        (what `DenseRecurrentLayer` projects in one matrix product before its time loop).
        """
        if training and self.dropout > 0.0:
            mask = self.get_dropout_mask(inputs if len(inputs.shape) == 2 else inputs[:, 0])
            inputs = inputs * (mask if len(inputs.shape) == 2 else ops.expand_dims(mask, 1))
        projected = ops.matmul(inputs, self.kernel)
        if self.use_bias:
            projected = projected + self.bias
        return projected

    def call(self, inputs, states, training=False):
        """One step from the raw input x_t, or from x_t W + b inside a `DenseRecurrentLayer`."""
        if not self.inputs_projected:
            inputs = self.input_projection(inputs, training)
        return self.recurrent_step(inputs, states, training)

    def recurrent_step(self, projected, states, training):
        """One step from the projected input x_t W + b `(batch, gates * units)`; each cell's equations."""
        raise NotImplementedError

    def dropped_state(self, h, training):
        """h with the sequence's recurrent dropout mask applied (h itself when not training)."""
        if training and self.recurrent_dropout > 0.0:
            return h * self.get_recurrent_dropout_mask(h)
        return h

    def get_config(self):
        config = {
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": keras.regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": keras.constraints.serialize(self.recurrent_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}
