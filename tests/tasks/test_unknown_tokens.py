"""`warn_about_unknown_tokens`: a warning per text the model cannot read, at most ten, then a count."""

import logging

import numpy as np

from kerasrnn.tasks.text_tasks import MAX_TEXT_WARNINGS, warn_about_unknown_tokens


def test_a_file_of_unreadable_texts_gets_ten_warnings_and_a_count(caplog):
    texts = [f"text {n}" for n in range(25)] + ["known words"]
    ids = np.array([[1, 1, 0]] * 25 + [[5, 6, 0]])  # 1: unknown, 0: padding
    with caplog.at_level(logging.WARNING, logger="kerasrnn"):
        shares = warn_about_unknown_tokens(texts, ids)
    assert shares == [1.0] * 25 + [0.0]
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == MAX_TEXT_WARNINGS + 1 == 11
    assert lines[0] == "Warning: 100% of the tokens of text 1 ('text 0') were never seen in training: the answer is a guess"
    assert lines[-1] == "Warning: and 15 more of the 26 texts are mostly tokens never seen in training"


def test_a_few_unreadable_texts_get_a_warning_each_and_no_count(caplog):
    with caplog.at_level(logging.WARNING, logger="kerasrnn"):
        warn_about_unknown_tokens(["a b", "!!!"], np.array([[1, 4], [0, 0]]))
    assert [record.getMessage() for record in caplog.records] == [
        "Warning: 50% of the tokens of text 1 ('a b') were never seen in training: the answer is a guess",
        "Warning: text 2 ('!!!') has no token the model reads: the answer is a guess",
    ]
