"""Sampling from a character language model by carrying the recurrent state.

The prefix is never re-run: a one-step model shares the trained layers (embedding, each recurrent
layer's cell wrapped in `keras.layers.RNN(..., return_state=True)`, the dense readout) and maps
`(ids, states…)` to `(logits, new states…)`. The prompt goes through it once, from every layer's
initial state (learned for the uRNN, zeros otherwise); then one character at a time, inside one
`tf.function` loop, each sampled id and the states go back in.
"""

from __future__ import annotations

import logging

import keras
import tensorflow as tf

from kerasrnn.errors import UserInputError
from kerasrnn.tasks import text_data

logger = logging.getLogger(__name__)


def build_stepper(model: keras.Model, layers: int, residual: bool, *, time: int | None = None) -> keras.Model:
    """A model sharing `model`'s weights that takes and returns every recurrent layer's states.

    Inputs: ids `(batch, time)` then the states of `recurrent_1`, `recurrent_2`, … in their
    `state_size` order. Outputs: logits `(batch, time, vocabulary)` then the new states, same order.
    Dropout layers are left out: they do nothing at inference. With a fixed `time` (1 for sampling)
    the time loop is unrolled, which saves a symbolic loop per step.
    """
    ids = keras.Input((time,), dtype="int32", name="ids")
    x = model.get_layer("embedding")(ids)
    state_inputs, state_outputs = [], []
    for index in range(1, layers + 1):
        cell = model.get_layer(f"recurrent_{index}").cell
        sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
        states = [keras.Input((size,), dtype=cell.compute_dtype, name=f"state_{index}_{k}")
                  for k, size in enumerate(sizes)]
        step = keras.layers.RNN(
            cell, return_sequences=True, return_state=True, unroll=time is not None, name=f"step_{index}"
        )
        y, *new_states = step(x, initial_state=states)
        x = keras.layers.Add(name=f"step_residual_{index}")([x, y]) if residual and index > 1 else y
        state_inputs += states
        state_outputs += new_states
    logits = model.get_layer("logits")(x)
    return keras.Model([ids, *state_inputs], [logits, *state_outputs], name=f"{model.name}_stepper")


class CharSampler:
    """Draws text from a trained character language model, one character per step.

    Args:
      model: a model from `char_lm.build_char_lm` (trained).
      config: its `CharLMConfig` (for the number of layers and the residual connections).
      characters: its vocabulary's characters, as `text_data.load_vocabulary` returns them.
    """

    def __init__(self, model: keras.Model, config, characters: list[str]):
        self.characters = list(characters)
        self.lookup = text_data.make_char_lookup(self.characters)
        self.inverse_lookup = text_data.make_char_lookup(self.characters, invert=True)
        self.stepper = build_stepper(model, config.layers, config.residual)
        self.one_step = build_stepper(model, config.layers, config.residual, time=1)
        self.recurrent_layers = [model.get_layer(f"recurrent_{i}") for i in range(1, config.layers + 1)]
        self._step = tf.function(self._step_fn, reduce_retracing=True)
        self._draw = tf.function(self._draw_fn, reduce_retracing=True)

    @staticmethod
    def check_arguments(prompt: str, length: int, temperature: float, top_k, characters) -> list[str]:
        """Raises UserInputError for a bad request; returns the prompt's unknown characters."""
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise UserInputError(f"length must be a positive number of characters, got {length!r}")
        if not temperature > 0:
            raise UserInputError(f"temperature must be positive, got {temperature!r}")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise UserInputError(f"top-k must be a positive integer, got {top_k!r}")
        return text_data.check_prompt_known(prompt, characters)

    def initial_states(self) -> list:
        """Every layer's initial states for one sequence, read now (the uRNN's h0 is a weight)."""
        return [state for layer in self.recurrent_layers for state in layer.get_initial_state(1)]

    def _step_fn(self, ids, states):
        stepper = self.one_step if ids.shape[1] == 1 else self.stepper
        outputs = stepper([ids, *states], training=False)
        return outputs[0][:, -1, :], list(outputs[1:])

    def start(self, prompt: str):
        """Runs `[BOS] + prompt` through the one-step model once: (last logits `(1, V)`, states)."""
        ids = tf.concat([[text_data.BOS_ID], text_data.encode(self.lookup, prompt)], axis=0)
        return self._step(ids[None, :], self.initial_states())

    def carried_logits(self, prompt: str) -> tf.Tensor:
        """Logits after `[BOS]` and after each prompt character, feeding one id per call.

        Shape `(len(prompt) + 1, V)`; equal to `model(ids)[0]` up to float rounding if the state is
        carried right. For tests and teaching; `sample` does the same inside one graph.
        """
        ids = tf.concat([[text_data.BOS_ID], text_data.encode(self.lookup, prompt)], axis=0)
        states, rows = self.initial_states(), []
        for position in range(int(ids.shape[0])):
            logits, states = self._step(ids[None, position : position + 1], states)
            rows.append(logits[0])
        return tf.stack(rows)

    def _draw_fn(self, logits, states, length, temperature, top_k, seed):
        ids = tf.TensorArray(tf.int32, size=length)
        for position in tf.range(length):
            next_id = _pick(logits, temperature, top_k, tf.stack([seed, tf.cast(position, tf.int64)]))
            ids = ids.write(position, next_id[0])
            logits, states = self._step_fn(next_id[:, None], states)
        return ids.stack()

    def sample(
        self, prompt: str, length: int, *, temperature: float = 1.0, top_k: int | None = None, seed: int = 0
    ) -> str:
        """`length` characters drawn after `prompt` (not included); same seed, same text.

        Raises:
          UserInputError: length, temperature or top-k not positive; a prompt made only of
            characters outside the vocabulary (an empty prompt is fine).
        """
        unknown = self.check_arguments(prompt, length, temperature, top_k, self.characters)
        if unknown:
            logger.warning("The prompt has characters never seen in training: %r", "".join(unknown))
        logits, states = self.start(prompt)
        vocabulary_size = len(self.characters) + len(text_data.SPECIAL_TOKENS)
        k = vocabulary_size if top_k is None else min(top_k, vocabulary_size)
        ids = self._draw(
            logits,
            states,
            tf.constant(length, tf.int32),
            tf.constant(temperature, tf.float32),
            tf.constant(k, tf.int32),
            tf.constant(seed, tf.int64),
        )
        return text_data.decode(self.inverse_lookup, ids)


def _pick(logits, temperature, top_k, seed):
    """One id per row from softmax(logits / temperature) over the top-k, never `[UNK]` or `[BOS]`."""
    logits = tf.cast(logits, tf.float32) / temperature
    special = tf.range(tf.shape(logits)[-1]) < len(text_data.SPECIAL_TOKENS)
    logits = tf.where(special[None, :], tf.constant(-float("inf")), logits)
    kth_largest = tf.math.top_k(logits, k=top_k).values[:, -1:]
    logits = tf.where(logits < kth_largest, tf.constant(-float("inf")), logits)
    return tf.cast(tf.random.stateless_categorical(logits, 1, seed=seed)[:, 0], tf.int32)
