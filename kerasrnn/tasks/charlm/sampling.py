"""Sampling from a character language model by carrying the recurrent state.

The prefix is never re-run. `CharStepper` reads the trained layers (embedding, each recurrent
layer's cell, the dense readout) as a function `(ids, states…) → (logits, new states…)` of one
character per sequence, and runs it in two loops:

- `run`: given ids, e.g. `[BOS]` and a prompt, one character after the other from the given states
  (a `tf.while_loop`, rows of different lengths allowed);
- `draw`: sampling, each drawn id fed back with the states. The loop is compiled with XLA
  (`jit_compile`) in chunks of `DRAW_CHUNK` characters: XLA fuses each step's dozens of small ops,
  which on a CPU is most of the time of a step at batch 1, and XLA needs a static number of steps.

`CharSampler` (`kerasrnn generate`) and the exported SavedModel (`kerasrnn.tasks.charlm.export`)
both sample through `CharStepper.draw`, so the same prompt, temperature and seed give the same text.
`CharSampler` draws `num_samples` texts after one prompt in one batch (`generate --num-samples`):
row b of a batch draws with the b-th part of each step's random numbers, so it is the same text in
every batch of more than b rows, and row 0 is the text drawn alone.
"""

from __future__ import annotations

import contextlib
import logging

import keras
import tensorflow as tf

from kerasrnn import checks
from kerasrnn.errors import UserInputError
from kerasrnn.recurrent import state_sizes
from kerasrnn.tasks.charlm import data as char_data
from kerasrnn.tasks.charlm.carried_state import recurrent_layer
from kerasrnn.engine.tracing import traced_per_object
# Seeds are int32: XLA's stateless_categorical takes no int64 seed.
from kerasrnn.engine.train_config import MAX_SEED

logger = logging.getLogger(__name__)

# Characters drawn per XLA call. Larger chunks spend less in the loop around them but draw more
# characters past `length` that are thrown away (at most DRAW_CHUNK − 1). Measured with
# `CharSampler.sample` of 2,000 characters, 512-unit LSTM, 2-core CPU (characters per second, two
# runs): chunks of 1: 3,900; 4: 5,400–5,500; 8: 7,100; 16: 6,800–7,600; 32: 7,000–7,700;
# 64: 7,300–7,600; 256: 8,300. From 8 on the differences are within the machine's noise.
DRAW_CHUNK = 32

# What bounds a character at batch 1 (512-unit LSTM, 2-core CPU, measured 2026-12-03): each step
# reads the whole float32 recurrent kernel, 4 MiB, more than one core's 2 MiB L2; XLA runs the
# matrix-vector product as its own AVX2 kernel split between the two cores, at about the 4 MiB
# read bandwidth `benchmarks/bench_export.py` measures (13,000-17,000 characters/s at best). Tried
# and not kept: bfloat16, float16 or int8 kernels (XLA's CPU backend converts the operands of a dot
# to float32 and hoists the conversion out of the loop, so it still reads 4 MiB a step; written as
# multiply-and-reduce instead, 2,800-3,800 steps/s); a tf.while_loop without XLA (a matmul alone
# costs 140-330 µs a step); the recurrent product kept apart from the bias add; the input
# projection as a gathered table row; Gumbel noise drawn once per chunk (all within the noise).

# Samples drawn in one batch at most: the batch's states (`num_samples` × the state width) and each
# step's gates live in memory together, and on a CPU the characters per second stop growing long
# before this (see benchmarks/bench_export.py --num-samples).
MAX_NUM_SAMPLES = 4096
# Characters of a batch of several samples at most: `sample` and `CharLMTask.generate` hold all of
# them at once (a single streamed sample has no limit).
MAX_BATCH_CHARACTERS = 20_000_000


class CharStepper:
    """A language model from `charlm.model.build_char_lm`, one character per sequence at a time.

    The model's layers are shared (not copied): a weight that changes is seen at the next call.
    States are a flat list: the states of `recurrent_1` in its cell's `state_size` order (LSTM:
    h, c; the others: h), then those of `recurrent_2`, …; `state_sizes` gives their widths, and
    `cell_state_sizes` the same per layer.

    Args:
      model: a model from `build_char_lm`; its layers are found by name.
      layers: its number of recurrent layers.
      residual: whether its stacked layers add their input to their output.

    Example:

    ```python
    stepper = CharStepper(model, config.layers, config.residual)
    logits, states = stepper.run(tf.constant([[char_data.BOS_ID]]), stepper.initial_states(1))
    ids = stepper.draw(logits[:, -1], states, length=100, temperature=0.8, seed=0)
    ```
    """

    def __init__(self, model: keras.Model, layers: int, residual: bool):
        self.embedding = model.get_layer("embedding")
        self.recurrent_layers = [recurrent_layer(model, i) for i in range(1, layers + 1)]
        self.cells = [layer.cell for layer in self.recurrent_layers]
        self.residual = residual
        self.readout = model.get_layer("logits")
        self.vocabulary_size = int(self.readout.units)
        self.cell_state_sizes = [state_sizes(cell) for cell in self.cells]
        self.state_sizes = [size for sizes in self.cell_state_sizes for size in sizes]
        self._draw_chunk = traced_per_object(self._draw_chunk_fn, jit_compile=True)

    def initial_states(self, batch_size) -> list:
        """Every layer's initial states for `batch_size` sequences, read now (the uRNN's h0 is a
        weight; zeros for the other cells)."""
        return [state for layer in self.recurrent_layers for state in layer.get_initial_state(batch_size)]

    def step(self, ids, states):
        """One character per sequence: ids `(batch,)` → (logits `(batch, vocabulary)`, new states)."""
        x = self.embedding(ids)
        new_states, start = [], 0
        for index, (cell, sizes) in enumerate(zip(self.cells, self.cell_state_sizes), start=1):
            count = len(sizes)
            y, cell_states = cell(x, states[start : start + count], training=False)
            start += count
            new_states += list(cell_states) if isinstance(cell_states, (list, tuple)) else [cell_states]
            x = x + y if self.residual and index > 1 else y
        return self.readout(x), new_states

    def run(self, ids, states, lengths=None):
        """Feeds ids `(batch, time ≥ 1)` from `states`: (logits `(batch, time, vocabulary)`, states).

        With `lengths` `(batch,)`, row b stops at `lengths[b]`: the states returned are those after
        its last real id (the logits after it are those of padding; ignore them). A `tf.while_loop`:
        call it inside a `tf.function`.
        """
        ids = tf.convert_to_tensor(ids, tf.int32)
        steps = tf.shape(ids)[1]

        def body(t, states, logits):
            next_logits, next_states = self.step(ids[:, t], states)
            if lengths is not None:
                running = (t < lengths)[:, None]
                next_states = [tf.where(running, new, old) for new, old in zip(next_states, states)]
            return t + 1, next_states, logits.write(t, next_logits)

        empty = tf.TensorArray(tf.float32, size=steps, element_shape=(None, self.vocabulary_size))
        with self._recurrence_prepared(states):
            _, states, logits = tf.while_loop(lambda t, *_: t < steps, body, (tf.constant(0), states, empty))
        return tf.transpose(logits.stack(), [1, 0, 2]), states

    def draw(self, logits, states, length, temperature, seed, top_k=None):
        """`length` ids per sequence drawn one after the other, each fed back: int32 `(batch, length)`.

        The id at position p of every row comes from `_pick(logits, temperature, top_k, [seed, p])`
        (never `[UNK]` or `[BOS]`). Runs `DRAW_CHUNK` steps per XLA call; the draws past `length`
        are dropped.

        Args:
          logits: `(batch, vocabulary)`, the prediction for the first id (e.g. `run`'s last).
          states: the states after the ids the logits came from.
          length: number of ids, a positive int32 scalar.
          temperature: a positive float32 scalar dividing the logits.
          seed: an int32 scalar in [0, 2³¹ − 1].
          top_k: sample among the k largest logits (int32 scalar); None: among all.
        """
        length = tf.convert_to_tensor(length, tf.int32)
        temperature = tf.convert_to_tensor(temperature, tf.float32)
        seed = tf.convert_to_tensor(seed, tf.int32)
        chunks = (length + DRAW_CHUNK - 1) // DRAW_CHUNK

        def body(chunk, logits, states, ids):
            first = chunk * DRAW_CHUNK
            logits, states, drawn = self._draw_chunk(logits, states, first, temperature, seed, top_k)
            return chunk + 1, logits, states, ids.write(chunk, drawn)

        empty = tf.TensorArray(tf.int32, size=chunks, element_shape=(None, DRAW_CHUNK))
        _, _, _, ids = tf.while_loop(
            lambda chunk, *_: chunk < chunks, body, (tf.constant(0), logits, states, empty))
        ids = tf.reshape(tf.transpose(ids.stack(), [1, 0, 2]), [tf.shape(logits)[0], chunks * DRAW_CHUNK])
        return ids[:, :length]

    def _draw_chunk_fn(self, logits, states, first_position, temperature, seed, top_k):
        def body(i, logits, states, ids):
            next_id = _pick(logits, temperature, top_k, tf.stack([seed, first_position + i]))
            logits, states = self.step(next_id, states)
            return i + 1, logits, states, ids.write(i, next_id)

        empty = tf.TensorArray(tf.int32, size=DRAW_CHUNK, element_shape=(None,))
        with self._recurrence_prepared(states):
            _, logits, states, ids = tf.while_loop(
                lambda i, *_: i < DRAW_CHUNK, body, (tf.constant(0), logits, states, empty))
        return logits, states, tf.transpose(ids.stack())

    @contextlib.contextmanager
    def _recurrence_prepared(self, states):
        """Around a time loop, what `keras.layers.RNN` does around its own: the recurrent hook of
        `DropoutRNNCell` before, the resets after. The uRNN builds its W there, once per loop
        rather than once per step; dropout masks are unused at inference (`training=False`)."""
        start = 0
        for cell, sizes in zip(self.cells, self.cell_state_sizes):
            if hasattr(cell, "get_recurrent_dropout_mask"):
                cell.get_recurrent_dropout_mask(states[start])
            start += len(sizes)
        try:
            yield
        finally:
            for cell in self.cells:
                if hasattr(cell, "reset_recurrent_dropout_mask"):
                    cell.reset_dropout_mask()
                    cell.reset_recurrent_dropout_mask()


class CharSampler:
    """Draws text from a trained character language model, one character per step.

    Args:
      model: a model from `charlm.model.build_char_lm` (trained).
      config: its `CharLMConfig` (for the number of layers and the residual connections).
      characters: its vocabulary's characters, as `char_data.load_vocabulary` returns them.
    """

    def __init__(self, model: keras.Model, config, characters: list[str]):
        self.characters = list(characters)
        self.lookup = char_data.make_char_lookup(self.characters)
        self.inverse_lookup = char_data.make_char_lookup(self.characters, invert=True)
        self.stepper = CharStepper(model, config.layers, config.residual)
        self.recurrent_layers = self.stepper.recurrent_layers
        self._run = traced_per_object(self.stepper.run)
        self._draw = traced_per_object(self.stepper.draw)

    @staticmethod
    def check_arguments(
        prompt: str, length: int, temperature: float, top_k, characters, seed: int = 0, num_samples=None
    ) -> list[str]:
        """Raises UserInputError for a bad request; returns the prompt's unknown characters."""
        if num_samples is not None:
            if (isinstance(num_samples, bool) or not isinstance(num_samples, int)
                    or not 1 <= num_samples <= MAX_NUM_SAMPLES):
                raise UserInputError(f"the number of samples must be an integer from 1 to {MAX_NUM_SAMPLES:,}, "
                                     f"got {num_samples!r}")
            if isinstance(length, int) and num_samples * length > MAX_BATCH_CHARACTERS:
                raise UserInputError(
                    f"{num_samples:,} samples of {length:,} characters are {num_samples * length:,} characters, "
                    f"more than the {MAX_BATCH_CHARACTERS:,} one batch holds in memory: ask for fewer or "
                    f"shorter samples")
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise UserInputError(f"length must be a positive number of characters, got {length!r}")
        checks.positive_float("temperature", temperature)
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise UserInputError(f"top-k must be a positive integer, got {top_k!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise UserInputError(f"the sampling seed must be an integer from 0 to {MAX_SEED}, got {seed!r}")
        return char_data.check_prompt_known(prompt, characters)

    def initial_states(self) -> list:
        """Every layer's initial states for one sequence, read now (the uRNN's h0 is a weight)."""
        return self.stepper.initial_states(1)

    def _prompt_ids(self, prompt: str) -> tf.Tensor:
        return tf.concat([[char_data.BOS_ID], char_data.encode(self.lookup, prompt)], axis=0)[None, :]

    def start(self, prompt: str, num_samples: int = 1):
        """Runs `[BOS] + prompt` through the model once: (last logits `(num_samples, V)`, states), the
        same in every row.

        The prompt is run at batch 1 and its result copied to the rows, rather than run in every row:
        a long prompt costs the same for any number of samples, and every row starts from the very
        same state (a batched matrix product may round differently from a batch of one).
        """
        logits, states = self._run(self._prompt_ids(prompt), self.initial_states())
        logits = logits[:, -1]
        if num_samples == 1:
            return logits, states
        return tf.repeat(logits, num_samples, axis=0), [tf.repeat(state, num_samples, axis=0) for state in states]

    def carried_logits(self, prompt: str) -> tf.Tensor:
        """Logits after `[BOS]` and after each prompt character, feeding one id per call.

        Shape `(len(prompt) + 1, V)`; equal to `model(ids)[0]` up to float rounding if the state is
        carried right. For tests and teaching; `sample` does the same inside one graph.
        """
        ids = self._prompt_ids(prompt)
        states, rows = self.initial_states(), []
        for position in range(int(ids.shape[1])):
            logits, states = self._run(ids[:, position : position + 1], states)
            rows.append(logits[0, -1])
        return tf.stack(rows)

    def sample(
        self, prompt: str, length: int, *, temperature: float = 1.0, top_k: int | None = None, seed: int = 0,
        num_samples: int | None = None,
    ) -> str | list[str]:
        """`length` characters drawn after `prompt` (not included); same seed, same text.

        Args:
          num_samples: None (the default): one text, a str. An int N: a list of N texts drawn in one
            batch after the same prompt (N = 1: a list of the one text). Row b is the same text for
            every N > b, and row 0 is the text drawn with None.

        Raises:
          UserInputError: length, temperature or top-k not positive; a seed outside [0, 2³¹ − 1]; a
            prompt made only of characters outside the vocabulary (an empty prompt is fine); a number
            of samples outside [1, MAX_NUM_SAMPLES], or samples of more than MAX_BATCH_CHARACTERS in all.
        """
        self._check(prompt, length, temperature, top_k, seed, num_samples)
        logits, states = self.start(prompt, num_samples or 1)
        ids = self._draw(
            logits,
            states,
            tf.constant(length, tf.int32),
            tf.constant(temperature, tf.float32),
            tf.constant(seed, tf.int32),
            self._top_k(top_k),
        )
        if num_samples is None:
            return char_data.decode(self.inverse_lookup, ids)
        return char_data.decode_rows(self.inverse_lookup, ids)

    def stream(
        self, prompt: str, length: int, *, temperature: float = 1.0, top_k: int | None = None, seed: int = 0,
        block: int = 1024, num_samples: int | None = None,
    ):
        """The text of `sample` in pieces of about `block` characters, each as soon as it is drawn, so
        that a long sample starts at once and needs no more memory than one piece (the same seed
        gives the same text as `sample`).

        With `num_samples` N: each piece is a list of N strings, one per row, of about `block` / N
        characters (a multiple of `DRAW_CHUNK`); row b's pieces join to row b of `sample`.
        """
        self._check(prompt, length, temperature, top_k, seed, num_samples)
        rows = num_samples or 1
        logits, states = self.start(prompt, rows)
        top_k = self._top_k(top_k)
        temperature, seed = tf.constant(temperature, tf.float32), tf.constant(seed, tf.int32)
        drawn, pieces = 0, []
        while drawn < length:  # position p always draws with the key [seed, p], as `draw` does
            logits, states, ids = self.stepper._draw_chunk(logits, states, tf.constant(drawn, tf.int32),
                                                           temperature, seed, top_k)
            pieces.append(ids[:, : length - drawn])
            drawn += DRAW_CHUNK
            if drawn >= length or len(pieces) * DRAW_CHUNK * rows >= block:
                ids, pieces = tf.concat(pieces, axis=1), []
                if num_samples is None:
                    yield char_data.decode(self.inverse_lookup, ids)
                else:
                    yield char_data.decode_rows(self.inverse_lookup, ids)

    def _check(self, prompt, length, temperature, top_k, seed, num_samples) -> None:
        unknown = self.check_arguments(prompt, length, temperature, top_k, self.characters, seed, num_samples)
        if unknown:
            logger.warning("The prompt has characters never seen in training: %r", "".join(unknown))

    def _top_k(self, top_k):
        # top-k of the whole vocabulary is all of it: skip the sort then.
        return None if top_k is None or top_k >= self.stepper.vocabulary_size else tf.constant(top_k, tf.int32)


def _pick(logits, temperature, top_k, seed):
    """One id per row from softmax(logits / temperature) over the top-k, never `[UNK]` or `[BOS]`.

    `top_k` None: over all ids. `seed`: int32 `[2]`, the key of `tf.random.stateless_categorical`;
    row b of a batch takes the b-th part of its random numbers, so the rows draw independently.
    """
    logits = tf.cast(logits, tf.float32) / temperature
    special = tf.range(tf.shape(logits)[-1]) < len(char_data.SPECIAL_TOKENS)
    logits = tf.where(special[None, :], tf.constant(-float("inf")), logits)
    if top_k is not None:
        # A sort rather than tf.math.top_k: XLA needs top_k's k at compile time.
        kth_largest = tf.gather(tf.sort(logits, axis=-1, direction="DESCENDING"), [top_k - 1], axis=-1)
        logits = tf.where(logits < kth_largest, tf.constant(-float("inf")), logits)
    return tf.cast(tf.random.stateless_categorical(logits, 1, seed=seed)[:, 0], tf.int32)
