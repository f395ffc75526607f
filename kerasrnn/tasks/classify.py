"""Text classification (task `classify`): text → tokens → embedding → recurrent layers → class.

The text is turned into ids by a `keras.layers.TextVectorization` (words by default, characters as
an option) adapted on the training split; the ids go through an embedding with `mask_zero=True`, so
padding never enters the recurrence, then one or more recurrent layers of any cell name
(`kerasrnn.recurrent`), optionally bidirectional, and a dense layer giving one logit per class.
The data come from `classify_data.load_labelled_texts`: the embedded `spelled_numbers` (numbers in
words, labelled by language; the default, works offline), `imdb_reviews`, a folder of class
folders, or a CSV/TSV file.

A run directory holds, besides what `kerasrnn.training` writes, `vocabulary.json` (the
vectorizer's tokens, `''` and `[UNK]` first), `labels.json` (the class names, in id order) and, for
each evaluated split, `evaluation_<split>.json` and `confusion_<split>.png`. Losses are in nats per
example, next to the prior baseline: the cross-entropy of predicting the training split's class
frequencies.

Example:

```python
result = train(ClassifyConfig(data="reviews.tsv"), default_train_config(ClassifyConfig()), Path("runs/a"))
print(result.summary())
for prediction in classify(Path("runs/a"), ["great phone", "awful food"]):
    print(prediction.label, prediction.probability)
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

TASK = "classify"
LOSS_UNIT = "nats"
LABELS_FILE = "labels.json"
TOKEN_MODES = ("words", "characters")
SPLITS = ("validation", "test", "train", "heldout")  # heldout: validation and test together


@dataclasses.dataclass(frozen=True)
class ClassifyConfig:
    """Settings of the text classifier and its data.

    Attributes:
      cell: recurrent layer, one of `kerasrnn.recurrent.CELL_NAMES`.
      units: units per recurrent layer (per direction; complex units for `urnn`).
      layers: number of stacked recurrent layers.
      bidirectional: read each text both ways (`keras.layers.Bidirectional`).
      dropout: dropout rate before the output layer while training.
      embedding_dim: size of the token embedding.
      tokens: `"words"` or `"characters"`; None: the data's default, which is words except for
        `spelled_numbers` (its German and Italian numbers are single words, nearly all unseen in
        training), where it is characters. A trained run saves the mode it used.
      max_tokens: vocabulary size cap, padding and `[UNK]` included.
      max_length: tokens kept from the start of each text.
      data: `"spelled_numbers"`, `"imdb_reviews"`, or the path of a folder or a CSV/TSV file.
      data_dir: tensorflow-datasets folder for the named sources; None: tfds's default.
      text_column, label_column: the columns of a CSV/TSV file (header names, or numbers from 0).
    """

    cell: str = "lstm"
    units: int = 64
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    embedding_dim: int = 64
    tokens: str | None = None
    max_tokens: int = 20_000
    max_length: int = 300
    data: str = "spelled_numbers"
    data_dir: str | None = None
    text_column: str = "text"
    label_column: str = "label"

    def __post_init__(self):
        check_cell_name(self.cell)
        for label, value in (("units", self.units), ("layers", self.layers),
                             ("embedding dim", self.embedding_dim), ("max length", self.max_length)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserInputError(f"{label} must be a positive integer, got {value!r}")
        if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int) or self.max_tokens < 3:
            raise UserInputError(f"max tokens must be an integer of at least 3, got {self.max_tokens!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise UserInputError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.tokens is not None and self.tokens not in TOKEN_MODES:
            raise UserInputError(f"unknown token mode {self.tokens!r}: choose words or characters")
        if not isinstance(self.data, str) or not self.data.strip():
            raise UserInputError("no data given: name a source or give the path of a file or folder")
        for label, value in (("text column", self.text_column), ("label column", self.label_column)):
            if not isinstance(value, str) or not value.strip():
                raise UserInputError(f"the {label} must be a non-empty name or number")
        if self.text_column == self.label_column:
            raise UserInputError(f"the text and label columns are both {self.text_column!r}: give two columns")

    def resolved(self) -> "ClassifyConfig":
        """The config with `tokens` chosen (see the attribute) and a data path made absolute."""
        from kerasrnn.tasks.classify_data import SOURCE_NAMES, SPELLED_NUMBERS

        tokens = self.tokens or ("characters" if self.data == SPELLED_NUMBERS else "words")
        data = self.data
        path = Path(data).expanduser()
        if data not in SOURCE_NAMES and path.exists():
            data = str(path.resolve())
        return dataclasses.replace(self, tokens=tokens, data=data)


CONFIG_CLASS = ClassifyConfig


def default_train_config(config: ClassifyConfig) -> TrainConfig:
    """Adam 3e-3 with cosine decay, clipnorm 1, batches of 32, early stop after 3 epochs without
    progress. For spelled_numbers (80,000 training texts): 4 epochs of 300 steps; for other data:
    12 passes over the training split."""
    if config.data == "spelled_numbers":
        return TrainConfig(epochs=4, steps_per_epoch=300, batch_size=32, learning_rate=3e-3, patience=3)
    return TrainConfig(epochs=12, steps_per_epoch=None, batch_size=32, learning_rate=3e-3, patience=3)


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Accuracy, loss and per-class precision / recall of a model on one split."""

    split: str
    loss: float
    accuracy: float
    baseline_loss: float
    majority_accuracy: float
    class_names: tuple[str, ...]
    precision: tuple[float, ...]
    recall: tuple[float, ...]
    confusion: tuple[tuple[int, ...], ...]
    examples: int
    confusion_png: Path | None = None

    def summary(self) -> str:
        lines = [
            f"{self.split.capitalize()} accuracy {self.accuracy:.1%} over {self.examples:,} texts "
            f"(majority class {self.majority_accuracy:.1%}); loss {self.loss:.4f} nats, prior "
            f"baseline {self.baseline_loss:.4f} nats",
            "| class | precision | recall | texts |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name, precision, recall, row in zip(self.class_names, self.precision, self.recall, self.confusion):
            lines.append(f"| {name} | {precision:.1%} | {recall:.1%} | {sum(row):,} |")
        if self.confusion_png is not None:
            lines.append(f"Confusion matrix: {self.confusion_png}")
        return "\n".join(lines)

    def as_json(self) -> dict:
        payload = dataclasses.asdict(self)
        payload["confusion_png"] = None if self.confusion_png is None else str(self.confusion_png)
        return payload


@dataclasses.dataclass(frozen=True)
class Prediction:
    """The most likely class of one text and its probability."""

    text: str
    label: str
    probability: float


def train(
    config: ClassifyConfig,
    train_config: TrainConfig,
    run_dir: Path | None = None,
    *,
    resume: bool = False,
    device: str = "auto",
    verbose: str | int = "auto",
) -> training.TrainResult:
    """Trains a text classifier into a run directory, or resumes one.

    Raises:
      UserInputError: bad data or run directory, settings that differ from the resumed run, or a
        training that diverged.
    """
    import keras

    from kerasrnn.tasks import text_data
    from kerasrnn.tasks.classify_model import build_text_classifier, loss_function, make_dataset

    started = time.monotonic()
    config = config.resolved()
    run_dir, data = training.start_run(TASK, config, train_config, run_dir, resume=resume, device=device,
                                       saved_configs=load_configs, load_data=lambda: _load_data(config))
    train_texts, train_labels = data.split("train")
    if resume:
        vectorizer = text_data.make_text_vectorizer(
            config.tokens, vocabulary=text_data.load_tokens(run_dir / training.VOCABULARY_FILE))
        _check_labels(run_dir, data.class_names)
    else:
        import tensorflow as tf

        vectorizer = text_data.make_text_vectorizer(config.tokens, max_tokens=config.max_tokens)
        vectorizer.adapt(tf.data.Dataset.from_tensor_slices(train_texts).batch(1024))
    training.save_config(run_dir, TASK, config, train_config)
    text_data.save_tokens(vectorizer.get_vocabulary(), run_dir / training.VOCABULARY_FILE)
    text_data.save_tokens(data.class_names, run_dir / LABELS_FILE)

    keras.utils.set_random_seed(train_config.seed)
    batch = train_config.batch_size
    steps = train_config.steps_per_epoch or max(1, math.ceil(len(train_texts) / batch))
    model = build_text_classifier(config, vectorizer.vocabulary_size(), len(data.class_names),
                                  seed=train_config.seed)
    model.compile(
        optimizer=training.make_optimizer(train_config, train_config.epochs * steps),
        loss=loss_function(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    logger.info("%s: %s parameters, %d %s, %d classes", model.name, f"{model.count_params():,}",
                vectorizer.vocabulary_size(), config.tokens, len(data.class_names))
    validation_texts, validation_labels = data.split("validation")
    history = training.fit(
        model,
        make_dataset(vectorizer, train_texts, train_labels, batch, config.max_length, seed=train_config.seed),
        make_dataset(vectorizer, validation_texts, validation_labels, 256, config.max_length),
        run_dir,
        train_config,
        steps_per_epoch=steps,
        verbose=verbose,
    )
    best = load_model(run_dir)
    validation = _evaluate_model(best, vectorizer, config, data, "validation", run_dir)
    best_epoch = training.best_epoch(history)
    training.write_json(run_dir / training.METRICS_FILE, {
        **validation.as_json(), "best_epoch": best_epoch, "epochs": len(history["epoch"]),
        "parameters": best.count_params(),
    })
    return training.TrainResult(run_dir, len(history["epoch"]), len(history["epoch"]) * steps, best_epoch,
                                time.monotonic() - started, best.count_params(), validation)


def _check_labels(run_dir: Path, class_names) -> None:
    from kerasrnn.tasks import text_data

    saved = tuple(text_data.load_tokens(Path(run_dir) / LABELS_FILE))
    if saved != tuple(class_names):
        raise UserInputError(
            f"the data's classes {list(class_names)} differ from the run's {list(saved)} in {run_dir}"
        )


def _load_data(config: ClassifyConfig):
    from kerasrnn.tasks.classify_data import load_labelled_texts

    return load_labelled_texts(config.data, config.data_dir, text_column=config.text_column,
                               label_column=config.label_column)


def load_configs(run_dir: Path) -> tuple[ClassifyConfig, TrainConfig]:
    """The `ClassifyConfig` and `TrainConfig` saved in a classify run directory."""
    return training.load_task_configs(run_dir, TASK, ClassifyConfig)


def load_model(run_dir: Path) -> "keras.Model":
    """The best model saved in a classify run directory (ids in, logits out)."""
    config, _ = load_configs(run_dir)
    return training.load_best_model(run_dir, config.cell)


def load_vectorizer(run_dir: Path):
    """The run's TextVectorization, rebuilt from its saved vocabulary; and the class names."""
    from kerasrnn.tasks import text_data

    config, _ = load_configs(run_dir)
    vectorizer = text_data.make_text_vectorizer(
        config.tokens, vocabulary=text_data.load_tokens(Path(run_dir) / training.VOCABULARY_FILE))
    return vectorizer, tuple(text_data.load_tokens(Path(run_dir) / LABELS_FILE))


def baseline(run_dir: Path) -> float:
    """The prior baseline of a run, in nats: predict the training class frequencies on validation."""
    return training.saved_metric(run_dir, "baseline_loss")


def evaluate(
    run_dir: Path,
    *,
    split: str = "validation",
    data: str | None = None,
    data_dir: str | None = None,
    device: str = "auto",
) -> Evaluation:
    """Accuracy, loss, per-class precision / recall and a confusion-matrix PNG of a run on a split.

    Writes `evaluation_<split>.json` and `confusion_<split>.png` in `run_dir`. `data` (with the
    run's columns) and `data_dir` replace the run's data source.

    Raises:
      UserInputError: not a classify run; unknown split; data whose classes are not the run's.
    """
    if split not in SPLITS:
        raise UserInputError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    config, _ = load_configs(run_dir)
    training.check_run_dir(run_dir)
    if data is not None or data_dir is not None:
        config = dataclasses.replace(config, data=data or config.data,
                                     data_dir=data_dir or config.data_dir).resolved()
    training.select_device(device)
    loaded = _load_data(config)
    vectorizer, class_names = load_vectorizer(run_dir)
    _check_labels(run_dir, loaded.class_names)
    return _evaluate_model(load_model(run_dir), vectorizer, config, loaded, split, Path(run_dir))


def _evaluate_model(model, vectorizer, config, data, split, run_dir: Path) -> Evaluation:
    import numpy as np

    from kerasrnn.tasks import classify_model

    if split == "heldout":
        texts = data.split("validation")[0] + data.split("test")[0]
        labels = data.split("validation")[1] + data.split("test")[1]
    else:
        texts, labels = data.split(split)
    classes = len(data.class_names)
    probabilities = classify_model.predict_probabilities(model, vectorizer, texts, config.max_length)
    labels = np.asarray(labels, np.int64)
    loss = float(-np.mean(np.log(np.maximum(probabilities[np.arange(len(labels)), labels], 1e-12))))
    prior = np.bincount(data.split("train")[1], minlength=classes) / len(data.split("train")[1])
    baseline_loss = float(-np.mean(np.log(np.maximum(prior[labels], 1e-12))))
    matrix = classify_model.confusion_matrix(labels, probabilities.argmax(axis=1), classes)
    precision, recall = classify_model.precision_recall(matrix)
    png = run_dir / f"confusion_{split}.png"
    accuracy = float(np.trace(matrix) / max(1, matrix.sum()))
    classify_model.plot_confusion_matrix(
        matrix, data.class_names, png, f"{config.cell} on {split}: accuracy {accuracy:.1%}")
    evaluation = Evaluation(
        split=split, loss=loss, accuracy=accuracy, baseline_loss=baseline_loss,
        majority_accuracy=float(np.bincount(labels, minlength=classes)[int(prior.argmax())] / len(labels)),
        class_names=tuple(data.class_names), precision=tuple(map(float, precision)),
        recall=tuple(map(float, recall)), confusion=tuple(tuple(map(int, row)) for row in matrix),
        examples=len(labels), confusion_png=png,
    )
    training.write_json(run_dir / f"evaluation_{split}.json", evaluation.as_json())
    return evaluation


def classify(run_dir: Path, texts, *, device: str = "auto") -> list[Prediction]:
    """The most likely class of each text, with its probability, from a run's best model.

    Raises:
      UserInputError: not a classify run; no texts; an empty (or blank) text.
    """
    from kerasrnn.tasks import classify_model

    texts = list(texts)
    if not texts:
        raise UserInputError("no text given: give one or more texts to classify")
    for index, text in enumerate(texts, start=1):
        if not text.strip():
            raise UserInputError(f"text {index} is empty: give some words to classify")
    config, _ = load_configs(run_dir)
    training.check_run_dir(run_dir)
    training.select_device(device)
    vectorizer, class_names = load_vectorizer(run_dir)
    probabilities = classify_model.predict_probabilities(load_model(run_dir), vectorizer, texts,
                                                         config.max_length)
    return [Prediction(text, class_names[int(row.argmax())], float(row.max()))
            for text, row in zip(texts, probabilities)]
