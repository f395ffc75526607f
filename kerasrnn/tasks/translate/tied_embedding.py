"""The target embedding of `--tie-embeddings`: one matrix embeds the decoder's input tokens and
scores its output tokens (Press & Wolf 2017, "Using the output embedding to improve language
models"; Inan et al. 2017).

Untied, the decoder has two V × d matrices for the same V tokens: the input embedding and the
output layer's kernel. Tied, `layer(ids)` looks the rows up and `layer(features, reverse=True)` is
`features · Eᵀ + b`, a token's score its row's dot product with the decoder's output: a rare token
gets the gradient of both uses, and the network loses V × d parameters. The features must have the
embedding's width (the decoder's attentional output is made that wide, see `model`).

Example:

```python
embedding = TiedEmbedding(8000, 128, name="target_embedding")
vectors = embedding(ids)                       # (batch, T, 128)
logits = embedding(features, reverse=True)     # (batch, T, 8000)
```
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kerasrnn")
class TiedEmbedding(keras.layers.Layer):
    """An embedding of `input_dim` tokens in `output_dim` numbers that also gives their logits.

    Args:
      input_dim: the number of tokens (V).
      output_dim: the embedding's width (d).
      **kwargs: `keras.layers.Layer`'s (`name`, `dtype`).
    """

    def __init__(self, input_dim: int, output_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.supports_masking = True  # the decoder's mask over time passes through the scoring

    def build(self, input_shape=None):
        # keras.layers.Embedding's initialiser, so that a tied network starts like an untied one.
        self.embeddings = self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim),
                                          initializer="uniform")
        self.output_bias = self.add_weight(name="output_bias", shape=(self.input_dim,), initializer="zeros")

    def call(self, inputs, reverse: bool = False):
        if not reverse:
            return ops.take(self.embeddings, ops.cast(inputs, "int32"), axis=0)
        # Logits in float32, as the untied output layer's (dtype="float32") under mixed precision.
        features = ops.cast(inputs, "float32")
        return ops.matmul(features, ops.transpose(ops.cast(self.embeddings, "float32"))) + self.output_bias

    def compute_output_shape(self, input_shape, reverse: bool = False):
        if reverse:
            return (*input_shape[:-1], self.input_dim)
        return (*input_shape, self.output_dim)

    def compute_output_spec(self, inputs, reverse: bool = False):
        dtype = "float32" if reverse else self.compute_dtype
        return keras.KerasTensor(self.compute_output_shape(inputs.shape, reverse), dtype=dtype)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim}
