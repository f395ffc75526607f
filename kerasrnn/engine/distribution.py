"""How many devices and machines a run trains on: a `tf.distribute` strategy from the user's choice.

| `--distribute` | strategy                                   | replicas                                        |
| -------------- | ------------------------------------------ | ----------------------------------------------- |
| `none`         | TensorFlow's default strategy              | one device                                      |
| `mirrored`     | `tf.distribute.MirroredStrategy`           | the local GPUs (or the first `--replicas` of them); without a GPU, `--replicas` logical CPU devices, so that the path can be tested on any machine |
| `multi-worker` | `tf.distribute.MultiWorkerMirroredStrategy` | one per worker process (the local GPUs of each), from the standard `TF_CONFIG` cluster spec |

`--batch-size` is always the global batch: each of R replicas computes the loss of B / R sequences
and the gradients are summed across them, so a run on R replicas takes the steps of a one-device run
with the same batch and the same data (to float rounding; dropout masks differ, being drawn per
replica).

Only the chief (task `chief`, or worker 0 of a cluster without one) writes the run directory; the
other workers write what they must to a temporary folder that is deleted at the end (the TensorFlow
convention), and `broadcast_from_chief` gives them the chief's state when a run is resumed.

Example:

```python
distribution = make_distribution("mirrored", replicas=2)   # two logical CPUs on a CPU-only machine
with distribution.strategy.scope():
    model = build_model()
```
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from typing import Any

from kerasrnn.errors import UserInputError

logger = logging.getLogger(__name__)

DISTRIBUTIONS = ("none", "mirrored", "multi-worker")


@dataclasses.dataclass(frozen=True)
class Distribution:
    """A strategy and this process's place in it.

    Attributes:
      kind: one of `DISTRIBUTIONS`.
      strategy: the `tf.distribute.Strategy`.
      chief: whether this process writes the run directory.
      worker: this process's name in the cluster (`"worker 1"`); `"local"` for one process.
    """

    kind: str
    strategy: Any
    chief: bool = True
    worker: str = "local"

    @property
    def replicas(self) -> int:
        return int(self.strategy.num_replicas_in_sync)

    def describe(self) -> str:
        if self.kind == "none":
            return "one device"
        devices = ", ".join(self.strategy.extended.worker_devices)
        where = f" as {self.worker}{' (chief)' if self.chief else ''}" if self.kind == "multi-worker" else ""
        return f"{self.replicas} replicas ({self.kind}{where}; this process: {devices})"


def single_device() -> Distribution:
    import tensorflow as tf

    return Distribution("none", tf.distribute.get_strategy())


def make_distribution(kind: str = "none", *, replicas: int | None = None, device: str = "cpu") -> Distribution:
    """The strategy `kind` names; call before TensorFlow runs anything.

    Args:
      kind: `"none"`, `"mirrored"` or `"multi-worker"`.
      replicas: `mirrored` only: how many devices (default: every GPU; 2 logical CPUs without one).
      device: `"cpu"` or `"gpu"`, as `devices.select_device` chose.

    Raises:
      UserInputError: an unknown kind; `replicas` where it does not apply, or more than there are
        GPUs; logical CPUs asked for after TensorFlow started; a missing or malformed `TF_CONFIG`.
    """
    import tensorflow as tf

    cluster = check_options(kind, replicas)
    if kind == "none":
        return single_device()
    if kind == "mirrored":
        return Distribution(kind, tf.distribute.MirroredStrategy(devices=_mirrored_devices(replicas, device)))
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    resolver = strategy.cluster_resolver
    task_type, task_id = resolver.task_type, int(resolver.task_id)
    chief = task_type == "chief" or (task_type == "worker" and task_id == 0 and "chief" not in cluster)
    return Distribution(kind, strategy, chief=chief, worker=f"{task_type} {task_id}")


def check_options(kind: str, replicas: int | None) -> dict | None:
    """Checks the choice without TensorFlow (in milliseconds, before it loads); returns the
    cluster of `TF_CONFIG` for `multi-worker`.

    Raises:
      UserInputError: see `make_distribution`.
    """
    if kind not in DISTRIBUTIONS:
        raise UserInputError(f"unknown --distribute {kind!r}: choose one of {', '.join(DISTRIBUTIONS)}")
    if replicas is not None and kind != "mirrored":
        raise UserInputError("--replicas applies to --distribute mirrored only (a cluster has one replica "
                             "per worker device)")
    if replicas is not None and replicas < 1:
        raise UserInputError(f"--replicas must be at least 1, not {replicas}")
    return _cluster_spec() if kind == "multi-worker" else None


def _mirrored_devices(replicas: int | None, device: str) -> list[str]:
    import tensorflow as tf

    if device == "gpu":
        gpus = tf.config.list_logical_devices("GPU")
        count = replicas or len(gpus)
        if count > len(gpus):
            raise UserInputError(f"--replicas {count}: this machine has {len(gpus)} GPU"
                                 f"{'s' if len(gpus) != 1 else ''}")
        return [gpu.name for gpu in gpus[:count]]
    count = replicas or 2
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError:  # TensorFlow has started: its CPU devices are fixed now.
        existing = tf.config.list_logical_devices("CPU")
        if len(existing) != count:
            raise UserInputError(
                f"--replicas {count} on the CPU needs {count} logical CPU devices, which must be made "
                f"before TensorFlow starts; this process has {len(existing)} already") from None
    return [cpu.name for cpu in tf.config.list_logical_devices("CPU")[:count]]


def _cluster_spec() -> dict:
    """The cluster of `TF_CONFIG`, checked: one line for what is missing or malformed."""
    text = os.environ.get("TF_CONFIG")
    example = ('e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
               '"task": {"type": "worker", "index": 0}}\'')
    if not text:
        raise UserInputError(f"--distribute multi-worker needs the cluster in the TF_CONFIG environment "
                             f"variable ({example})")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserInputError(f"TF_CONFIG is not valid JSON ({error.msg} at character {error.pos})") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not cluster or not isinstance(task, dict):
        raise UserInputError(f"TF_CONFIG needs a \"cluster\" and a \"task\" ({example})")
    kind, index = task.get("type"), task.get("index")
    members = cluster.get(kind)
    if not isinstance(members, list) or not isinstance(index, int) or not 0 <= index < len(members):
        raise UserInputError(f"TF_CONFIG's task {kind!r} {index!r} is not in its cluster "
                             f"({', '.join(f'{k}: {len(v)}' for k, v in cluster.items())})")
    return cluster


def broadcast_from_chief(distribution: Distribution, values: list) -> list:
    """`values` as the chief has them, on every worker: the chief passes its arrays, the others
    arrays of the same shapes and dtypes (zeros will do). Exact: the others add zeros."""
    import tensorflow as tf

    if distribution.kind != "multi-worker" or not values:
        return values
    strategy = distribution.strategy
    tensors = [tf.convert_to_tensor(value) for value in values]
    chief = tf.constant(distribution.chief)

    @tf.function
    def broadcast():
        def replica(tensors):
            context = tf.distribute.get_replica_context()
            first = tf.logical_and(chief, tf.equal(context.replica_id_in_sync_group % len(
                strategy.extended.worker_devices), 0))
            own = [tf.where(first, tensor, tf.zeros_like(tensor)) for tensor in tensors]
            # One all-reduce per dtype: a batch of them is concatenated into one tensor.
            summed = list(own)
            for dtype in {tensor.dtype for tensor in own}:
                indices = [index for index, tensor in enumerate(own) if tensor.dtype == dtype]
                reduced = context.all_reduce(tf.distribute.ReduceOp.SUM, [own[index] for index in indices])
                for index, tensor in zip(indices, reduced):
                    summed[index] = tensor
            return summed

        results = strategy.run(replica, args=(tensors,))
        return [strategy.experimental_local_results(result)[0] for result in results]

    return [result.numpy() for result in broadcast()]
