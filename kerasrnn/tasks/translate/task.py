"""Toy translation (task `translate`): an encoder-decoder of any cell, teacher-forced, beam-searched.

The encoder reads the source tokens (optionally both ways) and its final state initialises the
decoder, which is trained by teacher forcing to output the target tokens and
then the end-of-sequence symbol `[END]`, optionally attending over the encoder outputs; see
`model` for the network and the decoding, `data` for the tokens and the ids. The sentence pairs
come from `kerasrnn.data.sentence_pairs`: by default the embedded `spelled_numbers` pairs (English
→ French numbers in words; any two of digits, en, fr, de, es, it with `pair`), split by number; a
tab-separated pairs file in the format of Keras's lstm_seq2seq example is the other source. The
settings a user leaves out follow the kind of data (`config.TranslateConfig`): the toy numbers keep a small
character model; a pairs file of real sentences gets the real-pairs preset (cased word tokens, a
bidirectional encoder, attention, 256 units, batches sorted by length in pools).

Losses are in nats per target token (`[END]` included) next to the unigram baseline: the
cross-entropy of predicting every target token with its training frequency. `evaluate` decodes a
split (greedy, or beam search with `beam_size`) and scores it by exact match, character error rate
(edit distance / reference characters, `tf.edit_distance`), and sacrebleu's corpus chrF and BLEU
(`evaluation`, with `metrics`). Each distinct source is decoded once; where sources have several references
(Tatoeba's pairs), it is also scored against all of them, next to the pair-by-pair figures. On
spelled_numbers `evaluate(run, numbers="0-999")` translates every number of a range instead
(`numbers_check`): what a user types first.

A run directory holds, besides what `kerasrnn.engine.run.train` writes, `source_vocabulary.json`
and `target_vocabulary.json` (the lookups' tokens in id order), with subword tokens
`source_subwords.model` and `target_subwords.model` (each side's SentencePiece model),
`decoding.json` (the longest translation decoded) and `evaluation_<split>.json` for each evaluated
split.

Example:

```python
from kerasrnn.engine.run import train

task = TranslateTask()
config = TranslateConfig()
result = train(task, config, task.default_train_config(config), Path("runs/fr"))
task.translate(Path("runs/fr"), ["three hundred and forty-two"], beam_size=4)  # ["trois cent quarante-deux"]
print(task.evaluate(Path("runs/fr"), split="test").summary())
```
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from kerasrnn import checks
from kerasrnn.data.sentence_pairs import SPELLED_NUMBERS
from kerasrnn.engine import run_dir as run_files
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import UserInputError
from kerasrnn.fileio import write_json
from kerasrnn.tasks.base import Task, model_line
from kerasrnn.tasks.capabilities import ScoresWholeFiles, Translates
from kerasrnn.tasks.text_tasks import (absolute_data_path, check_texts, cross_entropy_arguments,
                                       warn_about_unknown_tokens)
from kerasrnn.tasks.translate.config import TranslateConfig
from kerasrnn.tasks.translate.evaluation import Evaluation, evaluate_split

# This module stays light (no TensorFlow at import), like `config`, which the CLI reads for `--help`;
# the network, data and metrics modules are imported where needed.

SOURCE_VOCABULARY_FILE = "source_vocabulary.json"
TARGET_VOCABULARY_FILE = "target_vocabulary.json"
DECODING_FILE = "decoding.json"
SUBWORD_FILES = ("source_subwords.model", "target_subwords.model")
VALIDATION_BATCH = 256
# A pairs file's training batches are cut from pools of this many batches sorted by length (see
# `data.make_dataset`); spelled_numbers keeps plain shuffled batches.
LENGTH_POOL_BATCHES = 32


@dataclasses.dataclass(frozen=True)
class Prepared:
    """The pairs and the two vocabularies, as the network, the datasets and decoding take them."""

    pairs: Any  # a `kerasrnn.data.sentence_pairs.Pairs`
    source_vocabulary: list[str]  # each lookup's full vocabulary in id order, as saved in the run
    target_vocabulary: list[str]
    max_output_length: int  # the most tokens a translation may have before `[END]`
    tokens: tuple  # (source, target): the token mode, or each side's `subwords.Subwords`


class TranslateTask(Task, Translates, ScoresWholeFiles):
    """The encoder-decoder of the lecture's sequence-to-sequence models (see the module docstring)."""

    name = "translate"
    config_class = TranslateConfig
    loss_unit = "nats/token"
    splits = ("validation", "test", "train")
    evaluate_options = ("beam_size", "numbers")
    exporter = "kerasrnn.tasks.translate.export"
    baseline_metric = "baseline_loss"
    # A run made before encoders could be bidirectional read one way, whatever the preset says now.
    older_run_settings = {"bidirectional": False, "label_smoothing": 0.0, "tie_embeddings": False}

    def default_train_config(self, config: TranslateConfig) -> TrainConfig:
        """Adam with cosine decay, clipnorm 1, early stop after 3 epochs without
        progress; for spelled_numbers batches of 64, 6 epochs of 250 steps (its 16,005 training pairs
        about once each) at 5e-3; for a pairs file (the real-pairs preset) batches of 128, 30 passes
        over its training split at 3e-3 after a warm-up of 200 steps (cap them with `time_budget`)."""
        if config.data == SPELLED_NUMBERS:
            return TrainConfig(epochs=6, steps_per_epoch=250, batch_size=64, learning_rate=5e-3, patience=3)
        return TrainConfig(epochs=30, steps_per_epoch=None, batch_size=128, learning_rate=3e-3, patience=3,
                           warmup_steps=200)

    def resolve(self, config: TranslateConfig) -> TranslateConfig:
        """The config with its data paths made absolute, so that evaluate finds them from anywhere."""
        return dataclasses.replace(config, data=absolute_data_path(config.data, (SPELLED_NUMBERS,)),
                                   validation_data=absolute_data_path(config.validation_data),
                                   test_data=absolute_data_path(config.test_data))

    def reads_only_local_files(self, config: TranslateConfig) -> bool:
        return config.data != SPELLED_NUMBERS

    def load_data(self, config: TranslateConfig):
        from kerasrnn.data.sentence_pairs import load_pairs

        return load_pairs(config.data, config.pair, config.data_dir, validation_data=config.validation_data,
                          test_data=config.test_data)

    def evaluate(self, run_dir: Path, *, split: str = "validation", data: str | None = None,
                 data_dir: str | None = None, device: str = "auto", **options):
        """As `Task.evaluate`; `numbers="FIRST-LAST"` translates every number of that range instead
        of a split (`numbers_check`)."""
        numbers = options.pop("numbers", None)
        if numbers is None:
            return super().evaluate(run_dir, split=split, data=data, data_dir=data_dir, device=device, **options)
        from kerasrnn.tasks.translate.numbers_check import check_numbers

        checks.one_of("split", split, self.splits)
        if data is not None or data_dir is not None:
            raise UserInputError("--numbers checks the numbers it writes itself: drop --data and --data-dir")
        return check_numbers(self, run_dir, numbers, beam_size=options.get("beam_size", 1), device=device)

    def whole_data(self, config: TranslateConfig):
        """A pairs file given to `evaluate --data`, scored whole, not cut 80/10/10; a folder that
        names its splits keeps them. None for spelled_numbers."""
        from kerasrnn.data.sentence_pairs import load_pairs

        if config.data == SPELLED_NUMBERS:
            return None
        return load_pairs(config.data, config.pair, config.data_dir, whole=True)

    def prepare(self, config, train_config, pairs, run_dir: Path, *, resume: bool) -> Prepared:
        """The lookups' vocabularies (from the training split, or read back when resuming) and the
        longest translation decoded, written into the run directory."""
        from kerasrnn.tasks.translate import data

        if resume:
            source_tokens, target_tokens = (data.lookup_tokens(vocabulary)
                                            for vocabulary in _read_vocabularies(run_dir))
            max_output_length = _read_max_output_length(run_dir)
            tokens = _read_token_sides(config, run_dir)
        else:
            sources, targets = pairs.split("train")
            tokens = _learn_token_sides(config, sources, targets, run_dir)
            cap = None if config.tokens == "characters" else config.max_tokens  # characters are never cut
            source_tokens = data.vocabulary_tokens(sources, tokens[0], cap)
            target_tokens = data.vocabulary_tokens(targets, tokens[1], cap)
            # Twice the longest training target: room for longer test sentences, a bound on a loop.
            max_output_length = 2 * min(data.longest(targets, tokens[1]), config.max_length) + 10
        source_vocabulary = data.make_source_lookup(source_tokens).get_vocabulary()
        target_vocabulary = data.make_target_lookup(target_tokens).get_vocabulary()
        run_files.write_tokens(source_vocabulary, run_dir / SOURCE_VOCABULARY_FILE)
        run_files.write_tokens(target_vocabulary, run_dir / TARGET_VOCABULARY_FILE)
        write_json(run_dir / DECODING_FILE, {"max_output_length": max_output_length})
        return Prepared(pairs, source_vocabulary, target_vocabulary, max_output_length, tokens)

    def restore(self, config, pairs, run_dir: Path) -> Prepared:
        return Prepared(pairs, *_read_decoding(run_dir), _read_token_sides(config, run_dir))

    def steps_per_epoch(self, config, train_config, prepared: Prepared) -> int:
        return max(1, math.ceil(len(prepared.pairs.split("train")[0]) / train_config.batch_size))

    def training_memory(self, config, train_config, prepared: Prepared) -> int:
        from kerasrnn.engine.memory import recurrent_training_bytes

        # The encoder and the decoder: the decoder's outputs are over the target vocabulary.
        return sum(recurrent_training_bytes(cell=config.cell, units=config.units, layers=config.layers,
                                            inputs=config.embedding_dim, vocabulary=len(vocabulary),
                                            batch_size=train_config.batch_size, steps=config.max_length,
                                            outputs_per_step=outputs)
                   for vocabulary, outputs in ((prepared.source_vocabulary, 0),
                                               (prepared.target_vocabulary, None)))

    def build_model(self, config, prepared: Prepared, *, seed: int):
        from kerasrnn.tasks.translate.model import build_translator

        return build_translator(config, len(prepared.source_vocabulary), len(prepared.target_vocabulary),
                                seed=seed)

    def compile_arguments(self, config, prepared: Prepared) -> dict:
        return cross_entropy_arguments(loss_function(config.label_smoothing), per_token_weights=True)

    def output_classes(self, config, prepared: Prepared) -> int:
        return len(prepared.target_vocabulary)

    def describe(self, model, config, prepared: Prepared) -> str:
        return model_line(model, f"{len(prepared.source_vocabulary)} source and "
                                 f"{len(prepared.target_vocabulary)} target {config.tokens}")

    def datasets(self, config, train_config, prepared: Prepared, *, first_step: int = 0):
        from kerasrnn.tasks.translate import data

        source_lookup = data.make_source_lookup(data.lookup_tokens(prepared.source_vocabulary))
        target_lookup = data.make_target_lookup(data.lookup_tokens(prepared.target_vocabulary))
        return (
            data.make_dataset(source_lookup, target_lookup, *prepared.pairs.split("train"), prepared.tokens,
                              train_config.batch_size, config.max_length, seed=train_config.seed,
                              first_step=first_step,
                              pool_batches=None if config.data == SPELLED_NUMBERS else LENGTH_POOL_BATCHES),
            data.make_dataset(source_lookup, target_lookup, *prepared.pairs.split("validation"), prepared.tokens,
                              VALIDATION_BATCH, config.max_length),
        )

    def evaluate_model(self, model, config, prepared: Prepared, split: str, run_dir: Path, *,
                       beam_size: int = 1) -> Evaluation:
        """Decodes `split` and scores it (see the module docstring); writes `evaluation_<split>.json`.

        Raises:
          UserInputError: beam size not positive; an empty split; bad saved vocabularies.
        """
        checks.positive_int("beam size", beam_size)
        translator = self.translator_for(model, config, prepared, run_dir)
        evaluation = evaluate_split(model, translator, config, prepared.pairs, split, beam_size)
        write_json(Path(run_dir) / f"evaluation_{split}.json", evaluation.as_metrics())
        return evaluation

    # --- a finished run ------------------------------------------------------------------------

    def translator_for(self, model, config, prepared: Prepared, run_dir: Path):
        """`model` wrapped in a `model.Translator` (greedy and beam search) with the run's
        vocabularies; UserInputError naming `run_dir` if they do not fit the task's lookups."""
        from kerasrnn.tasks.translate.model import Translator

        try:
            return Translator(model, config, prepared.source_vocabulary, prepared.target_vocabulary,
                              prepared.max_output_length, tokens=prepared.tokens)
        except ValueError as error:
            raise UserInputError(f"{run_dir} has bad vocabularies: {error}") from error

    def load_model(self, run_dir: Path):
        """The run's best model, once its vocabularies are known to fit it (a file copied from another
        run would otherwise give ids past an embedding, or tokens under the wrong names)."""
        import kerasrnn.tasks.translate.tied_embedding  # noqa: F401 - registers the layer for deserialisation

        model = super().load_model(run_dir)
        _read_vocabularies(run_dir, model)
        return model

    def load_translator(self, run_dir: Path):
        """The run's best model wrapped in a `model.Translator` (greedy and beam search)."""
        config, _ = self.load_configs(run_dir)
        return self.translator_for(self.load_model(run_dir), config, self.restore(config, None, run_dir),
                                   run_dir)

    def translate(self, run_dir: Path, texts, *, beam_size: int = 1, device: str = "auto") -> list[str]:
        """The translation of each text by a run's best model (greedy, or beam search of `beam_size`).

        Raises:
          UserInputError: not a translate run; no texts; an empty (or blank) text; beam size not positive.
        """
        from kerasrnn.engine.devices import select_device
        from kerasrnn.tasks.translate.data import PAD_ID, UNK_ID

        texts = check_texts(texts, "translate")
        checks.positive_int("beam size", beam_size)
        self.load_configs(run_dir)
        run_files.check_run_dir(run_dir)
        select_device(device)
        translator = self.load_translator(run_dir)
        warn_about_unknown_tokens(texts, translator.encode(texts), unknown_id=UNK_ID, padding_id=PAD_ID)
        return translator.translate(texts, beam_size=beam_size)


def loss_function(label_smoothing: float = 0.0):
    """Mean cross-entropy per real target token, in nats: padding has weight 0 and is not counted.
    With `label_smoothing` ε, the training loss of `smoothed_loss` (the evaluation's teacher-forced
    loss stays the plain cross-entropy)."""
    import keras

    if label_smoothing:
        from kerasrnn.tasks.translate.smoothed_loss import SmoothedSparseCrossentropy

        return SmoothedSparseCrossentropy(label_smoothing, reduction="mean_with_sample_weight")
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight")


def _read_decoding(run_dir: Path) -> tuple[list[str], list[str], int]:
    """The source and target vocabularies and the longest translation, as saved in `run_dir`."""
    return (*_read_vocabularies(run_dir), _read_max_output_length(run_dir))


def _read_vocabularies(run_dir: Path, model=None) -> tuple[list[str], list[str]]:
    """The saved source and target vocabularies (padding, `[UNK]`, and for the target `[START]` and
    `[END]` first; no token twice), checked against `model`'s embedding and output sizes when given.

    Raises:
      UserInputError: a file unreadable, damaged, or of another run.
    """
    special = {SOURCE_VOCABULARY_FILE: ("", "[UNK]"), TARGET_VOCABULARY_FILE: ("", "[UNK]", "[START]", "[END]")}
    sizes = {SOURCE_VOCABULARY_FILE: None, TARGET_VOCABULARY_FILE: None}
    if model is not None:
        sizes = {SOURCE_VOCABULARY_FILE: model.get_layer("source_embedding").input_dim,
                 TARGET_VOCABULARY_FILE: model.get_layer("target_embedding").input_dim}
    vocabularies = []
    for name in (SOURCE_VOCABULARY_FILE, TARGET_VOCABULARY_FILE):
        path = Path(run_dir) / name
        vocabularies.append(checks.saved_list(path, run_files.read_tokens(path), what="tokens", first=special[name],
                                              size=sizes[name]))
    return vocabularies[0], vocabularies[1]


def _learn_token_sides(config, sources: list[str], targets: list[str], run_dir: Path) -> tuple:
    """`(source, target)` tokens of a new run: the token mode for both, or for subwords a model per
    side learned from the training texts (of `max_tokens` pieces), saved in `run_dir`."""
    if config.tokens != "subwords":
        return config.tokens, config.tokens
    from kerasrnn.tasks.translate.subwords import Subwords, learn_subwords

    sides = tuple(Subwords(learn_subwords(texts, config.max_tokens)) for texts in (sources, targets))
    for subwords, name in zip(sides, SUBWORD_FILES):
        subwords.write(Path(run_dir) / name)
    return sides


def _read_token_sides(config, run_dir: Path) -> tuple:
    """`(source, target)` tokens of a saved run: its token mode, or its saved subword models."""
    if config.tokens != "subwords":
        return config.tokens, config.tokens
    from kerasrnn.tasks.translate.subwords import Subwords

    return tuple(Subwords.read(Path(run_dir) / name) for name in SUBWORD_FILES)


def _read_max_output_length(run_dir: Path) -> int:
    path = Path(run_dir) / DECODING_FILE
    try:
        value = run_files.read_json(path)["max_output_length"]
    except (KeyError, TypeError) as error:
        raise UserInputError(f"cannot read {path}: {error}") from error
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserInputError(f"{path} has a bad max_output_length {value!r}")
    return value
