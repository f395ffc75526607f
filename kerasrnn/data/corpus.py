"""Character corpora: one loader turns a corpus name or a path into train / validation / test text.

Three kinds of source reach the character language model through `load_char_corpus`:

- `"python_docs"` (the default): the Python language reference shipped inside CPython
  (`pydoc_data.topics`), built by the tensorflow-datasets builder in `datasets/python_docs/`.
  Needs no network.
- `"tiny_shakespeare"`: tensorflow-datasets' own builder. Offline it works once `input.txt` is
  saved as `<data_dir>/downloads/manual/input.txt`; without that file (and not yet prepared) it
  fails at once with a message saying where to put it, instead of letting tfds retry the network
  for minutes.
- a path: a UTF-8 text file, or a folder whose `*.txt` files (searched recursively, hidden files
  and folders skipped) are read in the order of their path relative to the folder and joined, a
  newline added after a file that does not end with one. Text is decoded strictly as UTF-8 (a
  leading BOM is dropped, `\\r\\n` and `\\r` become `\\n`); a NUL byte means the file is binary.

Every split is contiguous text, and every source uses the same 90/5/5 rule by characters: train is
the first `int(0.9 * n)` characters, validation half (rounded down) of the rest, test the
remainder. The tfds builders store their splits that way already; for a path, `split_text` applies
it. A path holding the tiny-shakespeare file therefore gives exactly the splits of
`tfds.load("tiny_shakespeare")`.

A file or folder bigger than memory is read by `kerasrnn.data.corpus_stream` instead, in pieces and
with the same rules (`source_files`, `split_ends` and the error messages are shared); `STREAMING_MODES`
says which way a path is read.

Bad input raises `kerasrnn.errors.UserInputError` with a one-line message.

Example:

```python
corpus = load_char_corpus("python_docs", data_dir="~/tensorflow_datasets")
check_long_enough(corpus, sequence_length=100)
vocabulary = sorted(set(corpus.text))
```
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import platform
from pathlib import Path

from kerasrnn.data.named_splits import SPLITS, check_split
from kerasrnn.errors import UserInputError

logger = logging.getLogger(__name__)

PYTHON_DOCS = "python_docs"
TINY_SHAKESPEARE = "tiny_shakespeare"
CORPUS_NAMES = (PYTHON_DOCS, TINY_SHAKESPEARE)
BOM = "\ufeff"  # dropped from the start of every file
# How a path corpus is read: streamed from the disk or into memory (`corpus_stream.should_stream`).
STREAMING_MODES = ("auto", "always", "never")
TINY_SHAKESPEARE_URL = (
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
)

@dataclasses.dataclass(frozen=True)
class CharCorpus:
    """A character corpus cut into three contiguous splits.

    Attributes:
      name: `"python_docs"`, `"tiny_shakespeare"`, or the path the text was read from.
      train: the training text.
      validation: the validation text, which follows `train` in the source.
      test: the test text, which follows `validation`.
    """

    name: str
    train: str
    validation: str
    test: str

    def split(self, name: str) -> str:
        """Returns the text of split `name`: `"train"`, `"validation"` or `"test"`."""
        check_split(name)
        return getattr(self, name)

    def size(self, name: str) -> int:
        """The number of characters of split `name` (as `StreamedCorpus.size`)."""
        return len(self.split(name))

    @property
    def text(self) -> str:
        """The whole corpus: train, validation and test joined in order."""
        return self.train + self.validation + self.test

    def __repr__(self) -> str:  # The texts are far too long to print.
        sizes = ", ".join(f"{split}={len(getattr(self, split)):,} chars" for split in SPLITS)
        return f"CharCorpus(name={self.name!r}, {sizes})"


def split_ends(length: int) -> tuple[int, int]:
    """Where train and validation end in a text of `length` characters, by the 90/5/5 rule."""
    train_end = int(length * 0.9)
    return train_end, train_end + int((length - train_end) * 0.5)


def split_text(text: str) -> tuple[str, str, str]:
    """Cuts `text` into (train, validation, test) by characters with the 90/5/5 rule.

    Same arithmetic as tfds's `tiny_shakespeare` builder: train is `text[:int(0.9 * n)]`, validation
    the first half (rounded down) of the rest, test what remains (`split_ends`).
    """
    train_end, validation_end = split_ends(len(text))
    return text[:train_end], text[train_end:validation_end], text[validation_end:]


def load_char_corpus(
    source: str | os.PathLike = PYTHON_DOCS,
    data_dir: str | os.PathLike | None = None,
    *,
    allow_download: bool = False,
) -> CharCorpus:
    """Loads a character corpus and its train / validation / test splits.

    Args:
      source: `"python_docs"` (default), `"tiny_shakespeare"`, or the path of a UTF-8 text file or
        of a folder of `*.txt` files. A string equal to a corpus name means the corpus; write
        `./python_docs` for a file of that name.
      data_dir: where tensorflow-datasets keeps prepared datasets and downloads; default: tfds's
        default (`$TFDS_DATA_DIR` or `~/tensorflow_datasets`). Unused for a path.
      allow_download: for `"tiny_shakespeare"`, let tfds download `input.txt` when it is neither
        prepared nor saved in the manual folder (needs network; tfds retries for minutes without).
        Default False: fail at once with instructions.

    Returns:
      A `CharCorpus`.

    Raises:
      UserInputError: unknown corpus name, missing path, empty file or folder, binary or non-UTF-8
        file, missing or wrong tiny-shakespeare file, missing python_docs builder.
    """
    if isinstance(source, str) and source in CORPUS_NAMES:
        name = source
        if data_dir is not None:
            data_dir = os.fspath(Path(data_dir).expanduser())
        if source == PYTHON_DOCS:
            train, validation, test = _load_python_docs(data_dir)
        else:
            train, validation, test = _load_tiny_shakespeare(data_dir, allow_download)
    else:
        name = os.fspath(source)
        train, validation, test = split_text(_read_source_path(source))
    corpus = CharCorpus(name=name, train=train, validation=validation, test=test)
    logger.info("Loaded %r", corpus)
    return corpus


def check_long_enough(corpus, sequence_length: int) -> None:
    """Checks that every split of `corpus` (a `CharCorpus` or a `corpus_stream.StreamedCorpus`) holds
    at least one window: `sequence_length` + 1 characters.

    A window is `sequence_length` input characters plus the next character as the last target.

    Raises:
      UserInputError: `sequence_length` is not a positive integer, or a split is too short.
    """
    is_int = isinstance(sequence_length, int) and not isinstance(sequence_length, bool)
    if not is_int or sequence_length < 1:
        raise UserInputError(f"sequence length must be a positive integer, got {sequence_length!r}")
    needed = sequence_length + 1
    for split in SPLITS:
        size = corpus.size(split)
        if size < needed:
            raise UserInputError(
                f"corpus {corpus.name} is too small for sequence length {sequence_length:,}: its "
                f"{split} split has {size:,} characters and needs at least {needed:,} (one window "
                f"plus the next character); use a shorter sequence length or more text"
            )


def python_docs_builder_class() -> type:
    """Returns the python_docs `tfds.core.GeneratorBasedBuilder` class, importing it once.

    Loaded from `python_docs/` of the builders' folder by file path, see
    `kerasrnn.data.tfds_builders.builder_class`.

    Raises:
      UserInputError: the builder file is missing.
    """
    from kerasrnn.data.tfds_builders import builder_class

    return builder_class(PYTHON_DOCS, hint=", or choose another corpus")


def _load_python_docs(data_dir: str | None) -> tuple[str, str, str]:
    builder = python_docs_builder_class()(data_dir=data_dir)
    splits = _read_tfds_splits(builder)
    built_with = (builder.info.metadata or {}).get("python_version")
    if built_with and built_with != platform.python_version():
        logger.warning(
            "python_docs in %s was built with Python %s, this is Python %s: the text is the older "
            "one; delete %s to rebuild it",
            builder.data_dir_root, built_with, platform.python_version(), builder.data_dir,
        )
    return splits


def _load_tiny_shakespeare(data_dir: str | None, allow_download: bool) -> tuple[str, str, str]:
    import tensorflow_datasets as tfds  # Imported here: TensorFlow is slow to import.

    builder = tfds.builder(TINY_SHAKESPEARE, data_dir=data_dir)
    if not builder.is_prepared():
        root = Path(os.fspath(builder.data_dir_root))
        manual_file = root / "downloads" / "manual" / "input.txt"
        expected = (builder.url_infos or {}).get(TINY_SHAKESPEARE_URL)
        if manual_file.is_file():
            if expected is not None:
                _check_manual_file(manual_file, expected)
        elif not allow_download:
            raise UserInputError(
                f"tiny_shakespeare is not prepared in {root} and downloads are off: save input.txt "
                f"({TINY_SHAKESPEARE_URL}) as {manual_file} and run again"
            )
    return _read_tfds_splits(builder)


def _check_manual_file(path: Path, expected) -> None:
    """Checks size and sha256 here, so a wrong file gets one line rather than tfds's long error."""
    data = path.read_bytes()
    if len(data) != expected.size or hashlib.sha256(data).hexdigest() != expected.checksum:
        raise UserInputError(
            f"{path} is not the tiny-shakespeare input.txt (expected {expected.size:,} bytes with "
            f"sha256 {expected.checksum}, got {len(data):,} bytes): save {TINY_SHAKESPEARE_URL} "
            f"there unchanged"
        )


def _read_tfds_splits(builder) -> tuple[str, str, str]:
    """Prepares `builder` if needed, then joins the `text` of each split's examples in order."""
    import tensorflow_datasets as tfds

    from kerasrnn.data.tfds_builders import prepare

    prepare(builder)
    texts = []
    for split in SPLITS:
        dataset = builder.as_dataset(split=split, shuffle_files=False)
        texts.append("".join(example["text"].decode("utf-8") for example in tfds.as_numpy(dataset)))
    return tuple(texts)


@dataclasses.dataclass(frozen=True)
class SourceFiles:
    """The files of a path corpus, found and checked but not read (see `source_files`).

    Attributes:
      given: the path as the user wrote it, for messages.
      files: the text file, or the folder's `*.txt` files in the order they are joined.
      folder: whether `given` is a folder.
    """

    given: str
    files: tuple[Path, ...]
    folder: bool

    def empty_error(self) -> UserInputError:
        """The error for a source with nothing but blanks in it."""
        if self.folder:
            return UserInputError(
                f"the {len(self.files)} .txt files in folder {self.given} are empty: put text in them"
            )
        return UserInputError(f"{self.given} is empty (no text in it): give a file with text in it")


def source_files(source: str | os.PathLike) -> SourceFiles:
    """The file, or the `*.txt` files of the folder, that `source` names (see the module docstring).

    Raises:
      UserInputError: no source, no such path, neither a file nor a folder, a folder without `*.txt`.
    """
    given = os.fspath(source)
    if not given.strip():
        raise UserInputError(
            f"no corpus given: choose {' or '.join(CORPUS_NAMES)}, or give the path of a UTF-8 "
            f"text file or folder"
        )
    path = Path(given).expanduser()
    if not path.exists():
        if isinstance(source, str) and _looks_like_a_name(given):
            raise UserInputError(
                f"unknown corpus {given!r} and no such file or folder: choose "
                f"{' or '.join(CORPUS_NAMES)}, or give the path of a UTF-8 text file or folder"
            )
        raise UserInputError(
            f"no such file or folder: {given} (looked for {path.absolute()}); give the path of a "
            f"UTF-8 text file or of a folder of .txt files"
        )
    if path.is_file():
        return SourceFiles(given, (path,), folder=False)
    if not path.is_dir():
        raise UserInputError(f"{given} is neither a regular file nor a folder: give one of those")
    files = sorted(
        (p for p in path.rglob("*.txt") if p.is_file() and not _is_hidden(p.relative_to(path))),
        key=lambda p: p.relative_to(path).as_posix(),
    )
    if not files:
        raise UserInputError(
            f"folder {given} has no .txt files: put the UTF-8 text to learn from in *.txt files"
        )
    return SourceFiles(given, tuple(files), folder=True)


def _read_source_path(source: str | os.PathLike) -> str:
    """Reads a user's text file, or the `*.txt` files of a folder, as one string."""
    found = source_files(source)
    if not found.folder:
        text = _read_text_file(found.files[0])
        if not text.strip():
            raise found.empty_error()
        return text
    texts = [_read_text_file(p) for p in found.files]
    text = "".join(t if t.endswith("\n") or not t else t + "\n" for t in texts)
    if not text.strip():
        raise found.empty_error()
    logger.info("Read %d .txt files from %s", len(found.files), found.given)
    return text


def _read_text_file(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise unreadable_error(path, error) from error
    if b"\0" in data:
        raise binary_error(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise not_utf8_error(path, data[error.start], error.start) from error
    return normalise_newlines(text.removeprefix(BOM))



def normalise_newlines(text: str) -> str:
    """`text` with `\\r\\n` and lone `\\r` made `\\n`."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def unreadable_error(path: Path, error: OSError) -> UserInputError:
    return UserInputError(f"cannot read {path}: {error.strerror}")


def binary_error(path: Path) -> UserInputError:
    return UserInputError(f"{path} looks binary (it contains NUL bytes): give a UTF-8 text file")


def not_utf8_error(path: Path, byte: int, offset: int) -> UserInputError:
    return UserInputError(
        f"{path} is not UTF-8 text (byte 0x{byte:02x} at offset {offset:,}): convert it to UTF-8 or "
        f"give another file"
    )


def _looks_like_a_name(given: str) -> bool:
    """True for `shakespeare`, False for `data.txt`, `corpus/`, `~/x`: how to word a miss."""
    return not any(mark in given for mark in ("/", os.sep, ".", "~"))


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)
