"""Will it fit? The memory a training run needs, estimated before anything is allocated.

A request that cannot fit (`--units 100000`, `--batch-size 10000000`) would otherwise grow for
minutes and end in an out-of-memory traceback or a killed process. `check_fits` compares an estimate
with the memory available now and refuses in one line naming both. The estimate counts float32
numbers: the weights four times (the weights, their gradients and Adam's two moments) and what
backpropagation through time keeps of every step (a few numbers per unit and gate, per sequence,
per layer) and of the output layer. It errs on the generous side: it is meant to refuse the absurd,
not to tune a batch size.

`KERASRNN_MEMORY_LIMIT` (bytes, or with a K, M or G suffix) replaces the available memory, for tests
and for a user who wants a lower ceiling.

Example:

```python
needed = recurrent_training_bytes(cell="lstm", units=128, layers=1, inputs=64, vocabulary=100,
                                  batch_size=256, steps=100)
check_fits(needed, "training")
```
"""

from __future__ import annotations

import os

from kerasrnn.errors import UserInputError

LIMIT_ENV = "KERASRNN_MEMORY_LIMIT"
FLOAT = 4  # bytes
# Matrices of each cell per unit (its gates); the uRNN's state is 2·units reals.
GATES = {"vanilla": 1, "gru": 3, "lstm": 4, "urnn": 2, "keras-simplernn": 1, "keras-gru": 3, "keras-lstm": 4}
KEPT_PER_GATE = 3  # numbers backpropagation keeps per unit, gate and step (pre-activation, activation, gradient)


def recurrent_training_bytes(*, cell: str, units: int, layers: int, inputs: int, vocabulary: int,
                             batch_size: int, steps: int, outputs_per_step: int | None = None) -> int:
    """Estimated bytes to train an embedding → `layers` recurrent layers → dense network.

    Args:
      cell, units, layers: the recurrent layers.
      inputs: the size of the first layer's input (embedding size, or features).
      vocabulary: rows of the embedding (0 without one) and, unless `outputs_per_step` is given,
        the size of the output at every step.
      batch_size, steps: sequences per batch and steps per sequence.
      outputs_per_step: the output size per step (defaults to `vocabulary`; 0: one output per sequence).
    """
    gates = GATES.get(cell, 4)
    width = 2 * units if cell == "urnn" else units
    weights = vocabulary * inputs
    size_in = inputs
    for _ in range(layers):
        weights += gates * width * (size_in + width + 1)
        size_in = width
    outputs = vocabulary if outputs_per_step is None else outputs_per_step
    weights += size_in * max(outputs, 1)
    activations = batch_size * steps * (layers * gates * width * KEPT_PER_GATE + 3 * outputs + inputs)
    return FLOAT * (4 * weights + activations)


def available_bytes() -> int:
    """`KERASRNN_MEMORY_LIMIT` if set, else the memory the system can give now (MemAvailable)."""
    limit = os.environ.get(LIMIT_ENV)
    if limit:
        units = {"K": 2**10, "M": 2**20, "G": 2**30}
        try:
            return int(float(limit[:-1]) * units[limit[-1].upper()]) if limit[-1].upper() in units else int(limit)
        except ValueError:
            raise UserInputError(f"{LIMIT_ENV}={limit!r} is not a number of bytes (e.g. 8G)") from None
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def human(size: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def check_fits(needed: int, what: str, advice: str) -> None:
    """UserInputError unless `needed` bytes fit in what is available."""
    available = available_bytes()
    if needed > available:
        limit = f" ({LIMIT_ENV})" if os.environ.get(LIMIT_ENV) else ""
        raise UserInputError(f"{what} needs about {human(needed)} of memory, more than the {human(available)} "
                             f"available{limit}: {advice}")
