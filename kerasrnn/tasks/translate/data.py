"""Text to ids for the `translate` task: tokens, the two vocabularies, teacher-forcing batches.

The sentence pairs themselves come from `kerasrnn.data.sentence_pairs`.

Tokens are characters (text kept as it is), `subwords` (the default for a pairs file: the pieces of
a SentencePiece model per side learned from the training split, see `subwords`; every function
here that takes a token mode takes that side's `Subwords` instead), `words` (lower-cased,
punctuation split off as tokens of its own, joined back with spaces) or `cased-words` (the same
split with the case kept, and joined back with no space before closing punctuation: "Ich bin
müde ." → "Ich bin müde."). Where both sides are tokenised, `tokens` is one mode for both or a
`(source, target)` pair. The
standardization of the word modes is exactly that: Unicode lower-casing for `words` only, then every
character that is neither a Unicode letter, mark, digit, `_`, space, apostrophe nor hyphen made a token of its own
(so "l'eau", "don't", "vingt-deux" stay whole), then a split on whitespace. All are TensorFlow string
ops, so an exported model tokenises in its graph. The vocabularies are `keras.layers.StringLookup`s with fixed ids:

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

import keras
import tensorflow as tf

OOV_TOKEN = "[UNK]"
START_TOKEN = "[START]"
END_TOKEN = "[END]"
PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3
# Punctuation becomes a word of its own; apostrophes and hyphens stay inside words (l'eau, vingt-deux).
# (RE2's `\w` is ASCII only: letters and digits are named by Unicode class, or "müde" would split.)
_PUNCTUATION = r"([^\p{L}\p{M}\p{N}_\s'’-])"
# cased-words: no space before these when the tokens are joined back, none after the opening ones.
_CLOSING = r" ([.,!?;:%)\]}»…])"
_OPENING = r"([(\[{¿¡«„]) "
WORD_MODES = ("words", "cased-words")
SUBWORDS = "subwords"


def tokenize(texts: tf.Tensor, tokens: str) -> tf.RaggedTensor:
    """Strings `(batch,)` → ragged tokens `(batch, None)`: characters, words and punctuation marks
    (lower-cased for `words`, as they are for `cased-words`), or a `Subwords`' pieces."""
    if not isinstance(tokens, str):
        return tokens.tokenize(texts)
    if tokens == "characters":
        return tf.strings.unicode_split(texts, "UTF-8")
    if tokens == "words":
        texts = tf.strings.lower(texts, encoding="utf-8")
    texts = tf.strings.regex_replace(texts, _PUNCTUATION, r" \1 ")
    return tf.strings.split(texts)


def detokenize(tokens: tf.RaggedTensor, mode: str) -> tf.Tensor:
    """Ragged tokens → strings: characters joined as they are, words with single spaces, cased words
    with single spaces but none before closing punctuation or after opening punctuation, subwords
    as their `Subwords` joins them."""
    if not isinstance(mode, str):
        return mode.detokenize(tokens)
    texts = tf.strings.reduce_join(tokens, axis=-1, separator="" if mode == "characters" else " ")
    if mode == "cased-words":
        texts = tf.strings.regex_replace(tf.strings.regex_replace(texts, _CLOSING, r"\1"), _OPENING, r"\1")
    return texts


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
    """The tokens of `texts`, most frequent first (ties in code-point order), at most `max_tokens`;
    for `Subwords`, all its pieces (its size was set when it was learned)."""
    if not isinstance(tokens, str):
        return tokens.pieces()
    counts = count_tokens(texts, tokens)
    ordered = sorted(counts, key=lambda token: (-counts[token], token))
    return ordered if max_tokens is None else ordered[:max_tokens]


def sides(tokens) -> tuple:
    """`(source, target)` tokens: a pair as it is, or one token mode for both sides."""
    return tuple(tokens) if isinstance(tokens, (tuple, list)) else (tokens, tokens)


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
    source_tokens, target_tokens = sides(tokens)
    ids = tf.cast(target_lookup(tokenize(targets, target_tokens)), tf.int32)[:, :max_length]
    rows = ids.nrows()
    start = tf.RaggedTensor.from_tensor(tf.fill([rows, 1], START_ID))
    end = tf.RaggedTensor.from_tensor(tf.fill([rows, 1], END_ID))
    decoder_inputs = tf.concat([start, ids], axis=1).to_tensor(PAD_ID)
    decoder_targets = tf.concat([ids, end], axis=1).to_tensor(PAD_ID)
    weights = tf.cast(decoder_targets != PAD_ID, tf.float32)
    source_ids = encode_sources(source_lookup, sources, source_tokens, max_length)
    return (source_ids, decoder_inputs), decoder_targets, weights


def make_dataset(source_lookup, target_lookup, sources, targets, tokens: str, batch_size: int,
                 max_length: int, *, seed: int | None = None, first_step: int = 0,
                 pool_batches: int | None = None) -> tf.data.Dataset:
    """Teacher-forcing batches; with `seed`: shuffled afresh each pass and repeated forever, from
    batch `first_step` on (the pairs of skipped batches are shuffled, not tokenized).

    With `seed` and `pool_batches` k: every run of k × `batch_size` shuffled pairs is sorted by
    length (the longer of source and target, in tokens) and cut into k batches, which are then
    shuffled among k: pairs of similar length share a batch, so that little padding is computed
    (on short real sentences about half the steps of a random batch are padding).
    """
    dataset = tf.data.Dataset.from_tensor_slices((tf.constant(sources), tf.constant(targets)))
    if seed is not None:
        dataset = dataset.shuffle(len(sources), seed=seed, reshuffle_each_iteration=True).repeat()
    if seed is not None and pool_batches:
        def sorted_batches(pool_sources, pool_targets):
            lengths = tf.maximum(tokenize(pool_sources, sides(tokens)[0]).row_lengths(),
                                 tokenize(pool_targets, sides(tokens)[1]).row_lengths())
            order = tf.argsort(lengths, stable=True)
            return tf.data.Dataset.from_tensor_slices(
                (tf.gather(pool_sources, order), tf.gather(pool_targets, order))).batch(batch_size)

        dataset = dataset.batch(batch_size * pool_batches).flat_map(sorted_batches).shuffle(
            pool_batches, seed=seed + 1)
    else:
        dataset = dataset.batch(batch_size)
    return dataset.skip(first_step).map(
        lambda s, t: teacher_forcing_batch(source_lookup, target_lookup, s, t, tokens, max_length),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).prefetch(tf.data.AUTOTUNE)
