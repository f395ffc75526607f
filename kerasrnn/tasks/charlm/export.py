"""The character language model as a SavedModel (see `kerasrnn.engine.exporting`): strings in, text out.

Signatures (`serving_default` is `generate`); V is the vocabulary size with `[UNK]` and `[BOS]`,
S the width of the packed state:

| signature       | inputs                                              | outputs                           |
| --------------- | --------------------------------------------------- | --------------------------------- |
| `generate`      | `prompt` string[batch], `length` int32[],           | `text` string[batch]              |
|                 | `temperature` float32[], `seed` int32[]             |                                   |
| `step`          | `ids` int32[batch, time], `state` float32[batch, S] | `logits` float32[batch, time, V], |
|                 |                                                     | `state` float32[batch, S]         |
| `initial_state` | `batch_size` int32[]                                | `state` float32[batch_size, S]    |
| `score`         | `text` string[batch]                                | `nats_per_char` float32[batch]    |

- `generate` encodes each prompt with the run's character `StringLookup` (`[BOS]` first, unknown
  characters → `[UNK]`), carries the recurrent state through it once, then draws `length`
  characters inside the graph with `CharStepper.draw`, which never draws `[UNK]` or `[BOS]`. The
  rows of a batch draw independently (the same prompt twice gives two samples); the first row's
  text equals `CharSampler.sample(prompt, length, temperature=…, seed=…)`, that is
  `kerasrnn generate`'s. `length` ≥ 1, `temperature` > 0 and 0 ≤ `seed` < 2³¹ are checked
  (an `InvalidArgumentError` otherwise).
- `step` is for callers who sample themselves: feed ids (`[BOS]` = 1 first, the characters' ids
  in `vocabulary.json`'s order; one time step or more) and a state, get the logits after each id
  and the state after the last. Start from `initial_state(batch_size)`: the uRNN's initial state
  is learned, not zero. The state packs every recurrent layer's states side by side, as float32:
  `recurrent_1`'s in its cell's order (LSTM: h then c; other cells: h), then `recurrent_2`'s, …
- `score` is the mean cross-entropy, in nats, of each text's characters, each predicted from
  `[BOS]` and the characters before it (as in training and `evaluate`; an unknown character is
  scored as `[UNK]`). An empty text has no characters: its score is NaN.
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

from kerasrnn.engine.run_dir import VOCABULARY_FILE
from kerasrnn.tasks.charlm import data as char_data
from kerasrnn.tasks.charlm.sampling import MAX_SEED, CharStepper


class CharLMServing:
    """The exported functions of a character language model, on tensors, in-graph.

    Args:
      model: a model from `charlm.model.build_char_lm`.
      config: its `CharLMConfig`.
      characters: its vocabulary's characters (`char_data.load_vocabulary`).
    """

    def __init__(self, model: keras.Model, config, characters: list[str]):
        self.model = model
        self.lookup = char_data.make_char_lookup(characters)
        self.inverse_lookup = char_data.make_char_lookup(characters, invert=True)
        self.stepper = CharStepper(model, config.layers, config.residual)
        self.state_size = sum(self.stepper.state_sizes)

    def _encode(self, texts) -> tf.RaggedTensor:
        """int32 ids of each string's characters, `(batch, None)`; unknown characters → `[UNK]`."""
        characters = tf.strings.unicode_split(texts, "UTF-8")
        return tf.cast(tf.ragged.map_flat_values(self.lookup, characters), tf.int32)

    def _with_bos(self, ids: tf.RaggedTensor) -> tf.RaggedTensor:
        bos = tf.fill([tf.shape(ids.row_lengths())[0], 1], tf.constant(char_data.BOS_ID, tf.int32))
        return tf.concat([tf.RaggedTensor.from_tensor(bos), ids], axis=1)

    def pack(self, states) -> tf.Tensor:
        """The stepper's list of states as one float32 `(batch, S)` tensor."""
        return tf.concat([tf.cast(state, tf.float32) for state in states], axis=-1)

    def unpack(self, state) -> list:
        """The inverse of `pack`, each state in its cell's compute dtype."""
        parts = tf.split(state, self.stepper.state_sizes, axis=-1)
        stepper = self.stepper
        dtypes = [cell.compute_dtype
                  for cell, sizes in zip(stepper.cells, stepper.cell_state_sizes) for _ in sizes]
        return [tf.cast(part, dtype) for part, dtype in zip(parts, dtypes)]

    def generate(self, prompt, length, temperature, seed):
        checks = [
            tf.debugging.assert_positive(length, message="length must be positive"),
            tf.debugging.assert_positive(temperature, message="temperature must be positive"),
            tf.debugging.assert_non_negative(seed, message=f"seed must be from 0 to {MAX_SEED}"),
        ]
        with tf.control_dependencies(checks):  # nothing reads these before the checks passed
            length, temperature, seed = tf.identity(length), tf.identity(temperature), tf.identity(seed)
        ids = self._with_bos(self._encode(prompt))
        lengths = tf.cast(ids.row_lengths(), tf.int32)
        states = self.stepper.initial_states(tf.shape(lengths)[0])
        logits, states = self.stepper.run(ids.to_tensor(char_data.BOS_ID), states, lengths)
        last_logits = tf.gather(logits, lengths - 1, axis=1, batch_dims=1)
        drawn = self.stepper.draw(last_logits, states, length, temperature, seed)
        characters = self.inverse_lookup(tf.cast(drawn, tf.int64))
        return {"text": tf.strings.reduce_join(characters, axis=1)}

    def step(self, ids, state):
        check = tf.debugging.assert_positive(tf.shape(ids)[1], message="ids need one time step or more")
        with tf.control_dependencies([check]):
            ids = tf.identity(ids)
        logits, states = self.stepper.run(ids, self.unpack(state))
        return {"logits": logits, "state": self.pack(states)}

    def initial_state(self, batch_size):
        return {"state": self.pack(self.stepper.initial_states(batch_size))}

    def score(self, text):
        targets = self._encode(text)
        lengths = targets.row_lengths()
        # The model sees [BOS] + text; its last position predicts past the text and is dropped. The
        # network is causal, so the padding after a shorter text changes none of its logits.
        logits = self.model(self._with_bos(targets).to_tensor(char_data.BOS_ID), training=False)[:, :-1]
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=targets.to_tensor(0), logits=tf.cast(logits, tf.float32))
        mask = tf.sequence_mask(lengths, tf.shape(losses)[1], tf.float32)
        return {"nats_per_char": tf.reduce_sum(losses * mask, axis=1) / tf.cast(lengths, tf.float32)}


def add_endpoints(task, run_dir: Path, archive) -> dict[str, str]:
    """Adds `generate` (first: `serving_default`), `step`, `initial_state` and `score` of a charlm run
    to a `keras.export.ExportArchive`; returns each signature's name with a one-line description."""
    config, _ = task.load_configs(run_dir)
    characters = char_data.load_vocabulary(Path(run_dir) / VOCABULARY_FILE)
    serving = CharLMServing(task.load_model(run_dir), config, characters)
    # The lookup tables are not variables: the archive saves them only when tracked, which needs
    # the layers built (a lookup with a given vocabulary has nothing to build from its input).
    for lookup in (serving.lookup, serving.inverse_lookup):
        lookup.build(None)
        archive.track(lookup)
    spec = tf.TensorSpec
    archive.add_endpoint("generate", serving.generate, [
        spec([None], tf.string, name="prompt"), spec([], tf.int32, name="length"),
        spec([], tf.float32, name="temperature"), spec([], tf.int32, name="seed")])
    archive.add_endpoint("step", serving.step, [
        spec([None, None], tf.int32, name="ids"),
        spec([None, serving.state_size], tf.float32, name="state")])
    archive.add_endpoint("initial_state", serving.initial_state, [spec([], tf.int32, name="batch_size")])
    archive.add_endpoint("score", serving.score, [spec([None], tf.string, name="text")])

    vocabulary, width = serving.stepper.vocabulary_size, serving.state_size
    layout = "; ".join(f"recurrent_{index}: {' + '.join(map(str, sizes))}"
                       for index, sizes in enumerate(serving.stepper.cell_state_sizes, start=1))
    return {
        "generate": "generate(prompt: string[batch], length: int32, temperature: float32, seed: int32) "
                    "-> text: string[batch]",
        "step": f"step(ids: int32[batch, time], state: float32[batch, {width}]) -> logits: "
                f"float32[batch, time, {vocabulary}], state: float32[batch, {width}]  (state columns: "
                f"{layout})",
        "initial_state": f"initial_state(batch_size: int32) -> state: float32[batch_size, {width}]",
        "score": "score(text: string[batch]) -> nats_per_char: float32[batch]",
    }
