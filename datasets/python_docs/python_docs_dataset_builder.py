"""python_docs dataset: the Python language reference that ships inside every CPython install.

`pydoc_data.topics.topics` maps about 80 topic names ("assert", "if", "specialnames", ...) to the
plain-text pages that `help("if")` prints, about 465,000 characters in all. Nothing is downloaded,
so this is a corpus for character-level language models that works on a machine without network.

The text depends on the Python version that builds the dataset; it is recorded in
`builder.info.metadata["python_version"]`.
"""

from __future__ import annotations

import platform
from typing import Iterator, Mapping

from etils import epath
import tensorflow_datasets as tfds

SPLITS = ("train", "validation", "test")


def join_topics(topics: Mapping[str, str]) -> list[tuple[str, str]]:
    """Returns `(topic, text)` pairs sorted by topic name, each text followed by one newline.

    Every pydoc topic already ends with a newline, so the extra one leaves a blank line between
    topics; the corpus is the concatenation of these texts in this order.
    """
    return [(name, topics[name] + "\n") for name in sorted(topics)]


def split_boundaries(length: int) -> tuple[int, int]:
    """Returns the character offsets where validation and test start: the 90/5/5 rule.

    The same arithmetic as tfds's `tiny_shakespeare` and `kerasrnn.data.corpus`: train is the first
    `int(0.9 * length)` characters, validation the first half (rounded down) of the rest, test the
    remainder.
    """
    train_end = int(length * 0.9)
    validation_end = train_end + int((length - train_end) * 0.5)
    return train_end, validation_end


def split_topics(topics: Mapping[str, str]) -> dict[str, list[tuple[str, str]]]:
    """Cuts the joined topics into contiguous train / validation / test pieces.

    Args:
      topics: topic name -> text, as in `pydoc_data.topics.topics`.

    Returns:
      split name -> list of `(topic, piece)` in corpus order. A topic that straddles a split
      boundary is cut there and appears in both splits, once in each; concatenating the pieces of
      all three splits in order gives back the joined corpus exactly.
    """
    joined = join_topics(topics)
    length = sum(len(text) for _, text in joined)
    train_end, validation_end = split_boundaries(length)
    ranges = {
        "train": (0, train_end),
        "validation": (train_end, validation_end),
        "test": (validation_end, length),
    }
    pieces = {split: [] for split in SPLITS}
    start = 0
    for name, text in joined:
        end = start + len(text)
        for split, (lo, hi) in ranges.items():
            cut_start, cut_end = max(lo, start), min(hi, end)
            if cut_start < cut_end:
                pieces[split].append((name, text[cut_start - start : cut_end - start]))
        start = end
    return pieces


class Builder(tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for python_docs: one example per topic (or piece of a topic) per split."""

    # Set explicitly, so the name and the README / CITATIONS / TAGS files are found whatever name
    # the module is imported under (kerasrnn loads it from its file path).
    name = "python_docs"
    pkg_dir_path = epath.Path(__file__).parent

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release: pydoc topics sorted by name, cut 90/5/5 by characters.",
    }

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {"topic": tfds.features.Text(), "text": tfds.features.Text()}
            ),
            supervised_keys=None,
            homepage="https://docs.python.org/3/reference/index.html",
            # Keep the corpus order: concatenating a split's examples gives its text.
            disable_shuffling=True,
            metadata=tfds.core.MetadataDict(python_version=platform.python_version()),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        del dl_manager  # Nothing to download: the text ships with Python.
        import pydoc_data.topics  # pylint: disable=g-import-not-at-top

        pieces = split_topics(pydoc_data.topics.topics)
        return {split: self._generate_examples(pieces[split]) for split in SPLITS}

    def _generate_examples(self, pieces: list[tuple[str, str]]) -> Iterator[tuple[str, dict]]:
        for name, text in pieces:
            yield name, {"topic": name, "text": text}
