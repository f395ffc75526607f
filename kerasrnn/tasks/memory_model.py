"""The network, losses, metrics and tf.data pipelines of the long-memory tasks (`memory_task`).

- copy: one-hot symbols `(batch, T + 20, 10)` → recurrent layer (every step) → dense logits over
  the 9 output classes at every step; sparse cross-entropy averaged over all steps.
- adding: `(batch, T, 2)` → recurrent layer (last step) → dense `(batch, 1)`; mean squared error.

Layers are named `recurrent` and `readout`; `kerasrnn.gradient_norms` finds them by name.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from kerasrnn.recurrent import make_recurrent_layer
from kerasrnn.tasks import memory_data


def build_model(task: str, config, *, seed: int | None = None) -> keras.Model:
    """The network of `task` (`"copy"` or `"adding"`) with `config.cell` and `config.units`.

    Its layers take the global dtype policy, so building it under `keras.config.set_dtype_policy(
    "float64")` gives a float64 network.
    """
    if task == "copy":
        inputs = keras.Input((None, memory_data.COPY_INPUT_CLASSES), name="symbols")
        outputs_size, return_sequences = memory_data.COPY_OUTPUT_CLASSES, True
    else:
        inputs = keras.Input((None, 2), name="values_and_markers")
        outputs_size, return_sequences = 1, False
    hidden = make_recurrent_layer(
        config.cell, config.units, return_sequences=return_sequences, seed=seed, name="recurrent"
    )(inputs)
    outputs = keras.layers.Dense(outputs_size, name="readout")(hidden)
    return keras.Model(inputs, outputs, name=f"{task}_{config.cell.replace('-', '_')}")


def loss_function(task: str) -> keras.losses.Loss:
    """Copy: cross-entropy from logits averaged over every step; adding: mean squared error."""
    if task == "copy":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return keras.losses.MeanSquaredError()


def per_sequence_loss(task: str, targets, predictions):
    """The task's loss of each sequence, shape `(batch,)` (copy: the mean over its steps)."""
    if task == "copy":
        losses = keras.losses.sparse_categorical_crossentropy(targets, predictions, from_logits=True)
        return keras.ops.mean(losses, axis=-1)
    return keras.ops.mean(keras.ops.square(predictions - keras.ops.cast(targets, predictions.dtype)), axis=-1)


@keras.saving.register_keras_serializable(package="kerasrnn")
class LossOverBaseline(keras.metrics.Mean):
    """The task's loss divided by its memoryless baseline: below 1 means the model remembers."""

    def __init__(self, task="copy", baseline=1.0, name="of_baseline", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.task = task
        self.baseline = float(baseline)

    def update_state(self, y_true, y_pred, sample_weight=None):
        ratio = per_sequence_loss(self.task, y_true, y_pred) / self.baseline
        return super().update_state(ratio, sample_weight=sample_weight)

    def get_config(self):
        return {**super().get_config(), "task": self.task, "baseline": self.baseline}


@keras.saving.register_keras_serializable(package="kerasrnn")
def copy_accuracy(y_true, y_pred):
    """Per sequence, the fraction of the 10 copied symbols (the last 10 steps) predicted right."""
    copied = memory_data.COPY_SYMBOLS
    right = keras.ops.equal(
        keras.ops.cast(y_true[:, -copied:], "int32"),
        keras.ops.cast(keras.ops.argmax(y_pred[:, -copied:], axis=-1), "int32"),
    )
    return keras.ops.mean(keras.ops.cast(right, "float32"), axis=-1)


def metrics(task: str, baseline: float) -> list:
    """`of_baseline` for both tasks, and `copy_accuracy` for copy."""
    found = [LossOverBaseline(task, baseline)]
    if task == "copy":
        found.append(keras.metrics.MeanMetricWrapper(copy_accuracy, name="copy_accuracy"))
    return found


def make_batch(task: str, rng: np.random.Generator, batch_size: int, length: int, dtype="float32"):
    """One batch `(inputs, targets)` as the network takes it (copy inputs one-hot)."""
    if task == "copy":
        ids, targets = memory_data.copy_batch(rng, batch_size, length)
        return memory_data.one_hot(ids, dtype=dtype), targets
    inputs, targets = memory_data.adding_batch(rng, batch_size, length)
    return inputs.astype(dtype), targets.astype(dtype)


def _signature(task: str, length: int):
    if task == "copy":
        steps = memory_data.copy_steps(length)
        return (tf.TensorSpec((None, steps, memory_data.COPY_INPUT_CLASSES), tf.float32),
                tf.TensorSpec((None, steps), tf.int32))
    return tf.TensorSpec((None, length, 2), tf.float32), tf.TensorSpec((None, 1), tf.float32)


def training_batches(
    task: str, config, batch_size: int, seed: int, *, first_step: int = 0
) -> tf.data.Dataset:
    """Endless training batches; batch i is drawn from the generator seeded `(seed, i)`.

    Seeding each batch by its index makes a resumed run (`first_step` > 0) see the batches it
    would have seen without the interruption.
    """

    def generate():
        step = first_step
        while True:
            yield make_batch(task, np.random.default_rng([seed, step]), batch_size, config.length)
            step += 1

    dataset = tf.data.Dataset.from_generator(generate, output_signature=_signature(task, config.length))
    return dataset.prefetch(2)


def fixed_arrays(task: str, config, seed: int, size: int, dtype="float32"):
    """`size` sequences drawn once from the generator seeded `seed`, as `(inputs, targets)` arrays."""
    return make_batch(task, np.random.default_rng(seed), size, config.length, dtype=dtype)


def fixed_set(task: str, config, seed: int, size: int, batch_size: int) -> tf.data.Dataset:
    """The fixed validation (or test) set, batched."""
    return tf.data.Dataset.from_tensor_slices(fixed_arrays(task, config, seed, size)).batch(batch_size)


def evaluate_model(task: str, config, model: keras.Model, seed: int, size: int, batch_size: int = 250):
    """`(mean loss, copy accuracy or None)` of `model` over the fixed set seeded `seed`, in float64."""
    inputs, targets = fixed_arrays(task, config, seed, size)
    losses, right = [], []
    for start in range(0, size, batch_size):
        x, y = inputs[start:start + batch_size], targets[start:start + batch_size]
        predictions = np.asarray(model.predict_on_batch(x), dtype=np.float64)
        losses.append(np.asarray(per_sequence_loss(task, y, predictions), dtype=np.float64))
        if task == "copy":
            right.append(np.asarray(copy_accuracy(y, predictions)))
    loss = float(np.mean(np.concatenate(losses)))
    return loss, (float(np.mean(np.concatenate(right))) if task == "copy" else None)
