"""Labelled examples in CSV / TSV files: one example a line, a text column and a label column.

`read_table` reads a `.csv` (commas, quotes) or a `.tsv` / `.txt` (tabs) file into `(texts,
labels)`; `has_no_label_column` finds files such as GLUE's `test.tsv` (an index and a sentence,
no label). `read_text` reads one UTF-8 file whole (a table, or one example of a class folder).
Choosing the source and its splits is `labelled_texts`'s business.

Example:

```python
read_table(Path("reviews.csv"), "review", "stars")   # (["good, really", "bad"], ["5", "1"])
read_table(Path("sst2.txt"))                          # headerless: text first, label last
```
"""

from __future__ import annotations

import csv
from pathlib import Path

from kerasrnn.errors import UserInputError

TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
DEFAULT_TEXT_COLUMN = "text"
DEFAULT_LABEL_COLUMN = "label"


def read_table(path: Path, text_column: str = DEFAULT_TEXT_COLUMN,
               label_column: str = DEFAULT_LABEL_COLUMN) -> tuple[list[str], list[str]]:
    """`(texts, labels)` of a CSV (`.csv`: commas, quotes) or TSV (`.tsv`, `.txt`: tabs) file.

    A first row that holds `text_column` or `label_column` (unless they are numbers) is a header.
    Without one, the columns are 0-based numbers (`"0"`, `"2"`); left at their defaults, text is
    the first column and the label the last (a line `sentence<TAB>1`).

    Raises:
      UserInputError: an empty file, an unknown column, a row without its label.
    """
    text = read_text(path)
    tabs = path.suffix.lower() != ".csv"
    reader = csv.reader(text.splitlines(), delimiter="\t" if tabs else ",",
                        quoting=csv.QUOTE_NONE if tabs else csv.QUOTE_MINIMAL)
    # A review can be longer than the csv module's default field limit (131,072 characters).
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    try:
        rows = [(line, row) for line, row in enumerate(reader, start=1)
                if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise UserInputError(f"{path} is not a readable {'TSV' if tabs else 'CSV'} file: {error}") from None
    if not rows:
        raise UserInputError(f"{path} is empty: give one example per line, a text and a label")
    has_header, text_index, label_index = _column_indices(path, rows[0][1], text_column, label_column)
    if has_header:
        rows = rows[1:]
    texts, labels = [], []
    separator = "tab" if tabs else "comma"
    for line, row in rows:
        if len(row) < 2 or max(text_index, label_index) >= len(row):
            raise UserInputError(
                f"{path}: line {line} has no label (expected a text and a label, {separator}-separated)"
            )
        label = row[label_index].strip()
        if not label:
            raise UserInputError(f"{path}: line {line} has an empty label: every example needs one")
        # Headerless text-then-label lines: the text is everything before the last separator.
        texts.append(("\t" if tabs else ",").join(row[:-1]) if label_index == -1 else row[text_index])
        labels.append(label)
    if not texts:
        raise UserInputError(f"{path} has a header but no examples: give one example per line")
    return texts, labels


def read_text(path: Path) -> str:
    """The whole of a UTF-8 file, without a byte-order mark.

    Raises:
      UserInputError: unreadable, or not UTF-8 (the offset is named).
    """
    try:
        return path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    except OSError as error:
        raise UserInputError(f"cannot read {path}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise UserInputError(
            f"{path} is not UTF-8 text (offset {error.start:,}): convert it to UTF-8"
        ) from error


def has_no_label_column(path: Path, text_column: str, label_column: str) -> bool:
    """True for a table file whose header names `text_column` but has no `label_column`."""
    if not path.is_file() or label_column.isdigit() or text_column.isdigit():
        return False
    header = [cell.strip() for cell in _first_row(path) or []]
    return text_column in header and label_column not in header


def _first_row(path: Path) -> list[str] | None:
    """The cells of the first non-blank line of a table file; None when it has none or cannot be read."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            first = next((line for line in handle if line.strip()), None)
    except OSError:
        return None
    if first is None:
        return None
    return next(csv.reader([first], delimiter="," if path.suffix.lower() == ".csv" else "\t"), [])


def _column_indices(path: Path, first_row: list[str], text_column: str, label_column: str):
    """`(has_header, text_index, label_index)` of a table whose first row is `first_row`: a row that
    holds `text_column` or `label_column` (unless they are numbers) is a header; without one, the
    columns are numbers from 0 (defaults: text first, label last, index -1)."""
    header = [cell.strip() for cell in first_row]
    names = [column for column in (text_column, label_column) if not column.isdigit()]
    if any(name in header for name in names):
        for column in (text_column, label_column):
            if column not in header:
                raise UserInputError(
                    f"{path} has no column {column!r}: its header has {', '.join(map(repr, header))}"
                )
        return True, header.index(text_column), header.index(label_column)
    defaults = (text_column, label_column) == (DEFAULT_TEXT_COLUMN, DEFAULT_LABEL_COLUMN)
    if not defaults and not (text_column.isdigit() and label_column.isdigit()):
        given = text_column if not text_column.isdigit() else label_column
        raise UserInputError(
            f"{path} has no column {given!r}: its first row ({', '.join(map(repr, header[:5]))}) is "
            f"not a header naming it; name the header's columns, or number the columns from 0"
        )
    return False, *((0, -1) if defaults else (int(text_column), int(label_column)))
