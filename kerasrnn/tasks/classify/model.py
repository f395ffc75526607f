"""The text classifier's network, its tf.data pipelines and its evaluation (see `task.py`)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from kerasrnn.engine.tracing import predictor
from kerasrnn.figures import png_figure
from kerasrnn.recurrent import make_recurrent_layer
from kerasrnn.tasks.classify import data as tokens
from kerasrnn.tasks.classify.pooling import MaskedPooling


def build_text_classifier(config, vocabulary_size: int, classes: int, *, seed: int | None = None) -> keras.Model:
    """Ids `(batch, time)` (0 = padding) → class logits `(batch, classes)`.

    Embedding with `mask_zero=True` (padding never enters the recurrence) → dropout of
    `config.embedding_dropout` → `config.layers` recurrent layers of `config.cell` (each wrapped in
    `Bidirectional` when `config.bidirectional`; all return sequences but the last, which does too
    unless `config.pooling` is `"last"`) → masked pooling over time (`pooling.MaskedPooling`, but
    for `"last"`) → dropout of `config.dropout` → dense logits. Layers are named `embedding`,
    `embedding_dropout`, `recurrent_1`…, `pooling`, `dropout`, `logits` (those of zero rates or no
    pooling left out).
    """
    ids = keras.Input((None,), dtype="int64", name="ids")
    x = keras.layers.Embedding(vocabulary_size, config.embedding_dim, mask_zero=True, name="embedding")(ids)
    if config.embedding_dropout:
        x = keras.layers.Dropout(config.embedding_dropout, seed=None if seed is None else seed + config.layers + 1,
                                 name="embedding_dropout")(x)
    pooled = config.pooling != "last"
    for index in range(1, config.layers + 1):
        layer_seed = None if seed is None else seed + index
        last = index == config.layers
        name = f"recurrent_{index}"
        layer = make_recurrent_layer(config.cell, config.units, return_sequences=pooled or not last, seed=layer_seed,
                                     name=None if config.bidirectional else name)
        if config.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=name)
        x = layer(x)
    if pooled:
        x = MaskedPooling(config.pooling, name="pooling")(x)
    if config.dropout:
        x = keras.layers.Dropout(config.dropout, seed=seed, name="dropout")(x)
    logits = keras.layers.Dense(classes, dtype="float32", name="logits")(x)
    return keras.Model(ids, logits, name=f"text_classifier_{config.cell.replace('-', '_')}")


def loss_function() -> keras.losses.Loss:
    """Mean cross-entropy per example, in nats, from logits."""
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def make_dataset(vectorizer, texts, labels, batch_size: int, max_length: int, *, seed: int | None = None,
                 first_step: int = 0):
    """Batches of `(ids, label)`; with `seed`: shuffled afresh each pass and repeated forever, from
    batch `first_step` on (the texts of skipped batches are shuffled, not vectorized)."""
    dataset = tf.data.Dataset.from_tensor_slices((tf.constant(texts, tf.string), tf.constant(labels, tf.int32)))
    if seed is not None:
        dataset = dataset.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True).repeat()
    dataset = dataset.batch(batch_size).skip(first_step)
    return dataset.map(
        lambda text, label: (tokens.vectorize_batch(vectorizer, text, max_length), label),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).prefetch(tf.data.AUTOTUNE)


def predict_probabilities(model, vectorizer, texts, max_length: int, batch_size: int = 256) -> np.ndarray:
    """Class probabilities `(len(texts), classes)`: softmax of the model's logits."""
    rows = []
    predict = predictor(model)  # one trace for batches of every size and length
    for start in range(0, len(texts), batch_size):
        ids = tokens.vectorize_batch(vectorizer, tf.constant(texts[start:start + batch_size]), max_length)
        rows.append(keras.ops.convert_to_numpy(keras.ops.softmax(predict(ids), axis=-1)))
    return np.concatenate(rows) if rows else np.zeros((0, model.output_shape[-1]), np.float32)


def confusion_matrix(labels, predictions, classes: int) -> np.ndarray:
    """`matrix[true, predicted]` counts."""
    matrix = np.zeros((classes, classes), np.int64)
    np.add.at(matrix, (np.asarray(labels, np.int64), np.asarray(predictions, np.int64)), 1)
    return matrix


def precision_recall(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision (right / predicted) and recall (right / true); 0 where nothing counts."""
    right = np.diag(matrix).astype(np.float64)
    predicted, true = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(right, predicted, out=np.zeros_like(right), where=predicted > 0)
    recall = np.divide(right, true, out=np.zeros_like(right), where=true > 0)
    return precision, recall


def plot_confusion_matrix(matrix: np.ndarray, class_names, path: Path, title: str) -> None:
    """Saves the confusion matrix as a PNG, atomically: rows the true class, columns the predicted one."""
    size = max(3.5, 0.6 * len(class_names) + 2)
    with png_figure(path, figsize=(size, size), dpi=100) as (_, axis):
        axis.imshow(matrix, cmap="Blues")
        ticks = range(len(class_names))
        axis.set_xticks(ticks, class_names, rotation=45, ha="right")
        axis.set_yticks(ticks, class_names)
        threshold = matrix.max() / 2 if matrix.size else 0
        for (row, column), count in np.ndenumerate(matrix):
            axis.text(column, row, f"{count:,}", ha="center", va="center",
                      color="white" if count > threshold else "black", fontsize=8)
        axis.set_xlabel("predicted")
        axis.set_ylabel("true")
        axis.set_title(title, fontsize=10)
