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
