"""Subword tokens for real sentence pairs: a SentencePiece model per side, learned from the training
split, that tokenises inside the TensorFlow graph.

A word list stops at its most frequent words, and every rarer form ("grünen", "walking") becomes
`[UNK]`. A subword model (Kudo 2018, "Subword regularization", the unigram model of
[SentencePiece](https://github.com/google/sentencepiece)) instead spells a rare word with smaller
pieces that it has: "▁Bahn hof", and at worst one character at a time. It is learned with every
character of the training text kept (`character_coverage` 1), so a text whose characters were all
seen in training never has an unknown token.

Pieces mark the start of a word with "▁" and keep every other character of the text, spaces
included: "Où est-il ?" is `▁O ù ▁est - il ▁ ?`, and joining the pieces back (then "▁" → " ") gives
the text exactly as it was written, its French spaces before "?" and "!" (even the narrow no-break
space U+202F of the references), its joined apostrophes (`l’homme`) and German capitals, with no
rules per language. Nothing is normalised but a byte-order mark, apart from SentencePiece's own
cleaning of whitespace at the ends and between words (one space), so no translation has a doubled
space.

Tokenising runs in TensorFlow as `tensorflow_text.SentencepieceTokenizer`, which is why an exported
model needs `import tensorflow_text` before `tf.saved_model.load` (see `export`); the pieces are
strings, looked up by the task's `StringLookup`s like words. Joining them back is plain string ops.

Example:

```python
subwords = Subwords(learn_subwords(["Ich bin müde.", "Wir sind müde."] * 50, 40))
subwords.tokenize(tf.constant(["Wir sind müde."]))     # [[b'\xe2\x96\x81Wir', …]]
subwords.detokenize(subwords.tokenize(tf.constant(["Wir sind müde."])))   # [b'Wir sind m\xc3\xbcde.']
```
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import tensorflow as tf

from kerasrnn.errors import UserInputError
from kerasrnn.fileio import replace_atomically

WORD_START = "▁"  # SentencePiece's mark of a piece that starts a word (U+2581)
UNKNOWN_PIECE = "<unk>"
# The one normalization: a byte-order mark (U+FEFF, which files often start with) is dropped. Every
# other character is kept as written. (A model with no rule at all, "identity", makes TensorFlow
# Text log a line each time it loads one.)
NORMALIZATION_RULES = "FEFF\t\n"


def learn_subwords(texts: list[str], vocabulary_size: int) -> bytes:
    """A SentencePiece unigram model (its serialized proto) of at most `vocabulary_size` pieces,
    learned from `texts`, every character of them kept.

    The vocabulary size is a soft limit: a small text set gets the pieces it can give. One thread,
    so that the same texts give the same model on every machine.

    Raises:
      UserInputError: no text, or fewer pieces allowed than the texts have characters.
    """
    import sentencepiece

    texts = [text for text in texts if text.strip()]
    if not texts:
        raise UserInputError("cannot learn subword tokens: the training split has no text")
    model = io.BytesIO()
    try:
        with tempfile.TemporaryDirectory() as folder:
            rules = Path(folder) / "rules.tsv"
            rules.write_text(NORMALIZATION_RULES, encoding="utf-8")
            sentencepiece.SentencePieceTrainer.train(
                sentence_iterator=iter(texts), model_writer=model, vocab_size=vocabulary_size, model_type="unigram",
                character_coverage=1.0, normalization_rule_tsv=str(rules), hard_vocab_limit=False,
                unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1, num_threads=1, minloglevel=2)
    except RuntimeError as error:
        # Its message's last line says what is wrong, e.g. "Vocabulary size is smaller than required_chars. 30 vs 86."
        raise UserInputError(f"cannot learn subword tokens with at most {vocabulary_size:,} of them: "
                             f"{str(error).strip().splitlines()[-1]}") from error
    # The trainer's settings are saved in the model, the rules' temporary path among them: cleared,
    # so that the same texts give the same bytes.
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    proto.normalizer_spec.ClearField("normalization_rule_tsv")
    return proto.SerializeToString()


class Subwords:
    """Tokenising with one side's SentencePiece model, in TensorFlow ops.

    Args:
      model: the serialized SentencePiece model (`learn_subwords`, or a saved `.model` file's bytes).

    Attributes:
      model: those bytes.
    """

    def __init__(self, model: bytes):
        import sentencepiece

        self.model = bytes(model)
        processor = sentencepiece.SentencePieceProcessor()
        try:
            processor.LoadFromSerializedProto(self.model)
        except (RuntimeError, TypeError) as error:
            raise UserInputError(f"not a SentencePiece model: {str(error).strip().splitlines()[-1]}") from error
        self._pieces = [processor.IdToPiece(index) for index in range(processor.GetPieceSize())]

    @classmethod
    def read(cls, path: Path) -> "Subwords":
        """The model saved at `path`; UserInputError naming it if it is missing or damaged."""
        try:
            return cls(Path(path).read_bytes())
        except OSError as error:
            raise UserInputError(f"cannot read {path}: {error.strerror or error}") from error
        except UserInputError as error:
            raise UserInputError(f"{path}: {error}") from error

    def write(self, path: Path) -> None:
        """Saves the model at `path`, atomically."""
        replace_atomically(path, lambda temporary: temporary.write_bytes(self.model))

    def pieces(self) -> list[str]:
        """Every piece of the model in its own order, the unknown piece left out: the vocabulary of
        the side (a piece that never wins in the training text may still in another)."""
        return [piece for piece in self._pieces if piece != UNKNOWN_PIECE]

    def tokenize(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """Strings `(batch,)` → ragged pieces `(batch, None)` (an unseen character is its own piece).

        The TensorFlow tokenizer is made anew for each call or graph: its model lives in its op's
        kernel, and TensorFlow drops eager kernels whenever a random seed is set (as every run does
        after its vocabularies are made); a graph (a dataset's function, an export's signature)
        holds its own, with the model inside it, so a SavedModel needs no file beside it.
        """
        import tensorflow_text

        return tensorflow_text.SentencepieceTokenizer(model=self.model, out_type=tf.string).tokenize(texts)

    @staticmethod
    def detokenize(pieces: tf.RaggedTensor) -> tf.Tensor:
        """Ragged pieces → strings: joined, each "▁" a space, one space at most between words and
        none at the ends (a model can put "▁" alone next to "▁word")."""
        texts = tf.strings.regex_replace(tf.strings.reduce_join(pieces, axis=-1), WORD_START, " ")
        return tf.strings.strip(tf.strings.regex_replace(texts, " +", " "))
