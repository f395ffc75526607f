"""How well a translate run translates one split: `Evaluation`, and `evaluate_split`, which decodes
the split and scores it with `metrics` (exact match, character error rate, chrF, BLEU, the
teacher-forced loss next to the unigram baseline, exact match per band of spelled_numbers).

This module stays light (no TensorFlow at import): `metrics` and `data` are imported where needed.

Example:

```python
evaluation = evaluate_split(model, translator, config, pairs, "test", beam_size=4)
print(evaluation.summary())
```
"""

from __future__ import annotations

import dataclasses

from kerasrnn.data import spelled_numbers
from kerasrnn.errors import UserInputError
from kerasrnn.tasks.text_tasks import warn_about_unknown_share

EXAMPLES_SHOWN = 5  # mistakes shown in the summary


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
    bands: tuple = ()  # exact match per magnitude band (spelled_numbers only; `spelled_numbers.split_bands`)
    bleu_order: int = 4  # the highest n-gram order in `bleu` (effective order, see `metrics`)
    sources: int = 0  # distinct sources among the pairs
    # Each distinct source scored once against all its references (`metrics.score_against_all_references`);
    # None when no source has more than one.
    all_references: dict | None = None

    def summary(self) -> str:
        decoding = "greedy" if self.beam_size == 1 else f"beam search of width {self.beam_size}"
        lines = [
            f"{self.split.capitalize()} ({self.examples:,} pairs, {decoding}): exact match "
            f"{self.exact_match:.2%}, character error rate {self.character_error_rate:.2%}, chrF "
            f"{self.chrf:.1f}, {bleu_text(self.bleu, self.bleu_order)}",
        ]
        if self.all_references is not None:
            scores = self.all_references
            lines.append(
                f"Against all references ({self.sources:,} distinct sources, up to "
                f"{scores['most_references']} references each): exact match {scores['exact_match']:.2%}, "
                f"chrF {scores['chrf']:.1f}, {bleu_text(scores['bleu'], scores['bleu_order'])}")
        lines.append(f"Teacher-forced loss {self.loss:.4f} nats/token (unigram baseline {self.baseline_loss:.4f})")
        for source, reference, translation in self.mistakes:
            lines.append(f"  {source!r} → {translation!r} (reference {reference!r})")
        lines += spelled_numbers.band_lines(self.bands, self.split, "exact match", "pairs")
        return "\n".join(lines)

    def as_metrics(self) -> dict:
        """Every field (what `metrics.json` and `evaluation_<split>.json` hold)."""
        return dataclasses.asdict(self)


def bleu_text(bleu: float, order: int) -> str:
    """"BLEU 31.2", or with fewer than 4 orders what it is: "BLEU-1 99.9 (…)"; with no words at all,
    that there is no BLEU."""
    if order >= 4:
        return f"BLEU {bleu:.1f}"
    if order == 0:
        return "BLEU not meaningful (no translation has a word)"
    return (f"BLEU-{order} {bleu:.1f} (no translation has {order + 1} words, so BLEU's "
            f"{order + 1}-grams and above are left out)")


def evaluate_split(model, translator, config, pairs, split: str, beam_size: int) -> Evaluation:
    """`split` of `pairs` decoded by `translator` (greedy, or a beam search of `beam_size`) and scored;
    the loss is `model`'s, teacher-forced.

    Raises:
      UserInputError: an empty split.
    """
    from kerasrnn.tasks.translate import data as translate_data
    from kerasrnn.tasks.translate import metrics

    sources, references = pairs.split(split)
    if not sources:
        raise UserInputError(f"the {split} split of {pairs.name} is empty: nothing to evaluate")
    warn_about_unknown_share(translator.encode(sources), f"the {split} sources",
                             unknown_id=translate_data.UNK_ID, padding_id=translate_data.PAD_ID)
    # Each distinct source is decoded once. The beam actually searched is the one reported: a wider
    # one than can exist or fit is narrowed.
    distinct, grouped = metrics.references_by_source(sources, references)
    decoded, beam_size = translator.decode(distinct, beam_size=beam_size)
    translation_of = dict(zip(distinct, decoded))
    translations = [translation_of[source] for source in sources]
    scores = metrics.score_translations(translations, references)
    several = any(len(group) > 1 for group in grouped)
    all_references = metrics.score_against_all_references(decoded, grouped) if several else None
    loss, baseline_loss = metrics.teacher_forced_loss(
        model, translator, config, pairs.split("train")[1], sources, references)
    mistakes = tuple((s, r, t) for s, r, t in zip(sources, references, translations) if r != t)
    bands = spelled_numbers.split_bands(pairs, split, [t == r for t, r in zip(translations, references)])
    return Evaluation(split=split, examples=len(sources), beam_size=beam_size, loss=loss,
                      baseline_loss=baseline_loss, mistakes=mistakes[:EXAMPLES_SHOWN], bands=bands,
                      sources=len(distinct), all_references=all_references, **scores)
