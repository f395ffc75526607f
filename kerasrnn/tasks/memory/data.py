"""The two long-memory benchmarks of Arjovsky, Shah & Bengio (2016), generated on the fly.

NumPy only (no TensorFlow), so the baselines can be read without importing it.

**Copying memory**, delay T, sequences of T + 20 steps. Input symbols: 0 blank, 1–8 data, 9 the
delimiter. An input is 10 data symbols drawn uniformly, T − 1 blanks, the delimiter, 10 blanks; its
target is T + 10 blanks, then the 10 data symbols. Targets use 9 classes (the delimiter is never a
target). The loss is the cross-entropy averaged over all T + 20 steps. A memoryless predictor
(blank with certainty for T + 10 steps, then 1/8 for each data symbol) scores 10·ln 8 / (T + 20).

**Adding problem**, length T. Each step has two channels: a value drawn from U[0, 1] and a marker,
with exactly one 1 in the first half of the sequence (steps 0 … ⌊T/2⌋ − 1) and one in the second.
The target is the sum of the two marked values, read after the last step; the loss is the mean
squared error. Predicting 1 always scores Var(X₁ + X₂) = 2/12 = 1/6 ≈ 0.167.

Example:

```python
rng = np.random.default_rng(0)
inputs, targets = copy_batch(rng, batch_size=4, length=100)   # (4, 120) ids, (4, 120) classes
copy_baseline(100)                                            # 0.1733 nats
```
"""

from __future__ import annotations

import math

import numpy as np

COPY_SYMBOLS = 10  # how many symbols are copied
COPY_DATA_CLASSES = 8  # data symbols 1 … 8
BLANK = 0
DELIMITER = 9
COPY_INPUT_CLASSES = 10  # blank, 8 data symbols, delimiter
COPY_OUTPUT_CLASSES = 9  # blank, 8 data symbols
ADDING_BASELINE = 1.0 / 6.0


def copy_steps(length: int) -> int:
    """Number of steps of a copying sequence with delay `length`: `length + 20`."""
    return length + 2 * COPY_SYMBOLS


def copy_baseline(length: int) -> float:
    """Cross-entropy in nats per step of the memoryless predictor: 10·ln 8 / (T + 20)."""
    return COPY_SYMBOLS * math.log(COPY_DATA_CLASSES) / copy_steps(length)


def adding_baseline(length: int | None = None) -> float:
    """Mean squared error of always predicting 1 (the mean target): 1/6, whatever the length."""
    return ADDING_BASELINE


def copy_batch(rng: np.random.Generator, batch_size: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """A batch of copying sequences with delay `length`.

    Returns:
      `(inputs, targets)`, both int32 of shape `(batch_size, length + 20)`: input ids in 0 … 9 and
      target classes in 0 … 8.
    """
    steps = copy_steps(length)
    data = rng.integers(1, COPY_DATA_CLASSES + 1, size=(batch_size, COPY_SYMBOLS), dtype=np.int32)
    inputs = np.full((batch_size, steps), BLANK, dtype=np.int32)
    inputs[:, :COPY_SYMBOLS] = data
    inputs[:, length + COPY_SYMBOLS - 1] = DELIMITER
    targets = np.full((batch_size, steps), BLANK, dtype=np.int32)
    targets[:, -COPY_SYMBOLS:] = data
    return inputs, targets


def one_hot(ids: np.ndarray, classes: int = COPY_INPUT_CLASSES, dtype="float32") -> np.ndarray:
    """`ids` of any shape as one-hot vectors on a new last axis."""
    return np.eye(classes, dtype=dtype)[ids]


def adding_batch(rng: np.random.Generator, batch_size: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """A batch of adding-problem sequences of `length` steps (`length` ≥ 2).

    Returns:
      `(inputs, targets)`: float32 inputs `(batch_size, length, 2)` (value, marker) and float32
      targets `(batch_size, 1)`, the sum of the two marked values.
    """
    half = length // 2
    values = rng.uniform(0.0, 1.0, size=(batch_size, length)).astype(np.float32)
    first = rng.integers(0, half, size=batch_size)
    second = rng.integers(half, length, size=batch_size)
    markers = np.zeros((batch_size, length), dtype=np.float32)
    rows = np.arange(batch_size)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = (values[rows, first] + values[rows, second]).astype(np.float32)[:, None]
    return np.stack([values, markers], axis=-1), targets
