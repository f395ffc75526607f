"""The three splits (train, validation, test) and how a split the data do not give is cut from them.

Data come with all three splits, with some (a `train.tsv` and a `test.tsv`, or `--test-data`), or
with none. `complete_splits` is the one rule for data with some: each missing validation or test
split is a tenth of the training examples, taken out of training, and one log line says where
every split came from. Which tenth is the caller's choice, a `cut`:

- `seeded_tenths` (labelled texts): the end of a permutation seeded with `SPLIT_SEED`, independent
  of the training seed, so that `evaluate` scores the examples training never saw;
- `hashed_tenths` (sentence pairs): the SHA-256 of the source text, so that the translations of one
  sentence never sit on both sides of a split.

Data with none are cut 80/10/10: `split_80_10_10` (labelled texts, by the same seeded permutation),
or `hashed_tenths` with both splits missing (sentence pairs). Splits are columns, `(texts, labels)`
or `(sources, targets)`: lists of the same length.

Example:

```python
found = {"train": (texts, labels), "test": (test_texts, test_labels)}
splits = complete_splits("reviews", found, {"train": "train.tsv", "test": "test.tsv"}, seeded_tenths)
# log: reviews: train ← train.tsv (90 examples); validation ← a tenth of train.tsv (10 examples); …
```
"""

from __future__ import annotations

import hashlib
import logging
from typing import Callable, Sequence

import numpy as np

from kerasrnn.data.named_splits import SPLITS
from kerasrnn.errors import UserInputError

logger = logging.getLogger(__name__)

SPLIT_SEED = 1234

Columns = tuple[list, list]  # (texts, labels) or (sources, targets), of the same length
# `(train columns, missing split names)` → split name → indices into train, "train" for those kept.
Cut = Callable[[Columns, list], dict]


def complete_splits(name: str, found: dict, sources: dict, cut: Cut, *, unit: str = "examples",
                    refuse_empty: bool = False) -> dict:
    """`found` (split → columns, "train" among them) with each missing validation or test split cut
    from train by `cut`, in the order of `SPLITS`; logs which file (`sources`: split → its name)
    became which split, counting `unit`.

    Raises:
      UserInputError: with `refuse_empty`, a split without examples (the loader of labelled texts
        checks that itself, after dropping empty texts).
    """
    found, sources = dict(found), dict(sources)
    missing = [split for split in ("validation", "test") if split not in found]
    if missing:
        found.update(cut_from(found["train"], missing, cut))
        sources.update({split: f"a tenth of {sources['train']}" for split in missing})
    for split in SPLITS if refuse_empty else ():
        if not found[split][0]:
            raise UserInputError(f"{name}: the {split} split ({sources[split]}) has no {unit}: give more {unit}")
    logger.info("%s: %s", name, "; ".join(
        f"{split} ← {sources[split]} ({len(found[split][0]):,} {unit})" for split in SPLITS))
    return {split: found[split] for split in SPLITS}


def cut_from(train: Columns, missing: list[str], cut: Cut) -> dict:
    """Split → columns: `train` cut by `cut` into "train" (what it keeps) and each split of `missing`."""
    return {split: take(train, indices) for split, indices in cut(train, missing).items()}


def take(columns: Columns, indices: Sequence[int]) -> Columns:
    """The rows `indices` of both columns, in that order."""
    return tuple([column[i] for i in indices] for column in columns)


def seeded_tenths(train: Columns, missing: list[str]) -> dict:
    """A `Cut`: each missing split a tenth of train (at least one example, none when train has no
    more examples than splits are missing) from the end of a permutation seeded with `SPLIT_SEED`."""
    # From the end: the validation split of aclImdb's train/ and test/ stays the one it always was.
    count = len(train[0])
    order = np.random.default_rng(SPLIT_SEED).permutation(count)
    tenth = max(1, count // 10) if count > len(missing) else 0
    parts = {split: order[count - (index + 1) * tenth:count - index * tenth] for index, split in enumerate(missing)}
    return {"train": order[:count - len(missing) * tenth], **parts}


def hashed_tenths(train: Columns, missing: list[str]) -> dict:
    """A `Cut`: each missing split the rows whose first column falls in one tenth of SHA-256 values
    (the last tenths), in the order of the rows. No seed: the same texts always land in the same split."""
    first_cut = 10 - len(missing)
    parts = {split: [] for split in ("train", *missing)}
    for index, key in enumerate(train[0]):
        bucket = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % 10
        parts["train" if bucket < first_cut else missing[bucket - first_cut]].append(index)
    return parts


def split_80_10_10(count: int, seed: int = SPLIT_SEED) -> dict[str, np.ndarray]:
    """Indices of train / validation / test: a seeded permutation of `range(count)` cut 80/10/10."""
    order = np.random.default_rng(seed).permutation(count)
    train_end = int(round(0.8 * count))
    validation_end = train_end + (count - train_end) // 2
    return {"train": order[:train_end], "validation": order[train_end:validation_end],
            "test": order[validation_end:]}
