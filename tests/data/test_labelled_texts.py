"""Labelled texts for `classify`: files, folders, splits, imdb offline, bad input (the CSV/TSV
reading itself: test_text_tables.py; the exact splits: test_splits.py)."""

import time

import pytest

from kerasrnn.errors import UserInputError
from kerasrnn.data import labelled_texts
from kerasrnn.data.labelled_texts import load_labelled_texts


def write(path, text):
    path.write_text(text, "utf-8")
    return path


def lines(count, labels=("neg", "pos")):
    return "".join(f"example number {i}\t{labels[i % len(labels)]}\n" for i in range(count))


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


# --- named splits ---------------------------------------------------------------------------


def glue_folder(folder, counts=(40, 10, 12)):
    """The GLUE layout: train.tsv, dev.tsv, test.tsv with a header, each text unique to its file."""
    folder.mkdir(exist_ok=True)
    for name, count in zip(("train", "dev", "test"), counts):
        rows = "".join(f"{name} sentence {i}\t{i % 2}\n" for i in range(count))
        write(folder / f"{name}.tsv", "sentence\tlabel\n" + rows)
    return folder


def test_glue_layout_keeps_its_splits_and_no_test_text_is_trained_on(tmp_path, caplog):
    caplog.set_level("INFO", logger="kerasrnn")
    texts = load_labelled_texts(str(glue_folder(tmp_path / "sst2")), text_column="sentence")
    train, validation, test = (set(texts.split(s)[0]) for s in ("train", "validation", "test"))
    assert train == {f"train sentence {i}" for i in range(40)}
    assert validation == {f"dev sentence {i}" for i in range(10)}
    assert test == {f"test sentence {i}" for i in range(12)}
    assert not test & train and not validation & train  # no test text is trained on
    line = next(r.getMessage() for r in caplog.records if "train ←" in r.getMessage())
    assert "train ← train.tsv (40 examples); validation ← dev.tsv (10 examples); test ← test.tsv (12 examples)" in line


@pytest.mark.parametrize("names", [("train.csv", "validation.csv", "test.csv"), ("TRAIN_a.csv", "valid.csv", "testing.csv"),
                                   ("train_part.csv", "dev_matched.csv", "test_matched.csv")])
def test_split_names(tmp_path, names):
    for name, prefix in zip(names, ("a", "b", "c")):
        write(tmp_path / name, "text,label\n" + "".join(f"{prefix}{i},{i % 2}\n" for i in range(10)))
    write(tmp_path / "notes.csv", "text,label\nx,0\ny,1\n")  # left out, and said so
    texts = load_labelled_texts(str(tmp_path))
    assert [sorted({t[0] for t in texts.split(s)[0]}) for s in ("train", "validation", "test")] == [["a"], ["b"], ["c"]]
    assert "x" not in texts.split("train")[0]


def test_a_missing_split_is_a_tenth_of_train_and_never_overlaps(tmp_path):
    write(tmp_path / "train.tsv", lines(100))
    write(tmp_path / "test.tsv", "".join(f"held out {i}\t{('neg', 'pos')[i % 2]}\n" for i in range(7)))
    texts = load_labelled_texts(str(tmp_path))
    sizes = [len(texts.split(s)[0]) for s in ("train", "validation", "test")]
    assert sizes == [90, 10, 7]
    assert not set(texts.split("validation")[0]) & set(texts.split("train")[0])
    assert all(t.startswith("held out") for t in texts.split("test")[0])


def test_class_folders_per_split_folder(tmp_path):
    for split in ("train", "dev", "test"):
        for label in ("neg", "pos"):
            (tmp_path / split / label).mkdir(parents=True)
            for i in range(4):
                write(tmp_path / split / label / f"{i}.txt", f"{split} {label} {i}")
    texts = load_labelled_texts(str(tmp_path))
    assert [len(texts.split(s)[0]) for s in ("train", "validation", "test")] == [8, 8, 8]
    assert all(t.startswith("dev ") for t in texts.split("validation")[0])


def test_class_folders_that_only_look_like_splits_stay_classes(tmp_path):
    for label in ("development", "testing", "sports"):
        (tmp_path / label).mkdir()
        for i in range(10):
            write(tmp_path / label / f"{i}.txt", f"{label} {i}")
    texts = load_labelled_texts(str(tmp_path))
    assert texts.class_names == ("development", "sports", "testing")
    assert sum(len(texts.split(s)[0]) for s in ("train", "validation", "test")) == 30


def test_split_files_without_a_train_file_are_refused(tmp_path):
    write(tmp_path / "dev.tsv", lines(10))
    write(tmp_path / "test.tsv", lines(10))
    with pytest.raises(UserInputError, match="named for a split but nothing named train"):
        load_labelled_texts(str(tmp_path))


def test_separate_validation_and_test_files_are_used_whole(tmp_path):
    train = write(tmp_path / "reviews.tsv", lines(50))
    test = write(tmp_path / "other.tsv", "".join(f"other {i}\t{('neg', 'pos')[i % 2]}\n" for i in range(9)))
    texts = load_labelled_texts(str(train), test_data=str(test))
    assert [len(texts.split(s)[0]) for s in ("train", "validation", "test")] == [45, 5, 9]
    both = load_labelled_texts(str(train), validation_data=str(test), test_data=str(test))
    assert [len(both.split(s)[0]) for s in ("train", "validation", "test")] == [50, 9, 9]
    with pytest.raises(UserInputError, match="go with data of your own, not spelled_numbers"):
        load_labelled_texts("spelled_numbers", test_data=str(test))


def test_whole_scores_a_file_without_cutting_it(tmp_path):
    path = write(tmp_path / "a.tsv", lines(100))
    texts = load_labelled_texts(str(path), whole=True)
    assert texts.whole
    assert all(len(texts.split(s)[0]) == 100 for s in ("train", "validation", "test"))
    named = load_labelled_texts(str(glue_folder(tmp_path / "glue")), text_column="sentence", whole=True)
    assert not named.whole and len(named.split("test")[0]) == 12  # named splits stay splits


def test_glue_test_file_without_labels_is_left_out_and_said_so(tmp_path, caplog):
    folder = glue_folder(tmp_path / "sst2")
    write(folder / "test.tsv", "index\tsentence\n" + "".join(f"{i}\ttest sentence {i}\n" for i in range(12)))
    texts = load_labelled_texts(str(folder), text_column="sentence")
    assert "left out test.tsv, which has no 'label' column" in caplog.text
    assert [len(texts.split(s)[0]) for s in ("train", "validation", "test")] == [36, 10, 4]
    assert not set(texts.split("test")[0]) & set(texts.split("train")[0])
