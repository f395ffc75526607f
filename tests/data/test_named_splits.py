"""Files and folders named for their split: the names, and which entries of a folder count."""

import pytest

from kerasrnn.data.named_splits import SPLITS, check_split, split_entries, split_named
from kerasrnn.errors import UserInputError


def test_the_three_splits_and_no_other():
    assert [check_split(split) for split in SPLITS] == ["train", "validation", "test"]
    with pytest.raises(UserInputError, match="^unknown split 'dev': choose one of train, validation, test$"):
        check_split("dev")


@pytest.mark.parametrize("name, split", [("train.tsv", "train"), ("TRAIN_a.csv", "train"), ("dev_matched.tsv", "validation"),
                                         ("valid.txt", "validation"), ("validation", "validation"),
                                         ("testing.csv", "test"), ("notes.csv", None), ("my_train.csv", None)])
def test_split_named(name, split):
    assert split_named(name) == split


def test_split_entries_keeps_the_files_and_folders_asked_for(tmp_path):
    for name in ("train.tsv", "train.json", "dev.txt", ".test.tsv", "notes.csv"):
        (tmp_path / name).write_text("x\t1\n", "utf-8")
    (tmp_path / "test").mkdir()
    names = lambda named: {split: [p.name for p in entries] for split, entries in named.items()}  # noqa: E731
    assert names(split_entries(tmp_path)) == {"train": ["train.json", "train.tsv"], "validation": ["dev.txt"],
                                              "test": ["test"]}
    assert names(split_entries(tmp_path, suffixes=(".tsv", ".txt"))) == {
        "train": ["train.tsv"], "validation": ["dev.txt"], "test": ["test"]}
    assert names(split_entries(tmp_path, folders=False)) == {"train": ["train.json", "train.tsv"],
                                                             "validation": ["dev.txt"]}
