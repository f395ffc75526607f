"""Where a translate run's decoder looks: its attention weights over the source, drawn as a matrix.

For each source text the translation is found exactly as `translate` finds it (the run's
`Translator.decode_ids`, greedy or a beam search of the same width), then the trained network is run
teacher-forced over that translation's own tokens (`model.attention_weights`), and the attention
layer's softmax weights are read: row t is how the decoder step that wrote target token t spread its
attention over the source tokens, `[END]` last. The source tokens are the ones the encoder reads:
after tokenization, cut to the run's `max_length`, unknown ones as `[UNK]`. Each row sums to 1 over
them (`keras.layers.Attention` and `AdditiveAttention` mask the padding of a batch out before their
softmax).

The figure is the matrix of TensorFlow's "Neural machine translation with attention" tutorial:
source tokens across the top, target tokens down the side, a colour scale fixed to [0, 1] so that
plots compare, and the text and its translation as the title; it is written as a PNG through
`kerasrnn.figures.png_figure` (atomically). A run trained with `attention="none"` has no such
weights (its decoder reads the encoder's final state only) and is refused in one line.

Example:

```python
alignments, paths = plot_texts(Path("runs/deu"), ["I like tea."], Path("tea.png"), beam_size=4)
alignments[0].target_tokens          # ('Ich', 'mag', 'Tee', '.', '[END]')
alignments[0].weights.sum(axis=1)    # array([1., 1., 1., 1., 1.], dtype=float32)
```
"""

from __future__ import annotations

import dataclasses
import os
import textwrap
import warnings
from pathlib import Path

import numpy as np

from kerasrnn.errors import UserInputError
from kerasrnn.fileio import os_error_cause
from kerasrnn.figures import png_figure

END_TOKEN = "[END]"
SPLIT_SENTENCES = 5  # sentences of a split drawn by default (`plot_split`)
DPI = 100
INCHES_PER_TOKEN = 0.32  # a row or column of the matrix: room for a 10-point label
LARGEST_INCHES = 60.0  # a text of hundreds of tokens still gives a picture a viewer opens
BATCH = 64  # texts run through the teacher-forced network at a time


@dataclasses.dataclass(frozen=True)
class Alignment:
    """The attention of one translation: `weights[t, s]` is how much the decoder step that wrote
    `target_tokens[t]` attended to `source_tokens[s]`.

    Fields:
      source: the text as given.
      translation: its translation, as `translate` prints it.
      source_tokens: the tokens the encoder read (`[UNK]` for unknown ones).
      target_tokens: the translation's tokens, then `[END]` (absent only for a translation cut off
        at the run's longest one).
      weights: float32 `(len(target_tokens), len(source_tokens))`, each row summing to 1.
      reference: the reference translation, for a sentence of a split; else None.
    """

    source: str
    translation: str
    source_tokens: tuple[str, ...]
    target_tokens: tuple[str, ...]
    weights: np.ndarray
    reference: str | None = None


def align(model, translator, texts, *, beam_size: int = 1, references=None) -> list[Alignment]:
    """The `Alignment` of each text by a trained network and its `Translator`.

    Args:
      model: the trained `build_translator` network, with attention.
      translator: its `Translator` (vocabularies, tokens, longest translation).
      texts: the source texts.
      beam_size: the beam of the search that finds each translation; 1 is greedy. Default 1.
      references: a reference translation per text, kept in each `Alignment`; default none.

    Returns:
      One `Alignment` per text, in order; the translations are those `translator.decode` gives.
    """
    import tensorflow as tf

    from kerasrnn.tasks.translate import data as translate_data
    from kerasrnn.tasks.translate.model import attention_weights

    texts = list(texts)
    references = [None] * len(texts) if references is None else list(references)
    # The search exactly as `translate` runs it (same batches, same beam), then the ids it found.
    batches, _ = translator.decode_ids(texts, beam_size=beam_size)
    translations = [text.decode("utf-8") for ids in batches for text in translator.ids_to_texts(ids).numpy()]
    found = [_up_to_end(row, translate_data) for ids in batches for row in ids.numpy()]
    source_vocabulary = [str(token) for token in translator.source_lookup.get_vocabulary()]
    target_vocabulary = [str(token) for token in translator.target_lookup.get_vocabulary()]
    alignments = []
    for start in range(0, len(texts), BATCH):
        chunk = range(start, min(start + BATCH, len(texts)))
        source_ids = translator.encode([texts[index] for index in chunk]).numpy()
        # Teacher forcing: step t reads [START] y₁ … y_{t-1} and writes y_t (the last one [END]).
        inputs = np.zeros((len(chunk), max(len(found[index]) for index in chunk)), np.int32)
        for row, index in enumerate(chunk):
            inputs[row, :len(found[index])] = [translate_data.START_ID, *found[index][:-1]]
        with warnings.catch_warnings():
            # Keras warns of a softmax over one value: a source of one token, all attention on it.
            warnings.filterwarnings("ignore", message="You are using a softmax over axis -1 of a tensor of shape")
            weights = tf.cast(attention_weights(model, translator.config, source_ids, inputs), tf.float32).numpy()
        for row, index in enumerate(chunk):
            source = [int(i) for i in source_ids[row] if i != translate_data.PAD_ID]
            if not source:
                raise UserInputError(f"text {index + 1} ({texts[index]!r}) has no token the encoder reads")
            target = found[index]
            alignments.append(Alignment(
                source=texts[index], translation=translations[index],
                source_tokens=tuple(source_vocabulary[i] for i in source),
                target_tokens=tuple(END_TOKEN if i == translate_data.END_ID else target_vocabulary[i] for i in target),
                weights=weights[row, :len(target), :len(source)], reference=references[index]))
    return alignments


def _up_to_end(ids, translate_data) -> list[int]:
    """A searched row of ids up to its `[END]` (kept), or to the padding after the longest translation."""
    kept = []
    for token in ids:
        if token == translate_data.PAD_ID:
            break
        kept.append(int(token))
        if token == translate_data.END_ID:
            break
    return kept


# --- the figure ----------------------------------------------------------------------------------


def token_label(token: str) -> str:
    """A token as a tick label: a space (a character token) as "␣", which a reader can see."""
    return token.replace(" ", "␣") if token.strip() == "" else token


def figure_inches(alignment: Alignment) -> tuple[float, float]:
    """`(width, height)` of the figure: a fixed size per token, room for the longest labels, the
    colour bar and the title; at most `LARGEST_INCHES` either way."""
    rows, columns = alignment.weights.shape
    longest_row_label = max(len(token_label(token)) for token in alignment.target_tokens)
    longest_column_label = max(len(token_label(token)) for token in alignment.source_tokens)
    width = max(4.0, INCHES_PER_TOKEN * columns + 0.09 * longest_row_label + 2.2)
    height = max(3.0, INCHES_PER_TOKEN * rows + 0.09 * longest_column_label + 1.6)
    return min(width, LARGEST_INCHES), min(height, LARGEST_INCHES)


def draw(figure, axis, alignment: Alignment) -> None:
    """The matrix of `alignment` on `axis` of `figure`: source tokens along the top, target tokens
    down the side, a colour bar over [0, 1], the text → translation (and reference) as the title."""
    image = axis.imshow(alignment.weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto",
                        interpolation="nearest")
    axis.set_xticks(range(len(alignment.source_tokens)),
                    [token_label(token) for token in alignment.source_tokens], rotation=90)
    axis.set_yticks(range(len(alignment.target_tokens)),
                    [token_label(token) for token in alignment.target_tokens])
    axis.xaxis.tick_top()
    axis.xaxis.set_label_position("top")
    axis.tick_params(length=0)
    axis.set_xlabel("source tokens (as the encoder reads them)")
    axis.set_ylabel("translation tokens")
    colour_bar = figure.colorbar(image, ax=axis, fraction=0.04, pad=0.02)
    colour_bar.set_label("attention weight")
    title = f"{alignment.source} → {alignment.translation}"
    if alignment.reference is not None:
        title += f"   (reference: {alignment.reference})"
    width, _ = figure.get_size_inches()
    # About 11 characters of a 10-point title per inch.
    axis.set_title("\n".join(textwrap.wrap(title, max(30, int(width * 11)))), fontsize=10, pad=12)


def write_plot(alignment: Alignment, path: Path) -> None:
    """Draws `alignment` into a PNG at `path`, written atomically.

    Raises:
      UserInputError: it cannot be written (the cause in the system's words).
    """
    try:
        with png_figure(path, figsize=figure_inches(alignment), dpi=DPI) as (figure, axis):
            draw(figure, axis, alignment)
    except OSError as error:
        raise UserInputError(f"cannot write {path}: {os_error_cause(error)}") from None


# --- paths ---------------------------------------------------------------------------------------


def check_plot_path(path: Path) -> Path:
    """`path`, if a PNG can be written there: a .png name in an existing folder one may write to.

    Raises:
      UserInputError: another extension, a folder at `path`, or its folder missing or not writable.
    """
    path = Path(path).expanduser()
    if path.suffix.lower() != ".png":
        raise UserInputError(f"{path}: an attention plot is a PNG image, so its name must end in .png")
    if path.is_dir():
        raise UserInputError(f"{path} is a folder: give the name of the .png file to write")
    _check_writable_folder(path.parent if str(path.parent) else Path("."), f"cannot write {path}")
    return path


def numbered_paths(path: Path, count: int) -> list[Path]:
    """`[path]` for one text; for several, PLOT-1.png, PLOT-2.png, … beside PLOT.png (one per text, in order)."""
    if count == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{number}{path.suffix}") for number in range(1, count + 1)]


def check_plot_folder(folder: Path) -> Path:
    """`folder`, if plots can be written into it (made when missing, with its parents).

    Raises:
      UserInputError: a file at `folder`, or it cannot be made or written to.
    """
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise UserInputError(f"{folder} is a file: give a folder for the attention plots")
    existing = folder
    while not existing.exists():  # the nearest folder that exists is the one a new one is made in
        existing = existing.parent
    _check_writable_folder(existing, f"cannot write the attention plots into {folder}")
    return folder


def _check_writable_folder(folder: Path, what: str) -> None:
    if not folder.is_dir():
        raise UserInputError(f"{what}: no such folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserInputError(f"{what}: permission denied (the folder {folder} is not writable)")


# --- runs ----------------------------------------------------------------------------------------


def check_attention_run(run_dir: Path):
    """`(task, config)` of the run in `run_dir`, if it is a translate run with attention.

    Raises:
      UserInputError: not a run directory, a run of another task, or one trained with attention none.
    """
    from kerasrnn.tasks import task_of_run
    from kerasrnn.tasks.translate.task import TranslateTask

    task = task_of_run(run_dir)
    if not isinstance(task, TranslateTask):
        raise UserInputError(f"{run_dir} holds a {task.name} run: attention plots are drawn for translate runs")
    config, _ = task.load_configs(run_dir)
    if config.attention == "none":
        raise UserInputError(f"{run_dir} was trained with --attention none: its decoder reads only the encoder's "
                             f"final state, so it has no alignment to plot")
    return task, config


def _load(task, config, run_dir: Path, device: str):
    """The run's best model and its `Translator`, on `device`."""
    from kerasrnn.engine import run_dir as run_files
    from kerasrnn.engine.devices import select_device

    run_files.check_run_dir(run_dir)
    select_device(device)
    model = task.load_model(run_dir)
    return model, task.translator_for(model, config, task.restore(config, None, run_dir), run_dir)


def plot_texts(run_dir: Path, texts, path: Path, *, beam_size: int = 1,
               device: str = "auto") -> tuple[list[Alignment], list[Path]]:
    """Translates `texts` with the run in `run_dir` as `translate` does and draws each one's attention:
    into `path` for one text, into `numbered_paths(path, n)` for n texts.

    Returns:
      `(alignments, paths)`, one of each per text, in order.

    Raises:
      UserInputError: no texts or a blank one; a bad `path` (see `check_plot_path`); not a translate
        run with attention; beam size not positive; a plot that cannot be written.
    """
    from kerasrnn import checks
    from kerasrnn.tasks.text_tasks import check_texts, warn_about_unknown_tokens
    from kerasrnn.tasks.translate.data import PAD_ID, UNK_ID

    texts = check_texts(texts, "translate")
    checks.positive_int("beam size", beam_size)
    path = check_plot_path(path)
    task, config = check_attention_run(run_dir)
    model, translator = _load(task, config, run_dir, device)
    warn_about_unknown_tokens(texts, translator.encode(texts), unknown_id=UNK_ID, padding_id=PAD_ID)
    alignments = align(model, translator, texts, beam_size=beam_size)
    paths = numbered_paths(path, len(texts))
    for alignment, each in zip(alignments, paths):
        write_plot(alignment, each)
    return alignments, paths


def split_sentences(task, config, split: str, count: int, *, data: str | None = None,
                    data_dir: str | None = None) -> tuple[list[str], list[str]]:
    """The first `count` distinct sources of `split` and a reference of each, from the run's data or
    from `data` (read as `evaluate --data` reads it)."""
    from kerasrnn import checks
    from kerasrnn.tasks.base import with_data

    checks.one_of("split", split, task.splits)
    if data is not None or data_dir is not None:
        config = with_data(task, config, data, data_dir)
    whole = task.whole_data(config) if data is not None else None
    sources, references = (task.load_data(config) if whole is None else whole).split(split)
    if not sources:
        raise UserInputError(f"the {split} split is empty: no sentence to plot")
    chosen = {}
    for source, reference in zip(sources, references):
        if len(chosen) == count:
            break
        chosen.setdefault(source, reference)
    return list(chosen), list(chosen.values())


def plot_split(run_dir: Path, split: str, folder: Path, *, count: int = SPLIT_SENTENCES, beam_size: int = 1,
               data: str | None = None, data_dir: str | None = None,
               device: str = "auto") -> tuple[list[Alignment], list[Path]]:
    """The attention plots of the first `count` distinct sentences of `split`, written into `folder`
    as `<split>-1.png`, `<split>-2.png`, … (the folder made if missing), the reference in each title.

    Returns:
      `(alignments, paths)`, one of each per sentence, in the split's order.

    Raises:
      UserInputError: not a translate run with attention; an unknown or empty split; bad data; a
        folder that cannot be written; count or beam size not positive.
    """
    from kerasrnn import checks

    checks.positive_int("number of sentences", count)
    checks.positive_int("beam size", beam_size)
    folder = check_plot_folder(folder)
    task, config = check_attention_run(run_dir)
    sources, references = split_sentences(task, config, split, count, data=data, data_dir=data_dir)
    model, translator = _load(task, config, run_dir, device)
    alignments = align(model, translator, sources, beam_size=beam_size, references=references)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserInputError(f"cannot make the folder {folder}: {os_error_cause(error)}") from None
    paths = [folder / f"{split}-{number}.png" for number in range(1, len(alignments) + 1)]
    for alignment, path in zip(alignments, paths):
        write_plot(alignment, path)
    return alignments, paths

