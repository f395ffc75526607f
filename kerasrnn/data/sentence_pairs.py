"""Sentence pairs (source text, target text) for translation, split into train / validation / test.

`load_pairs(data, pair, data_dir)` takes:

- `spelled_numbers` (the embedded default): one pair per number, `pair` naming the source and
  target fields, e.g. `en-fr` (English words → French words) or `digits-de`; the dataset's own
  splits, so no number is in two of them;
- the path of a tab-separated pairs file in the format of Keras's lstm_seq2seq example
  (`fra.txt` from manythings.org): `source TAB target`, optionally more columns (Tatoeba's
  attribution), the same number on every line. Pairs are cut 80/10/10 into train / validation /
  test by the SHA-256 of the source, so a sentence with several translations sits in one split.

The texts are returned as they are; tokens and ids are the translate task's business
(`kerasrnn.tasks.translate.data`). This module does not import TensorFlow: the task's settings
check a language pair with `parse_pair` at once.

Example:

```python
pairs = load_pairs("spelled_numbers", "en-fr")
sources, targets = pairs.split("train")   # ["zero", "one", …], ["zéro", "un", …]
```
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from kerasrnn.data.spelled_numbers import FIELDS, SPLITS, load_spelled_numbers
from kerasrnn.data.spelled_numbers import NAME as SPELLED_NUMBERS
from kerasrnn.errors import UserInputError


@dataclasses.dataclass(frozen=True)
class Pairs:
    """Source and target texts of each split: `splits[name] = (sources, targets)`."""

    name: str
    splits: dict

    def split(self, name: str) -> tuple[list[str], list[str]]:
        return self.splits[name]


def parse_pair(pair: str) -> tuple[str, str]:
    """`"en-fr"` → `("en", "fr")`; both from spelled_numbers' fields (`digits`, en, fr, de, es, it).

    Raises:
      UserInputError: not two distinct known fields joined by a hyphen.
    """
    parts = pair.split("-") if isinstance(pair, str) else []
    if len(parts) != 2 or any(part not in FIELDS for part in parts) or parts[0] == parts[1]:
        raise UserInputError(
            f"unknown language pair {pair!r}: give SOURCE-TARGET, two different ones of "
            f"{', '.join(FIELDS)} (e.g. en-fr or digits-de)"
        )
    return parts[0], parts[1]


def load_pairs(data: str, pair: str, data_dir: str | None = None) -> Pairs:
    """The train / validation / test pairs of `data` (see the module docstring)."""
    if data == SPELLED_NUMBERS:
        source, target = parse_pair(pair)
        rows = load_spelled_numbers(data_dir)
        return Pairs(f"{SPELLED_NUMBERS} {source}→{target}", {
            split: ([row[source] for row in rows[split]], [row[target] for row in rows[split]])
            for split in SPLITS
        })
    path = Path(data).expanduser()
    if not path.is_file():
        raise UserInputError(
            f"no pairs file {data!r}: give spelled_numbers or the path of a tab-separated file of "
            f"source TAB target lines"
        )
    return Pairs(path.name, split_by_source(read_pairs_file(path)))


def read_pairs_file(path: Path) -> list[tuple[str, str]]:
    """The `(source, target)` of every non-blank line of a tab-separated pairs file.

    Raises:
      UserInputError: not UTF-8; no pairs; a line with fewer than two columns, a different number
        of columns than the first line, or an empty source or target (the line number is named).
    """
    try:
        lines = Path(path).read_text("utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise UserInputError(f"{path} is not UTF-8 text: {error}") from error
    except OSError as error:
        raise UserInputError(f"cannot read {path}: {error.strerror or error}") from error
    pairs, columns = [], None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        columns = columns or len(fields)
        if len(fields) < 2:
            raise UserInputError(f"{path} line {number} has no tab: each line must be source TAB target")
        if len(fields) != columns:
            raise UserInputError(
                f"{path} line {number} has {len(fields)} tab-separated columns, the first line {columns}"
            )
        source, target = fields[0].strip(), fields[1].strip()
        if not source or not target:
            raise UserInputError(f"{path} line {number} has an empty {'source' if not source else 'target'}")
        pairs.append((source, target))
    if not pairs:
        raise UserInputError(f"{path} has no pairs: each line must be source TAB target")
    return pairs


def split_by_source(pairs: list[tuple[str, str]]) -> dict:
    """80/10/10 into train / validation / test by the SHA-256 of each source, in file order.

    Raises:
      UserInputError: too few distinct sources for a non-empty training and validation split.
    """
    splits = {split: ([], []) for split in SPLITS}
    for source, target in pairs:
        bucket = int.from_bytes(hashlib.sha256(source.encode("utf-8")).digest()[:8], "big") % 10
        split = "train" if bucket < 8 else "validation" if bucket == 8 else "test"
        splits[split][0].append(source)
        splits[split][1].append(target)
    if not splits["train"][0] or not splits["validation"][0]:
        raise UserInputError(
            f"{len(pairs)} pairs with {len(set(source for source, _ in pairs))} different sources: too "
            f"few to split 80/10/10 into train, validation and test"
        )
    return splits
