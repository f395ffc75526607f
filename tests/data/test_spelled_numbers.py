"""The spelled_numbers loader: splits as lists, no number in two splits, derived examples."""

import pytest

from kerasrnn.errors import UserInputError
from kerasrnn.data.named_splits import SPLITS
from kerasrnn.data.spelled_numbers import LANGUAGES, language_examples, load_spelled_numbers, translation_pairs


@pytest.fixture(scope="module")
def splits():
    return load_spelled_numbers()  # tfds's default data_dir: built once (about 20 s), then reused


def test_splits_are_disjoint_and_cover_every_number(splits):
    numbers = {split: {row["number"] for row in splits[split]} for split in SPLITS}
    assert not numbers["train"] & numbers["validation"]
    assert not numbers["train"] & numbers["test"]
    assert not numbers["validation"] & numbers["test"]
    assert set().union(*numbers.values()) == set(range(20_000))
    assert [len(splits[split]) for split in SPLITS] == [16022, 2017, 1961]
    assert set(range(101)) <= numbers["train"]  # what a user types first is always trained on


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


def test_balanced_by_digits_gives_each_number_of_digits_the_same_share(splits):
    from collections import Counter

    from kerasrnn.data.spelled_numbers import balanced_by_digits

    balanced = balanced_by_digits(splits["train"])
    shares = Counter(len(str(row["number"])) for row in balanced)
    before = Counter(len(str(row["number"])) for row in splits["train"])
    assert before[1] == 10 and before[2] == 90  # 0…100 are all in train
    assert set(shares) == {1, 2, 3, 4, 5}
    assert len(set(shares.values())) == 1  # every number of digits the same share…
    assert shares[1] == max(before.values())  # …that of the commonest
    assert {row["number"] for row in balanced} == {row["number"] for row in splits["train"]}  # none lost
    # "one" is now 1/50 of the training numbers' spellings, not 1/16,022.
    assert Counter(row["number"] for row in balanced)[1] == shares[1] // 10
    assert balanced_by_digits(splits["train"]) == balanced  # seeded


def test_balanced_by_digits_on_a_small_example():
    from kerasrnn.data.spelled_numbers import balanced_by_digits

    rows = [{"number": n} for n in (3, 7, 12, 13, 14, 15, 16, 100)]
    numbers = [row["number"] for row in balanced_by_digits(rows)]
    assert numbers[:4] == [3, 7, 3, 7] and numbers[4] in (3, 7)  # two whole copies, then a sample
    assert numbers[5:10] == [12, 13, 14, 15, 16] and numbers[10:] == [100] * 5


def test_band_accuracies_count_right_answers_per_band():
    from kerasrnn.data.spelled_numbers import band_accuracies, band_of, band_table

    assert [band_of(n) for n in (0, 99, 100, 999, 1000, 999_999, 1_000_000)] == [
        "0–99", "0–99", "100–999", "100–999", "10³–10⁶", "10³–10⁶", "≥ 10⁶"]
    bands = band_accuracies([1, 2, 3, 4, 150, 151, 5000], [True, True, True, False, True, False, True])
    assert [(b.band, b.right, b.total) for b in bands] == [
        ("0–99", 3, 4), ("100–999", 1, 2), ("10³–10⁶", 1, 1), ("≥ 10⁶", 0, 0)]
    assert [b.accuracy for b in bands] == [0.75, 0.5, 1.0, None]
    assert band_table(bands) == [
        "| numbers | accuracy | texts |", "| --- | ---: | ---: |", "| 0–99 | 75.00% | 4 |",
        "| 100–999 | 50.00% | 2 |", "| 10³–10⁶ | 100.00% | 1 |", "| ≥ 10⁶ | — | 0 |", "| all | 71.43% | 7 |"]
