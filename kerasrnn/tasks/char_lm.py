"""Character language modelling: predict each next character of a text (Karpathy's char-RNN).

The network is an embedding, one or more recurrent layers chosen by name (`kerasrnn.recurrent`),
optionally with residual connections between stacked layers (x_{l} = x_{l−1} + RNN_l(x_{l−1}), the
lecture's ResNet shortcut), dropout, and a dense layer giving logits over the vocabulary (the softmax
is in the loss). Its input is ids from `text_data.make_char_lookup`: `[BOS]` then characters.

Losses are in nats per character and bits per character (nats / ln 2), always shown next to the
unigram baseline: the cross-entropy on the evaluated split of the training split's character
frequencies. A model that has learned nothing about context scores the baseline.

Example:

```python
result = train(CharLMConfig(cell="gru"), TrainConfig(epochs=2, steps_per_epoch=50), Path("runs/a"))
print(result.summary())
print(generate(Path("runs/a"), prompt="The ", length=200))
```
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from pathlib import Path

from kerasrnn import training
from kerasrnn.errors import UserInputError
from kerasrnn.recurrent import check_cell_name
from kerasrnn.training import TrainConfig

# This module stays light (no TensorFlow at import), so that the CLI can read the defaults of
# `CharLMConfig` for `--help`; the network, data and sampling modules are imported where needed.

logger = logging.getLogger(__name__)

TASK = "charlm"
SAMPLE_FILE = "sample.txt"


@dataclasses.dataclass(frozen=True)
class CharLMConfig:
    """Settings of the character language model and its data.

    Attributes:
      cell: recurrent layer, one of `kerasrnn.recurrent.CELL_NAMES`.
      units: units per recurrent layer (complex units for `urnn`).
      layers: number of stacked recurrent layers.
      residual: add each stacked layer's input to its output (from the second layer on).
      dropout: dropout rate after each recurrent layer while training.
      embedding_dim: size of the character embedding.
      sequence_length: characters per training window (the length of backpropagation through time).
      data: corpus: `"python_docs"`, `"tiny_shakespeare"`, or a path to a UTF-8 file or folder.
      data_dir: tensorflow-datasets folder for the named corpora; None: tfds's default.
    """

    cell: str = "lstm"
    units: int = 128
    layers: int = 1
    residual: bool = False
    dropout: float = 0.0
    embedding_dim: int = 64
    sequence_length: int = 100
    data: str = "python_docs"
    data_dir: str | None = None

    def __post_init__(self):
        check_cell_name(self.cell)
        for label, value in (("units", self.units), ("layers", self.layers),
                             ("embedding dim", self.embedding_dim),
                             ("sequence length", self.sequence_length)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserInputError(f"{label} must be a positive integer, got {value!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise UserInputError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not isinstance(self.data, str) or not self.data.strip():
            raise UserInputError("no corpus given: name one or give the path of a UTF-8 text file")


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Loss of a model on one split, with the unigram baseline, both in nats per character."""

    split: str
    loss: float
    baseline: float
    characters: int

    @property
    def bits(self) -> float:
        return self.loss / math.log(2.0)

    @property
    def baseline_bits(self) -> float:
        return self.baseline / math.log(2.0)

    def summary(self) -> str:
        return (
            f"{self.split.capitalize()} loss {self.loss:.4f} nats/char = {self.bits:.4f} bits/char over "
            f"{self.characters:,} characters; unigram baseline {self.baseline:.4f} nats/char = "
            f"{self.baseline_bits:.4f} bits/char (the model's loss is {self.loss / self.baseline:.0%} "
            f"of it)"
        )


@dataclasses.dataclass(frozen=True)
class TrainResult(training.TrainResult):
    """What `train` did (see `training.TrainResult`), and the sample drawn at the end."""

    sample: str = ""
    sample_temperature: float = 0.8

    def details(self) -> list[str]:
        return [
            f"Sample ({len(self.sample)} characters, empty prompt, temperature {self.sample_temperature}):",
            self.sample,
        ]


def train(
    config: CharLMConfig,
    train_config: TrainConfig,
    run_dir: Path | None = None,
    *,
    resume: bool = False,
    device: str = "auto",
    verbose: str | int = "auto",
    sample_length: int = 300,
    sample_temperature: float = 0.8,
) -> TrainResult:
    """Trains a character language model into a run directory, or resumes one.

    Args:
      config, train_config: the settings. When resuming they must equal the saved ones, except
        `train_config.epochs`, which may grow to train longer.
      run_dir: where to save the run; None: `runs/charlm-<cell>-<time>`. Must be new or empty
        unless `resume`.
      resume: continue the interrupted (or finished) run in `run_dir` from its backup.
      device: `"auto"`, `"cpu"` or `"gpu"`, see `training.select_device`.
      verbose: Keras progress display of `fit`.
      sample_length, sample_temperature: the sample drawn at the end.

    Raises:
      UserInputError: bad corpus or run directory, settings that differ from the resumed run, or
        a training that diverged.
    """
    import keras

    from kerasrnn.tasks import text_data
    from kerasrnn.tasks.char_lm_model import build_char_lm, evaluate_loss, loss_function
    from kerasrnn.tasks.char_lm_sampling import CharSampler

    started = time.monotonic()
    config = _with_absolute_data_path(config)
    run_dir, corpus = training.start_run(TASK, config, train_config, run_dir, resume=resume, device=device,
                                         saved_configs=load_configs, load_data=lambda: _load_corpus(config))
    if resume:
        characters = text_data.load_vocabulary(run_dir / training.VOCABULARY_FILE)
    else:
        characters = text_data.corpus_characters(corpus.train)
    lookup = text_data.make_char_lookup(characters)
    training.save_config(run_dir, TASK, config, train_config)
    text_data.save_vocabulary(lookup, run_dir / training.VOCABULARY_FILE)

    keras.utils.set_random_seed(train_config.seed)
    train_ids = text_data.encode(lookup, corpus.train)
    validation_ids = text_data.encode(lookup, corpus.validation)
    length, batch = config.sequence_length, train_config.batch_size
    steps = train_config.steps_per_epoch or max(1, int(train_ids.shape[0]) // (length * batch))
    model = build_char_lm(config, lookup.vocabulary_size(), seed=train_config.seed)
    model.compile(
        optimizer=training.make_optimizer(train_config, train_config.epochs * steps),
        loss=loss_function(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    logger.info("%s: %s parameters", model.name, f"{model.count_params():,}")
    history = training.fit(
        model,
        text_data.random_windows(train_ids, length, batch, train_config.seed),
        text_data.consecutive_windows(validation_ids, length, batch),
        run_dir,
        train_config,
        steps_per_epoch=steps,
        verbose=verbose,
    )

    best = load_model(run_dir)
    validation = Evaluation(
        "validation",
        evaluate_loss(best, validation_ids, length, batch),
        text_data.unigram_cross_entropy(
            train_ids, text_data.covered_ids(validation_ids, length), lookup.vocabulary_size()
        ),
        int(text_data.covered_ids(validation_ids, length).size),
    )
    sampler = CharSampler(best, config, characters)
    sample = sampler.sample("", sample_length, temperature=sample_temperature, seed=train_config.seed)
    (run_dir / SAMPLE_FILE).write_text(sample, "utf-8")
    best_epoch = training.best_epoch(history)
    training.write_json(run_dir / training.METRICS_FILE, {
        "validation_nats_per_char": validation.loss,
        "validation_bits_per_char": validation.bits,
        "unigram_baseline_nats_per_char": validation.baseline,
        "unigram_baseline_bits_per_char": validation.baseline_bits,
        "validation_characters": validation.characters,
        "best_epoch": best_epoch,
        "epochs": len(history["epoch"]),
    })
    return TrainResult(
        run_dir=run_dir,
        epochs=len(history["epoch"]),
        steps=len(history["epoch"]) * steps,
        best_epoch=best_epoch,
        seconds=time.monotonic() - started,
        parameters=best.count_params(),
        validation=validation,
        sample=sample,
        sample_temperature=sample_temperature,
    )


def _with_absolute_data_path(config: CharLMConfig) -> CharLMConfig:
    """The config with `data` made absolute if it names an existing file or folder (not a corpus),
    so that `evaluate` and `--resume` find it from any working directory."""
    from kerasrnn.corpus import CORPUS_NAMES

    path = Path(config.data).expanduser()
    if config.data in CORPUS_NAMES or not path.exists():
        return config
    return dataclasses.replace(config, data=str(path.resolve()))


def _load_corpus(config: CharLMConfig):
    from kerasrnn.corpus import check_long_enough, load_char_corpus

    corpus = load_char_corpus(config.data, config.data_dir)
    check_long_enough(corpus, config.sequence_length)
    return corpus


def load_configs(run_dir: Path) -> tuple[CharLMConfig, TrainConfig]:
    """The `CharLMConfig` and `TrainConfig` saved in a character-LM run directory."""
    return training.load_task_configs(run_dir, TASK, CharLMConfig)


def load_model(run_dir: Path) -> "keras.Model":
    """The best model saved in a run directory."""
    config, _ = load_configs(run_dir)
    return training.load_best_model(run_dir, config.cell)


def evaluate(
    run_dir: Path,
    *,
    split: str = "validation",
    data: str | None = None,
    data_dir: str | None = None,
    batch_size: int = 64,
    device: str = "auto",
) -> Evaluation:
    """Loss of a run's best model on a split of its corpus (or of `data`), with the baseline.

    The baseline's character frequencies come from the train split of the same corpus.
    """
    from kerasrnn.tasks import text_data
    from kerasrnn.tasks.char_lm_model import evaluate_loss

    training.select_device(device)
    config, _ = load_configs(run_dir)
    model = load_model(run_dir)
    if data is not None or data_dir is not None:
        config = dataclasses.replace(config, data=data or config.data, data_dir=data_dir or config.data_dir)
    corpus = _load_corpus(config)
    characters = text_data.load_vocabulary(Path(run_dir) / training.VOCABULARY_FILE)
    lookup = text_data.make_char_lookup(characters)
    ids = text_data.encode(lookup, corpus.split(split))
    covered = text_data.covered_ids(ids, config.sequence_length)
    baseline = text_data.unigram_cross_entropy(
        text_data.encode(lookup, corpus.train), covered, lookup.vocabulary_size()
    )
    loss = evaluate_loss(model, ids, config.sequence_length, batch_size)
    return Evaluation(split, loss, baseline, int(covered.size))


def generate(
    run_dir: Path,
    prompt: str = "",
    length: int = 300,
    *,
    temperature: float = 0.8,
    top_k: int | None = None,
    seed: int = 0,
    device: str = "auto",
) -> str:
    """`length` characters sampled from a run's best model after `prompt` (the prompt not included).

    Raises:
      UserInputError: not a run directory; length, temperature or top-k not positive; a prompt made
        only of characters the model never saw (an empty prompt is fine).
    """
    from kerasrnn.tasks import text_data
    from kerasrnn.tasks.char_lm_sampling import CharSampler

    config, _ = load_configs(run_dir)
    training.check_run_dir(run_dir)
    characters = text_data.load_vocabulary(Path(run_dir) / training.VOCABULARY_FILE)
    CharSampler.check_arguments(prompt, length, temperature, top_k, characters)
    training.select_device(device)
    sampler = CharSampler(load_model(run_dir), config, characters)
    return sampler.sample(prompt, length, temperature=temperature, top_k=top_k, seed=seed)


CONFIG_CLASS = CharLMConfig
