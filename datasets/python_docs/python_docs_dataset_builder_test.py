"""Tests for the python_docs dataset builder.

The plain tests build the dataset into a temporary data_dir and compare every example with the
split rule, which is also checked by hand on a small made-up set of topics. tfds's
`DatasetBuilderTestCase` adds its own conformance checks; it runs on the real pydoc topics (nothing
is downloaded, so there is no dummy data) and needs `dill`, which `tensorflow_datasets.testing`
imports.
"""

import importlib.util
import platform
import sys

import pydoc_data.topics
import pytest
import tensorflow_datasets as tfds

from kerasrnn.data.corpus import python_docs_builder_class
from kerasrnn.data.tfds_builders import builder_dir

# Loaded by file path, as kerasrnn does, so the builder is registered with tfds once per process.
Builder = python_docs_builder_class()
builder_module = sys.modules[Builder.__module__]

TOPICS = pydoc_data.topics.topics
SPLITS = ("train", "validation", "test")


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
    joined = "".join(text for _, text in builder_module.join_topics(TOPICS))
    n = len(joined)
    train_end = int(0.9 * n)
    validation_end = train_end + int(0.5 * (n - train_end))

    pieces = builder_module.split_topics(TOPICS)
    split_texts = ["".join(text for _, text in pieces[split]) for split in SPLITS]

    assert split_texts[0] == joined[:train_end]
    assert split_texts[1] == joined[train_end:validation_end]
    assert split_texts[2] == joined[validation_end:]
    # Both cuts fall inside a topic here, so two topics appear twice (once on each side of a cut).
    assert sum(len(pieces[split]) for split in SPLITS) == len(TOPICS) + 2


def test_builder_writes_the_split_pieces_in_order(tmp_path):
    builder = Builder(data_dir=str(tmp_path))
    builder.download_and_prepare()
    expected = builder_module.split_topics(TOPICS)

    for split in SPLITS:
        examples = list(tfds.as_numpy(builder.as_dataset(split=split, shuffle_files=False)))
        got = [(ex["topic"].decode(), ex["text"].decode()) for ex in examples]
        assert got == expected[split]
        assert builder.info.splits[split].num_examples == len(expected[split])
    assert builder.info.metadata["python_version"] == platform.python_version()

    reloaded = Builder(data_dir=str(tmp_path))
    assert reloaded.is_prepared()
    assert reloaded.info.metadata["python_version"] == platform.python_version()


def test_info_reads_readme_citation_and_tags(tmp_path):
    builder = Builder(data_dir=str(tmp_path))
    info = builder.info
    assert info.name == "python_docs"
    assert str(info.version) == "1.0.0"
    assert "pydoc_data.topics" in info.description
    assert "The Python Language Reference" in info.citation
    assert info.disable_shuffling
    assert "ml.task.language-modelling" in builder.get_metadata().tags


if importlib.util.find_spec("dill") is not None:
    from tensorflow_datasets import testing

    class PythonDocsTest(testing.DatasetBuilderTestCase):
        DATASET_CLASS = Builder
        # One example per topic, plus one for each topic cut by a split boundary.
        SPLITS = {split: len(p) for split, p in builder_module.split_topics(TOPICS).items()}
        EXAMPLE_DIR = builder_dir("python_docs")  # Nothing is downloaded: no dummy data needed.

else:

    @pytest.mark.skip(reason="tfds's DatasetBuilderTestCase needs dill (pip install dill)")
    def test_tfds_dataset_builder_test_case():
        pass


if __name__ == "__main__":
    pytest.main([__file__])
