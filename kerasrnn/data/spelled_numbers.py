"""The embedded `spelled_numbers` data: numbers in words in five languages, for classify and translate.

The tensorflow-datasets builder is `datasets/spelled_numbers/` (numbers 0…19,999 spelled by
`num2words` in en, fr, de, es, it; every number in exactly one of train / validation / test).
`load_spelled_numbers` prepares it on first use (about 20 s, no network) and returns plain Python
lists; the tasks derive their examples from them:

- language identification: `language_examples(rows)` → (text, language) pairs, five per number;
- translation: `translation_pairs(rows, "digits", "fr")` → (source, target) pairs, one per number;
- training: `balanced_by_digits(rows)` repeats the rows of the rarer magnitudes, so that every
  number of digits (1 to the largest) has the same share of the training examples — drawn
  uniformly, 0…99 would be half a percent of them, and a model would barely see "one" or "twenty";
- scoring: `band_of(number)` and `band_accuracies(numbers, correct)` give the accuracy per
  magnitude band (`BANDS`: 0–99, 100–999, 10³–10⁶, above), which both tasks report next to the
  overall figure;
- checking what users type: `parse_range("0-999")` and `spell(number, field)` give every number of
  a range as the builder writes it, for the tasks' `evaluate --numbers` checks.

Example:

```python
splits = load_spelled_numbers()
splits["train"][0]   # {"number": 0, "digits": "0", "en": "zero", "fr": "zéro", "de": "null", ...}
texts, languages = language_examples(splits["validation"])
```
"""

from __future__ import annotations

import collections
import dataclasses
import os
import re
from pathlib import Path

import numpy as np

from kerasrnn.data.named_splits import SPLITS
from kerasrnn.errors import UserInputError

NAME = "spelled_numbers"
LANGUAGES = ("en", "fr", "de", "es", "it")
FIELDS = ("digits",) + LANGUAGES
BALANCE_SEED = 1234
MOST_NUMBERS = 1_000_000  # the most numbers one check of a range (`parse_range`) takes
# (label, first, last): the magnitude bands of the per-band reports; `last` None: no upper end.
BANDS = (("0–99", 0, 99), ("100–999", 100, 999), ("10³–10⁶", 1_000, 999_999), ("≥ 10⁶", 1_000_000, None))


def builder(data_dir: str | os.PathLike | None = None):
    """The spelled_numbers tfds builder (not prepared yet); `data_dir` None: tfds's default."""
    from kerasrnn.data.tfds_builders import builder_class

    if data_dir is not None:
        data_dir = os.fspath(Path(data_dir).expanduser())
    return builder_class(NAME)(data_dir=data_dir)


def load_spelled_numbers(data_dir: str | os.PathLike | None = None) -> dict[str, list[dict]]:
    """Every split of spelled_numbers as lists of dicts, numbers in increasing order.

    Each dict has `number` (int), `digits` and one key per language of `LANGUAGES` (str). Builds the
    dataset into `data_dir` first if needed.
    """
    import tensorflow_datasets as tfds

    from kerasrnn.data.tfds_builders import prepare

    spelled = builder(data_dir)
    prepare(spelled)
    splits = {}
    for split in SPLITS:
        dataset = spelled.as_dataset(split=split, shuffle_files=False)
        splits[split] = [
            {"number": int(row["number"]), **{key: row[key].decode("utf-8") for key in FIELDS}}
            for row in tfds.as_numpy(dataset)
        ]
    return splits


def language_examples(rows: list[dict], languages=LANGUAGES) -> tuple[list[str], list[str]]:
    """`(texts, labels)`: each row's spelling in each of `languages`, labelled by its code."""
    texts, labels = [], []
    for row in rows:
        for language in languages:
            texts.append(row[language])
            labels.append(language)
    return texts, labels


def translation_pairs(rows: list[dict], source: str, target: str) -> list[tuple[str, str]]:
    """`(source text, target text)` per row; `source`, `target` from `FIELDS` (e.g. `"digits"`, `"fr"`)."""
    for field in (source, target):
        if field not in FIELDS:
            raise UserInputError(f"unknown spelled_numbers field {field!r}: choose one of {', '.join(FIELDS)}")
    return [(row[source], row[target]) for row in rows]


def balanced_by_digits(rows: list[dict], seed: int = BALANCE_SEED) -> list[dict]:
    """`rows` with the rows of each number of digits repeated until every number of digits has as
    many rows as the commonest one: whole copies of the group, then a seeded sample of it for the
    rest. Every row is kept; the order is by number of digits, then as in each copy.

    Example: 10 one-digit, 90 two-digit and 900 three-digit rows give 900 rows of each (2,700).
    """
    groups = collections.defaultdict(list)
    for row in rows:
        groups[len(str(abs(row["number"])))].append(row)
    if not groups:
        return []
    target = max(len(group) for group in groups.values())
    rng = np.random.default_rng(seed)
    balanced = []
    for digits in sorted(groups):
        group = groups[digits]
        copies, rest = divmod(target, len(group))
        balanced += group * copies
        balanced += [group[index] for index in sorted(rng.choice(len(group), rest, replace=False))]
    return balanced


def parse_range(numbers: str) -> tuple[int, int]:
    """`"0-999"` → `(0, 999)`; `"42"` → `(42, 42)`.

    Raises:
      UserInputError: not FIRST-LAST with 0 ≤ FIRST ≤ LAST, or more than a million numbers.
    """
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", str(numbers))
    if not match:
        raise UserInputError(f"bad range of numbers {numbers!r}: give FIRST-LAST, e.g. 0-999")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) is not None else first
    if last < first:
        raise UserInputError(f"bad range of numbers {numbers!r}: the last ({last}) is below the first ({first})")
    if last - first + 1 > MOST_NUMBERS:
        raise UserInputError(f"the range {numbers!r} has {last - first + 1:,} numbers: check at most "
                             f"{MOST_NUMBERS:,} at a time")
    return first, last


def spell(number: int, field: str) -> str:
    """`number` as the spelled_numbers builder writes it in `field` (one of `FIELDS`): its digits,
    or num2words in that language."""
    from num2words import num2words

    return str(number) if field == "digits" else num2words(number, lang=field)


def band_of(number: int) -> str:
    """The label of the band of `BANDS` holding `number` (≥ 0)."""
    for label, first, last in BANDS:
        if number >= first and (last is None or number <= last):
            return label
    raise ValueError(f"no band holds {number}: numbers are ≥ 0")


@dataclasses.dataclass(frozen=True)
class BandAccuracy:
    """How many answers on the numbers of one band were right."""

    band: str
    right: int
    total: int

    @property
    def accuracy(self) -> float | None:
        return self.right / self.total if self.total else None


@dataclasses.dataclass(frozen=True)
class RangeCheck:
    """What a check of every number of `first`…`last` found; the tasks' `numbers_check` reports add
    what they check (languages, a pair) to it."""

    first: int
    last: int
    bands: tuple  # `BandAccuracy` per band of `BANDS`
    mistakes: tuple  # the first few wrong answers
    wrong: int  # all of them

    @property
    def right(self) -> int:
        return sum(band.right for band in self.bands)

    @property
    def total(self) -> int:
        return sum(band.total for band in self.bands)

    def mistake_lines(self, line_of) -> list[str]:
        """A line per mistake kept, `line_of(*mistake)` after an indent, then how many more there were."""
        lines = [f"  {line_of(*mistake)}" for mistake in self.mistakes]
        if self.wrong > len(self.mistakes):
            lines.append(f"  … {self.wrong - len(self.mistakes):,} more mistakes")
        return lines

    def range_metrics(self, measure: str) -> dict:
        """The range, the counts, the share right under the name `measure`, the bands and mistakes."""
        return {
            "first": self.first, "last": self.last, "right": self.right, "total": self.total,
            measure: self.right / max(1, self.total),
            "bands": [dataclasses.asdict(band) | {"accuracy": band.accuracy} for band in self.bands],
            "mistakes": [list(mistake) for mistake in self.mistakes], "wrong": self.wrong,
        }


def band_accuracies(numbers, correct) -> tuple[BandAccuracy, ...]:
    """One `BandAccuracy` per band of `BANDS` (a band without any of `numbers` has total 0).

    Args:
      numbers: the number each answer is about.
      correct: whether each answer was right, in the same order.
    """
    right, total = collections.Counter(), collections.Counter()
    for number, ok in zip(numbers, correct, strict=True):
        band = band_of(int(number))
        total[band] += 1
        right[band] += bool(ok)
    return tuple(BandAccuracy(label, right[label], total[label]) for label, _, _ in BANDS)


def band_table(bands, what: str = "texts") -> list[str]:
    """A Markdown table of `bands` (from `band_accuracies`), one row per band and the overall one;
    an empty band says so instead of a percentage."""
    lines = [f"| numbers | accuracy | {what} |", "| --- | ---: | ---: |"]
    for band in bands:
        shown = "—" if band.accuracy is None else f"{band.accuracy:.2%}"
        lines.append(f"| {band.band} | {shown} | {band.total:,} |")
    right, total = sum(band.right for band in bands), sum(band.total for band in bands)
    lines.append(f"| all | {right / total:.2%} | {total:,} |" if total else "| all | — | 0 |")
    return lines


def split_bands(data, split: str, correct) -> tuple[BandAccuracy, ...]:
    """`band_accuracies` of the split `split` of `data` (`LabelledTexts`, `Pairs`: anything with
    `numbers_of(split)`) given whether each answer was right; () for data that are not numbers."""
    numbers = getattr(data, "numbers_of", lambda _: None)(split)
    return () if numbers is None else band_accuracies(numbers, correct)


def band_lines(bands, split: str, measure: str = "accuracy", what: str = "texts") -> list[str]:
    """The lines an evaluation's summary adds for `bands`: a title and `band_table`; none without bands."""
    if not bands:
        return []
    return [f"{split.capitalize()} {measure} by the size of the number:", *band_table(bands, what)]
