"""The encoder-decoder of the `translate` task, and its one-step decoding (greedy and beam search).

Training network (teacher forcing), for `layers` = L recurrent layers of any cell name:

    source ids → embedding ─→ encoder_1 … encoder_L ─→ encoder outputs (batch, S, d)
                                  │ final state of each layer
                                  ▼ initial_state
    [START] y₁…y_n → embedding → decoder_1 … decoder_L → outputs (batch, T, d)
                                  ─→ [attention over the encoder outputs] → logits (batch, T, V)

With `tie_embeddings` the logits are scored by the target embedding itself (`TiedEmbedding`), and
the attentional output is as wide as the embedding.

With `bidirectional`, each encoder layer is a `keras.layers.Bidirectional` of two layers of
`units / 2`: its outputs are the two directions' concatenated, and so is each final state (forward
first), which gives the decoder layer's `units` again.

Every recurrent call gets its mask explicitly: Keras propagates the embedding's mask to a layer
called on one tensor, but not when `initial_state` is also given, and a decoder that runs through
padding would still be right at training time only by luck. With attention (`dot`: Luong's
multiplicative score, `keras.layers.Attention`; `additive`: Bahdanau's, `AdditiveAttention`) each
decoder output queries the unmasked encoder outputs, and `tanh(W [output; context])` feeds the
logits (Luong et al. 2015, "attentional hidden state").

Decoding runs the decoder one step at a time with carried states: `Translator` splits the trained
network into an encoder model (source ids → outputs, states) and a step model sharing the decoder's
weights (previous ids, states, encoder outputs → logits, new states), and `Translator.search` runs a
beam search of width K inside one `tf.function` (greedy decoding is K = 1), ranking hypotheses by
their mean log-probability per token. `Translator.translate` first narrows K to what can exist, to
a bound on the work of one search and to what fits in memory (`beam_width`; a warning says when the
last two narrow it).
"""

from __future__ import annotations

import logging
import os

import keras
import tensorflow as tf

from kerasrnn.engine import memory
from kerasrnn.engine.tracing import traced_once
from kerasrnn.recurrent import make_recurrent_layer, recurrent_output_size, state_sizes
from kerasrnn.tasks.translate import data as translate_data
from kerasrnn.tasks.translate.tied_embedding import TiedEmbedding

logger = logging.getLogger(__name__)
# The most decoder steps (hypotheses × tokens) one text's search may take: a bound on the work (about
# ten seconds on a laptop's CPU for the default character model), since a search in one TensorFlow
# graph cannot be interrupted. Beam search gains nothing from such widths anyway (Koehn & Knowles 2017).
MAX_DECODER_STEPS = 10**6


def build_translator(config, source_vocabulary_size: int, target_vocabulary_size: int, *,
                     seed: int | None = None) -> keras.Model:
    """`(source ids (batch, S), decoder inputs (batch, T))` → logits `(batch, T, target vocabulary)`.

    Layers are named `source_embedding`, `encoder_1`…, `target_embedding`, `decoder_1`…,
    `attention`, `attention_combine`, `logits`; `Translator` finds them by name.

    Args:
      config: a `TranslateConfig` (cell, units, layers, embedding_dim, attention, dropout).
      source_vocabulary_size, target_vocabulary_size: ids of each side, special ones included.
      seed: seed of the dropout masks. Default None.
    """
    source = keras.Input((None,), dtype="int32", name="source")
    decoder_inputs = keras.Input((None,), dtype="int32", name="decoder_inputs")
    source_mask = keras.ops.not_equal(source, translate_data.PAD_ID)
    target_mask = keras.ops.not_equal(decoder_inputs, translate_data.PAD_ID)

    x = keras.layers.Embedding(source_vocabulary_size, config.embedding_dim, name="source_embedding")(source)
    encoders = [_make_encoder_layer(config, index, seed) for index in range(1, config.layers + 1)]
    encoder_outputs, final_states = _encode(config, encoders, x, source_mask)

    if config.tie_embeddings:
        target_embedding = TiedEmbedding(target_vocabulary_size, config.embedding_dim, name="target_embedding")
    else:
        target_embedding = keras.layers.Embedding(target_vocabulary_size, config.embedding_dim,
                                                  name="target_embedding")
    y = target_embedding(decoder_inputs)
    y = _decode(lambda index: make_recurrent_layer(config.cell, config.units, return_sequences=True,
                                                   return_state=True, dropout=config.dropout,
                                                   seed=_seed(seed, 100 + index), name=f"decoder_{index}"),
                y, final_states, target_mask)
    if config.attention != "none":
        y = _attend(config, y, encoder_outputs, target_mask, source_mask)
    if config.tie_embeddings:
        logits = target_embedding(y, reverse=True)
    else:
        logits = keras.layers.Dense(target_vocabulary_size, dtype="float32", name="logits")(y)
    return keras.Model([source, decoder_inputs], logits, name=f"translator_{config.cell.replace('-', '_')}")


def output_logits(model: keras.Model, features):
    """Logits over the target vocabulary of decoder `features`, by the trained `model`'s output: its
    `logits` layer, or with tied embeddings its target embedding reversed (`TiedEmbedding`)."""
    if any(layer.name == "logits" for layer in model.layers):
        return model.get_layer("logits")(features)
    return model.get_layer("target_embedding")(features, reverse=True)


def _seed(seed, offset):
    return None if seed is None else seed + offset


def _make_encoder_layer(config, index: int, seed):
    """Encoder layer `index`: one recurrent layer of `units`, or with `config.bidirectional` a
    `keras.layers.Bidirectional` of two of `units / 2` (outputs concatenated)."""
    if not config.bidirectional:
        return make_recurrent_layer(config.cell, config.units, return_sequences=True, return_state=True,
                                    dropout=config.dropout, seed=_seed(seed, index), name=f"encoder_{index}")
    layer = make_recurrent_layer(config.cell, config.units // 2, return_sequences=True, return_state=True,
                                 dropout=config.dropout, seed=_seed(seed, index))
    return keras.layers.Bidirectional(layer, merge_mode="concat", name=f"encoder_{index}")


def _encode(config, encoders, x, mask):
    """`(outputs, [final states of each layer])` of the encoder `layers` on embedded `x`.

    A bidirectional layer returns its forward then its backward states; state k of the layer is the
    concatenation of the two directions' state k (forward first), the size of the decoder's.
    """
    final_states = []
    for layer in encoders:
        x, *states = layer(x, mask=mask)
        if config.bidirectional:
            half = len(states) // 2
            states = [keras.ops.concatenate([forward, backward], axis=-1)
                      for forward, backward in zip(states[:half], states[half:])]
        final_states.append(states)
    return x, final_states


def _decode(decoder, y, final_states, mask):
    """The outputs of the decoder layers on embedded `y`, layer k (`decoder(k)`, from 1) starting from
    `final_states[k - 1]`. Each layer is made (or found) just before its call: a new network's weights
    are drawn in the same order as they always were."""
    for index, states in enumerate(final_states, start=1):
        y, *_ = decoder(index)(y, initial_state=states, mask=mask)
    return y


def attention_weights(model: keras.Model, config, source_ids, decoder_inputs):
    """The attention weights `(batch, T, S)` of the trained `model` (a `build_translator` network with
    attention), teacher-forced on `decoder_inputs` `(batch, T)` over `source_ids` `(batch, S)`.

    The network of `build_translator` up to its attention layer, run eagerly with its trained layers
    (Keras 3.15 cannot make a functional model's output of `return_attention_scores`), and the
    layer's softmax weights returned: row t is how decoder step t (the one that predicts target
    token t + 1) spreads its attention over the source tokens. Each row sums to 1 over the source
    tokens that are not padding and is 0 on padding; rows of padded decoder steps are meaningless.

    Args:
      model: the trained network, its layers named as `build_translator` names them.
      config: its `TranslateConfig`; `attention` must not be "none".
      source_ids, decoder_inputs: int32 ids, 0-padded; decoder inputs start with `[START]`.

    Example:

    ```python
    weights = attention_weights(model, config, source_ids, decoder_inputs)  # (batch, T, S)
    ```
    """
    if config.attention == "none":
        raise ValueError("a translator trained with attention none has no attention weights")
    source_ids = keras.ops.convert_to_tensor(source_ids, "int32")
    decoder_inputs = keras.ops.convert_to_tensor(decoder_inputs, "int32")
    source_mask = keras.ops.not_equal(source_ids, translate_data.PAD_ID)
    target_mask = keras.ops.not_equal(decoder_inputs, translate_data.PAD_ID)
    layers = range(1, config.layers + 1)
    encoder_outputs, final_states = _encode(config, [model.get_layer(f"encoder_{index}") for index in layers],
                                            model.get_layer("source_embedding")(source_ids), source_mask)
    queries = _decode(lambda index: model.get_layer(f"decoder_{index}"),
                      model.get_layer("target_embedding")(decoder_inputs), final_states, target_mask)
    _, weights = model.get_layer("attention")([queries, encoder_outputs], mask=[target_mask, source_mask],
                                              return_attention_scores=True)
    return weights


def _attend(config, queries, encoder_outputs, query_mask, source_mask, layers=None):
    """`tanh(W [query; context])` with the context from the attention layer over the encoder outputs.

    `layers`: the trained `(attention, attention_combine)` to reuse; None: new ones from `config`.
    """
    if layers is None:
        kind = keras.layers.Attention if config.attention == "dot" else keras.layers.AdditiveAttention
        # Tied embeddings score the output with the embedding matrix: it must have its width.
        width = config.embedding_dim if config.tie_embeddings else queries.shape[-1]
        layers = (kind(name="attention"), keras.layers.Dense(width, activation="tanh", name="attention_combine"))
    attention, combine = layers
    context = attention([queries, encoder_outputs], mask=[query_mask, source_mask])
    return combine(keras.ops.concatenate([queries, context], axis=-1))


def encoder_output_size(config) -> int:
    """Features of each encoder output: the recurrent layer's, or twice a half-size one's."""
    if config.bidirectional:
        return 2 * recurrent_output_size(config.cell, config.units // 2)
    return recurrent_output_size(config.cell, config.units)


class Translator:
    """Greedy and beam-search decoding of a trained `build_translator` network, in TensorFlow graphs.

    Args:
      model: the trained network.
      config: its `TranslateConfig` (layers, attention, tokens).
      source_vocabulary, target_vocabulary: the lookups' full vocabularies (`get_vocabulary()`).
      max_output_length: the most tokens a translation may have before `[END]`.
      tokens: `(source, target)` tokens (see `translate_data.sides`); None: `config.tokens` for
        both, which subword tokens cannot be (their models are the run's).

    Example:

    ```python
    translator = Translator(model, config, source_vocabulary, target_vocabulary, 60)
    translator.translate(["three hundred and forty-two"], beam_size=4)   # ["trois cent quarante-deux"]
    ```
    """

    def __init__(self, model: keras.Model, config, source_vocabulary, target_vocabulary,
                 max_output_length: int, *, tokens=None):
        self.config = config
        self.tokens = translate_data.sides(config.tokens if tokens is None else tokens)
        if translate_data.SUBWORDS in self.tokens:
            raise ValueError("subword tokens need the run's subword models")
        # Ids the search never writes: padding and `[START]`, and for a subword target side `[UNK]`
        # too (its model spells every character of the training text: `[UNK]` is never a target).
        self.never_written = (translate_data.PAD_ID, translate_data.START_ID) + (
            () if isinstance(self.tokens[1], str) else (translate_data.UNK_ID,))
        self.max_output_length = int(max_output_length)
        self.source_lookup = translate_data.make_source_lookup(translate_data.lookup_tokens(source_vocabulary))
        target_tokens = translate_data.lookup_tokens(target_vocabulary)
        self.target_lookup = translate_data.make_target_lookup(target_tokens)
        self.inverse_target_lookup = translate_data.make_target_lookup(target_tokens, invert=True)
        if self.source_lookup.get_vocabulary() != list(source_vocabulary) or \
                self.target_lookup.get_vocabulary() != list(target_vocabulary):
            raise ValueError("the vocabularies are not in the order of translate_data's lookups")
        self.target_vocabulary_size = len(target_vocabulary)
        self.encoder = self._build_encoder(model)
        self.step = self._build_step(model)
        # Unknown batch and time in the signature: one graph for every batch, and loop variables
        # whose shapes do not change from the first step to the next. One trace per translator
        # (`traced_once`: no retracing warning for a process that builds several).
        self.search = traced_once(self.search_ids, input_signature=[
            tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32)])

    def _build_encoder(self, model):
        source = keras.Input((None,), dtype="int32", name="source")
        mask = keras.ops.not_equal(source, translate_data.PAD_ID)
        x = model.get_layer("source_embedding")(source)
        x, final_states = _encode(self.config, [model.get_layer(f"encoder_{index}")
                                                for index in range(1, self.config.layers + 1)], x, mask)
        return keras.Model(source, [x, *(state for states in final_states for state in states)], name="encoder")

    def _build_step(self, model):
        """`(ids (batch, 1), source ids, encoder outputs, states…)` → `(logits (batch, V), states…)`."""
        ids = keras.Input((1,), dtype="int32", name="ids")
        source = keras.Input((None,), dtype="int32", name="source")
        encoder_outputs = keras.Input((None, encoder_output_size(self.config)), name="encoder_outputs")
        y = model.get_layer("target_embedding")(ids)
        state_inputs, state_outputs = [], []
        for index in range(1, self.config.layers + 1):
            cell = model.get_layer(f"decoder_{index}").cell
            states = [keras.Input((size,), dtype=cell.compute_dtype, name=f"state_{index}_{k}")
                      for k, size in enumerate(state_sizes(cell))]
            # A fixed time of 1, unrolled: no symbolic time loop per decoding step.
            y, *new_states = keras.layers.RNN(cell, return_sequences=True, return_state=True, unroll=True,
                                              name=f"decoder_step_{index}")(y, initial_state=states)
            state_inputs += states
            state_outputs += new_states
        if self.config.attention != "none":
            y = _attend(self.config, y, encoder_outputs, None,
                        keras.ops.not_equal(source, translate_data.PAD_ID),
                        layers=(model.get_layer("attention"), model.get_layer("attention_combine")))
        logits = output_logits(model, y)[:, 0, :]
        return keras.Model([ids, source, encoder_outputs, *state_inputs], [logits, *state_outputs],
                           name="decoder_step")

    def encode(self, texts) -> tf.Tensor:
        """Source ids `(batch, time)` of strings, as in training."""
        return translate_data.encode_sources(self.source_lookup, tf.convert_to_tensor(texts, tf.string),
                                             self.tokens[0], self.config.max_length)

    def search_ids(self, source_ids, beam_size, max_length):
        """Beam search: the best `(batch, max_length)` target ids of each source, and its score.

        Keeps at most `beam_size` hypotheses per source, and never more than can exist: one at the
        start, then at most the candidates with a finite score (each live hypothesis times the
        tokens that may follow it, plus the finished ones), so a beam wider than the search space
        costs nothing more than the exhaustive search it then is. Hypotheses are ranked by their
        mean log-probability per token (`[END]` counted): with the plain sum, every extra token can
        only lower the score, and a wide beam finds that stopping at once is "best" — the empty
        translation (Stahlberg & Byrne 2019, "On NMT search errors and model errors: cat got your
        tongue?"; the length normalisation of Wu et al. 2016 with α = 1). A hypothesis ends at
        `[END]` (kept, padded with 0 at no cost) or after `max_length` tokens; a finished one is
        preferred to one cut off by the limit. The search stops as soon as no live hypothesis can
        end better than the best finished one (see `keep_going`), which changes no answer.
        `beam_size` 1 is greedy decoding (all candidates then have the same length). `[START]` and
        padding are never produced.

        Returns:
          `(ids, scores)`: int32 `(batch, max_length)` ids, `[END]` included where reached, then 0;
          float32 `(batch,)` log-probabilities (the sum over the tokens, `[END]` included).
        """
        batch = tf.shape(source_ids)[0]
        vocabulary = self.target_vocabulary_size
        encoder_outputs, *states = self.encoder(source_ids, training=False)
        never = tf.constant(self.never_written)
        forbidden = tf.reduce_any(tf.range(vocabulary)[:, None] == never[None, :], axis=1)
        pad_only = tf.where(tf.range(vocabulary) == translate_data.PAD_ID, 0.0, -float("inf"))
        minus_infinity = tf.constant(-float("inf"))

        def keep_going(position, scores, lengths, finished, sequences, previous, states):
            # Log-probabilities are ≤ 0, so a live hypothesis of sum s ends with a mean of at most
            # s / max_length; once that is no better than the best finished one for every source,
            # nothing can change the answer (nor push that one out of the beam): stop.
            live = tf.logical_not(finished) & tf.math.is_finite(scores)
            best_finished = tf.reduce_max(tf.where(finished, scores / tf.maximum(lengths, 1.0), minus_infinity),
                                          axis=1)
            best_live = tf.reduce_max(tf.where(live, scores, minus_infinity), axis=1) / tf.cast(max_length,
                                                                                                  tf.float32)
            hopeful = tf.reduce_any(live, axis=1) & (best_live > best_finished)
            return (position < max_length) & tf.reduce_any(hopeful)

        def step(position, scores, lengths, finished, sequences, previous, states):
            # Beam j of source b is row b·width + j; each row reads its source's encoder outputs.
            width = tf.shape(scores)[1]
            rows = tf.repeat(tf.range(batch), width)
            logits, *states = self.step([previous, tf.gather(source_ids, rows), tf.gather(encoder_outputs, rows),
                                         *states], training=False)
            log_probabilities = tf.nn.log_softmax(tf.cast(logits, tf.float32))
            log_probabilities = tf.where(forbidden[None, :], minus_infinity, log_probabilities)
            log_probabilities = tf.reshape(log_probabilities, [batch, width, vocabulary])
            log_probabilities = tf.where(finished[:, :, None], pad_only[None, None, :], log_probabilities)
            totals = tf.reshape(scores[:, :, None] + log_probabilities, [batch, width * vocabulary])
            new_lengths = lengths + tf.cast(tf.logical_not(finished), tf.float32)
            keys = totals / tf.reshape(tf.repeat(new_lengths, vocabulary, axis=1), [batch, width * vocabulary])
            candidates = tf.reduce_max(tf.reduce_sum(tf.cast(tf.math.is_finite(keys), tf.int32), axis=1))
            _, chosen = tf.math.top_k(keys, k=tf.minimum(beam_size, tf.maximum(candidates, 1)))
            beam, token = chosen // vocabulary, chosen % vocabulary
            scores = tf.gather(totals, chosen, batch_dims=1)
            lengths = tf.gather(new_lengths, beam, batch_dims=1)
            kept = tf.reshape(beam + tf.range(batch)[:, None] * width, [-1])
            states = [tf.gather(state, kept) for state in states]
            sequences = tf.gather(sequences, beam, batch_dims=1)
            sequences += token[:, :, None] * tf.one_hot(position, max_length, dtype=tf.int32)[None, None, :]
            finished = tf.gather(finished, beam, batch_dims=1) | (token == translate_data.END_ID)
            return position + 1, scores, lengths, finished, sequences, tf.reshape(token, [-1, 1]), states

        start = (tf.constant(0), tf.zeros([batch, 1]), tf.zeros([batch, 1]), tf.zeros([batch, 1], tf.bool),
                 tf.zeros([batch, 1, max_length], tf.int32), tf.fill([batch, 1], translate_data.START_ID), states)
        any_beams = tf.TensorShape([None, None])
        invariants = (tf.TensorShape([]), any_beams, any_beams, any_beams, tf.TensorShape([None, None, None]),
                      tf.TensorShape([None, 1]), [tf.TensorShape([None, state.shape[-1]]) for state in states])
        _, scores, lengths, finished, sequences, _, _ = tf.while_loop(keep_going, step, start,
                                                                      shape_invariants=invariants)
        # The best mean log-probability, among the finished hypotheses when there are any.
        complete = finished & tf.math.is_finite(scores)
        eligible = complete | tf.logical_not(tf.reduce_any(complete, axis=1, keepdims=True))
        best = tf.argmax(tf.where(eligible, scores / tf.maximum(lengths, 1.0), minus_infinity), axis=1,
                         output_type=tf.int32)
        return tf.gather(sequences, best, batch_dims=1), tf.gather(scores, best, batch_dims=1)

    def ids_to_texts(self, ids) -> tf.Tensor:
        """Target ids `(batch, time)` → strings: the tokens before the first `[END]` (or padding)."""
        ids = tf.convert_to_tensor(ids, tf.int32)
        ended = tf.cumsum(tf.cast((ids == translate_data.END_ID) | (ids == translate_data.PAD_ID), tf.int32),
                          axis=1)
        kept = tf.ragged.boolean_mask(ids, ended == 0)
        tokens = self.inverse_target_lookup(tf.cast(kept, tf.int64))
        return translate_data.detokenize(tokens, self.tokens[1])

    def widest_useful_beam(self) -> int:
        """The most hypotheses a search can ever hold: every sequence of the producible tokens (all but
        `never_written`) up to the longest translation; a wider beam
        is the same exhaustive search. Capped at 2⁶³ (no machine holds more)."""
        tokens, widest = self.target_vocabulary_size - len(self.never_written), 1
        for _ in range(self.max_output_length):
            widest *= tokens
            if widest >= 2 ** 63:
                return 2 ** 63
        return widest

    def search_bytes(self, beam_size: int, source_length: int) -> int:
        """Estimated bytes of the beam search of one source of `source_length` tokens with
        `beam_size` hypotheses: per hypothesis, the logits over the target vocabulary and the
        candidates made of them (a few copies), the encoder outputs and source ids it attends to,
        its states (before, after and reordered) and its tokens so far; float32 and int32 numbers."""
        output = encoder_output_size(self.config)
        states = sum(sum(state_sizes(self.step.get_layer(f"decoder_step_{index}").cell))
                     for index in range(1, self.config.layers + 1))
        per_hypothesis = (6 * self.target_vocabulary_size + 2 * source_length * (output + 2) + 3 * states
                          + 4 * output + 2 * self.max_output_length)
        return memory.FLOAT * beam_size * per_hypothesis

    def beam_width(self, beam_size: int, source_length: int) -> int:
        """The beam actually searched for `beam_size`: no wider than `widest_useful_beam` (same
        result); no wider than `MAX_DECODER_STEPS` allow for the run's longest translation, nor than
        fits in memory for one source, with a warning saying so (the largest useful beam here).

        Raises:
          UserInputError: not even one hypothesis fits in memory.
        """
        width = min(int(beam_size), self.widest_useful_beam())
        most = max(1, MAX_DECODER_STEPS // self.max_output_length)
        if width > most:
            logger.warning("Warning: a beam of %s would take up to %s decoder steps per text (%s tokens at most), more "
                           "than the %s a search may: searching with a beam of %s instead", f"{beam_size:,}",
                           f"{width * self.max_output_length:,}", self.max_output_length,
                           f"{MAX_DECODER_STEPS:,}", f"{most:,}")
            width = most
        needed = self.search_bytes(width, source_length)
        available = memory.available_bytes()
        if needed <= available:
            return width
        fitting = available // self.search_bytes(1, source_length)
        limit = f" ({memory.LIMIT_ENV})" if os.environ.get(memory.LIMIT_ENV) else ""
        if fitting < 1:
            memory.check_fits(self.search_bytes(1, source_length), "decoding one text",
                              f"free some memory{' or raise the limit' if limit else ''}")
        logger.warning("Warning: a beam of %s hypotheses needs about %s of memory per text, more than the %s "
                       "available%s: searching with a beam of %s instead", f"{width:,}", memory.human(needed),
                       memory.human(available), limit, f"{fitting:,}")
        return int(fitting)

    def translate(self, texts, *, beam_size: int = 1, batch_size: int = 256) -> list[str]:
        """The best translation of each text (greedy for `beam_size` 1); see `decode`."""
        return self.decode(texts, beam_size=beam_size, batch_size=batch_size)[0]

    def decode(self, texts, *, beam_size: int = 1, batch_size: int = 256) -> tuple[list[str], int]:
        """`(translations, width)`: the best translation of each text, searched with `width` =
        `beam_width(beam_size, …)` hypotheses, as many texts at a time as fit (at most `batch_size`)."""
        batches, width = self.decode_ids(texts, beam_size=beam_size, batch_size=batch_size)
        return [text.decode("utf-8") for ids in batches for text in self.ids_to_texts(ids).numpy()], width

    def decode_ids(self, texts, *, beam_size: int = 1, batch_size: int = 256) -> tuple[list[tf.Tensor], int]:
        """`(batches, width)`: the target ids that `decode` turns into texts, one `(batch, max_output_length)`
        tensor per batch of texts in order (`[END]` included where reached, then 0), and the beam searched."""
        texts = list(texts)
        if not texts:
            return [], int(beam_size)
        # The longest source as the encoder sees it, counted a few thousand texts at a time.
        source_length = max(1, min(self.config.max_length, max(
            translate_data.longest(texts[start:start + 4096], self.tokens[0])
            for start in range(0, len(texts), 4096))))
        width = self.beam_width(beam_size, source_length)
        batch_size = max(1, min(batch_size, memory.available_bytes() // self.search_bytes(width, source_length)))
        batches = []
        for start in range(0, len(texts), batch_size):
            ids, _ = self.search(self.encode(texts[start:start + batch_size]), tf.constant(width),
                                 tf.constant(self.max_output_length))
            batches.append(ids)
        return batches, width
