"""Text classification (task `classify`): text → tokens → embedding → recurrent layers → class.

The text is turned into ids by a `keras.layers.TextVectorization` (words or characters) adapted on
the training split; the ids go through an embedding with `mask_zero=True`, so padding never enters
the recurrence, then one or more recurrent layers of any cell name (`kerasrnn.recurrent`),
optionally bidirectional, their last state or a masked pooling over every step (`pooling.py`), and
a dense layer giving one logit per class. The settings a user leaves out come from a preset chosen
by the kind of data (`TOY_DEFAULTS` for spelled_numbers, `REAL_TEXT_DEFAULTS` for anything else),
and so does the training (`TOY_TRAINING`, `REAL_TEXT_TRAINING`). The kept model is the epoch of the
best validation accuracy (`monitored`), ties broken by the lower validation loss.
The data come from `kerasrnn.data.labelled_texts.load_labelled_texts`: the embedded
`spelled_numbers` (numbers in words, labelled by language; the default, works offline),
`imdb_reviews`, a folder of class folders, or a CSV/TSV file.

A run directory holds, besides what the run skeleton (`kerasrnn.engine.run`) writes,
`vocabulary.json` (the vectorizer's tokens, `''` and `[UNK]` first), `labels.json` (the class
names, in id order) and, for each evaluated split, `evaluation_<split>.json` and
`confusion_<split>.png`. Losses are in nats per example, next to the prior baseline: the
cross-entropy of predicting the training split's class frequencies. On spelled_numbers the
evaluation also gives the accuracy per magnitude band of the numbers (0–99, 100–999, 10³–10⁶,
above), and `evaluate(run, numbers="0-999")` checks every number of a range in every language
(`numbers_check`), texts that are the same in two languages ("uno") reported apart.

Example:

```python
from kerasrnn.engine.run import train

task = ClassifyTask()
config = ClassifyConfig(data="reviews.tsv")
result = train(task, config, task.default_train_config(config), Path("runs/a"))
print(result.summary())
for prediction in task.classify(Path("runs/a"), ["great phone", "awful food"]):
    print(prediction.label, prediction.probability)
```
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from kerasrnn import checks
from kerasrnn.engine.monitored import VAL_ACCURACY
from kerasrnn.engine.run_dir import VOCABULARY_FILE, check_run_dir, read_tokens, write_tokens
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import UserInputError
from kerasrnn.fileio import write_json
from kerasrnn.tasks.base import Task, model_line
from kerasrnn.tasks.capabilities import Classifies, ScoresWholeFiles
from kerasrnn.tasks.classify.evaluation import EVALUATION_BATCH, Evaluation, evaluate_split
from kerasrnn.tasks.text_tasks import (absolute_data_path, check_texts, cross_entropy_arguments,
                                       warn_about_unknown_tokens)
from kerasrnn.tasks.network_config import NetworkConfig
from kerasrnn.tasks.presets import fill_preset

# This module stays light (no TensorFlow at import), so that the CLI can read the defaults of
# `ClassifyConfig` for `--help`; the network and token modules are imported where needed.

LABELS_FILE = "labels.json"
UNKNOWN_TOKEN = "[UNK]"  # TextVectorization's, second in its vocabulary after padding ('')
TOKEN_MODES = ("words", "characters")
POOLING_MODES = ("last", "max", "mean", "attention")  # as `pooling.POOLING_MODES`, without TensorFlow
TOY_DATA = "spelled_numbers"

# What a setting left as None becomes, by the kind of data (see `ClassifyConfig`): the toy numbers
# keep the small one-way character model that learns them in under a minute; real text (files,
# folders, imdb_reviews) gets the real-text preset, each choice measured on the validation split of
# SST-2 (docs/classification.md).
TOY_DEFAULTS = dict(cell="lstm", units=64, embedding_dim=64, bidirectional=False, pooling="last", dropout=0.0,
                    embedding_dropout=0.0, tokens="characters", max_tokens=20_000)
REAL_TEXT_DEFAULTS = dict(cell="keras-lstm", units=64, embedding_dim=128, bidirectional=True, pooling="max",
                          dropout=0.3, embedding_dropout=0.2, tokens="words", max_tokens=20_000)
# And the training each preset gets (`ClassifyTask.default_train_config`). No warm-up for real text:
# 200 steps of it gained 0.3 points of validation accuracy on SST-2, within the spread of seeds, and
# a warm-up of a fixed number of steps takes the whole run of a small data set (2,000 sentences:
# 100 steps in all).
TOY_TRAINING = dict(epochs=4, steps_per_epoch=300, batch_size=32, learning_rate=3e-3, patience=3)
REAL_TEXT_TRAINING = dict(epochs=3, steps_per_epoch=None, batch_size=64, learning_rate=3e-3, warmup_steps=0,
                          patience=2)


@dataclasses.dataclass(frozen=True)
class ClassifyConfig(NetworkConfig):
    """Settings of the text classifier and its data.

    Settings left as None take the defaults of the data's kind when the config is made: for
    spelled_numbers `TOY_DEFAULTS` (a one-way `lstm` of 64 units over characters, the last state
    read out), for every other data `REAL_TEXT_DEFAULTS`, the real-text preset (words, a
    bidirectional `keras-lstm`, max pooling over time, dropout on the embeddings and before the
    output). A trained run saves the values it used.

    Attributes (besides `NetworkConfig`'s; `units` are per direction, and `dropout` is applied
    before the output layer):
      bidirectional: read each text both ways (`keras.layers.Bidirectional`).
      pooling: how the steps of the last recurrent layer become one vector: `"last"` (its final
        state), or masked `"max"`, `"mean"` or `"attention"` pooling over every step (`pooling.py`).
      embedding_dropout: dropout rate of the token embeddings while training.
      tokens: `"words"` or `"characters"` (spelled_numbers' German and Italian numbers are single
        words, nearly all unseen in training: characters there).
      max_tokens: vocabulary size cap, padding and `[UNK]` included.
      max_length: tokens kept from the start of each text.
      data: `"spelled_numbers"`, `"imdb_reviews"`, or the path of a folder or a CSV/TSV file.
      data_dir: tensorflow-datasets folder for the named sources; None: tfds's default.
      text_column, label_column: the columns of a CSV/TSV file (header names, or numbers from 0).
      validation_data, test_data: a file or folder (of your own data) whose whole content is the
        validation or test split; None: the split `data` names (`dev.tsv`, `test.tsv` in its
        folder), or a seeded tenth of the training data.
    """

    cell: str | None = None
    units: int | None = None
    dropout: float | None = None
    embedding_dim: int | None = None
    bidirectional: bool | None = None
    pooling: str | None = None
    embedding_dropout: float | None = None
    tokens: str | None = None
    max_tokens: int | None = None
    max_length: int = 300
    data: str = TOY_DATA
    data_dir: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    validation_data: str | None = None
    test_data: str | None = None

    def __post_init__(self):
        checks.non_empty_text("no data given: name a source or give the path of a file or folder", self.data)
        fill_preset(self, TOY_DEFAULTS if self.data == TOY_DATA else REAL_TEXT_DEFAULTS)
        super().__post_init__()
        checks.positive_int("max length", self.max_length)
        checks.int_at_least("max tokens", self.max_tokens, 3)
        checks.one_of("token mode", self.tokens, TOKEN_MODES)
        checks.one_of("pooling", self.pooling, POOLING_MODES)
        checks.rate("embedding dropout", self.embedding_dropout)
        if not isinstance(self.bidirectional, bool):
            raise UserInputError(f"bidirectional must be True or False, got {self.bidirectional!r}")
        for label, value in (("text column", self.text_column), ("label column", self.label_column)):
            checks.non_empty_text(f"the {label} must be a non-empty name or number", value)
        if self.text_column == self.label_column:
            raise UserInputError(f"the text and label columns are both {self.text_column!r}: give two columns")
        if (self.validation_data or self.test_data) and self.data in ("spelled_numbers", "imdb_reviews"):
            raise UserInputError(f"separate validation or test data go with data of your own, not {self.data}")

    def resolved(self) -> "ClassifyConfig":
        """The config with its data paths made absolute."""
        from kerasrnn.data.labelled_texts import SOURCE_NAMES

        return dataclasses.replace(self, data=absolute_data_path(self.data, SOURCE_NAMES),
                                   validation_data=absolute_data_path(self.validation_data),
                                   test_data=absolute_data_path(self.test_data))


@dataclasses.dataclass(frozen=True)
class Prediction:
    """The most likely class of one text and its probability."""

    text: str
    label: str
    probability: float


@dataclasses.dataclass(frozen=True)
class Prepared:
    """The vectorizer, the class names and the data, as the network and the datasets take them."""

    vectorizer: Any  # a TextVectorization from `data.make_text_vectorizer`
    class_names: tuple[str, ...]
    data: Any  # a `kerasrnn.data.labelled_texts.LabelledTexts`


class ClassifyTask(Task, Classifies, ScoresWholeFiles):
    """The text classifier (see the module docstring)."""

    name = "classify"
    config_class = ClassifyConfig
    loss_unit = "nats"
    splits = ("validation", "test", "train", "heldout")  # heldout: validation and test together
    evaluate_options = ("numbers",)
    exporter = "kerasrnn.tasks.classify.export"
    baseline_metric = "baseline_loss"  # the prior baseline, on validation
    # A run saved before these settings existed read out the last state and had no embedding dropout.
    older_run_settings = {"pooling": "last", "embedding_dropout": 0.0}
    monitored = VAL_ACCURACY  # the epoch that labels the most texts right, not the one of the lowest loss

    def default_train_config(self, config: ClassifyConfig) -> TrainConfig:
        """Adam with cosine decay and clipnorm 1. For spelled_numbers (198,775 training texts, every
        number of digits an equal share): `TOY_TRAINING`, 4 epochs of 300 steps, batches of 32,
        learning rate 3e-3; for other data `REAL_TEXT_TRAINING`, the real-text preset's (passes
        over the training split, a warm-up, a decay that ends with the epochs that help)."""
        return TrainConfig(**(TOY_TRAINING if config.data == TOY_DATA else REAL_TEXT_TRAINING))

    def resolve(self, config: ClassifyConfig) -> ClassifyConfig:
        return config.resolved()

    def reads_only_local_files(self, config: ClassifyConfig) -> bool:
        from kerasrnn.data.labelled_texts import SOURCE_NAMES

        return config.data not in SOURCE_NAMES

    def load_data(self, config: ClassifyConfig):
        from kerasrnn.data.labelled_texts import load_labelled_texts

        return load_labelled_texts(config.data, config.data_dir, text_column=config.text_column,
                                   label_column=config.label_column, validation_data=config.validation_data,
                                   test_data=config.test_data)

    def evaluate(self, run_dir: Path, *, split: str = "validation", data: str | None = None,
                 data_dir: str | None = None, device: str = "auto", **options):
        """As `Task.evaluate`; `data` of your own is scored whole (every split is all of it) unless
        it names its splits (`train.tsv`, `dev.tsv`, `test.tsv`); `numbers="FIRST-LAST"` checks every
        number of that range in every language instead (`numbers_check`)."""
        if options.get("numbers") is not None:
            from kerasrnn.tasks.classify.numbers_check import check_numbers

            checks.one_of("split", split, self.splits)
            return check_numbers(self, run_dir, options["numbers"], device=device)
        options.pop("numbers", None)
        return super().evaluate(run_dir, split=split, data=data, data_dir=data_dir, device=device, **options)

    def whole_data(self, config: ClassifyConfig):
        """A file or folder given to `evaluate --data`, every split all of it unless it names its
        splits (`train.tsv`, `dev.tsv`, `test.tsv`); None for a named source."""
        from kerasrnn.data.labelled_texts import SOURCE_NAMES, load_labelled_texts

        if config.data in SOURCE_NAMES:
            return None
        return load_labelled_texts(config.data, config.data_dir, text_column=config.text_column,
                                   label_column=config.label_column, whole=True)

    def prepare(self, config, train_config, data, run_dir: Path, *, resume: bool) -> Prepared:
        """Adapts the vectorizer on the training texts (resuming: reads it back and checks that the
        data has the run's classes); writes `vocabulary.json` and `labels.json`."""
        if resume:
            vectorizer, saved = self.load_vectorizer(run_dir, config)
            check_labels(run_dir, saved, data.class_names)
        else:
            import tensorflow as tf

            from kerasrnn.tasks.classify import data as tokens

            vectorizer = tokens.make_text_vectorizer(config.tokens, max_tokens=config.max_tokens)
            vectorizer.adapt(tf.data.Dataset.from_tensor_slices(data.split("train")[0]).batch(1024))
        write_tokens(vectorizer.get_vocabulary(), run_dir / VOCABULARY_FILE)
        write_tokens(data.class_names, run_dir / LABELS_FILE)
        return Prepared(vectorizer, tuple(data.class_names), data)

    def restore(self, config, data, run_dir: Path) -> Prepared:
        vectorizer, class_names = self.load_vectorizer(run_dir, config)
        check_labels(run_dir, class_names, data.class_names)
        return Prepared(vectorizer, class_names, data)

    def steps_per_epoch(self, config, train_config, prepared: Prepared) -> int:
        return max(1, math.ceil(len(prepared.data.split("train")[0]) / train_config.batch_size))

    def training_memory(self, config, train_config, prepared: Prepared) -> int:
        from kerasrnn.engine.memory import recurrent_training_bytes

        return recurrent_training_bytes(cell=config.cell, units=config.units,
                                        layers=config.layers * (2 if config.bidirectional else 1),
                                        inputs=config.embedding_dim, vocabulary=prepared.vectorizer.vocabulary_size(),
                                        batch_size=train_config.batch_size, steps=config.max_length,
                                        outputs_per_step=0)

    def build_model(self, config, prepared: Prepared, *, seed: int):
        from kerasrnn.tasks.classify.model import build_text_classifier

        return build_text_classifier(config, prepared.vectorizer.vocabulary_size(), len(prepared.class_names),
                                     seed=seed)

    def compile_arguments(self, config, prepared: Prepared) -> dict:
        from kerasrnn.tasks.classify.model import loss_function

        return cross_entropy_arguments(loss_function())

    def output_classes(self, config, prepared: Prepared) -> int:
        return len(prepared.class_names)

    def describe(self, model, config, prepared: Prepared) -> str:
        return model_line(model, f"{prepared.vectorizer.vocabulary_size()} {config.tokens}",
                          f"{len(prepared.class_names)} classes")

    def datasets(self, config, train_config, prepared: Prepared, *, first_step: int = 0):
        from kerasrnn.tasks.classify.model import make_dataset

        train_texts, train_labels = prepared.data.split("train")
        validation_texts, validation_labels = prepared.data.split("validation")
        return (
            make_dataset(prepared.vectorizer, train_texts, train_labels, train_config.batch_size,
                         config.max_length, seed=train_config.seed, first_step=first_step),
            make_dataset(prepared.vectorizer, validation_texts, validation_labels, EVALUATION_BATCH,
                         config.max_length),
        )

    def evaluate_model(self, model, config, prepared: Prepared, split: str, run_dir: Path) -> Evaluation:
        """Accuracy, loss, per-class precision / recall of `model` on `split`; writes
        `evaluation_<split>.json` and `confusion_<split>.png` in `run_dir`."""
        evaluation = evaluate_split(model, config, prepared, split, run_dir)
        write_json(run_dir / f"evaluation_{evaluation.split}.json", evaluation.as_json())
        return evaluation

    def load_vectorizer(self, run_dir: Path, config: ClassifyConfig):
        """The run's TextVectorization, rebuilt from its saved vocabulary; and the class names.

        Raises:
          UserInputError: `vocabulary.json` or `labels.json` unreadable, damaged or of another run.
        """
        from kerasrnn.tasks.classify import data as tokens

        vocabulary, class_names = self._read_vocabulary_and_labels(run_dir)
        return tokens.make_text_vectorizer(config.tokens, vocabulary=vocabulary), tuple(class_names)

    def _read_vocabulary_and_labels(self, run_dir: Path, model=None) -> tuple[list[str], list[str]]:
        """The saved vocabulary and class names, checked (and against `model`'s sizes when given)."""
        vocabulary_path, labels_path = Path(run_dir) / VOCABULARY_FILE, Path(run_dir) / LABELS_FILE
        sizes = (None, None) if model is None else (model.get_layer("embedding").input_dim,
                                                     model.get_layer("logits").units)
        vocabulary = checks.saved_list(vocabulary_path, read_tokens(vocabulary_path), what="tokens",
                                       first=("", UNKNOWN_TOKEN), size=sizes[0])
        class_names = checks.saved_list(labels_path, read_tokens(labels_path), what="classes", at_least=2,
                                        size=sizes[1])
        return vocabulary, class_names

    def load_model(self, run_dir: Path):
        """The run's best model, once its vocabulary and class names are known to fit it (a file
        copied from another run would otherwise give ids past the embedding or the wrong names)."""
        import kerasrnn.tasks.classify.pooling  # noqa: F401 - registers the pooling layer for deserialisation

        model = super().load_model(run_dir)
        self._read_vocabulary_and_labels(run_dir, model)
        return model

    def classify(self, run_dir: Path, texts, *, device: str = "auto") -> list[Prediction]:
        """The most likely class of each text, with its probability, from a run's best model.

        Raises:
          UserInputError: not a classify run; no texts; an empty (or blank) text.
        """
        from kerasrnn.engine.devices import select_device
        from kerasrnn.tasks.classify.data import PAD_ID, UNKNOWN_ID
        from kerasrnn.tasks.classify.model import predict_probabilities

        texts = check_texts(texts, "classify")
        config, _ = self.load_configs(run_dir)
        check_run_dir(run_dir)
        select_device(device)
        model = self.load_model(run_dir)
        vectorizer, class_names = self.load_vectorizer(run_dir, config)
        warn_about_unknown_tokens(texts, vectorizer(texts), unknown_id=UNKNOWN_ID, padding_id=PAD_ID)
        probabilities = predict_probabilities(model, vectorizer, texts, config.max_length)
        return [Prediction(text, class_names[int(row.argmax())], float(row.max()))
                for text, row in zip(texts, probabilities)]


def check_labels(run_dir: Path, saved, class_names) -> None:
    """UserInputError unless the data's `class_names` are the run's `saved` ones, in the same order."""
    if tuple(saved) != tuple(class_names):
        raise UserInputError(
            f"the data's classes {list(class_names)} differ from the run's {list(saved)} in "
            f"{Path(run_dir) / LABELS_FILE}: give data of the run's classes"
        )
