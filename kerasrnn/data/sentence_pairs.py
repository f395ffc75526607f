"""Sentence pairs (source text, target text) for translation, split into train / validation / test.

`load_pairs(data, pair, data_dir)` takes:

- `spelled_numbers` (the embedded default): one pair per number, `pair` naming the source and
  target fields, e.g. `en-fr` (English words → French words) or `digits-de`; the dataset's own
  splits, so no number is in two of them, the training split balanced by number of digits
  (`spelled_numbers.balanced_by_digits`), and the number of each pair kept (`Pairs.numbers`) for
  the accuracy per magnitude band;
- the path of a tab-separated pairs file in the format of Keras's lstm_seq2seq example
  (`fra.txt` from manythings.org): `source TAB target`, optionally more columns (Tatoeba's
  attribution), the same number on every line. Pairs are cut 80/10/10 into train / validation /
  test by the SHA-256 of the source, so a sentence with several translations sits in one split;
- the path of a folder of such files named for their splits (`train*`, `dev*` / `valid*`, `test*`):
  each file is its split, never re-cut, and a log line says which file became which split (a split
  without a file is a tenth of the training pairs, by the same SHA-256 of the source:
  `splits.complete_splits` with `splits.hashed_tenths`); `validation_data` / `test_data` name a
  split's file directly. With `whole=True` (scoring a file) a single file is not cut: every split is
  all of it.

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
import logging
import os
from pathlib import Path

from kerasrnn.data.named_splits import SPLITS, split_entries
from kerasrnn.data.splits import complete_splits, cut_from, hashed_tenths
from kerasrnn.data.spelled_numbers import FIELDS, load_spelled_numbers
from kerasrnn.data.spelled_numbers import NAME as SPELLED_NUMBERS
from kerasrnn.errors import UserInputError

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Pairs:
    """Source and target texts of each split: `splits[name] = (sources, targets)`."""

    name: str
    splits: dict
    numbers: dict | None = None  # split name → the number of each pair (spelled_numbers only)

    def split(self, name: str) -> tuple[list[str], list[str]]:
        return self.splits[name]

    def numbers_of(self, name: str) -> list[int] | None:
        """The number each pair of split `name` is about; None for pairs that are not numbers."""
        return None if self.numbers is None else self.numbers[name]


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


def load_pairs(data: str, pair: str, data_dir: str | None = None, *, validation_data: str | None = None,
               test_data: str | None = None, whole: bool = False) -> Pairs:
    """The train / validation / test pairs of `data` (see the module docstring).

    Args:
      data: `spelled_numbers`, a pairs file, or a folder of pairs files named for their splits.
      pair: for spelled_numbers, SOURCE-TARGET (see `parse_pair`).
      data_dir: tensorflow-datasets folder for spelled_numbers.
      validation_data, test_data: pairs files whose whole content is that split (with a path `data`).
      whole: a single pairs file is not cut: every split is all of it (for scoring a file).
    """
    if data == SPELLED_NUMBERS:
        if validation_data is not None or test_data is not None:
            raise UserInputError("separate validation or test data go with pairs of your own, not spelled_numbers")
        return spelled_number_pairs(pair, data_dir)
    path = Path(data).expanduser()
    given = {split: other for split, other in (("validation", validation_data), ("test", test_data))
             if other is not None}
    if path.is_dir():
        return Pairs(path.name, named_split_pairs(path, given))
    if not path.is_file():
        raise UserInputError(
            f"no pairs file {data!r}: give spelled_numbers or the path of a tab-separated file of "
            f"source TAB target lines"
        )
    if given:
        return Pairs(path.name, _with_given(data, {"train": read_pairs_file(path)}, {"train": path.name}, given))
    if whole:
        everything = _columns(read_pairs_file(path))
        logger.info("%s: every split is the whole of it (%s pairs)", data, f"{len(everything[0]):,}")
        return Pairs(path.name, {split: everything for split in SPLITS})
    return Pairs(path.name, split_by_source(read_pairs_file(path)))


def spelled_number_pairs(pair: str, data_dir: str | None = None) -> Pairs:
    """spelled_numbers as pairs of the two fields of `pair`, the training split balanced by number of
    digits, with the number of each pair."""
    from kerasrnn.data.spelled_numbers import balanced_by_digits

    source, target = parse_pair(pair)
    rows = load_spelled_numbers(data_dir)
    rows = {**rows, "train": balanced_by_digits(rows["train"])}
    return Pairs(f"{SPELLED_NUMBERS} {source}→{target}", {
        split: ([row[source] for row in rows[split]], [row[target] for row in rows[split]])
        for split in SPLITS
    }, {split: [row["number"] for row in rows[split]] for split in SPLITS})


def named_split_pairs(folder: Path, given: dict | None = None) -> dict:
    """The splits of a folder of pairs files named for them (`train.txt`, `dev.txt`, `test.txt`;
    see `named_splits.split_named`), files of `given` (split → path) replacing theirs.

    Raises:
      UserInputError: no file named train*.
    """
    named = split_entries(folder, folders=False)
    if "train" not in named:
        raise UserInputError(
            f"folder {folder} has no pairs file named train* (with dev* or valid*, and test*): give a "
            f"pairs file, or name the files of the folder for their splits"
        )
    found = {split: [pair for file in files for pair in read_pairs_file(file)] for split, files in named.items()}
    sources = {split: ", ".join(file.name for file in files) for split, files in named.items()}
    return _with_given(os.fspath(folder), found, sources, given or {})


def _with_given(name: str, found: dict, sources: dict, given: dict) -> dict:
    """`(sources, targets)` of each split: the pairs `found` per split, the files of `given` (split →
    path) read whole, a missing split cut from train by the hash of the source (`splits`)."""
    for split, other in given.items():
        found[split] = read_pairs_file(Path(other).expanduser())
        sources[split] = os.fspath(other)
    columns = {split: _columns(pairs) for split, pairs in found.items()}
    return complete_splits(name, columns, sources, hashed_tenths, unit="pairs", refuse_empty=True)


def _columns(pairs: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    return [source for source, _ in pairs], [target for _, target in pairs]


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
    # The rule of a folder with only a train* file: the same pairs give the same splits either way.
    splits = cut_from(_columns(pairs), ["validation", "test"], hashed_tenths)
    if not splits["train"][0] or not splits["validation"][0]:
        raise UserInputError(
            f"{len(pairs)} pairs with {len(set(source for source, _ in pairs))} different sources: too "
            f"few to split 80/10/10 into train, validation and test"
        )
    return splits
