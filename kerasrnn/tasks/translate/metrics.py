"""Scores of translations against references: exact match, character error rate, chrF, BLEU; and the
teacher-forced loss next to its unigram baseline.

- exact match: the fraction of translations equal to their reference, character for character;
- character error rate: the Levenshtein distance between translation and reference, in Unicode
  characters, summed over the split and divided by the references' total length
  (`tf.edit_distance`), so 0 is perfect and a missing translation costs its reference's length;
- chrF and BLEU: sacrebleu's corpus scores (chrF: character n-gram F-score, β = 2; BLEU with its
  `13a` tokenizer), on the 0–100 scale sacrebleu prints. BLEU uses sacrebleu's effective order: when
  no translation of the split has n words, the n-grams of that order and above are left out of the
  geometric mean (`bleu_order` says up to which order it went) instead of making the score 0 — one-word
  translations (numbers in German or Italian) then get BLEU-1, where plain BLEU prints 0.0 for a perfect
  output. With every order present, as in any corpus of sentences, it is the plain corpus BLEU.

`score_translations` compares each translation with its one reference. Data such as Tatoeba's has
several translations of one source (pairs that share their source): `score_against_all_references`
scores each distinct source once, against all of its references — exact match if the translation
equals any of them; chrF and BLEU with every reference as sacrebleu's multi-reference streams.
"""

from __future__ import annotations

import numpy as np
import sacrebleu
import tensorflow as tf
from sacrebleu.metrics import BLEU, CHRF

from kerasrnn.engine.tracing import predictor
from kerasrnn.tasks.translate import data as translate_data


def character_error_rate(translations: list[str], references: list[str]) -> float:
    """Total edit distance in characters / total reference characters (see the module docstring)."""
    if not references:
        raise ValueError("no references to score against")
    hypothesis = tf.strings.unicode_split(tf.constant(translations, tf.string), "UTF-8").to_sparse()
    truth = tf.strings.unicode_split(tf.constant(references, tf.string), "UTF-8").to_sparse()
    distances = tf.edit_distance(hypothesis, truth, normalize=False).numpy()
    characters = sum(len(reference) for reference in references)
    return float(distances.sum() / max(characters, 1))


def score_translations(translations: list[str], references: list[str]) -> dict[str, float]:
    """`exact_match` (fraction), `character_error_rate` (fraction), `chrf` and `bleu` (0–100), and
    `bleu_order` (the highest n-gram order in the BLEU: 4 unless the translations are shorter)."""
    if len(translations) != len(references):
        raise ValueError(f"{len(translations)} translations for {len(references)} references")
    exact = float(np.mean([t == r for t, r in zip(translations, references)]))
    bleu, order = corpus_bleu(translations, [references])
    return {
        "exact_match": exact,
        "character_error_rate": character_error_rate(translations, references),
        "chrf": float(CHRF().corpus_score(translations, [references]).score),
        "bleu": bleu,
        "bleu_order": order,
    }


def corpus_bleu(translations: list[str], reference_streams: list[list]) -> tuple[float, int]:
    """`(BLEU, order)`: sacrebleu's corpus BLEU with effective order (see the module docstring), and
    the highest n-gram order it includes (0 when the translations have no word at all)."""
    score = BLEU(effective_order=True).corpus_score(translations, reference_streams)
    order = sum(1 for total in score.totals if total > 0)
    return float(score.score), order


def references_by_source(sources: list[str], references: list[str]) -> tuple[list[str], list[list[str]]]:
    """The distinct sources in order of first appearance, and the references of each (in order,
    without repeats)."""
    grouped: dict[str, list[str]] = {}
    for source, reference in zip(sources, references):
        kept = grouped.setdefault(source, [])
        if reference not in kept:
            kept.append(reference)
    return list(grouped), list(grouped.values())


def score_against_all_references(translations: list[str], references: list[list[str]]) -> dict[str, float]:
    """Scores of one translation per distinct source against all of its references (see the module
    docstring): `exact_match`, `chrf`, `bleu`, `bleu_order`, and `most_references`."""
    if len(translations) != len(references) or not references or not all(references):
        raise ValueError("one translation and at least one reference per source are needed")
    most = max(len(group) for group in references)
    # sacrebleu's streams: the k-th reference of every source, None where a source has fewer.
    streams = [[group[k] if k < len(group) else None for group in references] for k in range(most)]
    bleu, order = corpus_bleu(translations, streams)
    return {
        "exact_match": float(np.mean([t in group for t, group in zip(translations, references)])),
        "chrf": float(CHRF().corpus_score(translations, streams).score),
        "bleu": bleu,
        "bleu_order": order,
        "most_references": most,
    }


def teacher_forced_loss(model, translator, config, train_targets, sources, references,
                        batch_size: int = 256) -> tuple[float, float]:
    """`(loss, baseline)` in nats per target token (`[END]` included) on `(sources, references)`.

    The loss is the model's, fed the reference prefix; the baseline predicts every token from its
    frequency among the training targets' tokens and `[END]`s, add-one smoothed over the vocabulary
    (so an unseen token costs a finite amount).
    """
    total = 0.0
    vocabulary = translator.target_vocabulary_size
    baseline_counts = np.zeros(vocabulary)
    for start in range(0, len(train_targets), 4096):
        ids = translator.target_lookup(translate_data.tokenize(
            tf.constant(train_targets[start:start + 4096]), translator.tokens[1]))[:, :config.max_length]
        baseline_counts += np.bincount(ids.flat_values.numpy(), minlength=vocabulary)
        baseline_counts[translate_data.END_ID] += ids.nrows().numpy()  # one [END] per target
    baseline_counts += 1.0
    baseline_counts[[translate_data.PAD_ID, translate_data.START_ID]] = 0.0
    log_frequency = np.log(np.maximum(baseline_counts, 1e-300) / baseline_counts.sum())
    baseline_total, tokens = 0.0, 0
    predict = predictor(model)  # one trace for batches of every length (Keras's traces each length)
    for start in range(0, len(sources), batch_size):
        inputs, targets, weights = translate_data.teacher_forcing_batch(
            translator.source_lookup, translator.target_lookup, tf.constant(sources[start:start + batch_size]),
            tf.constant(references[start:start + batch_size]), translator.tokens, config.max_length)
        logits = predict(inputs)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(targets, tf.cast(logits, tf.float32))
        real = weights.numpy() > 0
        total += float(losses.numpy()[real].astype(np.float64).sum())
        baseline_total -= float(log_frequency[targets.numpy()[real]].sum())
        tokens += int(real.sum())
    return total / tokens, baseline_total / tokens
