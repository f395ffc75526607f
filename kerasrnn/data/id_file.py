"""A flat file of token ids on disk, read a window at a time: `IdFile` and its `IdSpan`s.

A streamed corpus (`kerasrnn.data.corpus_stream`) keeps the ids of its whole text in one such file,
nanoGPT's `train.bin` for all three splits at once: `uint16` ids (`int32` above 65,536 of them), in
the order of the text, nothing else. `IdFile.split` gives a split's ids as an `IdSpan` by the 90/5/5
rule of `corpus.split_ends`; a span reads only what is asked for, with `os.pread` rather than
`np.memmap`: the pages of a mapping that training touches stay counted in the process's resident
memory until it ends, so random windows over a long run would map most of the file in, while a
`pread` copies just the window. Every read returns int32 ids, like `tasks.charlm.data.encode`.

Example:

```python
ids = IdFile(Path("ids.uint16.bin"), "uint16", length=1_000_000, vocabulary_size=70)
validation = ids.split("validation")           # IdSpan(start=900_000, stop=950_000)
windows = validation.windows(np.array([0, 17]), 100)   # int32 (2, 100)
counts = validation.bincount()                 # read in chunks
```
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Iterator

import numpy as np

from kerasrnn.data.corpus import split_ends
from kerasrnn.data.named_splits import check_split
from kerasrnn.errors import UserInputError

CHUNK_IDS = 2**18  # ids a read when a span is read whole (bincount)


def split_span(length: int, split: str) -> tuple[int, int]:
    """Where `split` starts and stops in a text of `length` characters (the 90/5/5 rule)."""
    train_end, validation_end = split_ends(length)
    return {"train": (0, train_end), "validation": (train_end, validation_end),
            "test": (validation_end, length)}[check_split(split)]


@dataclasses.dataclass(frozen=True)
class IdFile:
    """The ids of a whole streamed corpus, flat, in one file of `dtype` (see the module docstring)."""

    path: Path
    dtype: str
    length: int
    vocabulary_size: int

    def split(self, split: str) -> "IdSpan":
        """The ids of `split` (train, validation or test)."""
        return IdSpan(self, *split_span(self.length, split))


@dataclasses.dataclass(frozen=True)
class IdSpan:
    """The ids from `start` to `stop` (exclusive) of an `IdFile`; reads only what is asked for.

    Every read returns int32 ids, like `tasks.charlm.data.encode`.
    """

    file: IdFile
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start

    def __len__(self) -> int:
        return self.size

    def head(self, count: int) -> "IdSpan":
        """The first `count` ids."""
        return IdSpan(self.file, self.start, self.start + min(count, self.size))

    def read(self, first: int, count: int) -> np.ndarray:
        """Ids `first` to `first + count` (relative to the span)."""
        if first < 0 or count < 0 or first + count > self.size:
            raise IndexError(f"ids {first}…{first + count} are outside a span of {self.size}")
        return self._read(self.start + first, count)

    def windows(self, starts: np.ndarray, length: int) -> np.ndarray:
        """`(len(starts), length)` int32: the `length` ids from each of `starts` (relative)."""
        starts = np.asarray(starts, np.int64)
        if starts.size and (starts.min() < 0 or starts.max() + length > self.size):
            raise IndexError(f"windows of {length} ids from {starts.min()}…{starts.max()} leave a span "
                             f"of {self.size}")
        handle, itemsize = _descriptor(self.file.path), np.dtype(self.file.dtype).itemsize
        data = b"".join(os.pread(handle, length * itemsize, int(self.start + s) * itemsize) for s in starts)
        return self._ids(data, starts.size * length).reshape(starts.size, length)

    def rows(self, first_row: int, rows: int, length: int) -> np.ndarray:
        """`(rows, length)` int32: consecutive windows of `length` from window `first_row` on."""
        return self.read(first_row * length, rows * length).reshape(rows, length)

    def chunks(self, chunk: int = CHUNK_IDS) -> Iterator[np.ndarray]:
        """The span's ids in order, `chunk` at a time."""
        for first in range(0, self.size, chunk):
            yield self.read(first, min(chunk, self.size - first))

    def bincount(self, minlength: int = 0) -> np.ndarray:
        """How often each id occurs in the span (int64), read in chunks."""
        counts = np.zeros(max(minlength, self.file.vocabulary_size), np.int64)
        for ids in self.chunks():
            counts += np.bincount(ids, minlength=counts.size)
        return counts

    def _read(self, first: int, count: int) -> np.ndarray:
        itemsize = np.dtype(self.file.dtype).itemsize
        return self._ids(os.pread(_descriptor(self.file.path), count * itemsize, first * itemsize), count)

    def _ids(self, data: bytes, count: int) -> np.ndarray:
        if len(data) != count * np.dtype(self.file.dtype).itemsize:
            raise UserInputError(f"the id cache {self.file.path} was cut short: delete it and run again")
        return np.frombuffer(data, self.file.dtype).astype(np.int32)


_DESCRIPTORS: dict[tuple[int, str], int] = {}


def _descriptor(path: Path) -> int:
    """One read-only descriptor per file and process (a forked worker opens its own)."""
    key = (os.getpid(), os.fspath(path))
    if key not in _DESCRIPTORS:
        _DESCRIPTORS[key] = os.open(path, os.O_RDONLY)
    return _DESCRIPTORS[key]


def forget_descriptor(path: Path) -> None:
    """Closes this process's descriptor of `path`, if any: the next read opens the file now there."""
    handle = _DESCRIPTORS.pop((os.getpid(), os.fspath(path)), None)
    if handle is not None:
        os.close(handle)
