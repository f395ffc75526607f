"""The adding problem (task `adding`): add the two marked numbers of a sequence of T.

Arjovsky, Shah & Bengio (2016), §4.2 (after Hochreiter & Schmidhuber 1997). Each step holds a
number from U[0, 1] and a marker; one marker is in each half of the sequence, and the network must
output the sum of the two marked numbers after the last step (generator in `memory_data`). The
loss is the mean squared error; always answering 1 scores 1/6 ≈ 0.167, the memoryless baseline.
The LSTM and the uRNN go to about 0 for T up to a few hundred; a vanilla tanh RNN does not.

Example:

```python
result = train(AddingConfig(cell="lstm", length=100), default_train_config(AddingConfig()))
print(result.summary())
```
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kerasrnn.tasks import memory_task
from kerasrnn.tasks.memory_task import MemoryTaskConfig
from kerasrnn.training import TrainConfig

TASK = "adding"
LOSS_UNIT = "MSE"


@dataclasses.dataclass(frozen=True)
class AddingConfig(MemoryTaskConfig):
    """Settings of the adding problem; `length` is T, at least 2 (one marker in each half).

    See `memory_task.MemoryTaskConfig` for the fields.
    """

    MIN_LENGTH = 2


CONFIG_CLASS = AddingConfig


def default_train_config(config: AddingConfig) -> TrainConfig:
    """The paper's optimiser (RMSprop 1e-3, clipvalue 1 but for urnn); see `memory_task`."""
    return memory_task.default_train_config(config)


def train(config: AddingConfig, train_config: TrainConfig, run_dir: Path | None = None, **options):
    """Trains on endless adding sequences; see `memory_task.train` for the options."""
    return memory_task.train(TASK, config, train_config, run_dir, **options)


def evaluate(run_dir: Path, **options):
    """Loss of a run's best model on a fixed split, with the baseline; see `memory_task.evaluate`."""
    return memory_task.evaluate(TASK, AddingConfig, run_dir, **options)


def load_configs(run_dir: Path) -> tuple[AddingConfig, TrainConfig]:
    return memory_task.load_configs(TASK, AddingConfig, run_dir)


def load_model(run_dir: Path):
    return memory_task.load_model(TASK, run_dir)


def baseline(run_dir: Path) -> float:
    """1/6 (mean squared error of always answering 1)."""
    return memory_task.baseline(TASK, AddingConfig, run_dir)
