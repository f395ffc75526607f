"""What the text tasks (charlm, classify, translate) share besides the `Task` contract: their data
paths made absolute, their cross-entropy compile arguments, and the checks and warnings on the texts
a user gives a trained model.

Example:

```python
texts = check_texts(["great phone", "awful food"], "classify")
warn_about_unknown_tokens(texts, vectorizer(texts), unknown_id=1, padding_id=0)
```
"""

from __future__ import annotations

from pathlib import Path

from kerasrnn.errors import UserInputError


def absolute_data_path(data: str | None, source_names=()) -> str | None:
    """`data` made absolute if it names an existing file or folder (and is not one of the named
    sources `source_names`), so that `evaluate` and `--resume` find it from any working directory;
    anything else (a source name, None, a path that does not exist) as it is."""
    if data is None or data in source_names:
        return data
    path = Path(data).expanduser()
    return str(path.resolve()) if path.exists() else data


def cross_entropy_arguments(loss, *, per_token_weights: bool = False) -> dict:
    """`model.compile` arguments of a task whose network outputs logits over classes: `loss` with
    an accuracy metric. With `per_token_weights` the accuracy is weighted like the loss (padding,
    of weight 0, counted in neither)."""
    import keras

    accuracy = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    return {"loss": loss, "weighted_metrics" if per_token_weights else "metrics": accuracy}


def warn_about_unknown_tokens(texts, ids, *, unknown_id: int = 1, padding_id: int = 0) -> list[float]:
    """Logs a warning for each text most of whose tokens the model never saw in training (its answer
    is then a guess); returns every text's share of unknown tokens.

    Args:
      texts: the texts, in the order of the rows of `ids`.
      ids: their token ids `(texts, time)`, padded with `padding_id`; unknown tokens are `unknown_id`.
    """
    import logging

    import numpy as np

    ids = np.asarray(ids)
    tokens = (ids != padding_id).sum(axis=1)
    # A text with no token at all (only punctuation, for words) gives the model nothing to read either.
    shares = np.where(tokens > 0, (ids == unknown_id).sum(axis=1) / np.maximum(tokens, 1), 1.0).tolist()
    guesses = [index for index, (share, count) in enumerate(zip(shares, tokens)) if count == 0 or share >= 0.5]
    logger = logging.getLogger("kerasrnn")
    # A file of 10,000 texts gets a few lines and a count, not 10,000 warnings.
    for index in guesses[:MAX_TEXT_WARNINGS]:
        text = texts[index]
        shown = text if len(text) <= 40 else text[:37] + "..."
        if tokens[index] == 0:
            logger.warning("Warning: text %d (%r) has no token the model reads: the answer is a guess",
                           index + 1, shown)
        else:
            logger.warning("Warning: %.0f%% of the tokens of text %d (%r) were never seen in training: the "
                           "answer is a guess", 100 * shares[index], index + 1, shown)
    if len(guesses) > MAX_TEXT_WARNINGS:
        logger.warning("Warning: and %d more of the %d texts are mostly tokens never seen in training",
                       len(guesses) - MAX_TEXT_WARNINGS, len(shares))
    return shares


MAX_TEXT_WARNINGS = 10


def warn_about_unknown_share(id_batches, what: str, *, unknown_id: int = 1, padding_id: int = 0) -> float:
    """Logs a warning when most of the tokens of `what` (say "the test texts") were never seen in
    training, so that the scores computed on them say little; returns the share of unknown tokens.

    Args:
      id_batches: token ids `(texts, time)` padded with `padding_id`, or an iterable of such batches.
      what: the texts, as the warning names them.
    """
    import logging

    import numpy as np

    if hasattr(id_batches, "shape"):  # one array or tensor
        id_batches = [id_batches]
    unknown = tokens = 0
    for ids in id_batches:
        ids = np.asarray(ids)
        unknown += int((ids == unknown_id).sum())
        tokens += int((ids != padding_id).sum())
    share = unknown / tokens if tokens else 0.0
    if share >= 0.5:
        logging.getLogger("kerasrnn").warning(
            "Warning: %.0f%% of the tokens of %s were never seen in training: the scores say little",
            100 * share, what)
    return share


def check_texts(texts, verb: str) -> list[str]:
    """`texts` as a list; UserInputError if there are none or one is blank (`verb`: what is done)."""
    texts = list(texts)
    if not texts:
        raise UserInputError(f"no text given: give one or more texts to {verb}")
    for index, text in enumerate(texts, start=1):
        if not text.strip():
            raise UserInputError(f"text {index} is empty: give something to {verb}")
    return texts
