"""The character language model's data: characters → ids → tf.data windows, and the baseline.

The vocabulary is a `keras.layers.StringLookup` over single characters (`tf.strings.unicode_split`),
not a hand-written dict, so an exported model can take raw strings. Its ids are fixed:

| id  | token   | meaning                                                                |
| --- | ------- | ---------------------------------------------------------------------- |
| 0   | `[UNK]` | any character the training text never had (the OOV id)                 |
| 1   | `[BOS]` | beginning of a sequence: the first input of every window, never a target |
| 2…  | chars   | the training split's characters, sorted by code point                  |

A window of L characters c₀…c_{L−1} is the input `[BOS] c₀ … c_{L−2}` and the target `c₀ … c_{L−1}`:
the network learns the first character from its initial state alone, which is what sampling with an
empty prompt asks of it, and every character of an evaluated split is predicted exactly once.
Training with carried state (`carried_windows`) keeps `[BOS]` for the first window of each row's
stream only: a later window's first input is the last character of the window before, whose final
state the model carries into it, so the text reads on as if it had never been cut.
`stream_chunks` reads a whole split that way for the carried-state evaluation.

Ids come in two forms, and every function below takes both: an int32 tensor (`encode`, the in-memory
corpus) or a `kerasrnn.data.id_file.IdSpan` (a split of a streamed corpus, read from its id
file). For the same text and seed both give the same windows in the same order: the window starts are
the same random numbers modulo the same count; only where the ids are read from differs.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Iterable, Sequence

import keras
import numpy as np
import tensorflow as tf

from kerasrnn.data.id_file import IdSpan
from kerasrnn.engine.run_dir import read_json, write_tokens
from kerasrnn.errors import UserInputError

OOV_TOKEN = "[UNK]"
BOS_TOKEN = "[BOS]"
OOV_ID = 0
BOS_ID = 1
SPECIAL_TOKENS = (OOV_TOKEN, BOS_TOKEN)


def corpus_characters(text: str) -> list[str]:
    """The distinct characters (Unicode code points) of `text`, sorted."""
    return sorted(set(text))


def make_char_lookup(characters: Iterable[str], *, invert: bool = False) -> keras.layers.StringLookup:
    """A StringLookup with ids `[UNK]` = 0, `[BOS]` = 1, then `characters` in the order given.

    Args:
      characters: single characters, no duplicates (e.g. `corpus_characters(train_text)`).
      invert: map ids back to tokens instead. Default False.
    """
    characters = list(characters)
    if any(len(c) != 1 for c in characters) or len(set(characters)) != len(characters):
        raise ValueError("characters must be distinct single characters")
    return keras.layers.StringLookup(
        vocabulary=[BOS_TOKEN, *characters],
        num_oov_indices=1,
        oov_token=OOV_TOKEN,
        mask_token=None,
        invert=invert,
    )


def vocabulary_characters(lookup: keras.layers.StringLookup) -> list[str]:
    """The characters of a lookup made by `make_char_lookup`, in id order, without special tokens."""
    tokens = lookup.get_vocabulary()
    if tuple(tokens[:2]) != SPECIAL_TOKENS:
        raise ValueError(f"not a character vocabulary: it starts with {tokens[:2]}")
    return tokens[2:]


def save_vocabulary(lookup: keras.layers.StringLookup, path: Path) -> None:
    """Writes the lookup's tokens, in id order (`[UNK]`, `[BOS]`, characters…), as a JSON list."""
    write_tokens(lookup.get_vocabulary(), path)


def load_vocabulary(path: Path) -> list[str]:
    """Reads the characters saved by `save_vocabulary` (without the special tokens)."""
    tokens = read_json(path, "the vocabulary")
    if not isinstance(tokens, list) or tuple(tokens[:2]) != SPECIAL_TOKENS:
        raise UserInputError(f"{path} is not a kerasrnn character vocabulary")
    return tokens[2:]


def encode(lookup: keras.layers.StringLookup, text: str) -> tf.Tensor:
    """The int32 ids of the characters of `text`, shape `(len(text),)`; unknown characters → 0."""
    characters = tf.strings.unicode_split(tf.constant(text), "UTF-8")
    return tf.cast(lookup(characters), tf.int32)


def decode(inverse_lookup: keras.layers.StringLookup, ids) -> str:
    """The text of `ids` through a lookup made with `invert=True`."""
    tokens = inverse_lookup(tf.cast(tf.reshape(ids, [-1]), tf.int64))
    return tf.strings.reduce_join(tokens).numpy().decode("utf-8")


def decode_rows(inverse_lookup: keras.layers.StringLookup, ids) -> list[str]:
    """The text of each row of `ids` `(rows, length)`; a row at a time, so that no more than one row's
    characters are string tensors at once (a batch of samples can hold millions)."""
    return [decode(inverse_lookup, row) for row in ids]


def _to_input_and_target(windows: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """`(batch, L)` characters → (`[BOS]` + first L−1, all L)."""
    bos = tf.fill([tf.shape(windows)[0], 1], tf.constant(BOS_ID, windows.dtype))
    return tf.concat([bos, windows[:, :-1]], axis=1), windows


def random_windows(ids, sequence_length: int, batch_size: int, seed: int,
                   first_step: int = 0) -> tf.data.Dataset:
    """An endless, seeded stream of batches of windows starting anywhere in `ids`, from batch
    `first_step` on (a resumed run continues the stream where it stopped: skipping batches of random
    numbers costs nothing).

    Window i starts at r_i mod (n − L + 1), r_i the i-th number of `tf.data.Dataset.random(seed)`,
    whether `ids` is a tensor or an `IdSpan` (whose windows are read from the disk, a batch at a
    time).

    Yields `(inputs, targets)`, both int32 `(batch_size, sequence_length)`; see the module docstring.
    """
    size = id_count(ids)
    starts = size - sequence_length + 1
    if starts < 1:
        raise UserInputError(
            f"text of {size:,} characters is shorter than the sequence length {sequence_length:,}"
        )
    if isinstance(ids, IdSpan):
        def gather(random):
            first = tf.math.floormod(random, starts)
            windows = tf.numpy_function(lambda f: ids.windows(f, sequence_length), [first], tf.int32)
            windows.set_shape([batch_size, sequence_length])
            return windows
    else:
        ids = tf.convert_to_tensor(ids, tf.int32)
        offsets = tf.range(sequence_length, dtype=tf.int64)

        def gather(random):
            first = tf.math.floormod(random, starts)
            return tf.gather(ids, first[:, None] + offsets[None, :])

    dataset = tf.data.Dataset.random(seed=seed).batch(batch_size, drop_remainder=True).skip(first_step)
    return dataset.map(gather).map(_to_input_and_target).prefetch(tf.data.AUTOTUNE)


@dataclasses.dataclass(frozen=True)
class StreamLayout:
    """How `carried_windows` lays a training split of `size` ids out in `rows` streams.

    Pass p of the text starts at an offset o_p in [0, L) (`pass_offset`); row i of it reads the
    `windows` windows of L ids from o_p + i·stride on, so that the rows never overlap and the
    ids left over (fewer than L per row, plus the offset) change from pass to pass.
    """

    size: int
    sequence_length: int
    rows: int

    def __post_init__(self):
        if self.windows < 1:
            needed = (self.rows + 1) * self.sequence_length - 1
            raise UserInputError(
                f"carrying the state needs a window of {self.sequence_length:,} characters for each of the "
                f"{self.rows:,} batch rows: the training text of {self.size:,} characters is too short (it "
                f"needs {needed:,}); lower the batch size or the sequence length, or train on independent windows "
                f"(--no-carry-state)")

    @property
    def stride(self) -> int:
        """Ids between the starts of two rows' streams."""
        return (self.size - self.sequence_length + 1) // self.rows

    @property
    def windows(self) -> int:
        """Windows of each row in one pass: the steps of a pass over the text."""
        return self.stride // self.sequence_length


def pass_offset(seed: int, text_pass, sequence_length: int):
    """Where pass `text_pass` (from 0) of `carried_windows` starts: a seeded number in [0, L)."""
    key = tf.stack([tf.constant(seed, tf.int64), tf.cast(text_pass, tf.int64)])
    return tf.random.stateless_uniform([], key, minval=0, maxval=sequence_length, dtype=tf.int64)


def carried_windows(ids, sequence_length: int, batch_size: int, seed: int, first_step: int = 0
                    ) -> tf.data.Dataset:
    """An endless stream of batches for training with carried state (truncated backpropagation
    through time over the text in order, as char-rnn does), from batch `first_step` on.

    Row i of the batches walks through its own contiguous part of `ids` (a tensor or an `IdSpan`):
    window k + 1 of the row starts where window k ended, and its first input is the last character
    of window k (whose final state the model carries into it, `carried_state.CarriedState`). The
    first window of a pass over the text starts with `[BOS]`, which resets the row's state; a pass
    is `StreamLayout.windows` steps, and each starts at its own offset (`pass_offset`). Step s is a
    function of s alone, so a resumed run continues exactly.

    Yields `(inputs, targets)`, both int32 `(batch_size, sequence_length)`.

    Raises:
      UserInputError: `ids` too short for a window per row (`StreamLayout`).
    """
    layout = StreamLayout(id_count(ids), sequence_length, batch_size)
    row_starts = tf.range(batch_size, dtype=tf.int64) * layout.stride
    windows = layout.windows

    def firsts(step):
        text_pass, window = step // windows, step % windows
        first = pass_offset(seed, text_pass, sequence_length) + row_starts + window * sequence_length
        return first, window

    if isinstance(ids, IdSpan):
        def read(first, window):
            previous = np.maximum(first - 1, 0)
            return ids.windows(first, sequence_length), ids.windows(previous, 1)[:, 0]

        def batch(step):
            first, window = firsts(step)
            targets, previous = tf.numpy_function(read, [first, window], [tf.int32, tf.int32])
            targets.set_shape([batch_size, sequence_length])
            previous.set_shape([batch_size])
            return targets, previous, window
    else:
        ids = tf.convert_to_tensor(ids, tf.int32)
        offsets = tf.range(sequence_length, dtype=tf.int64)

        def batch(step):
            first, window = firsts(step)
            targets = tf.gather(ids, first[:, None] + offsets[None, :])
            return targets, tf.gather(ids, tf.maximum(first - 1, 0)), window

    def to_input_and_target(targets, previous, window):
        first_input = tf.where(window == 0, tf.fill(tf.shape(previous), BOS_ID), previous)
        return tf.concat([first_input[:, None], targets[:, :-1]], axis=1), targets

    dataset = tf.data.Dataset.range(first_step, 2**62)
    return dataset.map(batch).map(to_input_and_target).prefetch(tf.data.AUTOTUNE)


def consecutive_windows(ids, sequence_length: int, batch_size: int) -> tf.data.Dataset:
    """The non-overlapping windows that cover `ids` (a tensor or an `IdSpan`) in order, once; a last
    partial window is dropped.

    Yields `(inputs, targets)` int32 batches (the last batch may be smaller).
    """
    size = id_count(ids)
    count = size // sequence_length
    if count < 1:
        raise UserInputError(
            f"text of {size:,} characters is shorter than the sequence length {sequence_length:,}"
        )
    if isinstance(ids, IdSpan):
        def rows(first) -> np.ndarray:
            return ids.rows(int(first), min(batch_size, count - int(first)), sequence_length)

        def read(first):
            batch = tf.numpy_function(rows, [first], tf.int32)
            batch.set_shape([None, sequence_length])
            return batch

        dataset = tf.data.Dataset.range(0, count, batch_size).map(read)
    else:
        windows = tf.reshape(ids[: count * sequence_length], [count, sequence_length])
        dataset = tf.data.Dataset.from_tensor_slices(windows).batch(batch_size)
    return dataset.map(_to_input_and_target).prefetch(tf.data.AUTOTUNE)


def stream_chunks(ids, streams: int, chunk: int):
    """The whole of `ids` (a tensor or an `IdSpan`) read in order, as `streams` contiguous parts side
    by side, `chunk` ids of each at a time: for reading a split with the state carried through it.

    Part r is ids[r·P, min((r + 1)·P, n)), P = ⌈n / streams⌉. Its first input is `[BOS]` and every
    later input is the id before the target, across chunks too; past the end of a part the targets
    weigh 0. Every id of `ids` is a target of weight 1 exactly once.

    Yields `(inputs, targets, weights)`: int32, int32 and float32 NumPy arrays `(streams, chunk)`.
    """
    size = id_count(ids)
    if not isinstance(ids, IdSpan):
        ids = np.asarray(ids, np.int32)
    part = -(-size // streams)
    for first in range(0, part, chunk):
        inputs = np.zeros((streams, chunk), np.int32)
        targets = np.zeros((streams, chunk), np.int32)
        weights = np.zeros((streams, chunk), np.float32)
        for row in range(streams):
            start = row * part + first
            stop = min(row * part + min(first + chunk, part), size)
            if stop <= start:
                continue
            count = stop - start
            before = 0 if first == 0 else 1  # the id before the chunk, or [BOS] at the part's start
            read = ids.read(start - before, count + before) if isinstance(ids, IdSpan) \
                else ids[start - before : stop]
            targets[row, :count] = read[before:]
            inputs[row, :count] = np.concatenate([[BOS_ID], read[:-1]]) if first == 0 else read[:-1]
            weights[row, :count] = 1.0
        yield inputs, targets, weights


def covered_ids(ids, sequence_length: int):
    """The targets `consecutive_windows` yields, flat: every id but the last partial window (a NumPy
    array for a tensor, an `IdSpan` for an `IdSpan`; both have `size`)."""
    count = id_count(ids) // sequence_length
    if isinstance(ids, IdSpan):
        return ids.head(count * sequence_length)
    return np.asarray(ids[: count * sequence_length])


def unknown_share(ids) -> float:
    """The share of `[UNK]` among `ids` (a tensor or an `IdSpan`); 0 for no ids."""
    if not id_count(ids):
        return 0.0
    if isinstance(ids, IdSpan):
        return float(ids.bincount(OOV_ID + 1)[OOV_ID] / ids.size)
    return float(np.mean(np.asarray(ids) == OOV_ID))


def unigram_cross_entropy(train_ids, evaluated_ids, vocabulary_size: int) -> float:
    """Cross-entropy in nats of the training split's character distribution on `evaluated_ids`.

    The baseline a language model must beat: predict every character with its training frequency.
    Counts are add-one smoothed over every id that can be a target (all but `[BOS]`), so a character
    unseen in training costs a finite amount. Either argument may be an `IdSpan`, read in chunks
    (the mean is then taken from counts: equal up to rounding, about 1e-15).
    """
    if isinstance(train_ids, IdSpan):
        counts = train_ids.bincount(vocabulary_size).astype(np.float64) + 1.0
    else:
        counts = np.bincount(np.asarray(train_ids), minlength=vocabulary_size).astype(np.float64) + 1.0
    counts[BOS_ID] = 0.0
    log_probabilities = np.log(counts / counts.sum(), where=counts > 0, out=np.full_like(counts, -np.inf))
    if id_count(evaluated_ids) == 0:
        raise UserInputError("nothing to evaluate: the text is shorter than one window")
    if isinstance(evaluated_ids, IdSpan):
        evaluated = evaluated_ids.bincount(vocabulary_size)
        present = evaluated > 0
        return float(-(evaluated[present] * log_probabilities[present]).sum() / evaluated_ids.size)
    return float(-log_probabilities[np.asarray(evaluated_ids)].mean())


def id_count(ids) -> int:
    """The number of ids in `ids`, a tensor or an `IdSpan`."""
    return ids.size if isinstance(ids, IdSpan) else int(np.shape(ids)[0])


def nats_to_bits(nats: float) -> float:
    """Converts a loss in nats to bits: divides by ln 2."""
    return nats / math.log(2.0)


def check_prompt_known(prompt: str, known: Sequence[str] | set[str]) -> list[str]:
    """Returns the characters of `prompt` outside `known`; raises if every one of them is.

    An empty prompt is fine. A prompt with some unknown characters is fine too (they become `[UNK]`,
    the caller may warn); a prompt made only of unknown characters gives the model nothing to go on.
    """
    known = set(known)
    unknown = [c for c in prompt if c not in known]
    if prompt and len(unknown) == len(prompt):
        shown = "".join(sorted(set(unknown)))[:20]
        raise UserInputError(
            f"the prompt has only characters the model never saw in training ({shown!r}): use "
            f"characters of the training text, or an empty prompt"
        )
    return unknown
