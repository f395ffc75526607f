"""The text classifier as a SavedModel (see `kerasrnn.engine.exporting`): texts in, labels out.

One signature, also `serving_default`:

| signature  | inputs               | outputs                                                          |
| ---------- | -------------------- | ---------------------------------------------------------------- |
| `classify` | `text` string[batch] | `label` string[batch], `probabilities` float32[batch, classes] |

The run's `TextVectorization` is inside the graph, with the run's `max_length` truncation
(`data.vectorize_batch`), then the network and a softmax; `label` is the class name of the
largest probability, and the columns of `probabilities` are the classes in `labels.json`'s order.
An empty text is not refused as `kerasrnn classify` does: it gets the network's output for no
tokens.
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

from kerasrnn.tasks.classify import data as tokens


class ClassifierServing:
    """The exported function of a text classifier, on tensors, in-graph.

    Args:
      model: a model from `model.build_text_classifier`.
      vectorizer: its `TextVectorization`.
      class_names: the names of its classes, in id order.
      max_length: tokens kept from the start of each text.
    """

    def __init__(self, model: keras.Model, vectorizer, class_names, max_length: int):
        self.model = model
        self.vectorizer = vectorizer
        self.class_names = tuple(class_names)
        self.max_length = max_length

    def classify(self, text):
        ids = tokens.vectorize_batch(self.vectorizer, text, self.max_length)
        probabilities = tf.nn.softmax(tf.cast(self.model(ids, training=False), tf.float32), axis=-1)
        labels = tf.gather(tf.constant(self.class_names), tf.argmax(probabilities, axis=-1))
        return {"label": labels, "probabilities": probabilities}


def add_endpoints(task, run_dir: Path, archive) -> dict[str, str]:
    """Adds `classify` of a classify run (`task`: its `ClassifyTask`) to a
    `keras.export.ExportArchive`; returns its name with a one-line description."""
    config, _ = task.load_configs(run_dir)
    vectorizer, class_names = task.load_vectorizer(run_dir, config)
    serving = ClassifierServing(task.load_model(run_dir), vectorizer, class_names, config.max_length)
    # Its lookup table is not a variable: the archive saves it only when tracked, which needs the
    # layer built (with a given vocabulary it has nothing to build from its input).
    vectorizer.build(None)
    archive.track(vectorizer)
    archive.add_endpoint("classify", serving.classify, [tf.TensorSpec([None], tf.string, name="text")])
    return {
        "classify": f"classify(text: string[batch]) -> label: string[batch], probabilities: "
                    f"float32[batch, {len(class_names)}]  (classes: {', '.join(class_names)})",
    }
