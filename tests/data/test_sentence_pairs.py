"""The sentence-pairs loader: language pairs, pairs files in the lstm_seq2seq format, the split by source."""

import pytest

from kerasrnn.data import sentence_pairs
from kerasrnn.errors import UserInputError


@pytest.mark.parametrize("pair, expected", [("en-fr", ("en", "fr")), ("digits-de", ("digits", "de")),
                                            ("it-es", ("it", "es"))])
def test_pairs_name_two_fields(pair, expected):
    assert sentence_pairs.parse_pair(pair) == expected


@pytest.mark.parametrize("pair", ["en", "en-xx", "fr-fr", "en-fr-de", "", "EN-FR"])
def test_unknown_pairs_are_refused_in_one_line(pair):
    with pytest.raises(UserInputError, match="unknown language pair .* digits, en, fr, de, es, it"):
        sentence_pairs.parse_pair(pair)


def write(path, text):
    path.write_text(text, "utf-8")
    return path


def test_a_pairs_file_in_the_lstm_seq2seq_format(tmp_path):
    path = write(tmp_path / "fra.txt", "Go.\tVa !\tCC-BY 2.0 (France) Attribution\n\nHi.\tSalut !\tCC-BY\n")
    assert sentence_pairs.read_pairs_file(path) == [("Go.", "Va !"), ("Hi.", "Salut !")]


@pytest.mark.parametrize("text, message", [
    ("", "has no pairs"),
    ("\n \n", "has no pairs"),
    ("Go.\tVa !\nHi.\n", "line 2 has no tab"),
    ("Go.\tVa !\tCC\nHi.\tSalut !\n", "line 2 has 2 tab-separated columns, the first line 3"),
    ("Go.\tVa !\n\tSalut !\n", "line 2 has an empty source"),
    ("Go.\t \n", "line 1 has an empty target"),
])
def test_bad_pairs_files_are_refused_in_one_line(tmp_path, text, message):
    with pytest.raises(UserInputError, match=message):
        sentence_pairs.read_pairs_file(write(tmp_path / "pairs.txt", text))


def test_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_bytes(b"caf\xe9\tcaf\xe9\n")
    with pytest.raises(UserInputError, match="not UTF-8"):
        sentence_pairs.read_pairs_file(path)


def test_missing_data_is_refused(tmp_path):
    with pytest.raises(UserInputError, match="no pairs file"):
        sentence_pairs.load_pairs(str(tmp_path / "absent.txt"), "en-fr")


def test_a_pairs_file_is_loaded_split_and_named_after_the_file(tmp_path):
    lines = [f"sentence {i}\tphrase {i}\n" for i in range(100)]
    pairs = sentence_pairs.load_pairs(str(write(tmp_path / "fra.txt", "".join(lines))), "ignored")
    assert pairs.name == "fra.txt"
    assert pairs.splits == sentence_pairs.split_by_source([line.rstrip("\n").split("\t") for line in lines])
    sources, targets = pairs.split("validation")
    assert [source.replace("sentence", "phrase") for source in sources] == targets


def test_the_split_keeps_every_translation_of_a_source_together():
    pairs = [(f"sentence {i % 300}", f"phrase {i}") for i in range(1200)]
    splits = sentence_pairs.split_by_source(pairs)
    seen = {}
    for split, (sources, _) in splits.items():
        for source in sources:
            assert seen.setdefault(source, split) == split
    sizes = {split: len(sources) for split, (sources, _) in splits.items()}
    assert sum(sizes.values()) == 1200
    assert 0.7 < sizes["train"] / 1200 < 0.9  # 80 % expected, by hash
    assert splits == sentence_pairs.split_by_source(pairs)  # no seed, no randomness


def test_too_few_pairs_to_split():
    with pytest.raises(UserInputError, match="too few to split"):
        sentence_pairs.split_by_source([("a", "b")])


# --- named splits ---------------------------------------------------------------------------


def pairs_file(path, name, count):
    return write(path, "".join(f"{name} sentence {i}\t{name} phrase {i}\n" for i in range(count)))


def test_a_folder_of_split_files_keeps_its_splits(tmp_path, caplog):
    caplog.set_level("INFO", logger="kerasrnn")
    for name, count in (("train", 50), ("dev", 6), ("test", 8)):
        pairs_file(tmp_path / f"{name}.txt", name, count)
    pairs = sentence_pairs.load_pairs(str(tmp_path), "ignored")
    sources = {split: set(pairs.split(split)[0]) for split in ("train", "validation", "test")}
    assert sources["train"] == {f"train sentence {i}" for i in range(50)}
    assert sources["validation"] == {f"dev sentence {i}" for i in range(6)}
    assert sources["test"] == {f"test sentence {i}" for i in range(8)}
    assert "train ← train.txt (50 pairs); validation ← dev.txt (6 pairs); test ← test.txt (8 pairs)" in caplog.text


def test_a_missing_split_file_is_cut_from_train_by_source(tmp_path):
    pairs_file(tmp_path / "train.txt", "train", 200)
    pairs_file(tmp_path / "valid.txt", "valid", 5)
    pairs = sentence_pairs.load_pairs(str(tmp_path), "ignored")
    train, test = set(pairs.split("train")[0]), set(pairs.split("test")[0])
    assert len(pairs.split("validation")[0]) == 5 and not train & test
    assert len(train) + len(test) == 200 and 5 < len(test) < 40  # a tenth, by hash
    with pytest.raises(UserInputError, match="no pairs file named train"):
        (tmp_path / "train.txt").unlink()
        sentence_pairs.load_pairs(str(tmp_path), "ignored")


def test_separate_split_files_and_whole_files(tmp_path):
    data = pairs_file(tmp_path / "fra.txt", "all", 100)
    test = pairs_file(tmp_path / "other.txt", "other", 7)
    pairs = sentence_pairs.load_pairs(str(data), "ignored", validation_data=str(test), test_data=str(test))
    assert [len(pairs.split(s)[0]) for s in ("train", "validation", "test")] == [100, 7, 7]
    whole = sentence_pairs.load_pairs(str(data), "ignored", whole=True)
    assert all(len(whole.split(s)[0]) == 100 for s in ("train", "validation", "test"))
    with pytest.raises(UserInputError, match="go with pairs of your own"):
        sentence_pairs.load_pairs("spelled_numbers", "en-fr", test_data=str(test))


def test_spelled_numbers_pairs_keep_their_numbers_and_train_on_every_small_number():
    pairs = sentence_pairs.load_pairs("spelled_numbers", "digits-en")
    for split in ("train", "validation", "test"):
        sources, targets = pairs.split(split)
        assert [int(source) for source in sources] == pairs.numbers_of(split)
    train = pairs.numbers_of("train")
    assert set(range(101)) <= set(train)
    assert train.count(7) == train.count(3) > 100  # small numbers repeated: balanced by digits
    assert not set(train) & set(pairs.numbers_of("test"))
