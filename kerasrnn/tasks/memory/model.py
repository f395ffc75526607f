"""The network, metrics and tf.data pipelines of the long-memory tasks (`MemoryTask`).

- copy: one-hot symbols `(batch, T + 20, 10)` → recurrent layer (every step) → dense logits over
  the 9 output classes at every step; sparse cross-entropy averaged over all steps.
- adding: `(batch, T, 2)` → recurrent layer (last step) → dense `(batch, 1)`; mean squared error.

Every function takes the task object (a `MemoryTask`), which says the shapes, the batches and the
loss. Layers are named `recurrent` and `readout`; `kerasrnn.analysis.gradients` finds them by name.

Example:

```python
task = get_task("copy")
config = task.config_class(cell="urnn", length=10)
model = build_model(task, config, seed=0)
loss, accuracy = evaluate_on_fixed_set(task, config, model, seed=1, size=100)
```
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from kerasrnn.engine.tracing import predictor
from kerasrnn.recurrent import make_recurrent_layer
from kerasrnn.tasks.memory import data


def build_model(task, config, *, seed: int | None = None) -> keras.Model:
    """The network of `task` with `config.cell` and `config.units`.

    Its layers take the global dtype policy, so building it under `keras.config.set_dtype_policy(
    "float64")` gives a float64 network.
    """
    inputs = keras.Input((None, task.input_features), name=task.input_name)
    hidden = make_recurrent_layer(
        config.cell, config.units, return_sequences=task.reads_every_step, seed=seed, name="recurrent"
    )(inputs)
    outputs = keras.layers.Dense(task.output_size, name="readout")(hidden)
    return keras.Model(inputs, outputs, name=f"{task.name}_{config.cell.replace('-', '_')}")


@keras.saving.register_keras_serializable(package="kerasrnn")
class LossOverBaseline(keras.metrics.Mean):
    """The task's loss divided by its memoryless baseline: below 1 means the model remembers.

    Saved in `model.keras` with its task's name and baseline, and found again by that name.
    """

    def __init__(self, task="copy", baseline=1.0, name="of_baseline", dtype=None):
        from kerasrnn.tasks import get_task

        super().__init__(name=name, dtype=dtype)
        self.task = task
        self.baseline = float(baseline)
        self._per_sequence_loss = get_task(task).per_sequence_loss

    def update_state(self, y_true, y_pred, sample_weight=None):
        ratio = self._per_sequence_loss(y_true, y_pred) / self.baseline
        return super().update_state(ratio, sample_weight=sample_weight)

    def get_config(self):
        return {**super().get_config(), "task": self.task, "baseline": self.baseline}


@keras.saving.register_keras_serializable(package="kerasrnn")
def copy_accuracy(y_true, y_pred):
    """Per sequence, the fraction of the 10 copied symbols (the last 10 steps) predicted right."""
    copied = data.COPY_SYMBOLS
    right = keras.ops.equal(
        keras.ops.cast(y_true[:, -copied:], "int32"),
        keras.ops.cast(keras.ops.argmax(y_pred[:, -copied:], axis=-1), "int32"),
    )
    return keras.ops.mean(keras.ops.cast(right, "float32"), axis=-1)


def _signature(task, length: int):
    target_shape, target_dtype = task.target_spec(length)
    return (tf.TensorSpec((None, task.sequence_steps(length), task.input_features), tf.float32),
            tf.TensorSpec((None, *target_shape), target_dtype))


def training_batches(task, config, batch_size: int, seed: int, *, first_step: int = 0) -> tf.data.Dataset:
    """Endless training batches; batch i is drawn from the generator seeded `(seed, i)`.

    Seeding each batch by its index makes a resumed run (`first_step` > 0) see the batches it
    would have seen without the interruption.
    """

    def generate():
        step = first_step
        while True:
            yield task.make_batch(np.random.default_rng([seed, step]), batch_size, config.length)
            step += 1

    dataset = tf.data.Dataset.from_generator(generate, output_signature=_signature(task, config.length))
    return dataset.prefetch(2)


def fixed_arrays(task, config, seed: int, size: int, dtype="float32"):
    """`size` sequences drawn once from the generator seeded `seed`, as `(inputs, targets)` arrays."""
    return task.make_batch(np.random.default_rng(seed), size, config.length, dtype=dtype)


def fixed_set(task, config, seed: int, size: int, batch_size: int) -> tf.data.Dataset:
    """The fixed validation (or test) set, batched."""
    return tf.data.Dataset.from_tensor_slices(fixed_arrays(task, config, seed, size)).batch(batch_size)


def evaluate_on_fixed_set(task, config, model: keras.Model, seed: int, size: int, batch_size: int = 250):
    """`(mean loss, accuracy or None)` of `model` over the fixed set seeded `seed`, in float64."""
    inputs, targets = fixed_arrays(task, config, seed, size)
    losses, right = [], []
    predict = predictor(model)  # one trace, the last (smaller) batch included
    for start in range(0, size, batch_size):
        x, y = inputs[start:start + batch_size], targets[start:start + batch_size]
        predictions = np.asarray(predict(x), dtype=np.float64)
        losses.append(np.asarray(task.per_sequence_loss(y, predictions), dtype=np.float64))
        accuracy = task.sequence_accuracy(y, predictions)
        if accuracy is not None:
            right.append(np.asarray(accuracy))
    loss = float(np.mean(np.concatenate(losses)))
    return loss, (float(np.mean(np.concatenate(right))) if right else None)
