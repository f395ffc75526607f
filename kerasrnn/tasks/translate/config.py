"""The translate task's settings: `TranslateConfig` and the presets its left-out settings take by the
kind of data (`TOY_DEFAULTS` for spelled_numbers, `REAL_PAIRS_DEFAULTS` for a pairs file).

Light (no TensorFlow at import): the CLI reads these defaults for `--help`.

Example:

```python
TranslateConfig().units                               # 128: the toy numbers' character model
TranslateConfig(data="pairs.tsv").tokens              # "subwords": the real-pairs preset
```
"""

from __future__ import annotations

import dataclasses

from kerasrnn import checks
from kerasrnn.data.sentence_pairs import SPELLED_NUMBERS, parse_pair
from kerasrnn.errors import UserInputError
from kerasrnn.tasks.network_config import NetworkConfig
from kerasrnn.tasks.presets import fill_preset

TOKEN_MODES = ("characters", "subwords", "words", "cased-words")
ATTENTION_KINDS = ("none", "dot", "additive")

# What a setting left as None becomes, by the kind of data (see `TranslateConfig`): the toy numbers
# keep the small character model they are learned by in a minute or two; a pairs file of real
# sentences gets subword tokens, a bidirectional encoder and a bigger network.
TOY_DEFAULTS = dict(cell="lstm", tokens="characters", bidirectional=False, units=128, embedding_dim=32, dropout=0.0,
                    max_tokens=20_000, label_smoothing=0.0, tie_embeddings=False)
REAL_PAIRS_DEFAULTS = dict(cell="keras-lstm", tokens="subwords", bidirectional=True, units=256, embedding_dim=128, dropout=0.2,
                           max_tokens=4_000, label_smoothing=0.1, tie_embeddings=True)



@dataclasses.dataclass(frozen=True)
class TranslateConfig(NetworkConfig):
    """Settings of the encoder-decoder and its data.

    Settings left as None take the defaults of the data's kind when the config is made: for
    spelled_numbers `TOY_DEFAULTS` (the lecture's `lstm`, characters, a one-way encoder of 128
    units, embeddings of 32), for a pairs file `REAL_PAIRS_DEFAULTS`, the real-pairs preset
    (`keras-lstm`: the same equations as `lstm`, about twice as fast on a CPU under a bidirectional
    encoder; subwords, 4,000 pieces per side, a bidirectional encoder, 256 units,
    embeddings of 128, dropout 0.2, label smoothing 0.1, tied target embeddings unless attention
    is none). Attention is on (`dot`) for both.

    Attributes (besides `NetworkConfig`'s: `cell` and `layers` are those of the encoder and of the
    decoder, the final state of encoder layer i initialising decoder layer i; `dropout` is that of
    the recurrent layers' inputs; `embedding_dim` is that of source and target):
      attention: `"dot"` (Luong), `"additive"` (Bahdanau) or `"none"`: the decoder then sees the
        source only through the encoder's final state.
      tokens: `"characters"` (text kept as it is), `"subwords"` (a SentencePiece model per side,
        learned from the training split; see `subwords`), `"words"` (lower-cased, punctuation
        apart) or `"cased-words"` (the same with the case kept); see `data`.
      bidirectional: each encoder layer reads the source both ways, `units / 2` each way (so
        `units` must be even); their outputs and final states, concatenated, have the decoder's size.
      max_tokens: vocabulary size per side: the most frequent words, or the pieces a subword
        model is learned with; characters are never cut.
      max_length: tokens kept from the start of each source and target text.
      label_smoothing: ε of the training loss's label smoothing (`smoothed_loss`); 0: none.
      tie_embeddings: the target embedding also scores the output tokens (`tied_embedding`); with
        attention none the decoder's output must then have the embedding's size.
      data: `"spelled_numbers"` or the path of a tab-separated pairs file.
      pair: for spelled_numbers, `SOURCE-TARGET` from digits, en, fr, de, es, it.
      data_dir: tensorflow-datasets folder for spelled_numbers; None: tfds's default.
      validation_data, test_data: a pairs file (of your own pairs) whose whole content is the
        validation or test split; None: the split `data` names (`dev.txt`, `test.txt` in its
        folder), or a seeded tenth of the training pairs.
    """

    cell: str | None = None
    units: int | None = None
    dropout: float | None = None
    embedding_dim: int | None = None
    attention: str = "dot"
    tokens: str | None = None
    bidirectional: bool | None = None
    max_tokens: int | None = None
    max_length: int = 100
    data: str = "spelled_numbers"
    pair: str = "en-fr"
    data_dir: str | None = None
    validation_data: str | None = None
    test_data: str | None = None
    label_smoothing: float | None = None
    tie_embeddings: bool | None = None

    def __post_init__(self):
        checks.non_empty_text("no data given: spelled_numbers or the path of a tab-separated pairs file",
                              self.data)
        preset = TOY_DEFAULTS if self.data == SPELLED_NUMBERS else REAL_PAIRS_DEFAULTS
        if self.attention == "none" and self.tie_embeddings is None:
            # Tying then needs a decoder as narrow as the embedding: a preset never asks for that.
            preset = {**preset, "tie_embeddings": False}
        fill_preset(self, preset)
        super().__post_init__()
        for label, value in (("max length", self.max_length), ("max tokens", self.max_tokens)):
            checks.positive_int(label, value)
        checks.one_of("attention", self.attention, ATTENTION_KINDS)
        checks.rate("label smoothing", self.label_smoothing)
        checks.one_of("token mode", self.tokens, TOKEN_MODES)
        for label, value in (("bidirectional", self.bidirectional), ("tie embeddings", self.tie_embeddings)):
            if not isinstance(value, bool):
                raise UserInputError(f"{label} must be True or False, got {value!r}")
        if self.tie_embeddings and self.attention == "none" and self.units != self.embedding_dim:
            raise UserInputError(f"tied embeddings with attention none need --units equal to --embedding-dim (the "
                                 f"decoder's output is scored by the embedding), got {self.units} and "
                                 f"{self.embedding_dim}")
        if self.bidirectional and self.units % 2:
            raise UserInputError(f"a bidirectional encoder needs an even number of units (half each way), "
                                 f"got {self.units}")
        if self.data == SPELLED_NUMBERS:
            parse_pair(self.pair)
            if self.validation_data or self.test_data:
                raise UserInputError("separate validation or test data go with pairs of your own, not "
                                     "spelled_numbers")
