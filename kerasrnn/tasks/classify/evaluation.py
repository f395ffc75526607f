"""How well a classify run labels one split: `Evaluation` (accuracy, loss next to the prior baseline,
per-class precision and recall, the confusion matrix, accuracy per band of spelled_numbers), and
`evaluate_split`, which computes it with the metrics of `model` and draws `confusion_<split>.png`.

This module stays light (no TensorFlow at import): the network and token modules are imported
where needed.

Example:

```python
evaluation = evaluate_split(model, config, prepared, "test", Path("runs/a"))
print(evaluation.summary())
```
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kerasrnn.tasks.text_tasks import warn_about_unknown_share

EVALUATION_BATCH = 256
WHOLE = "data"  # the split name of an evaluation of data scored whole (`evaluate --data FILE`)


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
    bands: tuple = ()  # `spelled_numbers.BandAccuracy` per magnitude band (spelled_numbers only)

    def summary(self) -> str:
        what = "Accuracy on the whole of the given data" if self.split == WHOLE else (
            f"{self.split.capitalize()} accuracy")
        lines = [
            f"{what} {self.accuracy:.1%} over {self.examples:,} texts "
            f"(majority class {self.majority_accuracy:.1%}); loss {self.loss:.4f} nats, prior "
            f"baseline {self.baseline_loss:.4f} nats",
            "| class | precision | recall | texts |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name, precision, recall, row in zip(self.class_names, self.precision, self.recall, self.confusion):
            lines.append(f"| {name} | {precision:.1%} | {recall:.1%} | {sum(row):,} |")
        from kerasrnn.data.spelled_numbers import band_lines

        lines += band_lines(self.bands, self.split)
        if self.confusion_png is not None:
            lines.append(f"Confusion matrix: {self.confusion_png}")
        return "\n".join(lines)

    def as_json(self) -> dict:
        payload = dataclasses.asdict(self)
        payload["confusion_png"] = None if self.confusion_png is None else str(self.confusion_png)
        payload["bands"] = [{"band": band.band, "right": band.right, "total": band.total,
                             "accuracy": band.accuracy} for band in self.bands]
        return payload

    def as_metrics(self) -> dict:
        """What `metrics.json` holds after training: the whole evaluation (`as_json`)."""
        return {**self.as_json()}


def evaluate_split(model, config, prepared, split: str, run_dir: Path) -> Evaluation:
    """Accuracy, loss, per-class precision / recall of `model` on `split` of `prepared.data` (all of
    it, named `WHOLE`, for data scored whole); draws `confusion_<split>.png` in `run_dir`."""
    import numpy as np

    from kerasrnn.data.spelled_numbers import band_accuracies
    from kerasrnn.tasks.classify import model as classify_model
    from kerasrnn.tasks.classify.data import PAD_ID, UNKNOWN_ID, vectorize_batch

    data = prepared.data
    parts = ("validation", "test") if split == "heldout" and not data.whole else ("validation",) if (
        split == "heldout") else (split,)
    texts = [text for part in parts for text in data.split(part)[0]]
    labels = [label for part in parts for label in data.split(part)[1]]
    numbers = None if data.numbers is None else [number for part in parts for number in data.numbers_of(part)]
    split = WHOLE if data.whole else split
    classes = len(data.class_names)
    warn_about_unknown_share((vectorize_batch(prepared.vectorizer, texts[start:start + EVALUATION_BATCH],
                                              config.max_length)
                              for start in range(0, len(texts), EVALUATION_BATCH)),
                             "the given texts" if data.whole else f"the {split} texts", unknown_id=UNKNOWN_ID,
                             padding_id=PAD_ID)
    probabilities = classify_model.predict_probabilities(model, prepared.vectorizer, texts, config.max_length)
    labels = np.asarray(labels, np.int64)
    loss = float(-np.mean(np.log(np.maximum(probabilities[np.arange(len(labels)), labels], 1e-12))))
    prior = np.bincount(data.split("train")[1], minlength=classes) / len(data.split("train")[1])
    baseline_loss = float(-np.mean(np.log(np.maximum(prior[labels], 1e-12))))
    matrix = classify_model.confusion_matrix(labels, probabilities.argmax(axis=1), classes)
    precision, recall = classify_model.precision_recall(matrix)
    png = run_dir / f"confusion_{split}.png"
    accuracy = float(np.trace(matrix) / max(1, matrix.sum()))
    title = f"{config.cell} on {split}: accuracy {accuracy:.1%}"
    classify_model.plot_confusion_matrix(matrix, data.class_names, png, title)
    bands = () if numbers is None else band_accuracies(numbers, probabilities.argmax(axis=1) == labels)
    return Evaluation(
        split=split, loss=loss, accuracy=accuracy, baseline_loss=baseline_loss, bands=bands,
        majority_accuracy=float(np.bincount(labels, minlength=classes)[int(prior.argmax())] / len(labels)),
        class_names=tuple(data.class_names), precision=tuple(map(float, precision)),
        recall=tuple(map(float, recall)), confusion=tuple(tuple(map(int, row)) for row in matrix),
        examples=len(labels), confusion_png=png,
    )
