"""‖∂L/∂h_t‖ for every step t: the lecture's vanishing-gradient argument, measured.

The lecture writes ∂L/∂h_t = ∂L/∂h_T ∏_{s>t} D_s W_h for a vanilla RNN, bounded by
‖∂L/∂h_T‖ ∏_{s>t} ‖D_s‖ ‖W_h‖, and says that the uRNN (‖W‖ = 1 exactly) and gating fix the decay.
This module measures the left-hand side for any cell of `kerasrnn.recurrent`, on the adding (or copy)
task of `kerasrnn.tasks.memory`, at initialisation and after some training steps, and the
bound for the vanilla cell.

How it is computed (exactly, in float64 so that LSTM and GRU norms of 1e-60 do not underflow):
the network is built with every layer in float64 and its cell is stepped over the sequence (one
`tf.scan` in one graph) with a zero perturbation added to each state, h_t ← h_t + ε_t. Since ε = 0
the run is the network's own, and ∂L/∂ε_t = ∂L/∂h_t, the total derivative through every path
(the next step, and for copy, whose loss reads every step, the readout of h_t too), so a single
backward pass gives all T gradients.
Norms are Frobenius norms over the batch of the total derivative of the batch-mean loss, scaled
before squaring so that they do not underflow either.

What h_t is: the cell's whole state after reading x_t — h for vanilla and GRU, the concatenation
[h, c] for the LSTM (c carries the long memory), [Re h; Im h] for the uRNN (whose real norm equals
the complex one). The parts of a state are the independent inputs of the next step: ∂L/∂c_t does not
count the path c_t → h_t = o_t ⊙ tanh(c_t) inside the step that made them. The curves are plotted
as they are, not normalised (the paper's Figure 4 plots the raw ‖∂C/∂h_t‖ on a log axis).

The bound, for the vanilla (tanh) cell: per sequence b_T = ‖∂L/∂o_T‖ and
b_t = ‖∂L/∂o_t‖ + ‖D_{t+1}‖ ‖W_h‖ b_{t+1}, with ‖·‖ the spectral norm, D_s = diag(1 − h_s²) so
‖D_s‖ = max_j (1 − h_{s,j}²); for the adding task (loss at T only) that is exactly the lecture's
‖∂L/∂h_T‖ ∏_{s=t+1}^{T} ‖D_s‖ ‖W_h‖. The batch's bound is the Frobenius norm of the per-sequence ones.

Example:

```python
result = compute_gradient_norms(GradientNormConfig(length=200, cells=("vanilla", "urnn"), after_steps=0))
result.norms[("urnn", 0)].max() / result.norms[("urnn", 0)].min()     # 1.0000000000001
```
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import logging
import os
from pathlib import Path

import numpy as np

from kerasrnn import checks
from kerasrnn.errors import UserInputError
from kerasrnn.figures import png_figure
from kerasrnn.fileio import replace_atomically
from kerasrnn.recurrent import check_cell_names
from kerasrnn.tasks import get_task

logger = logging.getLogger(__name__)

GRADIENT_TASKS = ("adding", "copy")


@dataclasses.dataclass(frozen=True)
class GradientNormConfig:
    """What to measure.

    Attributes:
      task: `"adding"` (the paper's picture) or `"copy"`.
      length: T of the task (copy sequences have T + 20 steps).
      cells: cell names of `kerasrnn.recurrent.CELL_NAMES`, one curve each.
      units: units of every cell (complex units for urnn).
      batch_size: sequences in the measured batch and in each training batch.
      after_steps: also measure after this many training steps (the paper: 100); 0: only at
        initialisation. Training uses the task's optimiser (`MemoryTask.default_train_config`).
      seed: seed of the weights, the measured batch and the training batches.
    """

    task: str = "adding"
    length: int = 1000
    cells: tuple[str, ...] = ("vanilla", "gru", "lstm", "urnn")
    units: int = 128
    batch_size: int = 20
    after_steps: int = 100
    seed: int = 0

    def __post_init__(self):
        if self.task not in GRADIENT_TASKS:
            raise UserInputError(
                f"the gradient analysis runs on {' or '.join(GRADIENT_TASKS)}, not {self.task!r}"
            )
        object.__setattr__(self, "cells", check_cell_names(self.cells))
        for label, value, low in (("length", self.length, get_task(self.task).config_class.MIN_LENGTH),
                                  ("units", self.units, 1), ("batch size", self.batch_size, 1),
                                  ("after steps", self.after_steps, 0), ("seed", self.seed, 0)):
            checks.int_at_least(label, value, low)


@dataclasses.dataclass
class GradientNorms:
    """The measured curves, t = 1 … T (`steps`), keyed `(cell, training steps done)`."""

    config: GradientNormConfig
    steps: np.ndarray
    norms: dict[tuple[str, int], np.ndarray]
    bounds: dict[tuple[str, int], np.ndarray]

    @property
    def stages(self) -> tuple[int, ...]:
        return (0,) if self.config.after_steps == 0 else (0, self.config.after_steps)

    def decades_per_100_steps(self, cell: str, stage: int = 0, last: int = 100) -> float:
        """How fast the curve falls over its last `last` steps (the ones nearest T), in decades."""
        norms = self.norms[(cell, stage)]
        window = norms[-last:]
        if window[0] <= 0 or window[-1] <= 0:
            return float("inf")
        return float(np.log10(window[-1] / window[0]) * 100 / (len(window) - 1))

    def columns(self) -> dict[str, np.ndarray]:
        """The CSV columns: `t`, then `<cell>_step<N>` and `<cell>_bound_step<N>` per stage."""
        columns = {"t": self.steps}
        for stage in self.stages:
            for cell in self.config.cells:
                columns[f"{cell}_step{stage}"] = self.norms[(cell, stage)]
                if (cell, stage) in self.bounds:
                    columns[f"{cell}_bound_step{stage}"] = self.bounds[(cell, stage)]
        return columns


def scaled_norm(*arrays, axis=None) -> np.ndarray:
    """The 2-norm of the arrays taken together (over `axis` of each), without squaring underflow."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    scale = np.max([np.max(np.abs(a), axis=axis) for a in arrays], axis=0)
    safe = np.where(scale > 0, scale, 1.0)
    if axis is not None:
        safe_b = np.expand_dims(safe, axis)
        total = sum(np.sum((a / safe_b) ** 2, axis=axis) for a in arrays)
    else:
        total = sum(np.sum((a / safe) ** 2) for a in arrays)
    return np.where(scale > 0, safe * np.sqrt(total), 0.0)


@contextlib.contextmanager
def float64_layers():
    """Every Keras layer built inside this block computes and keeps its weights in float64."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float64")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def state_gradient_norms(model, task, inputs: np.ndarray, targets: np.ndarray):
    """‖∂L/∂h_t‖ for t = 1 … T of a float64 task model, and the vanilla bound (or None).

    Args:
      model: a network of `task.build_model`, built in float64.
      task: the `MemoryTask` (`get_task("adding")` or `get_task("copy")`).
      inputs, targets: one batch, as `task.make_batch(..., dtype="float64")` gives it.

    Returns:
      `(norms, bound)`: float64 arrays of shape `(T,)`; `bound` is None for cells other than the
      vanilla (tanh or ReLU) ones.
    """
    import keras
    import tensorflow as tf

    layer, readout = model.get_layer("recurrent"), model.get_layer("readout")
    x = tf.convert_to_tensor(inputs, tf.float64)
    initial = [tf.cast(s, tf.float64) for s in _as_list(layer.get_initial_state(int(x.shape[0])))]
    # One zero perturbation per state and step: ∂L/∂ε_t is ∂L/∂h_t, all t in one backward pass.
    perturbations = [tf.zeros((x.shape[1], *s.shape), tf.float64) for s in initial]
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(perturbations)
        loss, states = _perturbed_loss(layer.cell, readout, task, x, tf.convert_to_tensor(targets),
                                       initial, perturbations)
    grads = [g.numpy() for g in tape.gradient(loss, perturbations)]  # each (T, batch, size)
    norms = scaled_norm(*grads, axis=(1, 2))

    from kerasrnn.layers import VanillaRNNCell

    bound = None
    cell = layer.cell
    activation = getattr(getattr(cell, "activation", None), "__name__", "")
    vanilla = isinstance(cell, (VanillaRNNCell, keras.layers.SimpleRNNCell))
    if vanilla and activation in ("tanh", "relu"):
        h = states[0].numpy()  # (T, batch, units)
        w_norm = float(np.linalg.norm(keras.ops.convert_to_numpy(cell.recurrent_kernel), 2))
        d_norms = (1.0 - h**2).max(axis=-1) if activation == "tanh" else (h > 0).max(axis=-1).astype(float)
        direct = scaled_norm(_output_gradients(readout, task, states[0], targets), axis=-1)  # (T, batch)
        per_sequence = np.zeros_like(direct)
        per_sequence[-1] = direct[-1]
        for t in range(len(direct) - 2, -1, -1):
            per_sequence[t] = direct[t] + d_norms[t + 1] * w_norm * per_sequence[t + 1]
        bound = scaled_norm(per_sequence, axis=1)
    return norms, bound


def _as_list(states):
    return list(states) if isinstance(states, (list, tuple)) else [states]


def _readout_loss(readout, task, outputs, targets):
    """The task's loss from time-major outputs `(T, batch, units)`."""
    return task.loss()(targets, task.readout(readout, outputs))


def _perturbed_loss(cell, readout, task, x, targets, initial, perturbations):
    """Steps `cell` over `x` with h_t ← h_t + ε_t; returns the loss and every state `(T, batch, …)`.

    The cell's output is its first state (true of every cell here), so the readout reads the
    perturbed h_t and ε_t reaches the loss by every path that h_t does.
    """
    import tensorflow as tf

    @tf.function
    def run(x, initial, perturbations):
        def step(states, elements):
            x_t, eps_t = elements
            _, new_states = cell(x_t, states, training=False)
            return [s + e for s, e in zip(_as_list(new_states), eps_t)]

        # What keras.layers.RNN does before its time loop: the cells fix their per-sequence masks,
        # and the uRNN cell materialises W once instead of at every step.
        if hasattr(cell, "get_recurrent_dropout_mask"):
            cell.get_dropout_mask(x[:, 0])
            cell.get_recurrent_dropout_mask(initial[0])
        try:
            states = tf.scan(step, (tf.transpose(x, [1, 0, 2]), perturbations), initializer=initial)
        finally:
            if hasattr(cell, "reset_recurrent_dropout_mask"):
                cell.reset_dropout_mask()
                cell.reset_recurrent_dropout_mask()
        return _readout_loss(readout, task, states[0], targets), states

    # One graph per measurement, by design: keep TensorFlow's "excessive retracing" warning quiet.
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)
    try:
        return run(x, initial, perturbations)
    finally:
        tf_logger.setLevel(level)


def _output_gradients(readout, task, outputs, targets) -> np.ndarray:
    """∂L/∂o_t for every step, time-major `(T, batch, units)`; zero where the loss does not read o_t."""
    import tensorflow as tf

    outputs = tf.convert_to_tensor(outputs)
    with tf.GradientTape() as tape:
        tape.watch(outputs)
        loss = _readout_loss(readout, task, outputs, tf.convert_to_tensor(targets))
    return tape.gradient(loss, outputs).numpy()


def compute_gradient_norms(config: GradientNormConfig) -> GradientNorms:
    """Measures every cell of `config` at initialisation and after `config.after_steps` steps."""
    import keras

    from kerasrnn.engine.fitting import make_optimizer

    task = get_task(config.task)
    inputs, targets = task.make_batch(
        np.random.default_rng([config.seed, 10**6]), config.batch_size, config.length, dtype="float64"
    )
    norms, bounds = {}, {}
    for cell in config.cells:
        task_config = task.config_class(cell=cell, units=config.units, length=config.length)
        keras.utils.set_random_seed(config.seed)
        with float64_layers():
            model = task.build_model(task_config, None, seed=config.seed)
        for stage in (0,) if config.after_steps == 0 else (0, config.after_steps):
            if stage:
                logger.info("Training %s for %d steps", cell, stage)
                train_config = task.default_train_config(task_config)
                model.compile(optimizer=make_optimizer(train_config, stage), loss=task.loss())
                for index in range(stage):
                    batch = task.make_batch(np.random.default_rng([config.seed, index]), config.batch_size,
                                            config.length, dtype="float64")
                    model.train_on_batch(*batch)
            logger.info("Measuring %s after %d training steps", cell, stage)
            norms[(cell, stage)], bound = state_gradient_norms(model, task, inputs, targets)
            if bound is not None:
                bounds[(cell, stage)] = bound
    return GradientNorms(config, np.arange(1, task.sequence_steps(config.length) + 1), norms, bounds)


# --- output ----------------------------------------------------------------------------------


def check_output_path(path: Path) -> Path:
    """Checks that `path` is a `.png` we can write, with its `.csv` beside it; returns it.

    Raises:
      UserInputError: not a `.png` name, a folder, or in a folder that is missing or read-only.
    """
    path = Path(path).expanduser()
    if path.suffix.lower() != ".png":
        raise UserInputError(f"--out must name a .png file (the numbers go beside it as .csv), got {path}")
    folder = path.parent
    if not folder.is_dir():
        raise UserInputError(f"cannot write {path}: the folder {folder} does not exist")
    for target in (path, path.with_suffix(".csv")):
        if target.is_dir():
            raise UserInputError(f"cannot write {target}: it is a folder")
    if not os.access(folder, os.W_OK):
        raise UserInputError(f"cannot write {path}: the folder {folder} is not writable")
    return path


def write_csv(result: GradientNorms, path: Path) -> None:
    """One row per step t: `t`, then every curve (`<cell>_step<N>`, `<cell>_bound_step<N>`)."""
    columns = result.columns()

    def write(target: Path):
        with target.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for row in zip(*columns.values()):
                writer.writerow([int(row[0]), *(f"{value:.6e}" for value in row[1:])])

    replace_atomically(Path(path), write)


def plot_gradient_norms(result: GradientNorms, path: Path) -> None:
    """One panel per stage (initialisation, after N steps), log y-axis, one line per cell."""
    stages, config = result.stages, result.config
    with png_figure(path, nrows=1, ncols=len(stages), figsize=(5.2 * len(stages), 3.8), dpi=80,
                    sharey=True, squeeze=False) as (figure, axes):
        for axis, stage in zip(axes[0], stages):
            for index, cell in enumerate(config.cells):
                colour = f"C{index}"  # the index-th colour of matplotlib's cycle, the same on both curves
                values = result.norms[(cell, stage)]
                axis.plot(result.steps, np.where(values > 0, values, np.nan), color=colour, label=cell)
                if (cell, stage) in result.bounds:
                    axis.plot(result.steps, result.bounds[(cell, stage)], color=colour, linestyle="--",
                              label=f"{cell}: bound ‖∂L/∂h_T‖·∏‖D_s‖‖W_h‖")
            axis.set_yscale("log")
            axis.set_xlabel("t")
            axis.set_title("at initialisation" if stage == 0 else f"after {stage} training steps")
            axis.grid(alpha=0.3, which="both")
        axes[0][0].set_ylabel("‖∂L/∂h_t‖")
        axes[0][-1].legend(fontsize=8)
        figure.suptitle(f"{config.task}, T = {config.length}, {config.units} units, batch {config.batch_size}"
                        f" (float64)", fontsize=10)


def summary(result: GradientNorms) -> str:
    """One line per curve: ‖∂L/∂h_1‖, ‖∂L/∂h_T‖, max/min and the decay near T."""
    lines = [f"{'cell':<16} {'steps':>6} {'|dL/dh_1|':>11} {'|dL/dh_T|':>11} {'max/min':>10} "
             f"{'decades/100 steps near T':>25}"]
    for stage in result.stages:
        for cell in result.config.cells:
            norms = result.norms[(cell, stage)]
            positive = norms[norms > 0]
            ratio = positive.max() / positive.min() if positive.size == norms.size else float("inf")
            lines.append(f"{cell:<16} {stage:>6} {norms[0]:>11.3e} {norms[-1]:>11.3e} {ratio:>10.3g} "
                         f"{result.decades_per_100_steps(cell, stage):>25.2f}")
    return "\n".join(lines)
