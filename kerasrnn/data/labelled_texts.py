"""Labelled texts for the `classify` task: one loader for every source, three splits, class names.

`load_labelled_texts(source, …)` takes:

- `spelled_numbers` (the embedded default): numbers in words (`datasets/spelled_numbers/`), labelled
  by language, five texts per number, in the dataset's own splits (no number in two);
- `imdb_reviews`: tfds's catalog builder through `tfds.load`; offline it needs `aclImdb_v1.tar.gz`
  in `<data_dir>/downloads/manual/`, and fails at once with that instruction without it;
- a folder of class folders, the `aclImdb` layout that `keras.utils.text_dataset_from_directory`
  reads: `<class>/<example>.txt`, or `train/<class>/…` and `test/<class>/…` (other folders in
  `train/`, such as aclImdb's `unsup/`, are left out);
- a CSV / TSV / text file with one example per line, a text and a label column (`read_table`); a
  folder of such files is read as one.

Named splits: in a folder, files and folders whose names start with `train`, `dev` / `valid` /
`validation` or `test` (the GLUE layout `train.tsv`, `dev.tsv`, `test.tsv`; aclImdb's `train/`,
`test/`) are those splits, never re-cut, and a log line says which file became which split;
`validation_data` / `test_data` give a split from a file of its own (the whole file). A split
that none of these gives is cut from the training data: a seeded tenth of it each. Sources without
any split of their own are cut 80/10/10 into train / validation / test by a permutation with the
fixed seed `SPLIT_SEED` (independent of the training seed, so `evaluate` scores the same
examples). With `whole=True` (what `evaluate --data FILE` uses) data without named splits is not
cut: every split is the whole of it. Examples with empty text are dropped. Bad input raises
`UserInputError` with one line.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import os
from pathlib import Path

import numpy as np

from kerasrnn.data.named_splits import split_entries, split_named
from kerasrnn.errors import UserInputError

logger = logging.getLogger(__name__)

SPELLED_NUMBERS = "spelled_numbers"
IMDB_REVIEWS = "imdb_reviews"
SOURCE_NAMES = (SPELLED_NUMBERS, IMDB_REVIEWS)
SPLITS = ("train", "validation", "test")
SPLIT_SEED = 1234
IMDB_ARCHIVE = "aclImdb_v1.tar.gz"
IMDB_URL = "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
DEFAULT_TEXT_COLUMN = "text"
DEFAULT_LABEL_COLUMN = "label"


@dataclasses.dataclass(frozen=True)
class LabelledTexts:
    """Texts with class ids in three splits.

    Attributes:
      name: the source (a name or a path).
      class_names: the classes, sorted; a label id indexes this tuple.
      splits: split name → `(texts, label_ids)`, two lists of the same length.
    """

    name: str
    class_names: tuple[str, ...]
    splits: dict
    numbers: dict | None = None  # split name → the number each text spells (spelled_numbers only)
    whole: bool = False  # every split is the whole data (`whole=True`, data without named splits)

    def split(self, name: str) -> tuple[list[str], list[int]]:
        if name not in SPLITS:
            raise UserInputError(f"unknown split {name!r}: choose one of {', '.join(SPLITS)}")
        return self.splits[name]

    def numbers_of(self, name: str) -> list[int] | None:
        """The number each text of split `name` spells; None for data that are not numbers."""
        return None if self.numbers is None else self.numbers[name]

    def __repr__(self) -> str:
        sizes = ", ".join(f"{split}={len(self.splits[split][0]):,}" for split in SPLITS)
        return f"LabelledTexts(name={self.name!r}, classes={list(self.class_names)}, {sizes})"


def load_labelled_texts(
    source: str | os.PathLike = SPELLED_NUMBERS,
    data_dir: str | os.PathLike | None = None,
    *,
    text_column: str = DEFAULT_TEXT_COLUMN,
    label_column: str = DEFAULT_LABEL_COLUMN,
    validation_data: str | os.PathLike | None = None,
    test_data: str | os.PathLike | None = None,
    whole: bool = False,
) -> LabelledTexts:
    """Loads labelled texts from a named source or a path (see the module docstring).

    Args:
      source: a name of `SOURCE_NAMES`, or the path of a file or folder.
      data_dir: tensorflow-datasets folder for the named sources.
      text_column, label_column: the columns of CSV/TSV files (see `read_table`).
      validation_data, test_data: a file or folder whose whole content is that split (paths only).
      whole: a path without named splits is not cut: every split is all of it (for scoring a file).

    Raises:
      UserInputError: unknown source or missing path; an empty or label-less file; an unknown
        column; a single class; an empty split; imdb_reviews neither prepared nor saved offline.
    """
    given = {split: path for split, path in (("validation", validation_data), ("test", test_data))
             if path is not None}
    numbers = None
    if isinstance(source, str) and source in SOURCE_NAMES:
        if given:
            raise UserInputError(f"separate validation or test data go with data of your own, not {source}")
        if data_dir is not None:
            data_dir = os.fspath(Path(data_dir).expanduser())
        if source == SPELLED_NUMBERS:
            raw, numbers = _load_spelled_numbers(data_dir)
        else:
            raw = _load_imdb(data_dir)
        name = source
    else:
        name = os.fspath(source)
        raw = _load_path(name, text_column, label_column, given_splits=given, whole=whole)
        whole = whole and raw.pop("whole", False)
    return _index_labels(name, raw, numbers, whole=bool(whole))


def _index_labels(name: str, raw: dict[str, tuple[list[str], list[str]]], numbers: dict | None = None,
                  *, whole: bool = False) -> LabelledTexts:
    """String labels → ids over the sorted training classes; checks classes and split sizes."""
    kept = {}
    for split in SPLITS:
        texts, labels = raw[split]
        keep = [index for index, text in enumerate(texts) if text.strip()]
        pairs = [(texts[index], labels[index]) for index in keep]
        if len(pairs) < len(texts):
            logger.warning("%s: dropped %d %s examples with empty text", name, len(texts) - len(pairs), split)
            if numbers is not None:
                numbers = {**numbers, split: [numbers[split][index] for index in keep]}
        kept[split] = pairs
    class_names = tuple(sorted({label for _, label in kept["train"]}))
    if len(class_names) < 2:
        found = f"only the class {class_names[0]!r}" if class_names else "no labelled examples"
        raise UserInputError(
            f"{name} has {found} in its training split: a classifier needs at least two classes"
        )
    ids = {label: index for index, label in enumerate(class_names)}
    splits = {}
    for split in SPLITS:
        pairs = kept[split]
        if not pairs:
            raise UserInputError(f"{name} has no examples in its {split} split: give more examples")
        unknown = sorted({label for _, label in pairs if label not in ids})
        if unknown:
            raise UserInputError(
                f"{name}: the {split} split has label {unknown[0]!r}, which no training example has"
            )
        splits[split] = ([text for text, _ in pairs], [ids[label] for _, label in pairs])
    texts = LabelledTexts(name, class_names, splits, numbers, whole)
    logger.info("Loaded %r", texts)
    return texts


def split_80_10_10(count: int, seed: int = SPLIT_SEED) -> dict[str, np.ndarray]:
    """Indices of train / validation / test: a seeded permutation of `range(count)` cut 80/10/10."""
    order = np.random.default_rng(seed).permutation(count)
    train_end = int(round(0.8 * count))
    validation_end = train_end + (count - train_end) // 2
    return {"train": order[:train_end], "validation": order[train_end:validation_end],
            "test": order[validation_end:]}


def _cut(texts: list[str], labels: list[str]) -> dict[str, tuple[list[str], list[str]]]:
    parts = split_80_10_10(len(texts))
    return {split: ([texts[i] for i in index], [labels[i] for i in index]) for split, index in parts.items()}


def _with_validation(train: tuple[list[str], list[str]], test) -> dict:
    """train and test given: a seeded tenth of train becomes the validation split."""
    texts, labels = train
    order = np.random.default_rng(SPLIT_SEED).permutation(len(texts))
    cut = len(texts) - max(1, len(texts) // 10) if len(texts) > 1 else len(texts)
    pick = lambda index: ([texts[i] for i in index], [labels[i] for i in index])  # noqa: E731
    return {"train": pick(order[:cut]), "validation": pick(order[cut:]), "test": test}


# --- named sources ---------------------------------------------------------------------------


def _load_spelled_numbers(data_dir):
    from kerasrnn.data import spelled_numbers

    rows = spelled_numbers.load_spelled_numbers(data_dir)
    # Every number of digits gets the same share of training: else 0…99 are half a percent of it.
    rows = {**rows, "train": spelled_numbers.balanced_by_digits(rows["train"])}
    raw = {split: spelled_numbers.language_examples(rows[split]) for split in SPLITS}
    numbers = {split: [row["number"] for row in rows[split] for _ in spelled_numbers.LANGUAGES]
               for split in SPLITS}
    return raw, numbers


def _load_imdb(data_dir):
    import tensorflow_datasets as tfds

    builder = tfds.builder(IMDB_REVIEWS, data_dir=data_dir)
    if not builder.is_prepared():
        root = Path(os.fspath(builder.data_dir_root))
        downloads = root / "downloads"
        manual = downloads / "manual" / IMDB_ARCHIVE
        downloaded = downloads.is_dir() and any(
            path.name.endswith(IMDB_ARCHIVE) for path in downloads.iterdir()
        )
        if not manual.is_file() and not downloaded:
            raise UserInputError(
                f"imdb_reviews is not prepared in {root} and this machine may be offline: save "
                f"{IMDB_ARCHIVE} ({IMDB_URL}) as {manual} and run again, or give --data-dir where "
                f"it is prepared"
            )
    train, test = tfds.load(IMDB_REVIEWS, split=["train", "test"], data_dir=data_dir,
                            shuffle_files=False, as_supervised=True)
    names = builder.info.features["label"].names

    def read(dataset):
        pairs = [(text.decode("utf-8"), names[int(label)]) for text, label in tfds.as_numpy(dataset)]
        return [text for text, _ in pairs], [label for _, label in pairs]

    return _with_validation(read(train), read(test))


# --- paths -----------------------------------------------------------------------------------


def _load_path(given: str, text_column: str, label_column: str, *, given_splits: dict | None = None,
               whole: bool = False):
    given_splits = given_splits or {}
    path = _existing_path(given)
    read = lambda entry, classes=None: _read_entry(entry, text_column, label_column, classes)  # noqa: E731
    named = split_entries(path) if path.is_dir() else {}
    if named and "train" not in named and all(entry.is_dir() for entries in named.values() for entry in entries):
        named = {}  # folders such as development/, testing/ without a train*: class folders
    if named:
        if "train" not in named:
            raise UserInputError(
                f"folder {given} has {', '.join(p.name for entries in named.values() for p in entries)} named "
                f"for a split but nothing named train*: name the training file or folder train…"
            )
        for split in ("validation", "test"):
            unlabelled = [entry for entry in named.get(split, []) if _unlabelled(entry, text_column, label_column)]
            for entry in unlabelled:  # GLUE's test.tsv: index and sentence, no label
                logger.warning("%s: left out %s, which has no %r column: its texts have no labels to score",
                               given, entry.name, label_column)
                named[split].remove(entry)
            if split in named and not named[split]:
                del named[split]
        classes = _shared_classes([entry for entries in named.values() for entry in entries])
        found = {split: _concatenate([read(entry, classes) for entry in entries]) for split, entries in named.items()}
        sources = {split: ", ".join(entry.name for entry in entries) for split, entries in named.items()}
        others = [p.name for p in _visible(path.iterdir()) if split_named(p.name) is None and
                  (p.is_dir() or p.suffix.lower() in TABLE_SUFFIXES)]
        if others:
            logger.info("%s: left out %s (not named train*, dev*/valid*, test*)", given, ", ".join(sorted(others)))
    elif given_splits or not whole:
        found = {"train": read(path)}
        sources = {"train": path.name}
        if not given_splits:
            return _cut(*found["train"])
    else:
        everything = read(path)
        logger.info("%s: every split is the whole of it (%s examples)", given, f"{len(everything[0]):,}")
        return {split: everything for split in SPLITS} | {"whole": True}
    for split, other in given_splits.items():
        other_path = _existing_path(os.fspath(other))
        found[split] = read(other_path)
        sources[split] = os.fspath(other)
    return _complete_splits(given, found, sources)


def _complete_splits(name: str, found: dict, sources: dict) -> dict:
    """`found` splits with each missing one cut from train (a seeded tenth each), and the line saying
    which file became which split."""
    train_texts, train_labels = found["train"]
    missing = [split for split in ("validation", "test") if split not in found]
    if missing:
        # From the end of a seeded permutation: the validation split of aclImdb's train/ and test/
        # is the one it always was.
        count = len(train_texts)
        order = np.random.default_rng(SPLIT_SEED).permutation(count)
        tenth = max(1, count // 10) if count > len(missing) else 0
        for index, split in enumerate(missing):
            part = order[count - (index + 1) * tenth:count - index * tenth]
            found[split] = ([train_texts[i] for i in part], [train_labels[i] for i in part])
            sources[split] = f"a tenth of {sources['train']}"
        rest = order[:count - len(missing) * tenth]
        found["train"] = ([train_texts[i] for i in rest], [train_labels[i] for i in rest])
    logger.info("%s: %s", name, "; ".join(
        f"{split} ← {sources[split]} ({len(found[split][0]):,} examples)" for split in SPLITS))
    return found


def _existing_path(given: str) -> Path:
    if not given.strip():
        raise UserInputError("no data given: name a source or give the path of a file or folder")
    path = Path(given).expanduser()
    if not path.exists():
        if not any(mark in given for mark in ("/", os.sep, ".", "~")):
            raise UserInputError(
                f"unknown data source {given!r} and no such file or folder: choose "
                f"{' or '.join(SOURCE_NAMES)}, or give the path of a CSV/TSV file or a folder"
            )
        raise UserInputError(f"no such file or folder: {given} (looked for {path.absolute()})")
    if not (path.is_file() or path.is_dir()):
        raise UserInputError(f"{given} is neither a regular file nor a folder: give one of those")
    return path


def _unlabelled(path: Path, text_column: str, label_column: str) -> bool:
    """True for a table file whose header names `text_column` but has no `label_column`."""
    if not path.is_file() or label_column.isdigit() or text_column.isdigit():
        return False
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            first = next((line for line in handle if line.strip()), "")
    except OSError:
        return False
    header = [cell.strip() for cell in next(csv.reader([first], delimiter="," if path.suffix.lower() == ".csv"
                                                       else "\t"), [])]
    return text_column in header and label_column not in header


def _shared_classes(entries: list[Path]) -> list[str] | None:
    """The class folders found in every split folder that has some (so aclImdb's train/unsup is left
    out); None when no split folder has class folders."""
    sets = [{p.name for p in _visible(entry.iterdir()) if p.is_dir()} for entry in entries if entry.is_dir()]
    sets = [classes for classes in sets if classes]
    return sorted(set.intersection(*sets)) if sets else None


def _concatenate(parts):
    return [text for texts, _ in parts for text in texts], [label for _, labels in parts for label in labels]


def _read_entry(path: Path, text_column: str, label_column: str, classes: list[str] | None = None):
    """`(texts, labels)` of a table file, a folder of class folders (`classes`, or all of them), or a
    folder of table files read as one."""
    if path.is_file():
        return read_table(path, text_column, label_column)
    folders = _visible(p for p in path.iterdir() if p.is_dir())
    if folders:
        return _read_class_folders(path, classes if classes is not None else sorted(p.name for p in folders))
    files = sorted(p for p in _visible(path.iterdir()) if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES)
    if not files:
        raise UserInputError(
            f"folder {path} has neither class sub-folders nor .csv/.tsv/.txt files of labelled lines"
        )
    return _concatenate([read_table(file, text_column, label_column) for file in files])


def _visible(paths):
    return [p for p in paths if not p.name.startswith(".")]


def _read_class_folders(folder: Path, classes: list[str]) -> tuple[list[str], list[str]]:
    """`<folder>/<class>/*.txt`, one example per file, in the order of class then file name."""
    texts, labels = [], []
    for name in classes:
        files = [p for p in _visible((folder / name).iterdir()) if p.is_file() and p.suffix == ".txt"]
        for file in sorted(files):
            texts.append(_read_text(file))
            labels.append(name)
    if not texts:
        raise UserInputError(f"folder {folder} has no .txt files in its class folders: one file per example")
    return texts, labels


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    except OSError as error:
        raise UserInputError(f"cannot read {path}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise UserInputError(
            f"{path} is not UTF-8 text (offset {error.start:,}): convert it to UTF-8"
        ) from error


def read_table(path: Path, text_column: str = DEFAULT_TEXT_COLUMN,
               label_column: str = DEFAULT_LABEL_COLUMN) -> tuple[list[str], list[str]]:
    """`(texts, labels)` of a CSV (`.csv`: commas, quotes) or TSV (`.tsv`, `.txt`: tabs) file.

    A first row that holds `text_column` or `label_column` (unless they are numbers) is a header.
    Without one, the columns are 0-based numbers (`"0"`, `"2"`); left at their defaults, text is
    the first column and the label the last (a line `sentence<TAB>1`).

    Raises:
      UserInputError: an empty file, an unknown column, a row without its label.
    """
    text = _read_text(path)
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


def check_table_columns(path: Path, text_column: str = DEFAULT_TEXT_COLUMN,
                        label_column: str = DEFAULT_LABEL_COLUMN) -> None:
    """Checks the columns of a CSV/TSV file against its first row only, so that a wrong
    `--text-column` is reported at once, before anything heavy starts (see `read_table`)."""
    path = Path(path)
    tabs = path.suffix.lower() != ".csv"
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            first = next((line for line in handle if line.strip()), None)
    except OSError:
        return  # the loader says what is wrong with the file itself
    if first is not None:
        row = next(csv.reader([first], delimiter="\t" if tabs else ","), [])
        _column_indices(path, row, text_column, label_column)


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
