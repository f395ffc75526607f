"""Streamed character corpora: a text file or folder bigger than memory, read as an id file on disk.

`load_char_corpus` reads a corpus into one string (fast for small texts; a 1 GB text would need tens of
GB once TensorFlow has split it into characters). A streamed corpus never holds its text: the text
is read in pieces of `CHUNK_BYTES`, twice, with the same rules as `corpus.load_char_corpus` (strict
UTF-8, BOM dropped, `\\r\\n` and `\\r` made `\\n`, a folder's `*.txt` files joined in path order with
a newline after a file that lacks one, a NUL byte means binary) and the same 90/5/5 split by
characters (`corpus.split_ends`):

1. `scan_char_corpus` counts the characters and notes where each character first occurs, which
   gives the training split's vocabulary (the characters that occur before `int(0.9 * n)`) without
   knowing n in advance. Bad input fails here, before TensorFlow is imported.
2. `StreamedCorpus.ids(characters)` writes the ids of every character in a given vocabulary
   (`[UNK]` = 0, `[BOS]` = 1, `characters` from 2, the ids of `tasks.charlm.data.make_char_lookup`)
   into one flat file, an `id_file.IdFile`, from whose splits (`IdSpan`s) training reads its
   windows.

The cache: both results are kept under `cache_root()` — `$KERASRNN_CACHE_DIR` if set, else
`$XDG_CACHE_HOME/kerasrnn`, else `~/.cache/kerasrnn` — in `corpora/<P>-<S>/`, where P hashes the
source's absolute path and S the path, size, modification time and inode of each of its files, so
that an edited corpus is scanned again (and the other caches of that path are then deleted). A
second run, `evaluate` and `--resume` reuse them at once. Every file is written to a temporary name,
flushed and renamed (`kerasrnn.fileio.replace_atomically`): a crash leaves no half cache, and two
processes that build the same cache at once both end with a whole one.

Example:

```python
corpus = scan_char_corpus("books/")             # one pass; StreamedCorpus(name='books/', train=…)
ids = corpus.ids(corpus.characters)             # a second pass, once; then from the cache
train = ids.split("train")                      # an IdSpan: len(train) == corpus.size("train")
```
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Iterator

import numpy as np

from kerasrnn.data.corpus import (BOM, CORPUS_NAMES, SPLITS, STREAMING_MODES, SourceFiles, binary_error,
                                  normalise_newlines, not_utf8_error, source_files, split_ends,
                                  unreadable_error)
from kerasrnn.data.id_file import IdFile, forget_descriptor, split_span
from kerasrnn.errors import UserInputError
from kerasrnn.fileio import os_error_cause, replace_atomically

logger = logging.getLogger(__name__)

# "auto" streams a file or folder of more than this many bytes. Measured on 2 cores
# (`benchmarks/bench_streaming_memory.py --compare 0.1,1,4,16`, a fresh process and cache each):
# below 1 MiB both ways start in under a second and the in-memory path reads windows faster (about
# 2,500 against 1,600 batches of 64 × 100 a second, both far quicker than a training step) and writes
# nothing to the disk; above it the in-memory start, its re-encoding at every evaluation and its
# memory (about 60 bytes a character) grow with the text: at 4 MiB 2.4 s against 0.5 s to start and
# 940 against 590 MiB; at 16 MiB 5.6 s against 0.6 s and 1.9 GiB against 0.6 GiB.
STREAMING_THRESHOLD_BYTES = 2**20
CHUNK_BYTES = 2**18
CACHE_ENV = "KERASRNN_CACHE_DIR"
FORMAT_VERSION = 1  # of the files in the cache; part of its key
MAX_CODE_POINT = 0x10FFFF
SPECIAL_IDS = 2  # [UNK] = 0 and [BOS] = 1 come before the characters
SCAN_FILE = "scan.json"


def should_stream(source: str, mode: str = "auto") -> bool:
    """Whether corpus `source` is to be streamed under `mode` (one of `STREAMING_MODES`).

    The named corpora are small and always read into memory; a path is streamed with `"always"`, or
    with `"auto"` when its files hold more than `STREAMING_THRESHOLD_BYTES`; `"never"` never streams.
    A path that does not exist is not streamed (the in-memory loader then says what is wrong).
    """
    if mode not in STREAMING_MODES:
        raise UserInputError(f"unknown streaming mode {mode!r}: choose one of {', '.join(STREAMING_MODES)}")
    if mode == "never" or (isinstance(source, str) and source in CORPUS_NAMES):
        return False
    if mode == "always":
        return True
    try:
        files = source_files(source).files
        return sum(path.stat().st_size for path in files) > STREAMING_THRESHOLD_BYTES
    except (UserInputError, OSError):
        return False


def cache_root() -> Path:
    """The folder of the id caches: `$KERASRNN_CACHE_DIR`, `$XDG_CACHE_HOME/kerasrnn`, or
    `~/.cache/kerasrnn`."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "kerasrnn"


# --- reading the text in pieces ----------------------------------------------------------------


def text_pieces(found: SourceFiles, chunk_bytes: int = CHUNK_BYTES) -> Iterator[str]:
    """The text of a path corpus in pieces, exactly as `corpus.load_char_corpus` reads it whole:
    `"".join(text_pieces(source_files(path)))` equals its `text`. No piece is empty.

    Raises:
      UserInputError: an unreadable, binary or non-UTF-8 file (the same message as the loader's).
    """
    for path in found.files:
        last = ""
        for piece in _file_pieces(path, chunk_bytes):
            last = piece[-1]
            yield piece
        if found.folder and last and last != "\n":
            yield "\n"


def _file_pieces(path: Path, chunk_bytes: int) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset, start, carried = 0, True, ""
    try:
        with open(path, "rb") as handle:
            while True:
                data = handle.read(chunk_bytes)
                final = not data
                if b"\0" in data:
                    raise binary_error(path)
                pending = len(decoder.getstate()[0])
                try:
                    text = decoder.decode(data, final)
                except UnicodeDecodeError as error:  # a NUL later on still makes it "binary"
                    byte, at = error.object[error.start], offset - pending + error.start
                    while data := handle.read(chunk_bytes):
                        if b"\0" in data:
                            raise binary_error(path) from None
                    raise not_utf8_error(path, byte, at) from None
                offset += len(data)
                if start and text:
                    text, start = text.removeprefix(BOM), False
                text, carried = carried + text, ""
                if not final and text.endswith("\r"):  # its "\n" may begin the next piece
                    text, carried = text[:-1], "\r"
                if text:
                    yield normalise_newlines(text)
                if final:
                    return
    except OSError as error:
        raise unreadable_error(path, error) from error


def code_points(piece: str) -> np.ndarray:
    """The Unicode code points of `piece`, uint32."""
    return np.frombuffer(piece.encode("utf-32-le"), np.uint32)


# --- the scan ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StreamedCorpus:
    """A path corpus known by its sizes and training vocabulary, read from the disk when needed.

    Attributes:
      name: the path as given (as `CharCorpus.name`).
      length: characters of the whole text.
      characters: the distinct characters of the training split, sorted by code point (what
        `tasks.charlm.data.corpus_characters(corpus.train)` gives for the in-memory corpus).
      files: the source's files, in the order they are joined.
      folder: whether the source is a folder.
      cache_dir: the folder of this corpus's caches.
    """

    name: str
    length: int
    characters: tuple[str, ...]
    files: tuple[Path, ...]
    folder: bool
    cache_dir: Path

    def size(self, split: str) -> int:
        """Characters in `split`; the 90/5/5 rule of `corpus.split_text`."""
        start, stop = split_span(self.length, split)
        return stop - start

    def ids(self, characters) -> "IdFile":
        """The ids of the whole text in vocabulary `characters` (ids 2… in their order, anything else
        `[UNK]` = 0), written once into the cache with one pass over the text, then reused.

        Raises:
          UserInputError: the cache cannot be written (a full disk, no permission), or the source
            changed while it was read.
        """
        return _encode(self, tuple(characters))

    def __repr__(self) -> str:
        sizes = ", ".join(f"{split}={self.size(split):,} chars" for split in SPLITS)
        return f"StreamedCorpus(name={self.name!r}, {sizes})"


def scan_char_corpus(source: str | os.PathLike, *, chunk_bytes: int = CHUNK_BYTES) -> StreamedCorpus:
    """A path corpus (file or folder, as `corpus.load_char_corpus` takes) as a `StreamedCorpus`: one
    pass over its text, or none when the cache has it.

    Raises:
      UserInputError: every error of the in-memory loader for a path, with the same message.
    """
    found = source_files(source)
    cache_dir = _cache_dir(found)
    cached = _read_json(cache_dir / SCAN_FILE)
    if cached and cached.get("version") == FORMAT_VERSION:
        return StreamedCorpus(found.given, cached["length"], tuple(cached["characters"]), found.files,
                              found.folder, cache_dir)
    logger.info("Reading %s once for its characters (%s)", found.given, _bytes_text(found))
    length, has_text, first = 0, False, {}
    seen = np.zeros(MAX_CODE_POINT + 1, bool)
    for piece in text_pieces(found, chunk_bytes):
        points = code_points(piece)
        if not seen[points].all():
            for block in range(0, points.size, 2**16):  # in blocks: np.unique's memory grows with its input
                part = points[block:block + 2**16]
                where = np.flatnonzero(~seen[part])
                if where.size:
                    values, firsts = np.unique(part[where], return_index=True)
                    first.update(zip(values.tolist(), (length + block + where[firsts]).tolist()))
                    seen[values] = True
        has_text = has_text or not piece.isspace()
        length += len(piece)
    if not has_text:
        raise found.empty_error()
    train_end = split_ends(length)[0]
    characters = tuple(chr(point) for point in sorted(first) if first[point] < train_end)
    _forget_other_versions(cache_dir)
    _write(cache_dir / SCAN_FILE, lambda path: path.write_text(json.dumps(
        {"version": FORMAT_VERSION, "source": found.given, "length": length,
         "characters": "".join(characters)}, ensure_ascii=False), "utf-8"))
    return StreamedCorpus(found.given, length, characters, found.files, found.folder, cache_dir)


# --- the id file ---------------------------------------------------------------------------------


def _encode(corpus: StreamedCorpus, characters: tuple[str, ...]) -> IdFile:
    size = SPECIAL_IDS + len(characters)
    dtype = "uint16" if size <= 2**16 else "int32"
    key = hashlib.sha256("\0".join(characters).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    path = corpus.cache_dir / f"ids-{key}.{dtype}.bin"
    id_file = IdFile(path, dtype, corpus.length, size)
    meta = {"length": corpus.length, "vocabulary_size": size}
    whole = _size_of(path) == corpus.length * np.dtype(dtype).itemsize
    if whole and _read_json(path.with_suffix(".json")) == meta:
        return id_file
    _remove_stale_temporaries(corpus.cache_dir)
    logger.info("Writing the ids of %s to %s", corpus.name, path)
    table = np.zeros(MAX_CODE_POINT + 1, dtype)
    table[[ord(c) for c in characters]] = np.arange(SPECIAL_IDS, size, dtype=np.int64).astype(dtype)
    found = SourceFiles(corpus.name, corpus.files, corpus.folder)

    def write(temporary: Path) -> None:
        written = 0
        with open(temporary, "wb") as handle:
            for piece in text_pieces(found):
                ids = table[code_points(piece)]
                handle.write(ids.tobytes())
                written += ids.size
        if written != corpus.length:
            raise UserInputError(f"{corpus.name} changed while it was read ({written:,} characters, "
                                 f"{corpus.length:,} before): run again")

    _write(path, write)
    forget_descriptor(path)  # a descriptor opened before reads the replaced file
    _write(path.with_suffix(".json"), lambda temporary: temporary.write_text(json.dumps(meta), "utf-8"))
    return id_file


# --- the cache folder ----------------------------------------------------------------------------


def _cache_dir(found: SourceFiles) -> Path:
    """`cache_root()/corpora/<P>-<S>`: P hashes the absolute path, S every file's identity."""
    source = Path(found.given).expanduser().resolve()
    try:
        stats = [(os.fspath(path), path.stat()) for path in found.files]
    except OSError as error:
        raise unreadable_error(Path(error.filename or found.given), error) from error
    identity = [(name, stat.st_size, stat.st_mtime_ns, stat.st_ino) for name, stat in stats]
    path_key = hashlib.sha256(os.fspath(source).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    state_key = hashlib.sha256(json.dumps([FORMAT_VERSION, identity]).encode("utf-8", "surrogateescape"))
    return cache_root() / "corpora" / f"{path_key}-{state_key.hexdigest()[:16]}"


def _forget_other_versions(cache_dir: Path) -> None:
    """Deletes the caches of earlier versions of the same source path (it has changed since)."""
    prefix = cache_dir.name.split("-")[0] + "-"
    if cache_dir.parent.is_dir():
        for other in cache_dir.parent.iterdir():
            if other.name.startswith(prefix) and other != cache_dir:
                shutil.rmtree(other, ignore_errors=True)


def _remove_stale_temporaries(cache_dir: Path, *, idle_seconds: float = 600) -> None:
    """Deletes what a killed writer left: temporary files (`.name.XXXX`) untouched for ten minutes
    (one being written is touched all the time)."""
    import time

    if cache_dir.is_dir():
        for path in cache_dir.glob(".*"):
            with contextlib.suppress(OSError):
                if time.time() - path.stat().st_mtime > idle_seconds:
                    path.unlink()


def _write(path: Path, write) -> None:
    """`write(temporary)` then a rename onto `path` (see the module docstring); one-line errors."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_atomically(path, write)
    except OSError as error:
        raise UserInputError(
            f"cannot write the corpus cache {path}: {os_error_cause(error)}; make room there or set "
            f"{CACHE_ENV} to another folder"
        ) from error


def _read_json(path: Path):
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def _bytes_text(found: SourceFiles) -> str:
    total = sum(_size_of(p) for p in found.files)
    return f"{total / 1e6:,.1f} MB" + (f" in {len(found.files):,} files" if found.folder else "")
