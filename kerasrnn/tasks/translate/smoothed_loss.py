"""Cross-entropy with label smoothing for integer targets: the training loss of `--label-smoothing`.

With smoothing ε the target distribution is (1 − ε) on the reference token and ε spread evenly over
the V tokens of the vocabulary (Szegedy et al. 2016; Vaswani et al. 2017 use ε = 0.1 for
translation), so the loss of a step with log-probabilities log p is

    (1 − ε) · (−log p[target]) + ε · mean over the vocabulary of (−log p)

which keeps the model from staking everything on one token. Keras's `CategoricalCrossentropy` has
the same `label_smoothing` but wants one-hot targets, a (batch, time, V) tensor per batch; this one
takes the ids as they are. ε = 0 is `SparseCategoricalCrossentropy(from_logits=True)` exactly.

Example:

```python
loss = SmoothedSparseCrossentropy(0.1, reduction="mean_with_sample_weight")
loss(targets, logits, sample_weight=weights)
```
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kerasrnn")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Label-smoothed cross-entropy of logits `(..., V)` against integer targets `(...)`, in nats.

    Args:
      smoothing: ε in [0, 1): the probability mass spread evenly over the vocabulary.
      **kwargs: `keras.losses.Loss`'s (`reduction`, `name`, `dtype`).
    """

    def __init__(self, smoothing: float = 0.0, **kwargs):
        kwargs.setdefault("name", "smoothed_sparse_crossentropy")
        super().__init__(**kwargs)
        if not 0.0 <= float(smoothing) < 1.0:
            raise ValueError(f"label smoothing must be in [0, 1), got {smoothing!r}")
        self.smoothing = float(smoothing)

    def call(self, y_true, y_pred):
        log_probabilities = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)
        targets = ops.expand_dims(ops.cast(y_true, "int32"), -1)
        negative_log_likelihood = -ops.squeeze(ops.take_along_axis(log_probabilities, targets, axis=-1), -1)
        if self.smoothing == 0.0:
            return negative_log_likelihood
        return (1.0 - self.smoothing) * negative_log_likelihood - self.smoothing * ops.mean(log_probabilities, axis=-1)

    def get_config(self):
        return {**super().get_config(), "smoothing": self.smoothing}
