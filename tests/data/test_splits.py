"""The split of small fixed inputs, pinned: exact sizes, first items and log lines of every way labelled
texts and sentence pairs are cut, so that a change to the splitting code that moves one example shows."""

import numpy as np
import pytest

from kerasrnn.data import sentence_pairs
from kerasrnn.data.labelled_texts import load_labelled_texts
from kerasrnn.data.splits import split_80_10_10
from kerasrnn.errors import UserInputError

SPLITS = ("train", "validation", "test")


def write(path, text):
    path.write_text(text, "utf-8")
    return path


def labelled_lines(prefix, count):
    return "".join(f"{prefix} {i}\t{('neg', 'pos')[i % 2]}\n" for i in range(count))


def pair_lines(prefix, count):
    return "".join(f"{prefix} {i}\tphrase {i}\n" for i in range(count))


def sizes_and_heads(data):
    return {split: (len(data.split(split)[0]), data.split(split)[0][:3]) for split in SPLITS}


def log_line(caplog, folder):
    return next(r.getMessage() for r in caplog.records if r.getMessage().startswith(f"{folder}: train ←"))


@pytest.fixture
def info(caplog):
    caplog.set_level("INFO", logger="kerasrnn")
    return caplog


def test_labelled_texts_missing_splits_are_seeded_tenths_from_the_end(tmp_path, info):
    write(tmp_path / "train.tsv", labelled_lines("text", 23))
    texts = load_labelled_texts(str(tmp_path))
    assert sizes_and_heads(texts) == {"train": (19, ["text 3", "text 8", "text 21"]),
                                      "validation": (2, ["text 1", "text 19"]),
                                      "test": (2, ["text 14", "text 20"])}
    assert texts.split("validation")[1] == [1, 1]
    assert log_line(info, tmp_path) == (f"{tmp_path}: train ← train.tsv (19 examples); validation ← a tenth of "
                                        f"train.tsv (2 examples); test ← a tenth of train.tsv (2 examples)")
    write(tmp_path / "test.tsv", labelled_lines("held", 4))
    texts = load_labelled_texts(str(tmp_path))
    assert sizes_and_heads(texts) == {"train": (21, ["text 3", "text 8", "text 21"]),
                                      "validation": (2, ["text 1", "text 19"]),
                                      "test": (4, ["held 0", "held 1", "held 2"])}


def test_labelled_texts_without_splits_are_cut_80_10_10(tmp_path):
    texts = load_labelled_texts(str(write(tmp_path / "a.tsv", labelled_lines("text", 23))))
    assert sizes_and_heads(texts) == {"train": (18, ["text 3", "text 8", "text 21"]),
                                      "validation": (2, ["text 18", "text 14"]),
                                      "test": (3, ["text 20", "text 1", "text 19"])}


def test_sentence_pairs_missing_splits_are_tenths_by_hash_of_the_source(tmp_path, info):
    write(tmp_path / "train.txt", pair_lines("sentence", 40))
    pairs = sentence_pairs.load_pairs(str(tmp_path), "ignored")
    assert sizes_and_heads(pairs) == {"train": (31, ["sentence 0", "sentence 1", "sentence 2"]),
                                      "validation": (7, ["sentence 6", "sentence 8", "sentence 14"]),
                                      "test": (2, ["sentence 9", "sentence 27"])}
    assert pairs.split("test")[1] == ["phrase 9", "phrase 27"]
    assert log_line(info, tmp_path) == (f"{tmp_path}: train ← train.txt (31 pairs); validation ← a tenth of "
                                        f"train.txt (7 pairs); test ← a tenth of train.txt (2 pairs)")
    write(tmp_path / "dev.txt", pair_lines("dev", 3))
    pairs = sentence_pairs.load_pairs(str(tmp_path), "ignored")
    assert sizes_and_heads(pairs) == {"train": (38, ["sentence 0", "sentence 1", "sentence 2"]),
                                      "validation": (3, ["dev 0", "dev 1", "dev 2"]),
                                      "test": (2, ["sentence 9", "sentence 27"])}


def test_sentence_pairs_without_splits_are_cut_like_a_folder_with_only_train(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    write(folder / "train.txt", pair_lines("sentence", 40))
    single = sentence_pairs.load_pairs(str(write(tmp_path / "one.txt", pair_lines("sentence", 40))), "ignored")
    assert single.splits == sentence_pairs.load_pairs(str(folder), "ignored").splits


def test_a_tiny_train_file_leaves_an_empty_split_and_says_which(tmp_path):
    write(tmp_path / "train.txt", pair_lines("sentence", 3))
    with pytest.raises(UserInputError, match=r": the validation split \(a tenth of train.txt\) has no pairs: give more pairs$"):
        sentence_pairs.load_pairs(str(tmp_path), "ignored")
    (tmp_path / "train.txt").unlink()
    write(tmp_path / "train.tsv", labelled_lines("text", 2))
    with pytest.raises(UserInputError, match=r"has no examples in its validation split: give more examples$"):
        load_labelled_texts(str(tmp_path))


def test_split_80_10_10_is_a_fixed_partition():
    parts = split_80_10_10(2000)
    assert [len(parts[s]) for s in ("train", "validation", "test")] == [1600, 200, 200]
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(2000))
    again = split_80_10_10(2000)
    assert all(np.array_equal(parts[s], again[s]) for s in parts)
