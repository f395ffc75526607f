"""The adding problem (task `adding`): add the two marked numbers of a sequence of T.

Arjovsky, Shah & Bengio (2016), §4.2 (after Hochreiter & Schmidhuber 1997). Each step holds a
number from U[0, 1] and a marker; one marker is in each half of the sequence, and the network must
output the sum of the two marked numbers after the last step (generator in `data`). The loss is the
mean squared error; always answering 1 scores 1/6 ≈ 0.167, the memoryless baseline. The LSTM and the
uRNN go to about 0 for T up to a few hundred; a vanilla tanh RNN does not.

Example:

```python
inputs, sums = AddingTask().make_batch(np.random.default_rng(0), batch_size=4, length=100)
inputs.shape, sums.shape                          # (4, 100, 2), (4, 1)
AddingTask().baseline_of(AddingConfig())          # 0.1667: always answering 1
```
"""

from __future__ import annotations

import dataclasses

from kerasrnn.tasks.memory import data
from kerasrnn.tasks.memory.base import MemoryTask, MemoryTaskConfig


@dataclasses.dataclass(frozen=True)
class AddingConfig(MemoryTaskConfig):
    """Settings of the adding problem; `length` is T, at least 2 (one marker in each half).

    See `MemoryTaskConfig` for the fields.
    """

    MIN_LENGTH = 2


class AddingTask(MemoryTask):
    """The adding problem: (value, marker) pairs in, one number after the last step out."""

    name = "adding"
    config_class = AddingConfig
    loss_unit = "MSE"
    input_name = "values_and_markers"
    input_features = 2
    output_size = 1
    reads_every_step = False

    def make_batch(self, rng, batch_size: int, length: int, dtype="float32"):
        """Inputs `(batch, T, 2)` and the sums `(batch, 1)`, both in `dtype`."""
        inputs, targets = data.adding_batch(rng, batch_size, length)
        return inputs.astype(dtype), targets.astype(dtype)

    def target_spec(self, length: int):
        return (1,), "float32"

    def baseline_of(self, config: AddingConfig) -> float:
        """1/6: the mean squared error of always answering 1."""
        return data.adding_baseline(config.length)

    def loss(self):
        import keras

        return keras.losses.MeanSquaredError()

    def per_sequence_loss(self, targets, predictions):
        import keras

        return keras.ops.mean(keras.ops.square(predictions - keras.ops.cast(targets, predictions.dtype)),
                              axis=-1)

    def readout(self, layer, outputs):
        return layer(outputs[-1])
