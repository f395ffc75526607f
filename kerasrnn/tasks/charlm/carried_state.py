"""Truncated backpropagation through time over a text read in order: a recurrent layer whose
training windows start from the state where the row's previous window ended (char-rnn's practice).

`CarriedState` wraps one recurrent layer of the character model. While training it keeps, in
non-trainable variables of shape `(rows, state size)`, the final state of each batch row, and starts
that row's next window from it; gradients stop there (the variables hold values, not a graph). A row
whose window starts with `[BOS]` starts from the layer's own initial state instead (zeros; the
uRNN's learned h0): `[BOS]` means "a text starts here", so the first window of each row's stream
resets it and every later window begins with the last character of the one before
(`data.carried_windows`). Outside training (validation, `evaluate`, export) the layer is the plain
layer from its initial state, for any batch size, and the variables are left alone.

The carried states are variables of the model, so the run's backup (`engine.backup`, which saves
`model.variables`) holds them and a resumed run continues each row from its exact state.

`recurrent_layer(model, index)` gives the recurrent layer `recurrent_<index>` of a model with or
without the wrapper: code that reads the cells (the sampler, the export) goes through it.

Example:

```python
inner = make_recurrent_layer("lstm", 64, return_sequences=True, return_state=True)
layer = CarriedState(inner, rows=32, name="recurrent_1")
outputs = layer([embedded, ids[:, 0] == BOS_ID], training=True)   # states carried to the next call
```
"""

from __future__ import annotations

import keras

from kerasrnn.recurrent import state_sizes


@keras.saving.register_keras_serializable(package="kerasrnn")
class CarriedState(keras.layers.Wrapper):
    """A recurrent layer that, while training, starts each batch row from that row's last state.

    Args:
      layer: a `keras.layers.RNN` (or subclass) built with `return_sequences=True` and
        `return_state=True`.
      rows: the batch size of training (one carried state per row).

    Call arguments:
      inputs: `[sequences, reset]`: `(rows, time, features)` and bool `(rows,)`, True for a row
        that starts a new stream (its window's first input is `[BOS]`).
      training: carry the states (True); else run from the initial state and change nothing.

    Returns:
      The layer's outputs `(batch, time, output size)`.
    """

    def __init__(self, layer, rows: int, **kwargs):
        super().__init__(layer, **kwargs)
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
            raise ValueError(f"rows must be a positive integer, got {rows!r}")
        if not getattr(layer, "return_state", False) or not getattr(layer, "return_sequences", False):
            raise ValueError("the wrapped layer must return its sequences and its states")
        self.rows = rows
        self.carried = []

    @property
    def cell(self):
        return self.layer.cell

    def get_initial_state(self, batch_size):
        return self.layer.get_initial_state(batch_size)

    def build(self, input_shape):
        sequences_shape = input_shape[0]
        if not self.layer.built:
            self.layer.build(sequences_shape)
        self.carried = [
            self.add_weight(shape=(self.rows, size), initializer="zeros", trainable=False, name=f"carried_{index}")
            for index, size in enumerate(state_sizes(self.layer.cell))
        ]

    def call(self, inputs, training=None):
        sequences, reset = inputs
        if not training:
            outputs, *_ = self.layer(sequences, training=training)
            return outputs
        initial = self.layer.get_initial_state(self.rows)
        reset = keras.ops.reshape(keras.ops.cast(reset, "bool"), (self.rows, 1))
        states = [keras.ops.where(reset, first, carried) for first, carried in zip(initial, self.carried)]
        outputs, *final = self.layer(sequences, initial_state=states, training=training)
        for variable, state in zip(self.carried, final):
            variable.assign(keras.ops.stop_gradient(state))
        return outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape[0])[0]

    def get_config(self):
        return {**super().get_config(), "rows": self.rows}


def recurrent_layer(model: keras.Model, index: int):
    """The recurrent layer `recurrent_<index>` of a character model (inside its `CarriedState`)."""
    layer = model.get_layer(f"recurrent_{index}")
    return layer.layer if isinstance(layer, CarriedState) else layer
