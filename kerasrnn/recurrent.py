"""The one name → recurrent layer registry that every task builds its networks from.

Four cells come from the lecture (`kerasrnn.layers`), three are Keras's own layers for comparison:

| name              | layer                                          | output size |
| ----------------- | ---------------------------------------------- | ----------- |
| `vanilla`         | `VanillaRNN(units)`                            | units       |
| `gru`             | `TextbookGRU(units)`                           | units       |
| `lstm`            | `TextbookLSTM(units)`                          | units       |
| `urnn`            | `URNN(units)` (n complex units)                | 2 · units   |
| `keras-gru`       | `keras.layers.GRU(units)`                      | units       |
| `keras-lstm`      | `keras.layers.LSTM(units)`                     | units       |
| `keras-simplernn` | `keras.layers.SimpleRNN(units)`                | units       |

`VanillaRNN` and `TextbookGRU` are `keras.layers.RNN` of their cells that project the inputs of
all steps in one matrix product and, on TensorFlow, run the sequence with a hand-written gradient
(`kerasrnn.layers.fused_tf`): the same numbers, a training step in 0.36–0.58 of the time of Keras's
`GRU(reset_after=False)` (the same equations) and 0.70–0.94 of `SimpleRNN`'s at 128–512 units
(`benchmarks/bench_vs_torch.py`, 1 thread). `TextbookLSTM` is the same kind of layer, which on a
GPU runs Keras's cuDNN LSTM on the cell's own variables, where `keras.layers.LSTM` would (see
docs/layers.md): the weights are the same with and without a GPU. The Keras layers get only the
arguments asked for, so on a GPU they keep their cuDNN kernels. cuDNN needs `recurrent_dropout=0`,
the default; the lecture's GRU (reset gate before U) has no cuDNN kernel, `keras-gru` has one.
`parse_cells` reads a list of names written `vanilla,urnn` (the `--cells` of `compare` and
`gradients`).

Example:

```python
encoder = make_recurrent_layer("gru", 128, return_sequences=False, return_state=True)
outputs, state = encoder(keras.ops.ones((2, 5, 3)))
```
"""

from __future__ import annotations

from kerasrnn.errors import UserInputError

KERASRNN_CELLS = ("vanilla", "gru", "lstm", "urnn")
KERAS_CELLS = ("keras-gru", "keras-lstm", "keras-simplernn")
CELL_NAMES = KERASRNN_CELLS + KERAS_CELLS

_KERAS_LAYERS = {"keras-gru": "GRU", "keras-lstm": "LSTM", "keras-simplernn": "SimpleRNN"}


def check_cell_name(cell_name: str) -> str:
    """Returns `cell_name` if it is one of `CELL_NAMES`; raises UserInputError listing them if not."""
    if cell_name not in CELL_NAMES:
        raise UserInputError(f"unknown cell {cell_name!r}: choose one of {', '.join(CELL_NAMES)}")
    return cell_name


def check_cell_names(cells) -> tuple[str, ...]:
    """`cells` as a tuple if it names known cells, each once; UserInputError if not (or if empty)."""
    cells = tuple(cells)
    if not cells:
        raise UserInputError("no cells given: name them separated by commas, e.g. vanilla,gru,lstm,urnn")
    for cell in cells:
        check_cell_name(cell)
    repeated = sorted({cell for cell in cells if cells.count(cell) > 1})
    if repeated:
        raise UserInputError(f"cell {repeated[0]!r} is named twice in {','.join(cells)}: name each once")
    return cells


def parse_cells(text: str) -> tuple[str, ...]:
    """`"vanilla, urnn"` → `("vanilla", "urnn")` (the CLI's `--cells`); see `check_cell_names`."""
    names = [name.strip() for name in text.split(",")]
    if any(names) and not all(names):
        raise UserInputError(f"an empty cell name in {text!r}: separate the names by single commas")
    return check_cell_names(name for name in names if name)


def recurrent_output_size(cell_name: str, units: int) -> int:
    """Size of the last axis of the layer's output: `2 * units` for `urnn`, `units` otherwise."""
    return 2 * units if check_cell_name(cell_name) == "urnn" else units


def state_sizes(cell) -> list[int]:
    """The sizes of a recurrent cell's states, as a list (`state_size` may be one int or a list)."""
    sizes = cell.state_size
    return [int(size) for size in sizes] if isinstance(sizes, (list, tuple)) else [int(sizes)]


def make_recurrent_layer(
    cell_name: str,
    units: int,
    *,
    return_sequences: bool,
    return_state: bool = False,
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    seed: int | None = None,
    name: str | None = None,
) -> "keras.layers.Layer":
    """Builds the recurrent layer called `cell_name`, a `keras.layers.RNN` (or subclass).

    Args:
      cell_name: one of `CELL_NAMES`.
      units: number of units (complex units for `urnn`, whose output is `2 * units` reals).
      return_sequences: return the output of every step (True) or of the last one (False).
      return_state: also return the final states, as `keras.layers.RNN` does. Default False.
      dropout: fraction of the inputs dropped at each step while training. Default 0.
      recurrent_dropout: fraction of the recurrent state dropped while training. Default 0; `urnn`
        has none, and for `lstm` and the `keras-*` layers a non-zero value turns off cuDNN.
      seed: seed of the dropout masks. Default None (random).
      name: the layer's name. Default None (Keras picks one).

    Returns:
      A layer that takes `(batch, time, features)`, and `initial_state=` a list of states like
      `layer.get_initial_state(batch_size)` (learned for `urnn`, zeros for the others).

    Raises:
      UserInputError: unknown `cell_name`, `units` not a positive integer, a dropout outside [0, 1),
        or `recurrent_dropout` for `urnn`.
    """
    check_cell_name(cell_name)
    if isinstance(units, bool) or not isinstance(units, int) or units < 1:
        raise UserInputError(f"units must be a positive integer, got {units!r}")
    for label, rate in (("dropout", dropout), ("recurrent dropout", recurrent_dropout)):
        if not 0.0 <= rate < 1.0:
            raise UserInputError(f"{label} must be in [0, 1), got {rate!r}")
    sequence_args = dict(return_sequences=return_sequences, return_state=return_state, name=name)

    # Imported here, so that the names above can be read (e.g. by `--help`) without TensorFlow.
    import keras

    if cell_name in _KERAS_LAYERS:
        rates = dict(dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed)
        return getattr(keras.layers, _KERAS_LAYERS[cell_name])(units, **rates, **sequence_args)

    from kerasrnn import layers

    if cell_name == "urnn":
        if recurrent_dropout:
            raise UserInputError("the urnn cell has no recurrent dropout: set it to 0")
        return layers.URNN(units, dropout=dropout, seed=seed, **sequence_args)
    rates = dict(dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed)
    layer_class = {"vanilla": layers.VanillaRNN, "gru": layers.TextbookGRU, "lstm": layers.TextbookLSTM}[cell_name]
    return layer_class(units, **rates, **sequence_args)
