"""The long-memory benchmarks of the uRNN paper (Arjovsky, Shah & Bengio 2016): `copy` and `adding`.

Two small `Task` classes over one base: `MemoryTask` (`base`) holds the settings, the training
defaults, the datasets and the evaluation; `CopyTask` (`copying`) and `AddingTask` (`adding`) say
what differs: the sequences, their shapes, the loss and the memoryless baseline. The generators are
NumPy only (`data`); the network and the pipelines (`model`) import TensorFlow, so nothing here does.

Example:

```python
from kerasrnn.tasks.memory import CopyTask

task = CopyTask()
task.baseline_of(task.config_class(length=100))    # 0.1733 nats per step
```
"""

from kerasrnn.tasks.memory.adding import AddingConfig, AddingTask
from kerasrnn.tasks.memory.base import Evaluation, MemoryTask, MemoryTaskConfig
from kerasrnn.tasks.memory.copying import CopyConfig, CopyTask

__all__ = ["AddingConfig", "AddingTask", "CopyConfig", "CopyTask", "Evaluation", "MemoryTask",
           "MemoryTaskConfig"]
