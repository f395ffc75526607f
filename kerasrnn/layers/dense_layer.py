"""The layer of the dense cells: `keras.layers.RNN` that projects the inputs of all steps at once."""

import keras
from keras import ops

# Arguments of keras.layers.RNN (and keras.Layer) that the layer keeps; every other keyword goes to
# the cell.
_LAYER_KEYWORDS = ("name", "dtype", "trainable", "autocast", "input_shape", "input_dim",
                   "activity_regularizer", "zero_output_for_mask")


class DenseRecurrentLayer(keras.layers.RNN):
    """`keras.layers.RNN(cell)` for a `DenseRecurrentCell`, with flat arguments and a faster loop.

    Before the time loop it computes x_t W + b for every step as one matrix product of the whole
    `(batch, time, input_dim)` sequence (the input dropout mask applied, one per sequence), and the
    loop then runs only the recurrent part of each step (`cell.recurrent_step`). The numbers equal
    `keras.layers.RNN(cell)` with the same weights; masking, `go_backwards`, `stateful`, `unroll`,
    `return_state` and both dropouts work as there. Subclasses set `cell_class`.

    Args:
        units: Positive integer, size of the hidden state.
        return_sequences, return_state, go_backwards, stateful, unroll: As in `keras.layers.RNN`.
        fused: On the TensorFlow backend, run the whole sequence as one function with a
            hand-written gradient (`kerasrnn.layers.fused_tf`) whenever the call allows it: no mask,
            no recurrent dropout while training, no `unroll`, float32, the cell's default
            activations. Same numbers, less time. Default: `True`; `False` always runs the generic
            `keras.ops` step inside `keras.layers.RNN`.
        **kwargs: The cell's arguments (activation, initializers, dropout, seed, ...) and the
            layer's (`name`, `dtype`, `trainable`, ...).
    """

    cell_class = None

    def __init__(self, units, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, fused=True, **kwargs):
        self.fused = bool(fused)
        layer_kwargs = {key: kwargs.pop(key) for key in _LAYER_KEYWORDS if key in kwargs}
        cell = self.cell_class(units, dtype=layer_kwargs.get("dtype"),
                               trainable=layer_kwargs.get("trainable", True), name="cell", **kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **layer_kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=3)

    @property
    def units(self):
        return self.cell.units

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if self._can_fuse(mask, training):
            return self._fused_loop(sequences, initial_state, training)
        projected = self.cell.input_projection(sequences, training)
        self.cell.inputs_projected = True
        try:
            return super().inner_loop(projected, initial_state, mask, training=training)
        finally:
            self.cell.inputs_projected = False

    def _can_fuse(self, mask, training):
        """Whether this call can run the TensorFlow fast path (`kerasrnn.layers.fused_tf`)."""
        cell = self.cell
        return (
            self.fused
            and keras.backend.backend() == "tensorflow"
            and mask is None
            and not self.unroll
            and not (training and cell.recurrent_dropout > 0.0)
            and cell.compute_dtype == "float32"
            and cell.can_fuse()
        )

    def _fused_loop(self, sequences, initial_state, training):
        """`inner_loop`'s results from the cell's whole-sequence function, time-major inside.

        The inputs are made time-major (and reversed for `go_backwards`) before the projection, where
        they are `input_dim` wide, not `gates * units`: the transposes cost that much less, forward
        and backward. With input dropout the mask is per sequence, drawn from the batch-major inputs,
        so there the projection comes first.
        """
        dropped = training and self.cell.dropout > 0.0
        steps = ops.transpose(self.cell.input_projection(sequences, training) if dropped else sequences, (1, 0, 2))
        if self.go_backwards:
            steps = ops.flip(steps, axis=0)
        if not dropped:
            steps = self.cell.input_projection(steps, training)
        outputs, states = self.cell.fused_sequence(steps, list(initial_state))
        return outputs[-1], ops.transpose(outputs, (1, 0, 2)), states

    def get_config(self):
        base_config = super().get_config()
        base_config["fused"] = self.fused
        del base_config["cell"]
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        return {**base_config, **cell_config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
