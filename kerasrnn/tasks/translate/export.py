"""The encoder-decoder as a SavedModel (see `kerasrnn.engine.exporting`): texts in, translations out.

| signature     | inputs                                  | outputs                            |
| ------------- | --------------------------------------- | ---------------------------------- |
| `translate`   | `text` string[batch]                    | `translation` string[batch]        |
| `beam_search` | `text` string[batch], `beam_size` int32 | `translation` string[batch],       |
|               |                                         | `log_probability` float32[batch]   |

`translate` (also `serving_default`) decodes greedily; `beam_search` keeps `beam_size` hypotheses.
Both call `model.Translator.search` (a `tf.function`, so AutoGraph has made its loop a
`tf.while_loop`): the source tokenised and looked up, the encoder run once, then the decoder one
step at a time with its state carried in the loop until every text has produced `[END]` or the
run's longest translation; the ids are turned back into text in the graph too. A run with subword
tokens holds its SentencePiece models in the graph, as attributes of TensorFlow Text's op: loading
it needs `import tensorflow_text` first.
"""

from __future__ import annotations

import logging
from pathlib import Path

import tensorflow as tf

logger = logging.getLogger(__name__)


class TranslatorServing:
    """The exported functions of a `Translator`, on tensors, in-graph."""

    def __init__(self, translator):
        self.translator = translator

    def _decode(self, text, beam_size):
        translator = self.translator
        ids, scores = translator.search(translator.encode(text), beam_size,
                                            tf.constant(translator.max_output_length))
        return translator.ids_to_texts(ids), scores

    def translate(self, text):
        return {"translation": self._decode(text, tf.constant(1))[0]}

    def beam_search(self, text, beam_size):
        # A beam of 0 or less would decode nothing. The check must gate the value itself: an
        # assertion no op depends on would not stop the search in the graph.
        check = tf.debugging.assert_positive(beam_size, message="beam_size must be a positive integer")
        with tf.control_dependencies([check]):
            beam_size = tf.identity(beam_size)
        translation, scores = self._decode(text, beam_size)
        return {"translation": translation, "log_probability": scores}


def add_endpoints(task, run_dir: Path, archive) -> dict[str, str]:
    """Adds `translate` and `beam_search` of a translate run (`task`: its `TranslateTask`) to a
    `keras.export.ExportArchive`; returns each signature's name with a one-line description."""
    translator = task.load_translator(run_dir)
    serving = TranslatorServing(translator)
    for layer in (translator.source_lookup, translator.target_lookup, translator.inverse_target_lookup):
        layer.build(None)  # tracked lookup tables are saved only once built
        archive.track(layer)
    if not all(isinstance(tokens, str) for tokens in translator.tokens):
        logger.info("This run tokenises with SentencePiece models inside the graph: load the export after "
                    "`import tensorflow_text` (pip install tensorflow-text), which provides their op")
    archive.track(translator.encoder)
    archive.track(translator.step)
    text = tf.TensorSpec([None], tf.string, name="text")
    archive.add_endpoint("translate", serving.translate, [text])
    archive.add_endpoint("beam_search", serving.beam_search, [text, tf.TensorSpec([], tf.int32, name="beam_size")])
    return {
        "translate": "translate(text: string[batch]) -> translation: string[batch]  (greedy)",
        "beam_search": "beam_search(text: string[batch], beam_size: int32) -> translation: string[batch], "
                       "log_probability: float32[batch]",
    }
