"""The character language model's network and its loss (see `kerasrnn.tasks.charlm.task`)."""

from __future__ import annotations

import keras
import tensorflow as tf

from kerasrnn.recurrent import make_recurrent_layer
from kerasrnn.tasks.charlm import data as char_data


def build_char_lm(config, vocabulary_size: int, *, seed: int | None = None) -> keras.Model:
    """The character language model: ids `(batch, time)` → logits `(batch, time, vocabulary_size)`.

    Embedding → `config.layers` recurrent layers of `config.cell` (each followed by dropout when
    `config.dropout`; from the second on, added to its input when `config.residual`) → dense logits.
    Layers are named `embedding`, `recurrent_1`…, `dropout_1`…, `residual_2`…, `logits`; the sampler
    finds them by name.

    Args:
      config: a `CharLMConfig`.
      vocabulary_size: number of ids, special tokens included.
      seed: seed of the dropout masks. Default None.
    """
    ids = keras.Input((None,), dtype="int32", name="ids")
    x = keras.layers.Embedding(vocabulary_size, config.embedding_dim, name="embedding")(ids)
    for index in range(1, config.layers + 1):
        layer_seed = None if seed is None else seed + index
        y = make_recurrent_layer(
            config.cell, config.units, return_sequences=True, seed=layer_seed, name=f"recurrent_{index}"
        )(x)
        if config.dropout:
            y = keras.layers.Dropout(config.dropout, seed=layer_seed, name=f"dropout_{index}")(y)
        x = keras.layers.Add(name=f"residual_{index}")([x, y]) if config.residual and index > 1 else y
    # float32 logits even under mixed precision: the softmax in the loss needs the range.
    logits = keras.layers.Dense(vocabulary_size, dtype="float32", name="logits")(x)
    return keras.Model(ids, logits, name=f"char_lm_{config.cell.replace('-', '_')}")


def loss_function() -> keras.losses.Loss:
    """Mean cross-entropy per character, in nats, from logits."""
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def evaluate_loss(model: keras.Model, ids, sequence_length: int, batch_size: int = 64) -> float:
    """Mean cross-entropy in nats per character of `model` over `consecutive_windows` of `ids`."""
    total, count = 0.0, 0
    for inputs, targets in char_data.consecutive_windows(ids, sequence_length, batch_size):
        logits = model.predict_on_batch(inputs)  # Keras traces and caches its predict function
        losses = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
        total += float(tf.reduce_sum(tf.cast(losses, tf.float64)))
        count += int(tf.size(targets))
    return total / count
