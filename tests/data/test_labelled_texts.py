"""Labelled texts for `classify`: CSV/TSV files, folders, splits, imdb offline, bad input."""

import time

import numpy as np
import pytest

from kerasrnn.errors import UserInputError
from kerasrnn.data import labelled_texts
from kerasrnn.data.labelled_texts import load_labelled_texts, read_table, split_80_10_10


def write(path, text):
    path.write_text(text, "utf-8")
    return path


def lines(count, labels=("neg", "pos")):
    return "".join(f"example number {i}\t{labels[i % len(labels)]}\n" for i in range(count))


def test_headerless_tsv_is_text_then_label(tmp_path):
    path = write(tmp_path / "a.txt", 'He said "great"\t1\nAwful.\t0\n\n')
    assert read_table(path) == (['He said "great"', "Awful."], ["1", "0"])


def test_csv_with_header_and_named_columns(tmp_path):
    path = write(tmp_path / "a.csv", 'id,review,stars\n1,"good, really",5\n2,bad,1\n')
    assert read_table(path, "review", "stars") == (["good, really", "bad"], ["5", "1"])
    with pytest.raises(UserInputError, match=r"has no column 'rating': its header has 'id', 'review'"):
        read_table(path, "review", "rating")


def test_headerless_columns_by_number(tmp_path):
    path = write(tmp_path / "a.tsv", "x\tgood\t1\ny\tbad\t0\n")
    assert read_table(path, "1", "2") == (["good", "bad"], ["1", "0"])
    with pytest.raises(UserInputError, match="has no column 'review'"):
        read_table(path, "review", "2")


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "is empty"),
        ("\n \n", "is empty"),
        ("just a sentence\nanother one\n", "line 1 has no label"),
        ("good\t1\nbad\t \n", "line 2 has an empty label"),
    ],
)
def test_bad_tables(tmp_path, content, message):
    with pytest.raises(UserInputError, match=message):
        read_table(write(tmp_path / "a.tsv", content))


def test_split_80_10_10_is_a_fixed_partition():
    parts = split_80_10_10(2000)
    assert [len(parts[s]) for s in ("train", "validation", "test")] == [1600, 200, 200]
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(2000))
    again = split_80_10_10(2000)
    assert all(np.array_equal(parts[s], again[s]) for s in parts)


def test_file_source_is_split_with_class_ids(tmp_path):
    texts = load_labelled_texts(str(write(tmp_path / "a.tsv", lines(100))))
    assert texts.class_names == ("neg", "pos")
    sizes = [len(texts.split(s)[0]) for s in ("train", "validation", "test")]
    assert sizes == [80, 10, 10]
    seen = [t for s in ("train", "validation", "test") for t in texts.split(s)[0]]
    assert sorted(seen) == sorted(f"example number {i}" for i in range(100))
    text, label = texts.split("train")[0][0], texts.split("train")[1][0]
    assert texts.class_names[label] == ("neg", "pos")[int(text.split()[-1]) % 2]


def test_folder_of_tables_is_read_as_one(tmp_path):
    write(tmp_path / "a.txt", lines(30))
    write(tmp_path / "b.txt", lines(20))
    texts = load_labelled_texts(str(tmp_path))
    assert sum(len(texts.split(s)[0]) for s in ("train", "validation", "test")) == 50


def test_class_folders(tmp_path):
    for label in ("neg", "pos"):
        (tmp_path / label).mkdir()
        for i in range(10):
            write(tmp_path / label / f"{i}.txt", f"{label} text {i}")
    texts = load_labelled_texts(str(tmp_path))
    assert texts.class_names == ("neg", "pos")
    assert [len(texts.split(s)[0]) for s in ("train", "validation", "test")] == [16, 2, 2]


def test_aclimdb_layout_keeps_its_test_split_and_skips_unsup(tmp_path):
    for split, count in (("train", 20), ("test", 6)):
        for label in ("neg", "pos"):
            (tmp_path / split / label).mkdir(parents=True)
            for i in range(count):
                write(tmp_path / split / label / f"{i}_7.txt", f"{split} {label} {i}")
    (tmp_path / "train" / "unsup").mkdir()
    write(tmp_path / "train" / "unsup" / "0_0.txt", "unlabelled")
    texts = load_labelled_texts(str(tmp_path))
    assert texts.class_names == ("neg", "pos")
    assert [len(texts.split(s)[0]) for s in ("train", "validation", "test")] == [36, 4, 12]
    assert all(t.startswith("test ") for t in texts.split("test")[0])


@pytest.mark.parametrize(
    "content, message",
    [
        (lines(30, labels=("pos",)), "only the class 'pos'"),
        ("\n".join(f"x{i}\t{i}" for i in range(10)), "label '.*', which no training example has"),
    ],
)
def test_bad_label_sets(tmp_path, content, message):
    with pytest.raises(UserInputError, match=message):
        load_labelled_texts(str(write(tmp_path / "a.tsv", content)))


def test_missing_sources(tmp_path):
    with pytest.raises(UserInputError, match="unknown data source 'imdb'"):
        load_labelled_texts("imdb")
    with pytest.raises(UserInputError, match="no such file or folder"):
        load_labelled_texts(str(tmp_path / "gone.csv"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserInputError, match="neither class sub-folders nor"):
        load_labelled_texts(str(tmp_path / "empty"))


def test_imdb_reviews_offline_fails_at_once_with_instructions(tmp_path):
    started = time.monotonic()
    with pytest.raises(UserInputError) as raised:
        load_labelled_texts("imdb_reviews", data_dir=tmp_path)
    assert time.monotonic() - started < 10
    message = str(raised.value)
    assert "\n" not in message
    assert str(tmp_path / "downloads" / "manual" / "aclImdb_v1.tar.gz") in message
    assert labelled_texts.IMDB_URL in message
