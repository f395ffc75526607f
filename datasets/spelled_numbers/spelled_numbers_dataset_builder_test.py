"""Tests for the spelled_numbers dataset builder: the split rule, the spellings, the built dataset.

tfds's `DatasetBuilderTestCase` adds its conformance checks where `dill` is installed; nothing is
downloaded, so there is no dummy data.
"""

import importlib.util
import sys

import pytest
import tensorflow_datasets as tfds

from kerasrnn.data.tfds_builders import builder_class, builder_dir

Builder = builder_class("spelled_numbers")
builder_module = sys.modules[Builder.__module__]


def test_split_of_is_a_fixed_80_10_10_rule():
    counts = {"train": 0, "validation": 0, "test": 0}
    for number in range(builder_module.SIZE):
        counts[builder_module.split_of(number)] += 1
    assert counts == {"train": 16022, "validation": 2017, "test": 1961}
    # Pasted: the rule must never change, or models would be scored on numbers they trained on.
    # 0…100 are all in train (2.0.0); above, the hash rule of 1.0.0.
    assert all(builder_module.split_of(n) == "train" for n in range(101))
    assert [builder_module.split_of(n) for n in (110, 111, 115, 116, 131, 132)] == [
        "train", "test", "train", "validation", "test", "validation"
    ]


def test_spell_gives_every_language():
    assert builder_module.spell(342) == {
        "number": 342,
        "digits": "342",
        "en": "three hundred and forty-two",
        "fr": "trois cent quarante-deux",
        "de": "dreihundertzweiundvierzig",
        "es": "trescientos cuarenta y dos",
        "it": "trecentoquarantadue",
    }


def test_builder_writes_each_number_once_in_its_split():
    # tfds's default data_dir, where kerasrnn keeps it: built once (about 20 s), then reused. The
    # test case below builds it afresh in a temporary folder.
    builder = Builder()
    builder.download_and_prepare()
    seen = set()
    for split in ("train", "validation", "test"):
        numbers = [int(x["number"]) for x in tfds.as_numpy(builder.as_dataset(split=split))]
        assert numbers == sorted(numbers)
        assert all(builder_module.split_of(n) == split for n in numbers)
        seen.update(numbers)
    assert seen == set(range(builder_module.SIZE))
    assert builder.info.metadata["num2words_version"] == "0.5.14"
    info = builder.info
    assert info.name == "spelled_numbers"
    assert "num2words" in info.description and "num2words" in info.citation
    assert "ml.task.text-classification" in builder.get_metadata().tags


if importlib.util.find_spec("dill") is not None:
    from tensorflow_datasets import testing

    @pytest.mark.integration  # builds the whole dataset afresh
    class SpelledNumbersTest(testing.DatasetBuilderTestCase):
        DATASET_CLASS = Builder
        SPLITS = {"train": 16022, "validation": 2017, "test": 1961}
        EXAMPLE_DIR = builder_dir("spelled_numbers")  # Nothing is downloaded: no dummy data needed.

else:

    @pytest.mark.skip(reason="tfds's DatasetBuilderTestCase needs dill (pip install dill)")
    def test_tfds_dataset_builder_test_case():
        pass
