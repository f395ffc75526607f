"""The `translate` task: an encoder-decoder that translates sentence pairs, teacher-forced, beam-searched.

- `task`: `TranslateConfig`, the `TranslateTask` (training hooks, evaluation, `translate`);
- `data`: tokens, the source and target vocabularies, teacher-forcing batches;
- `model`: the encoder-decoder network and its `Translator` (greedy and beam-search decoding);
- `metrics`: exact match, character error rate, chrF, BLEU and the teacher-forced loss;
- `export`: the SavedModel endpoints.

The pairs themselves are loaded by `kerasrnn.data.sentence_pairs`. Importing this package does not
import TensorFlow: the CLI reads `TranslateConfig`'s defaults for `--help`.
"""

from kerasrnn.tasks.translate.task import TranslateConfig, TranslateTask

__all__ = ["TranslateConfig", "TranslateTask"]
