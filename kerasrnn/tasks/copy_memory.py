"""Copying memory (task `copy`): recall 10 symbols after a delay of T steps.

Arjovsky, Shah & Bengio (2016), §4.1. The input is 10 symbols drawn from 8, T − 1 blanks, a
delimiter and 10 blanks; the network must output blanks until the delimiter's 10 following steps,
then the 10 symbols in order (details and generator in `memory_data`). The loss is the
cross-entropy averaged over all T + 20 steps, in nats; the memoryless baseline is 10·ln 8 / (T + 20)
(0.1733 at T = 100). A vanilla tanh RNN stays at the baseline; the uRNN goes to about 0.

Example:

```python
result = train(CopyConfig(cell="urnn", length=100), default_train_config(CopyConfig(cell="urnn")))
print(result.summary())
```
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kerasrnn.tasks import memory_task
from kerasrnn.tasks.memory_task import MemoryTaskConfig
from kerasrnn.training import TrainConfig

TASK = "copy"
LOSS_UNIT = "nats/step"


@dataclasses.dataclass(frozen=True)
class CopyConfig(MemoryTaskConfig):
    """Settings of the copying task; `length` is the delay T (sequences have T + 20 steps).

    See `memory_task.MemoryTaskConfig` for the fields.
    """


CONFIG_CLASS = CopyConfig


def default_train_config(config: CopyConfig) -> TrainConfig:
    """The paper's optimiser (RMSprop 1e-3, clipvalue 1 but for urnn); see `memory_task`."""
    return memory_task.default_train_config(config)


def train(config: CopyConfig, train_config: TrainConfig, run_dir: Path | None = None, **options):
    """Trains on endless copying sequences; see `memory_task.train` for the options."""
    return memory_task.train(TASK, config, train_config, run_dir, **options)


def evaluate(run_dir: Path, **options):
    """Loss of a run's best model on a fixed split, with the baseline; see `memory_task.evaluate`."""
    return memory_task.evaluate(TASK, CopyConfig, run_dir, **options)


def load_configs(run_dir: Path) -> tuple[CopyConfig, TrainConfig]:
    return memory_task.load_configs(TASK, CopyConfig, run_dir)


def load_model(run_dir: Path):
    return memory_task.load_model(TASK, run_dir)


def baseline(run_dir: Path) -> float:
    """10·ln 8 / (T + 20) nats per step for the run in `run_dir`."""
    return memory_task.baseline(TASK, CopyConfig, run_dir)
