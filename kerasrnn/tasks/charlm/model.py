"""The character language model's network and its loss (see `kerasrnn.tasks.charlm.task`)."""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from kerasrnn.engine.tracing import predictor, traced_per_object
from kerasrnn.recurrent import make_recurrent_layer
from kerasrnn.tasks.charlm import data as char_data
from kerasrnn.tasks.charlm.carried_state import CarriedState


def build_char_lm(config, vocabulary_size: int, *, seed: int | None = None, rows: int | None = None
                  ) -> keras.Model:
    """The character language model: ids `(batch, time)` → logits `(batch, time, vocabulary_size)`.

    Embedding → `config.layers` recurrent layers of `config.cell` (each followed by dropout when
    `config.dropout`; from the second on, added to its input when `config.residual`) → dense logits.
    Layers are named `embedding`, `recurrent_1`…, `dropout_1`…, `residual_2`…, `logits`; the sampler
    finds them by name (`carried_state.recurrent_layer`). With `config.carry_state` each recurrent
    layer is inside a `CarriedState` (named `recurrent_<i>`, the layer itself `rnn_<i>`) that carries
    the state of each of the `rows` batch rows from one training window to the next.

    Args:
      config: a `CharLMConfig`.
      vocabulary_size: number of ids, special tokens included.
      seed: seed of the dropout masks. Default None.
      rows: the training batch size; needed (only) with `config.carry_state`.
    """
    carry = getattr(config, "carry_state", False)
    if carry and rows is None:
        raise ValueError("a model that carries its state needs the training batch size (rows)")
    ids = keras.Input((None,), dtype="int32", name="ids")
    # A row whose window starts with [BOS] starts a new text: its carried state is reset.
    reset = keras.ops.equal(ids[:, 0], char_data.BOS_ID) if carry else None
    x = keras.layers.Embedding(vocabulary_size, config.embedding_dim, name="embedding")(ids)
    for index in range(1, config.layers + 1):
        layer_seed = None if seed is None else seed + index
        if carry:
            inner = make_recurrent_layer(config.cell, config.units, return_sequences=True, return_state=True,
                                         seed=layer_seed, name=f"rnn_{index}")
            y = CarriedState(inner, rows, name=f"recurrent_{index}")([x, reset])
        else:
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
    predict = predictor(model)  # one trace, the last (shorter) batch included
    for inputs, targets in char_data.consecutive_windows(ids, sequence_length, batch_size):
        logits = predict(inputs)
        losses = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
        total += float(tf.reduce_sum(tf.cast(losses, tf.float64)))
        count += int(tf.size(targets))
    return total / count


# Characters of each part read side by side by `carried_loss`: a split up to this long is read as
# one stream (char-rnn's figure exactly); a longer one in ⌈n / STREAM_CHARACTERS⌉ parts side by side
# (each reset costs a few nats once, a few 1e-5 nats/char at most), so that a large streamed
# corpus's split takes minutes, not hours.
STREAM_CHARACTERS = 100_000
CARRIED_CHUNK = 512  # characters per compiled call of `carried_loss`


def carried_loss(model: keras.Model, config, ids, *, stream_characters: int = STREAM_CHARACTERS,
                 chunk: int = CARRIED_CHUNK) -> tuple[float, int]:
    """Mean cross-entropy in nats per character of `model` reading all of `ids` in order, its state
    carried from each character to the next (`[BOS]` first, from the initial state): the figure
    char-rnn-style language models report, and what sampling one character at a time would score.

    `ids` (a tensor or an `IdSpan`) longer than `stream_characters` is read as ⌈n / stream_characters⌉
    contiguous parts side by side (`data.stream_chunks`), each from `[BOS]`. Runs through the
    sampler's `CharStepper`, `chunk` characters per XLA call.

    Returns:
      `(loss, streams)`: the mean over every id of `ids`, and the number of parts read.
    """
    from kerasrnn.tasks.charlm.sampling import CharStepper

    size = char_data.id_count(ids)
    if size < 1:
        raise ValueError("nothing to read")
    streams = max(1, math.ceil(size / stream_characters))
    stepper = CharStepper(model, config.layers, config.residual)

    def read(inputs, targets, weights, states):
        logits, states = stepper.run(inputs, states)
        losses = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
        return tf.reduce_sum(losses * weights), states

    read = traced_per_object(read, jit_compile=True)

    states, total = stepper.initial_states(streams), 0.0
    for inputs, targets, weights in char_data.stream_chunks(ids, streams, chunk):
        loss, states = read(inputs, targets, weights, states)
        total += float(loss)
    return total / size, streams
