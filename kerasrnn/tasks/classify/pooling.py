"""Pooling over time that honours the mask: the text classifier's summary of every step of its
recurrent layers (the real-text preset's), instead of the last state only.

A review's verdict can sit anywhere in it ("… but the ending is superb"); the last state of a
recurrent layer must carry it to the end, a pool over every step need not. Padding (masked steps)
never enters the pool: a batch padded to its longest text gives every text the same answer as it
alone would get.

| `mode`        | the summary of the steps `h_1 … h_T` of one text (masked steps left out)                |
| ------------- | --------------------------------------------------------------------------------------- |
| `"max"`       | the largest value of each feature over the steps                                        |
| `"mean"`      | the mean of the steps                                                                   |
| `"attention"` | `Σ softmax(s)_t h_t` with scores `s_t = v · tanh(W h_t + b)`, learned (Yang et al. 2016) |

A text with no unmasked step (an empty text) pools to zeros.

Example:

```python
steps = keras.layers.Bidirectional(keras.layers.LSTM(64, return_sequences=True))(embedded)
summary = MaskedPooling("attention", name="pooling")(steps)     # (batch, 128)
```
"""

from __future__ import annotations

import keras
from keras import ops

from kerasrnn import checks
from kerasrnn.tasks.classify.task import POOLING_MODES  # "last" among them: no pooling layer, the final state


@keras.saving.register_keras_serializable(package="kerasrnn")
class MaskedPooling(keras.layers.Layer):
    """`(batch, time, features)` with a mask `(batch, time)` → `(batch, features)`.

    Args:
      mode: `"max"`, `"mean"` or `"attention"` (see the module docstring).
      attention_units: size of the attention's hidden layer (`W`); None: the features' size.
      **kwargs: `keras.layers.Layer`'s (`name`, `dtype`).
    """

    def __init__(self, mode: str, attention_units: int | None = None, **kwargs):
        super().__init__(**kwargs)
        checks.one_of("pooling", mode, POOLING_MODES[1:])
        if attention_units is not None:
            checks.positive_int("attention units", attention_units)
        self.mode, self.attention_units = mode, attention_units
        self.supports_masking = True

    def build(self, input_shape):
        features = int(input_shape[-1])
        if self.mode == "attention":
            hidden = self.attention_units or features
            self.projection = self.add_weight(name="projection", shape=(features, hidden),
                                              initializer="glorot_uniform")
            self.projection_bias = self.add_weight(name="projection_bias", shape=(hidden,), initializer="zeros")
            self.score = self.add_weight(name="score", shape=(hidden,), initializer="glorot_uniform")

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        valid = ops.cast(ops.expand_dims(mask, -1), inputs.dtype)  # (batch, time, 1)
        any_step = ops.cast(ops.any(mask, axis=1, keepdims=True), inputs.dtype)  # (batch, 1)
        if self.mode == "max":
            lowest = ops.min(inputs) - 1.0  # below every real value, so a masked step never wins
            pooled = ops.max(ops.where(ops.expand_dims(mask, -1), inputs, lowest), axis=1)
            return pooled * any_step
        if self.mode == "mean":
            return ops.sum(inputs * valid, axis=1) / ops.maximum(ops.sum(valid, axis=1), 1.0)
        scores = ops.tensordot(ops.tanh(ops.tensordot(inputs, self.projection, 1) + self.projection_bias),
                               self.score, 1)  # (batch, time)
        scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=1) * ops.cast(mask, inputs.dtype)  # all-masked rows: zeros
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None  # one vector per text: nothing left to mask

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "attention_units": self.attention_units}
