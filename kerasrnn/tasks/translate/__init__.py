"""The `translate` task: an encoder-decoder that translates sentence pairs, teacher-forced, beam-searched.

- `config`: `TranslateConfig` and the presets of its left-out settings;
- `task`: the `TranslateTask` (training hooks, `evaluate`, `translate`);
- `evaluation`: `Evaluation`, a split decoded and scored;
- `data`: tokens, the source and target vocabularies, teacher-forcing batches;
- `model`: the encoder-decoder network and its `Translator` (greedy and beam-search decoding);
- `metrics`: exact match, character error rate, chrF, BLEU and the teacher-forced loss;
- `export`: the SavedModel endpoints.

The pairs themselves are loaded by `kerasrnn.data.sentence_pairs`. Importing this package does not
import TensorFlow: the CLI reads `TranslateConfig`'s defaults for `--help`.
"""

from kerasrnn.tasks.translate.config import TranslateConfig
from kerasrnn.tasks.translate.task import TranslateTask

__all__ = ["TranslateConfig", "TranslateTask"]
