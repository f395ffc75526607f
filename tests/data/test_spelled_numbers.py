"""The spelled_numbers loader: splits as lists, no number in two splits, derived examples."""

import pytest

from kerasrnn.errors import UserInputError
from kerasrnn.data.spelled_numbers import (
    LANGUAGES, SPLITS, language_examples, load_spelled_numbers, translation_pairs,
)


@pytest.fixture(scope="module")
def splits():
    return load_spelled_numbers()  # tfds's default data_dir: built once (about 20 s), then reused


def test_splits_are_disjoint_and_cover_every_number(splits):
    numbers = {split: {row["number"] for row in splits[split]} for split in SPLITS}
    assert not numbers["train"] & numbers["validation"]
    assert not numbers["train"] & numbers["test"]
    assert not numbers["validation"] & numbers["test"]
    assert set().union(*numbers.values()) == set(range(20_000))
    assert [len(splits[split]) for split in SPLITS] == [16005, 2026, 1969]


def test_rows_hold_digits_and_every_language(splits):
    row = next(row for row in splits["train"] if row["number"] == 21)
    assert row == {"number": 21, "digits": "21", "en": "twenty-one", "fr": "vingt et un",
                   "de": "einundzwanzig", "es": "veintiuno", "it": "ventuno"}


def test_language_examples_label_each_spelling(splits):
    texts, labels = language_examples(splits["validation"][:2])
    assert labels == list(LANGUAGES) * 2
    assert texts[:5] == [splits["validation"][0][language] for language in LANGUAGES]


def test_translation_pairs(splits):
    pairs = translation_pairs(splits["test"][:3], "digits", "fr")
    assert pairs == [(row["digits"], row["fr"]) for row in splits["test"][:3]]
    with pytest.raises(UserInputError, match="unknown spelled_numbers field 'xx'"):
        translation_pairs(splits["test"], "digits", "xx")
