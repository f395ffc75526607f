"""Sentence pairs for the `translate` task: where they come from, how they become ids, tf.data.

`load_pairs(data, pair, data_dir)` takes:

- `spelled_numbers` (the embedded default): one pair per number, `pair` naming the source and
  target fields, e.g. `en-fr` (English words → French words) or `digits-de`; the dataset's own
  splits, so no number is in two of them;
- the path of a tab-separated pairs file in the format of Keras's lstm_seq2seq example
  (`fra.txt` from manythings.org): `source TAB target`, optionally more columns (Tatoeba's
  attribution), the same number on every line. Pairs are cut 80/10/10 into train / validation /
  test by the SHA-256 of the source, so a sentence with several translations sits in one split.

Tokens are characters (the default; text kept as it is) or words (lower-cased, punctuation split
off as tokens of its own, joined back with spaces). Both are TensorFlow string ops, so an exported
model tokenises in its graph. The vocabularies are `keras.layers.StringLookup`s with fixed ids:

| id | source      | target                                                            |
| -- | ----------- | ----------------------------------------------------------------- |
| 0  | padding     | padding (masked in the encoder, decoder and loss)                 |
| 1  | `[UNK]`     | `[UNK]`: a token the training split never had                     |
| 2  | tokens…     | `[START]`: the decoder's first input; never an output             |
| 3  |             | `[END]`: the end-of-sequence symbol, the decoder's last output    |
| 4… |             | tokens…                                                           |

Teacher forcing: the decoder reads `[START] y₁ … y_n` and is trained to output `y₁ … y_n [END]`.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
from pathlib import Path

import keras
import tensorflow as tf

from kerasrnn.errors import UserInputError
from kerasrnn.spelled_numbers import FIELDS, load_spelled_numbers

SPELLED_NUMBERS = "spelled_numbers"
SPLITS = ("train", "validation", "test")
OOV_TOKEN = "[UNK]"
START_TOKEN = "[START]"
END_TOKEN = "[END]"
PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3
# Punctuation becomes a word of its own; apostrophes and hyphens stay inside words (l'eau, vingt-deux).
_PUNCTUATION = r"([^\w\s'’-])"


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


def tokenize(texts: tf.Tensor, tokens: str) -> tf.RaggedTensor:
    """Strings `(batch,)` → ragged tokens `(batch, None)`: characters, or lower-cased words and
    punctuation marks."""
    if tokens == "characters":
        return tf.strings.unicode_split(texts, "UTF-8")
    texts = tf.strings.lower(texts, encoding="utf-8")
    texts = tf.strings.regex_replace(texts, _PUNCTUATION, r" \1 ")
    return tf.strings.split(texts)


def detokenize(tokens: tf.RaggedTensor, mode: str) -> tf.Tensor:
    """Ragged tokens → strings: characters joined as they are, words with single spaces."""
    return tf.strings.reduce_join(tokens, axis=-1, separator="" if mode == "characters" else " ")


def count_tokens(texts: list[str], tokens: str) -> collections.Counter:
    """How often each token occurs in `texts`."""
    counts = collections.Counter()
    for start in range(0, len(texts), 4096):
        ragged = tokenize(tf.constant(texts[start:start + 4096]), tokens)
        counts.update(token.decode("utf-8") for token in ragged.flat_values.numpy())
    return counts


def longest(texts: list[str], tokens: str) -> int:
    """The number of tokens of the longest of `texts`."""
    return int(tf.reduce_max(tokenize(tf.constant(texts), tokens).row_lengths()))


def vocabulary_tokens(texts: list[str], tokens: str, max_tokens: int | None) -> list[str]:
    """The tokens of `texts`, most frequent first (ties in code-point order), at most `max_tokens`."""
    counts = count_tokens(texts, tokens)
    ordered = sorted(counts, key=lambda token: (-counts[token], token))
    return ordered if max_tokens is None else ordered[:max_tokens]


def make_source_lookup(tokens: list[str], *, invert: bool = False) -> keras.layers.StringLookup:
    """Padding 0, `[UNK]` 1, then `tokens`."""
    return keras.layers.StringLookup(vocabulary=list(tokens), mask_token="", oov_token=OOV_TOKEN,
                                     invert=invert)


def make_target_lookup(tokens: list[str], *, invert: bool = False) -> keras.layers.StringLookup:
    """Padding 0, `[UNK]` 1, `[START]` 2, `[END]` 3, then `tokens`."""
    return keras.layers.StringLookup(vocabulary=[START_TOKEN, END_TOKEN, *tokens], mask_token="",
                                     oov_token=OOV_TOKEN, invert=invert)


def lookup_tokens(vocabulary: list[str]) -> list[str]:
    """The tokens of a saved lookup vocabulary (`get_vocabulary()`), special ones left out."""
    return [token for token in vocabulary if token not in ("", OOV_TOKEN, START_TOKEN, END_TOKEN)]


def encode_sources(lookup, texts: tf.Tensor, tokens: str, max_length: int) -> tf.Tensor:
    """Source ids `(batch, time)` int32, 0-padded, each text cut to `max_length` tokens; at least one
    (masked) step so that a batch of empty texts still has a time axis."""
    ids = tf.cast(lookup(tokenize(texts, tokens)), tf.int32)[:, :max_length].to_tensor(PAD_ID)
    return tf.pad(ids, [[0, 0], [0, tf.maximum(0, 1 - tf.shape(ids)[1])]])


def teacher_forcing_batch(source_lookup, target_lookup, sources, targets, tokens: str, max_length: int):
    """`((source ids, decoder inputs), decoder targets, weights)` of a batch of string pairs.

    Decoder inputs are `[START] y₁ … y_n`, targets `y₁ … y_n [END]`, weights 1 on real steps and 0
    on padding; target texts are cut to `max_length` tokens before `[END]`.
    """
    ids = tf.cast(target_lookup(tokenize(targets, tokens)), tf.int32)[:, :max_length]
    rows = ids.nrows()
    start = tf.RaggedTensor.from_tensor(tf.fill([rows, 1], START_ID))
    end = tf.RaggedTensor.from_tensor(tf.fill([rows, 1], END_ID))
    decoder_inputs = tf.concat([start, ids], axis=1).to_tensor(PAD_ID)
    decoder_targets = tf.concat([ids, end], axis=1).to_tensor(PAD_ID)
    weights = tf.cast(decoder_targets != PAD_ID, tf.float32)
    source_ids = encode_sources(source_lookup, sources, tokens, max_length)
    return (source_ids, decoder_inputs), decoder_targets, weights


def make_dataset(source_lookup, target_lookup, sources, targets, tokens: str, batch_size: int,
                 max_length: int, *, seed: int | None = None) -> tf.data.Dataset:
    """Teacher-forcing batches; with `seed`: shuffled afresh each pass and repeated forever."""
    dataset = tf.data.Dataset.from_tensor_slices((tf.constant(sources), tf.constant(targets)))
    if seed is not None:
        dataset = dataset.shuffle(len(sources), seed=seed, reshuffle_each_iteration=True).repeat()
    return dataset.batch(batch_size).map(
        lambda s, t: teacher_forcing_batch(source_lookup, target_lookup, s, t, tokens, max_length),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).prefetch(tf.data.AUTOTUNE)
