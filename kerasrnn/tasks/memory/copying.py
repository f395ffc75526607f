"""Copying memory (task `copy`): recall 10 symbols after a delay of T steps.

Arjovsky, Shah & Bengio (2016), §4.1. The input is 10 symbols drawn from 8, T − 1 blanks, a
delimiter and 10 blanks; the network must output blanks until the delimiter's 10 following steps,
then the 10 symbols in order (details and generator in `data`). The loss is the cross-entropy
averaged over all T + 20 steps, in nats; the memoryless baseline is 10·ln 8 / (T + 20) (0.1733 at
T = 100). A vanilla tanh RNN stays at the baseline; the uRNN goes to about 0.

Example:

```python
task = CopyTask()
config = CopyConfig(cell="urnn", length=100)
result = kerasrnn.engine.run.train(task, config, task.default_train_config(config))
print(result.summary())
```
"""

from __future__ import annotations

import dataclasses
import math

from kerasrnn.tasks.memory import data
from kerasrnn.tasks.memory.base import MemoryTask, MemoryTaskConfig


@dataclasses.dataclass(frozen=True)
class CopyConfig(MemoryTaskConfig):
    """Settings of the copying task; `length` is the delay T (sequences have T + 20 steps).

    See `MemoryTaskConfig` for the fields.
    """


class CopyTask(MemoryTask):
    """Copying memory: one-hot symbols in, logits over the 9 output classes at every step out."""

    name = "copy"
    config_class = CopyConfig
    loss_unit = "nats/step"
    input_name = "symbols"
    input_features = data.COPY_INPUT_CLASSES
    output_size = data.COPY_OUTPUT_CLASSES
    reads_every_step = True

    def sequence_steps(self, length: int) -> int:
        return data.copy_steps(length)

    def make_batch(self, rng, batch_size: int, length: int, dtype="float32"):
        """One-hot input symbols `(batch, T + 20, 10)` and int32 target classes `(batch, T + 20)`."""
        ids, targets = data.copy_batch(rng, batch_size, length)
        return data.one_hot(ids, dtype=dtype), targets

    def target_spec(self, length: int):
        return (self.sequence_steps(length),), "int32"

    def divergence_threshold(self, config, prepared) -> float:
        """10 × the loss of a uniform guess over the output classes, not 10 × the memoryless
        baseline (the default of the memory tasks): that baseline is so low that an untrained
        model's first steps are above 10 times it."""
        return 10 * math.log(self.output_size)

    def baseline_of(self, config: CopyConfig) -> float:
        """10·ln 8 / (T + 20) nats per step."""
        return data.copy_baseline(config.length)

    def loss(self):
        """Cross-entropy from the logits, averaged over every step."""
        import keras

        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def per_sequence_loss(self, targets, predictions):
        import keras

        losses = keras.losses.sparse_categorical_crossentropy(targets, predictions, from_logits=True)
        return keras.ops.mean(losses, axis=-1)

    def readout(self, layer, outputs):
        import keras

        return layer(keras.ops.transpose(outputs, (1, 0, 2)))

    def extra_metrics(self) -> list:
        import keras

        from kerasrnn.tasks.memory.model import copy_accuracy

        return [keras.metrics.MeanMetricWrapper(copy_accuracy, name="copy_accuracy")]

    def sequence_accuracy(self, targets, predictions):
        from kerasrnn.tasks.memory.model import copy_accuracy

        return copy_accuracy(targets, predictions)
