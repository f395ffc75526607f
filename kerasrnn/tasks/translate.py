"""Toy translation (task `translate`): an encoder-decoder of any cell, teacher-forced, beam-searched.

The encoder reads the source tokens (characters by default, words as an option) and its final
state initialises the decoder, which is trained by teacher forcing to output the target tokens and
then the end-of-sequence symbol `[END]`, optionally attending over the encoder outputs; see
`translate_model` for the network and the decoding, `translate_data` for the data and the ids.
The embedded default data are the `spelled_numbers` pairs (English → French numbers in words; any
two of digits, en, fr, de, es, it with `pair`), split by number; a tab-separated pairs file in the
format of Keras's lstm_seq2seq example is the other source.

Losses are in nats per target token (`[END]` included) next to the unigram baseline: the
cross-entropy of predicting every target token with its training frequency. `evaluate` decodes a
split (greedy, or beam search with `beam_size`) and scores it by exact match, character error rate
(edit distance / reference characters, `tf.edit_distance`), and sacrebleu's corpus chrF and BLEU.

A run directory holds, besides what `kerasrnn.training` writes, `source_vocabulary.json` and
`target_vocabulary.json` (the lookups' tokens in id order), `decoding.json` (the longest
translation decoded) and `evaluation_<split>.json` for each evaluated split.

Example:

```python
result = train(TranslateConfig(), default_train_config(TranslateConfig()), Path("runs/fr"))
translate(Path("runs/fr"), ["three hundred and forty-two"], beam_size=4)   # ["trois cent quarante-deux"]
print(evaluate(Path("runs/fr"), split="test").summary())
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

logger = logging.getLogger(__name__)

TASK = "translate"
LOSS_UNIT = "nats/token"
SOURCE_VOCABULARY_FILE = "source_vocabulary.json"
TARGET_VOCABULARY_FILE = "target_vocabulary.json"
DECODING_FILE = "decoding.json"
SPLITS = ("validation", "test", "train")
TOKEN_MODES = ("characters", "words")
ATTENTION_KINDS = ("none", "dot", "additive")
EXAMPLES_SHOWN = 5


@dataclasses.dataclass(frozen=True)
class TranslateConfig:
    """Settings of the encoder-decoder and its data.

    Attributes:
      cell: recurrent layer of the encoder and the decoder, one of `kerasrnn.recurrent.CELL_NAMES`.
      units: units per recurrent layer (complex units for `urnn`).
      layers: stacked recurrent layers in the encoder and in the decoder; the final state of
        encoder layer i initialises decoder layer i.
      attention: `"dot"` (Luong), `"additive"` (Bahdanau) or `"none"`: the decoder then sees the
        source only through the encoder's final state.
      dropout: dropout rate of the recurrent layers' inputs while training.
      embedding_dim: size of the source and target token embeddings.
      tokens: `"characters"` (text kept as it is) or `"words"` (lower-cased, punctuation apart).
      max_tokens: vocabulary cap per side for words (the most frequent); characters are never cut.
      max_length: tokens kept from the start of each source and target text.
      data: `"spelled_numbers"` or the path of a tab-separated pairs file.
      pair: for spelled_numbers, `SOURCE-TARGET` from digits, en, fr, de, es, it.
      data_dir: tensorflow-datasets folder for spelled_numbers; None: tfds's default.
    """

    cell: str = "lstm"
    units: int = 128
    layers: int = 1
    attention: str = "dot"
    dropout: float = 0.0
    embedding_dim: int = 32
    tokens: str = "characters"
    max_tokens: int = 20_000
    max_length: int = 100
    data: str = "spelled_numbers"
    pair: str = "en-fr"
    data_dir: str | None = None

    def __post_init__(self):
        from kerasrnn.tasks.translate_data import SPELLED_NUMBERS, parse_pair

        check_cell_name(self.cell)
        for label, value in (("units", self.units), ("layers", self.layers),
                             ("embedding dim", self.embedding_dim), ("max length", self.max_length),
                             ("max tokens", self.max_tokens)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserInputError(f"{label} must be a positive integer, got {value!r}")
        if self.attention not in ATTENTION_KINDS:
            raise UserInputError(f"unknown attention {self.attention!r}: choose one of {', '.join(ATTENTION_KINDS)}")
        if not 0.0 <= self.dropout < 1.0:
            raise UserInputError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.tokens not in TOKEN_MODES:
            raise UserInputError(f"unknown token mode {self.tokens!r}: choose characters or words")
        if not isinstance(self.data, str) or not self.data.strip():
            raise UserInputError("no data given: spelled_numbers or the path of a tab-separated pairs file")
        if self.data == SPELLED_NUMBERS:
            parse_pair(self.pair)

    def resolved(self) -> "TranslateConfig":
        """The config with a data path made absolute, so that evaluate finds it from anywhere."""
        from kerasrnn.tasks.translate_data import SPELLED_NUMBERS

        path = Path(self.data).expanduser()
        if self.data == SPELLED_NUMBERS or not path.exists():
            return self
        return dataclasses.replace(self, data=str(path.resolve()))


CONFIG_CLASS = TranslateConfig


def default_train_config(config: TranslateConfig) -> TrainConfig:
    """Adam 5e-3 with cosine decay, clipnorm 1, batches of 64, early stop after 3 epochs without
    progress; 6 epochs of 250 steps (spelled_numbers' 16,005 training pairs about once each) or,
    for a pairs file, 30 passes over its training split."""
    if config.data == "spelled_numbers":
        return TrainConfig(epochs=6, steps_per_epoch=250, batch_size=64, learning_rate=5e-3, patience=3)
    return TrainConfig(epochs=30, steps_per_epoch=None, batch_size=64, learning_rate=5e-3, patience=3)


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """How well a model translates one split: decoded, and teacher-forced."""

    split: str
    examples: int
    beam_size: int
    exact_match: float
    character_error_rate: float
    chrf: float
    bleu: float
    loss: float
    baseline_loss: float
    mistakes: tuple[tuple[str, str, str], ...]  # (source, reference, translation), the first few

    def summary(self) -> str:
        decoding = "greedy" if self.beam_size == 1 else f"beam search of width {self.beam_size}"
        lines = [
            f"{self.split.capitalize()} ({self.examples:,} pairs, {decoding}): exact match "
            f"{self.exact_match:.2%}, character error rate {self.character_error_rate:.2%}, chrF "
            f"{self.chrf:.1f}, BLEU {self.bleu:.1f}",
            f"Teacher-forced loss {self.loss:.4f} nats/token (unigram baseline {self.baseline_loss:.4f})",
        ]
        for source, reference, translation in self.mistakes:
            lines.append(f"  {source!r} → {translation!r} (reference {reference!r})")
        return "\n".join(lines)


def train(
    config: TranslateConfig,
    train_config: TrainConfig,
    run_dir: Path | None = None,
    *,
    resume: bool = False,
    device: str = "auto",
    verbose: str | int = "auto",
) -> training.TrainResult:
    """Trains an encoder-decoder into a run directory, or resumes one; evaluates it greedily on the
    validation split.

    Raises:
      UserInputError: bad data or run directory, settings that differ from the resumed run, or a
        training that diverged.
    """
    import keras

    from kerasrnn.tasks import text_data, translate_data
    from kerasrnn.tasks.translate_model import build_translator

    started = time.monotonic()
    config = config.resolved()
    run_dir, pairs = training.start_run(
        TASK, config, train_config, run_dir, resume=resume, device=device, saved_configs=load_configs,
        load_data=lambda: translate_data.load_pairs(config.data, config.pair, config.data_dir))
    sources, targets = pairs.split("train")
    if resume:
        source_tokens, target_tokens = (translate_data.lookup_tokens(text_data.load_tokens(run_dir / name))
                                        for name in (SOURCE_VOCABULARY_FILE, TARGET_VOCABULARY_FILE))
        max_output_length = _load_max_output_length(run_dir)
    else:
        source_tokens = translate_data.vocabulary_tokens(sources, config.tokens, _cap(config))
        target_tokens = translate_data.vocabulary_tokens(targets, config.tokens, _cap(config))
        # Twice the longest training target: room for longer test sentences, a bound on a loop.
        max_output_length = 2 * min(translate_data.longest(targets, config.tokens), config.max_length) + 10
    source_lookup = translate_data.make_source_lookup(source_tokens)
    target_lookup = translate_data.make_target_lookup(target_tokens)
    training.save_config(run_dir, TASK, config, train_config)
    text_data.save_tokens(source_lookup.get_vocabulary(), run_dir / SOURCE_VOCABULARY_FILE)
    text_data.save_tokens(target_lookup.get_vocabulary(), run_dir / TARGET_VOCABULARY_FILE)
    training.write_json(run_dir / DECODING_FILE, {"max_output_length": max_output_length})

    keras.utils.set_random_seed(train_config.seed)
    batch = train_config.batch_size
    steps = train_config.steps_per_epoch or max(1, math.ceil(len(sources) / batch))
    model = build_translator(config, source_lookup.vocabulary_size(), target_lookup.vocabulary_size(),
                             seed=train_config.seed)
    model.compile(
        optimizer=training.make_optimizer(train_config, train_config.epochs * steps),
        loss=loss_function(),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    logger.info("%s: %s parameters, %d source and %d target %s", model.name, f"{model.count_params():,}",
                source_lookup.vocabulary_size(), target_lookup.vocabulary_size(), config.tokens)
    history = training.fit(
        model,
        translate_data.make_dataset(source_lookup, target_lookup, sources, targets, config.tokens, batch,
                                    config.max_length, seed=train_config.seed),
        translate_data.make_dataset(source_lookup, target_lookup, *pairs.split("validation"), config.tokens,
                                    256, config.max_length),
        run_dir,
        train_config,
        steps_per_epoch=steps,
        verbose=verbose,
    )
    best = load_model(run_dir)
    validation = _evaluate_model(best, config, pairs, "validation", run_dir, beam_size=1)
    best_epoch = training.best_epoch(history)
    training.write_json(run_dir / training.METRICS_FILE, {
        **dataclasses.asdict(validation), "best_epoch": best_epoch, "epochs": len(history["epoch"]),
        "parameters": best.count_params(),
    })
    return training.TrainResult(run_dir, len(history["epoch"]), len(history["epoch"]) * steps, best_epoch,
                                time.monotonic() - started, best.count_params(), validation)


def _cap(config: TranslateConfig) -> int | None:
    return config.max_tokens if config.tokens == "words" else None


def loss_function():
    """Mean cross-entropy per real target token, in nats: padding has weight 0 and is not counted."""
    import keras

    return keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight")


def _load_max_output_length(run_dir: Path) -> int:
    import json

    path = Path(run_dir) / DECODING_FILE
    try:
        value = json.loads(path.read_text("utf-8"))["max_output_length"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserInputError(f"cannot read {path}: {error}") from error
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserInputError(f"{path} has a bad max_output_length {value!r}")
    return value


def load_configs(run_dir: Path) -> tuple[TranslateConfig, TrainConfig]:
    """The `TranslateConfig` and `TrainConfig` saved in a translate run directory."""
    return training.load_task_configs(run_dir, TASK, TranslateConfig)


def load_model(run_dir: Path) -> "keras.Model":
    """The best model saved in a translate run directory (teacher-forcing network)."""
    config, _ = load_configs(run_dir)
    return training.load_best_model(run_dir, config.cell)


def load_translator(run_dir: Path):
    """The run's best model wrapped in a `translate_model.Translator` (greedy and beam search)."""
    config, _ = load_configs(run_dir)
    return _translator_for(load_model(run_dir), config, run_dir)


def _translator_for(model, config, run_dir: Path):
    from kerasrnn.tasks import text_data
    from kerasrnn.tasks.translate_model import Translator

    vocabularies = [text_data.load_tokens(Path(run_dir) / name)
                    for name in (SOURCE_VOCABULARY_FILE, TARGET_VOCABULARY_FILE)]
    try:
        return Translator(model, config, *vocabularies, _load_max_output_length(run_dir))
    except ValueError as error:
        raise UserInputError(f"{run_dir} has bad vocabularies: {error}") from error


def baseline(run_dir: Path) -> float:
    """The unigram baseline of a run on validation, in nats per target token."""
    return training.saved_metric(run_dir, "baseline_loss")


def check_beam_size(beam_size) -> int:
    """Returns `beam_size` if it is a positive integer; raises UserInputError if not."""
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise UserInputError(f"beam size must be a positive integer, got {beam_size!r}")
    return beam_size


def evaluate(
    run_dir: Path,
    *,
    split: str = "validation",
    data: str | None = None,
    data_dir: str | None = None,
    device: str = "auto",
    beam_size: int = 1,
) -> Evaluation:
    """Decodes a split and scores it (see the module docstring); writes `evaluation_<split>.json`.

    `data` and `data_dir` replace the run's data source (same pair for spelled_numbers).

    Raises:
      UserInputError: not a translate run; unknown split; beam size not positive; bad data.
    """
    from kerasrnn.tasks import translate_data

    if split not in SPLITS:
        raise UserInputError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    check_beam_size(beam_size)
    config, _ = load_configs(run_dir)
    training.check_run_dir(run_dir)
    if data is not None or data_dir is not None:
        config = dataclasses.replace(config, data=data or config.data, data_dir=data_dir or config.data_dir).resolved()
    training.select_device(device)
    pairs = translate_data.load_pairs(config.data, config.pair, config.data_dir)
    return _evaluate_model(load_model(run_dir), config, pairs, split, Path(run_dir), beam_size=beam_size)


def _evaluate_model(model, config, pairs, split, run_dir: Path, *, beam_size: int) -> Evaluation:
    from kerasrnn.tasks import translation_metrics

    translator = _translator_for(model, config, run_dir)
    sources, references = pairs.split(split)
    if not sources:
        raise UserInputError(f"the {split} split of {pairs.name} is empty: nothing to evaluate")
    translations = translator.translate(sources, beam_size=beam_size)
    scores = translation_metrics.score_translations(translations, references)
    loss, baseline_loss = translation_metrics.teacher_forced_loss(
        model, translator, config, pairs.split("train")[1], sources, references)
    mistakes = tuple((s, r, t) for s, r, t in zip(sources, references, translations) if r != t)
    evaluation = Evaluation(split=split, examples=len(sources), beam_size=beam_size, loss=loss,
                            baseline_loss=baseline_loss, mistakes=mistakes[:EXAMPLES_SHOWN], **scores)
    training.write_json(run_dir / f"evaluation_{split}.json", dataclasses.asdict(evaluation))
    return evaluation


def translate(run_dir: Path, texts, *, beam_size: int = 1, device: str = "auto") -> list[str]:
    """The translation of each text by a run's best model (greedy, or beam search of `beam_size`).

    Raises:
      UserInputError: not a translate run; no texts; an empty (or blank) text; beam size not positive.
    """
    texts = list(texts)
    if not texts:
        raise UserInputError("no text given: give one or more texts to translate")
    for index, text in enumerate(texts, start=1):
        if not text.strip():
            raise UserInputError(f"text {index} is empty: give something to translate")
    check_beam_size(beam_size)
    load_configs(run_dir)
    training.check_run_dir(run_dir)
    training.select_device(device)
    return load_translator(run_dir).translate(texts, beam_size=beam_size)
