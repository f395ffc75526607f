"""What every unit of a character model does over a text: its states and gates at each character,
the model's surprise and its next-character guesses, and which units track which text features.

`trace_text` reads `[BOS]` and the text once, in order, the state carried from each character to the
next (in chunks of `CHUNK` characters, each layer's final state starting the next chunk), and
records after each character t:

- every unit of every recurrent layer: the hidden state h (LSTM, GRU, vanilla), the LSTM's cell
  state c, and the uRNN's modulus |h_k| and phase arg h_k of each complex unit k;
- the gates of the gated cells, computed from the cell's weights, the previous state and the input
  with the cell's own equations: the LSTM's input, forget and output gates, the GRU's update and
  reset gates (`lstm_gates`, `gru_gates`; each also returns h recomputed from its gates, which the
  tests check against the layer's output);
- the surprise of t, −log p(text[t] | what came before), in nats;
- the five most likely next characters after t with their probabilities.

`rank_units` orders the units by |Pearson correlation| with `text_features`.

Example:

```python
traces = trace_run(Path("runs/charlm"), open("notes.txt").read())
for row in rank_units(traces, text_features(traces.text))[:5]:
    print(row.feature, row.kind, row.layer, row.unit, f"{row.correlation:+.2f}")
```
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from kerasrnn.engine.tracing import traced_per_object
from kerasrnn.errors import UserInputError
from kerasrnn.layers import TextbookGRUCell, TextbookLSTMCell, URNNCell, VanillaRNNCell
from kerasrnn.tasks.charlm import data as char_data
from kerasrnn.tasks.charlm.carried_state import recurrent_layer

logger = logging.getLogger(__name__)

CHUNK = 2048  # characters per compiled call of a layer: the state is carried from one to the next
TOP = 5  # next characters shown per position

# What is recorded per cell, in this order (the page's state picker lists them so).
KINDS = {
    TextbookLSTMCell: ("hidden", "cell", "input gate", "forget gate", "output gate"),
    TextbookGRUCell: ("hidden", "update gate", "reset gate"),
    VanillaRNNCell: ("hidden",),
    URNNCell: ("modulus", "phase"),
}
CELL_NAMES = {TextbookLSTMCell: "lstm", TextbookGRUCell: "gru", VanillaRNNCell: "vanilla", URNNCell: "urnn"}


@dataclasses.dataclass
class Trace:
    """One kind of value (`"hidden"`, `"forget gate"`, …) of one layer (from 1): `(characters, units)`."""

    kind: str
    layer: int
    values: np.ndarray


@dataclasses.dataclass
class UnitTraces:
    """Everything `trace_text` records about a text, one row per character of `text`.

    Attributes:
      text: the text read.
      cell: the cell's name (`lstm`, `gru`, `vanilla`, `urnn`).
      traces: one `Trace` per layer and kind, layer by layer in `KINDS` order.
      surprise: float32 `(characters,)`, −log p(text[t] | text[:t]) in nats.
      top_ids: int32 `(characters, TOP)`, the ids most likely to follow text[t], the likeliest first.
      top_probabilities: float32 `(characters, TOP)`, their probabilities.
      tokens: the vocabulary by id (`[UNK]`, `[BOS]`, then the characters).
    """

    text: str
    cell: str
    traces: list[Trace]
    surprise: np.ndarray
    top_ids: np.ndarray
    top_probabilities: np.ndarray
    tokens: list[str]


@dataclasses.dataclass(frozen=True)
class RankedUnit:
    """A unit and how it tracks a feature: Pearson's r between its values and the feature's."""

    feature: str
    kind: str
    layer: int
    unit: int
    correlation: float


def lstm_gates(cell: TextbookLSTMCell, projected, previous_h, previous_c):
    """The LSTM's gates and states over a sequence whose hidden states are known.

    The gates of step t depend only on the input and h_{t−1}, so they are computed for every step at
    once; the cell state follows by c_t = f_t ⊙ c_{t−1} + i_t ⊙ φ(g_t), one step after the other.

    Args:
      cell: the layer's cell.
      projected: `(time, 4 * units)`, x_t W + b of every step (`cell.input_projection`).
      previous_h: `(time, units)`, h_{t−1} of every step (the initial state first).
      previous_c: `(units,)`, the cell state before the first step.

    Returns:
      A dict of float32 arrays `(time, units)`: `"input gate"`, `"forget gate"`, `"output gate"`,
      `"cell"` (c_t), and `"recomputed hidden"` (o_t ⊙ φ(c_t), which equals the layer's output).
    """
    gates = np.asarray(projected) + np.asarray(previous_h) @ np.asarray(cell.recurrent_kernel.value)
    x_i, x_f, x_c, x_o = np.split(gates, 4, axis=-1)
    i, f, o = (np.asarray(cell.recurrent_activation(x)) for x in (x_i, x_f, x_o))
    written = i * np.asarray(cell.activation(x_c))
    c = np.empty_like(written)
    state = np.asarray(previous_c, np.float32)
    for t in range(len(c)):  # elementwise: a few µs a step
        state = f[t] * state + written[t]
        c[t] = state
    return {"input gate": i, "forget gate": f, "output gate": o, "cell": c,
            "recomputed hidden": o * np.asarray(cell.activation(c))}


def gru_gates(cell: TextbookGRUCell, projected, previous_h):
    """The GRU's gates over a sequence whose hidden states are known (the lecture's equations, the
    reset gate applied before U).

    Args:
      cell: the layer's cell.
      projected: `(time, 3 * units)`, x_t W + b of every step.
      previous_h: `(time, units)`, h_{t−1} of every step (the initial state first).

    Returns:
      A dict of float32 arrays `(time, units)`: `"update gate"` z_t, `"reset gate"` r_t, and
      `"recomputed hidden"` z_t ⊙ h_{t−1} + (1 − z_t) ⊙ φ(x_t W + (r_t ⊙ h_{t−1}) U + b).
    """
    units = cell.units
    kernel = np.asarray(cell.recurrent_kernel.value)
    previous_h = np.asarray(previous_h)
    x_z, x_r, x_h = np.split(np.asarray(projected), 3, axis=-1)
    h_z, h_r = np.split(previous_h @ kernel[:, : 2 * units], 2, axis=-1)
    z = np.asarray(cell.recurrent_activation(x_z + h_z))
    r = np.asarray(cell.recurrent_activation(x_r + h_r))
    candidate = np.asarray(cell.activation(x_h + (r * previous_h) @ kernel[:, 2 * units :]))
    return {"update gate": z, "reset gate": r, "recomputed hidden": z * previous_h + (1 - z) * candidate}


def cell_kinds(model: keras.Model, layers: int) -> list[tuple[str, ...]]:
    """What `trace_text` records for each recurrent layer of `model`.

    Raises:
      UserInputError: a layer of a cell it cannot read (Keras's own GRU, LSTM, SimpleRNN).
    """
    kinds = []
    for index in range(1, layers + 1):
        cell = recurrent_layer(model, index).cell
        if type(cell) not in KINDS:
            raise UserInputError(
                f"the model's layer {index} is a {type(cell).__name__}: unit traces read the cells of kerasrnn "
                f"(--cell {', '.join(CELL_NAMES.values())}), not Keras's own")
        kinds.append(KINDS[type(cell)])
    return kinds


def trace_text(model: keras.Model, config, characters: list[str], text: str, *, chunk: int = CHUNK) -> UnitTraces:
    """Reads `[BOS]` + `text` with `model` once and records what the module docstring lists.

    Args:
      model: a model from `charlm.model.build_char_lm` (trained; dropout is off here).
      config: its `CharLMConfig` (the number of layers, the residual connections).
      characters: its vocabulary's characters (`char_data.load_vocabulary`).
      text: the text, at least one character; characters outside the vocabulary are read as `[UNK]`.
      chunk: characters per call of a layer.

    Returns:
      A `UnitTraces`.
    """
    if not text:
        raise UserInputError("no text to read: give at least one character")
    kinds = cell_kinds(model, config.layers)
    known = set(characters)
    unknown = [c for c in text if c not in known]
    if unknown:
        logger.warning("%d characters of the text were never seen in training and are read as [UNK]: %r",
                       len(unknown), "".join(sorted(set(unknown)))[:20])
    lookup = char_data.make_char_lookup(characters)
    ids = np.concatenate([[char_data.BOS_ID], char_data.encode(lookup, text).numpy()]).astype(np.int32)
    size = len(text)
    layers = [recurrent_layer(model, index) for index in range(1, config.layers + 1)]
    embedding, readout = model.get_layer("embedding"), model.get_layer("logits")
    states = [[np.asarray(s) for s in layer.get_initial_state(1)] for layer in layers]
    recorded = [{kind: None for kind in layer_kinds} for layer_kinds in kinds]
    surprise = np.empty(size, np.float32)
    top_ids = np.empty((size, TOP), np.int32)
    top_probabilities = np.empty((size, TOP), np.float32)
    runs = [_layer_function(layer) for layer in layers]
    for first in range(0, size + 1, chunk):
        inputs = ids[first : first + chunk]
        x = embedding(inputs[None, :])
        for index, (layer, run) in enumerate(zip(layers, runs)):
            outputs = run(x, [tf.constant(s) for s in states[index]])
            values, states[index] = _layer_values(layer.cell, np.asarray(outputs), x[0], states[index])
            for kind, array in values.items():
                if kind in recorded[index]:
                    _store(recorded[index], kind, array, first, size)
            x = x + outputs if config.residual and index > 0 else outputs
        log_p = np.asarray(tf.nn.log_softmax(readout(x)[0]), np.float64)  # (steps, vocabulary)
        steps = len(inputs)
        # The logits after input s predict input s + 1: character first + s of the text.
        targets = ids[first + 1 : first + 1 + steps]
        surprise[first : first + len(targets)] = -log_p[np.arange(len(targets)), targets]
        # The guesses after character t come from the logits after input t + 1.
        start = max(first, 1)
        guesses = log_p[start - first :]
        order = np.argsort(-guesses, axis=-1, kind="stable")[:, :TOP]
        top_ids[start - 1 : first + steps - 1] = order
        top_probabilities[start - 1 : first + steps - 1] = np.exp(np.take_along_axis(guesses, order, axis=-1))
    traces = [Trace(kind, index, values) for index, layer_values in enumerate(recorded, start=1)
              for kind, values in layer_values.items()]
    return UnitTraces(text, CELL_NAMES[type(layers[0].cell)], traces, surprise, top_ids, top_probabilities,
                      [*char_data.SPECIAL_TOKENS, *characters])


def _layer_function(layer):
    """The layer over one chunk from given states, compiled once (one more trace for the last chunk)."""
    def run(x, states):
        outputs = layer(x, initial_state=states, training=False)
        return outputs[0] if isinstance(outputs, (list, tuple)) else outputs
    return traced_per_object(run)


def _layer_values(cell, outputs, x, states):
    """(the values of each kind over a chunk, the states after it) from the layer's outputs
    `(1, steps, width)`, its inputs `(steps, features)` and the states before it."""
    h = outputs[0]
    if isinstance(cell, URNNCell):
        re, im = h[:, : cell.units], h[:, cell.units :]
        return {"modulus": np.hypot(re, im), "phase": np.arctan2(im, re)}, [h[-1:]]
    previous_h = np.concatenate([states[0], h[:-1]])
    projected = np.asarray(cell.input_projection(x, training=False))
    values = {"hidden": h}
    if isinstance(cell, TextbookLSTMCell):
        values.update(lstm_gates(cell, projected, previous_h, states[1][0]))
        return values, [h[-1:], values["cell"][-1:]]
    if isinstance(cell, TextbookGRUCell):
        values.update(gru_gates(cell, projected, previous_h))
    return values, [h[-1:]]


def _store(recorded: dict, kind: str, array: np.ndarray, first: int, size: int) -> None:
    """Writes the chunk's rows for characters into `recorded[kind]`; row s of the chunk is input
    first + s, i.e. character first + s − 1 (input 0 is `[BOS]`, not recorded)."""
    if recorded[kind] is None:
        recorded[kind] = np.empty((size, array.shape[-1]), np.float32)
    skip = 1 if first == 0 else 0
    recorded[kind][first + skip - 1 : first + len(array) - 1] = array[skip:]


def correlations(values: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson's r between `feature` `(n,)` and each column of `values` `(n, units)`: `(units,)`; for
    features `(count, n)`, `(count, units)`. 0 where a column or a feature does not vary."""
    features = np.atleast_2d(np.asarray(feature, np.float64))
    features = features - features.mean(axis=1, keepdims=True)
    centred = np.asarray(values, np.float64)
    centred = centred - centred.mean(axis=0)
    norms = np.linalg.norm(features, axis=1)[:, None] * np.linalg.norm(centred, axis=0)[None, :]
    r = np.where(norms > 0, (features @ centred) / np.where(norms > 0, norms, 1), 0.0)
    return r[0] if np.ndim(feature) == 1 else r


def correlation_table(traces: UnitTraces, features: dict[str, np.ndarray]) -> tuple[list[str], list[np.ndarray]]:
    """Pearson's r of every unit with every feature that varies in the text.

    Returns:
      `(names, tables)`: the features kept (a feature that is the same everywhere tracks nothing),
      and for each trace of `traces.traces` an array `(len(names), units)`.
    """
    names = [name for name, feature in features.items() if len(feature) and np.ptp(feature) > 0]
    stacked = np.stack([features[name] for name in names]) if names else None
    return names, [correlations(trace.values, stacked) if names else np.zeros((0, trace.values.shape[1]))
                   for trace in traces.traces]


def rank_units(traces: UnitTraces, features: dict[str, np.ndarray], per_feature: int = 3, *,
               table=None) -> list[RankedUnit]:
    """The `per_feature` units (of any kind and layer) with the largest |r| for each feature that
    varies in the text; all rows ordered by |r|, the largest first.

    Args:
      traces: from `trace_text`.
      features: name → `(characters,)` values (`text_features(traces.text)`).
      per_feature: units kept per feature.
      table: `correlation_table(traces, features)`, if it is already computed.
    """
    names, tables = table or correlation_table(traces, features)
    rows = []
    for row, name in enumerate(names):
        candidates = [RankedUnit(name, trace.kind, trace.layer, int(unit), float(r[row, unit]))
                      for trace, r in zip(traces.traces, tables) for unit in range(r.shape[1])]
        candidates.sort(key=lambda ranked: -abs(ranked.correlation))
        rows += candidates[:per_feature]
    return sorted(rows, key=lambda ranked: -abs(ranked.correlation))


def trace_run(run_dir: Path, text: str, *, device: str = "auto") -> UnitTraces:
    """`trace_text` with the best model of the character model run in `run_dir`.

    Raises:
      UserInputError: not a run directory, not a character model's run, a model of Keras's own
        cells, or an empty text.
    """
    from kerasrnn.engine.devices import select_device
    from kerasrnn.engine.run_dir import VOCABULARY_FILE, check_run_dir
    from kerasrnn.tasks import task_of_run
    from kerasrnn.tasks.capabilities import Generates, capable

    run_dir = check_run_dir(Path(run_dir))
    task = task_of_run(run_dir)
    if not capable(task, Generates):
        raise UserInputError(f"{run_dir} holds a {task.name} run: visualize reads character language models "
                             f"(--task charlm runs)")
    if not text:
        raise UserInputError("no text to read: give at least one character")
    config, _ = task.load_configs(run_dir)
    characters = char_data.load_vocabulary(run_dir / VOCABULARY_FILE)
    select_device(device)
    return trace_text(task.load_model(run_dir), config, characters, text)
