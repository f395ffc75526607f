"""Tests for the python_docs dataset builder.

The builder downloads nothing, so tfds's `DatasetBuilderTestCase` runs it on the real pydoc topics of
this Python (there is no dummy data: `EXAMPLE_DIR` points at the builder folder). The split rule is
checked by hand on a small made-up set of topics.
"""

import platform
import sys

import pydoc_data.topics
from tensorflow_datasets import testing

from kerasrnn.corpus import PYTHON_DOCS_BUILDER_DIR, python_docs_builder_class

# Loaded by file path, as kerasrnn does, so the builder is registered with tfds once per process.
Builder = python_docs_builder_class()
builder_module = sys.modules[Builder.__module__]

TOPICS = pydoc_data.topics.topics


class PythonDocsTest(testing.DatasetBuilderTestCase):
    DATASET_CLASS = Builder
    # One example per topic, plus one for each topic cut by a split boundary.
    SPLITS = {split: len(p) for split, p in builder_module.split_topics(TOPICS).items()}
    EXAMPLE_DIR = PYTHON_DOCS_BUILDER_DIR  # Nothing is downloaded: no dummy data needed.

    def test_two_topics_are_cut(self):
        # Both 90% and 95% points fall inside a topic for this corpus, so the two cut topics add
        # one example each: this holds unless a cut lands exactly on a topic boundary.
        self.assertEqual(sum(self.SPLITS.values()), len(TOPICS) + 2)

    def test_info_reads_readme_citation_and_python_version(self):
        info = self.builder.info
        self.assertEqual(info.name, "python_docs")
        self.assertIn("pydoc_data.topics", info.description)
        self.assertIn("The Python Language Reference", info.citation)
        self.assertEqual(info.metadata["python_version"], platform.python_version())
        self.assertTrue(info.disable_shuffling)


def test_split_topics_cuts_sorted_topics_90_5_5_by_characters():
    # Joined with a newline after each: a [0, 60), b [60, 92), c [92, 97), d [97, 100); n = 100,
    # so train is [0, 90), validation [90, 95), test [95, 100).
    topics = {"d": "DD", "b": "B" * 31, "a": "A" * 59, "c": "CCCC"}

    pieces = builder_module.split_topics(topics)

    assert pieces == {
        "train": [("a", "A" * 59 + "\n"), ("b", "B" * 30)],
        "validation": [("b", "B\n"), ("c", "CCC")],
        "test": [("c", "C\n"), ("d", "DD\n")],
    }


def test_split_topics_pieces_rebuild_the_joined_topics():
    pieces = builder_module.split_topics(TOPICS)
    joined = "".join(text for _, text in builder_module.join_topics(TOPICS))

    split_texts = ["".join(text for _, text in pieces[split]) for split in ("train", "validation", "test")]

    assert "".join(split_texts) == joined
    assert [len(t) for t in split_texts] == [
        int(0.9 * len(joined)),
        int(0.5 * (len(joined) - int(0.9 * len(joined)))),
        len(joined) - int(0.9 * len(joined)) - int(0.5 * (len(joined) - int(0.9 * len(joined)))),
    ]


if __name__ == "__main__":
    testing.test_main()
