"""The text classifier's tokens: whole texts → token ids with a `keras.layers.TextVectorization`.

Words (lower-cased, punctuation stripped) or characters; padding is id 0 (masked by the
embedding), any unknown token id 1. The vocabulary is adapted on the training split and saved in
the run directory (`vocabulary.json`, in id order).
"""

from __future__ import annotations

from typing import Sequence

import keras
import tensorflow as tf

from kerasrnn import checks
from kerasrnn.tasks.classify.task import TOKEN_MODES

# TextVectorization's fixed ids: 0 is padding (masked by the embedding), 1 any unknown token.
PAD_ID = 0
UNKNOWN_ID = 1


def make_text_vectorizer(
    tokens: str, *, max_tokens: int | None = None, vocabulary: Sequence[str] | None = None
) -> keras.layers.TextVectorization:
    """A TextVectorization turning a batch of strings into int64 ids `(batch, longest)`, 0-padded.

    Args:
      tokens: `"words"` (lower-cased, punctuation stripped, split on whitespace) or `"characters"`
        (lower-cased, every character a token, spaces and punctuation included).
      max_tokens: vocabulary size cap, padding and `[UNK]` included; None: no cap.
      vocabulary: the tokens of a saved vectorizer (`get_vocabulary()`, `''` and `[UNK]` first);
        None: call `adapt` on the training texts.
    """
    checks.one_of("token mode", tokens, TOKEN_MODES)
    words = tokens == "words"
    return keras.layers.TextVectorization(
        max_tokens=None if vocabulary is not None else max_tokens,
        standardize="lower_and_strip_punctuation" if words else "lower",
        split="whitespace" if words else "character",
        vocabulary=None if vocabulary is None else list(vocabulary),
        name=f"{tokens}_vectorizer",
    )


def vectorize_batch(vectorizer, texts: tf.Tensor, max_length: int) -> tf.Tensor:
    """Ids `(batch, time)` of a batch of strings: the first `max_length` tokens of each, 0-padded,
    with at least one (masked) step so that a batch of empty texts still has a time axis."""
    ids = vectorizer(texts)[:, :max_length]
    return tf.pad(ids, [[0, 0], [0, tf.maximum(0, 1 - tf.shape(ids)[1])]])
