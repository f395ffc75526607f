"""spelled_numbers dataset: the numbers 0…19,999 written out in words in five languages.

Made with the `num2words` library (pinned in requirements.txt, its version recorded in
`builder.info.metadata["num2words_version"]`), so nothing is downloaded. One example per number
holds the number, its digits and its spelling in English, French, German, Spanish and Italian.
Each number belongs to exactly one split, so a model never sees in training a number it is scored
on: 0…100 are all in train (they are what a user types first, so a model must have seen them; the
test split stays honest by never holding them), every other number is in the split chosen by a hash
of its digits (80/10/10), which does not depend on how many numbers are built.

Uses: language identification (text → language, kerasrnn's `classify` task) and translation
between spellings or from digits to words (pairs of any two text features).
"""

from __future__ import annotations

import hashlib
from typing import Iterator

from etils import epath
import numpy as np
import tensorflow_datasets as tfds

SPLITS = ("train", "validation", "test")
LANGUAGES = ("en", "fr", "de", "es", "it")  # num2words `lang=` codes
SIZE = 20_000  # numbers 0 … SIZE − 1
ALWAYS_TRAIN = 101  # numbers 0 … ALWAYS_TRAIN − 1 are all in the training split (since 2.0.0)


def split_of(number: int) -> str:
    """The split of `number`: train for 0…100; otherwise the first byte of sha256 of its digits,
    < 205 train (80 %), < 231 validation (10 %), else test — fixed forever, whatever the dataset's
    size."""
    if number < ALWAYS_TRAIN:
        return "train"
    first_byte = hashlib.sha256(str(number).encode("ascii")).digest()[0]
    if first_byte < 205:
        return "train"
    return "validation" if first_byte < 231 else "test"


def spell(number: int) -> dict:
    """The example of `number`: `number`, `digits` and one spelling per language of `LANGUAGES`."""
    from num2words import num2words  # pylint: disable=g-import-not-at-top

    example = {"number": number, "digits": str(number)}
    for language in LANGUAGES:
        example[language] = num2words(number, lang=language)
    return example


class Builder(tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for spelled_numbers: one example per number, in the split of its hash."""

    # Set explicitly, so the name and the README / CITATIONS / TAGS files are found whatever name
    # the module is imported under (kerasrnn loads it from its file path).
    name = "spelled_numbers"
    pkg_dir_path = epath.Path(__file__).parent

    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release: 0…19,999 in en, fr, de, es, it; 80/10/10 by a hash of the number.",
        "2.0.0": "0…100 all in train (the numbers a user types first); the others split as before.",
    }

    def _info(self) -> tfds.core.DatasetInfo:
        from importlib import metadata  # pylint: disable=g-import-not-at-top

        features = {"number": tfds.features.Scalar(dtype=np.int64), "digits": tfds.features.Text()}
        features.update({language: tfds.features.Text() for language in LANGUAGES})
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(features),
            supervised_keys=None,
            homepage="https://github.com/savoirfairelinux/num2words",
            # Keep the numbers in increasing order within a split.
            disable_shuffling=True,
            metadata=tfds.core.MetadataDict(
                num2words_version=metadata.version("num2words"), languages=list(LANGUAGES), size=SIZE
            ),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        del dl_manager  # Nothing to download: num2words spells the numbers.
        numbers = {split: [] for split in SPLITS}
        for number in range(SIZE):
            numbers[split_of(number)].append(number)
        return {split: self._generate_examples(numbers[split]) for split in SPLITS}

    def _generate_examples(self, numbers: list[int]) -> Iterator[tuple[int, dict]]:
        for number in numbers:
            yield number, spell(number)
