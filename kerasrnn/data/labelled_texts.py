"""Labelled texts for the `classify` task: one loader for every source, three splits, class names.

`load_labelled_texts(source, …)` takes:

- `spelled_numbers` (the embedded default): numbers in words (`datasets/spelled_numbers/`), labelled
  by language, five texts per number, in the dataset's own splits (no number in two);
- `imdb_reviews`: tfds's catalog builder through `tfds.load`; offline it needs `aclImdb_v1.tar.gz`
  in `<data_dir>/downloads/manual/`, and fails at once with that instruction without it;
- a folder of class folders, the `aclImdb` layout that `keras.utils.text_dataset_from_directory`
  reads: `<class>/<example>.txt`, or `train/<class>/…` and `test/<class>/…` (other folders in
  `train/`, such as aclImdb's `unsup/`, are left out);
- a CSV / TSV / text file with one example per line, a text and a label column (read by
  `text_tables.read_table`); a folder of such files is read as one.

Named splits: in a folder, files and folders whose names start with `train`, `dev` / `valid` /
`validation` or `test` (the GLUE layout `train.tsv`, `dev.tsv`, `test.tsv`; aclImdb's `train/`,
`test/`) are those splits, never re-cut, and a log line says which file became which split;
`validation_data` / `test_data` give a split from a file of its own (the whole file). A split
that none of these gives is cut from the training data: a seeded tenth of it each
(`splits.complete_splits` with `splits.seeded_tenths`; imdb_reviews' validation split too). Sources
without any split of their own are cut 80/10/10 into train / validation / test by a permutation
with the fixed seed `splits.SPLIT_SEED` (independent of the training seed, so `evaluate` scores the
same examples). With `whole=True` (what `evaluate --data FILE` uses) data without named splits is
not cut: every split is the whole of it. Examples with empty text are dropped. Bad input raises
`UserInputError` with one line.

This module chooses the source and finds its files and folders; the splits' rules live in
`splits`, the names of split files in `named_splits`, the reading of CSV / TSV files in
`text_tables`.

Example:

```python
texts = load_labelled_texts("glue/SST-2", text_column="sentence")   # train.tsv, dev.tsv, test.tsv
sentences, label_ids = texts.split("train")
texts.class_names                                                    # ("0", "1")
```
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from kerasrnn.data.named_splits import SPLITS, check_split, split_entries, split_named
from kerasrnn.data.splits import complete_splits, cut_from, seeded_tenths, split_80_10_10, take
from kerasrnn.data.text_tables import (
    DEFAULT_LABEL_COLUMN,
    DEFAULT_TEXT_COLUMN,
    TABLE_SUFFIXES,
    has_no_label_column,
    read_table,
    read_text,
)
from kerasrnn.errors import UserInputError

logger = logging.getLogger(__name__)

SPELLED_NUMBERS = "spelled_numbers"
IMDB_REVIEWS = "imdb_reviews"
SOURCE_NAMES = (SPELLED_NUMBERS, IMDB_REVIEWS)
IMDB_ARCHIVE = "aclImdb_v1.tar.gz"
IMDB_URL = "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"


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
        return self.splits[check_split(name)]

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

    return {**cut_from(read(train), ["validation"], seeded_tenths), "test": read(test)}


# --- paths -----------------------------------------------------------------------------------


def _load_path(given: str, text_column: str, label_column: str, *, given_splits: dict | None = None,
               whole: bool = False):
    given_splits = given_splits or {}
    path = _existing_path(given)
    read = lambda entry, classes=None: _read_entry(entry, text_column, label_column, classes)  # noqa: E731
    named = split_entries(path, suffixes=TABLE_SUFFIXES) if path.is_dir() else {}
    if named and "train" not in named and all(entry.is_dir() for entries in named.values() for entry in entries):
        named = {}  # folders such as development/, testing/ without a train*: class folders
    if named:
        if "train" not in named:
            raise UserInputError(
                f"folder {given} has {', '.join(p.name for entries in named.values() for p in entries)} named "
                f"for a split but nothing named train*: name the training file or folder train…"
            )
        for split in ("validation", "test"):
            unlabelled = [entry for entry in named.get(split, [])
                          if has_no_label_column(entry, text_column, label_column)]
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
            train = found["train"]
            return {split: take(train, index) for split, index in split_80_10_10(len(train[0])).items()}
    else:
        everything = read(path)
        logger.info("%s: every split is the whole of it (%s examples)", given, f"{len(everything[0]):,}")
        return {split: everything for split in SPLITS} | {"whole": True}
    for split, other in given_splits.items():
        other_path = _existing_path(os.fspath(other))
        found[split] = read(other_path)
        sources[split] = os.fspath(other)
    return complete_splits(given, found, sources, seeded_tenths)


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
            texts.append(read_text(file))
            labels.append(name)
    if not texts:
        raise UserInputError(f"folder {folder} has no .txt files in its class folders: one file per example")
    return texts, labels

