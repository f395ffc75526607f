"""Tests for kerasrnn.data.corpus: each source's splits by size and content, each bad input's message.

tiny_shakespeare goes through the real tensorflow-datasets code path offline, fed from the copy in
`../shared/data` placed where tfds looks for a manual download. No test touches the network.
"""

import hashlib
import json
import logging
import platform
import shutil
import sys
import time
from pathlib import Path

import pydoc_data.topics
import pytest

from kerasrnn.data import corpus as corpus_lib
from kerasrnn.data import tfds_builders
from kerasrnn.data.corpus import CharCorpus, check_long_enough, load_char_corpus, split_text
from kerasrnn.errors import UserInputError

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SHAKESPEARE_FILE = SHARED_DATA / "tiny_shakespeare.txt"
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


def raises_one_line(*words):
    """Context manager: expects UserInputError whose one-line message contains every word."""

    class _Check:
        def __enter__(self):
            self._raises = pytest.raises(UserInputError)
            self.info = self._raises.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self._raises.__exit__(*exc)
            message = str(self.info.value)
            assert "\n" not in message, message
            for word in words:
                assert word in message, f"{word!r} not in {message!r}"
            return handled

    return _Check()


@pytest.fixture(scope="session")
def python_docs_dir(tmp_path_factory):
    """A data_dir with python_docs prepared once for the whole session."""
    data_dir = tmp_path_factory.mktemp("tfds_python_docs")
    load_char_corpus("python_docs", data_dir=data_dir)
    return data_dir


@pytest.fixture(scope="module")
def shakespeare_dir(tmp_path_factory):
    """A data_dir holding the shared tiny-shakespeare file as tfds's manual download."""
    if not SHAKESPEARE_FILE.is_file():
        pytest.skip(f"the shared tiny-shakespeare file is absent: expected {SHAKESPEARE_FILE}")
    data_dir = tmp_path_factory.mktemp("tfds_shakespeare")
    manual = data_dir / "downloads" / "manual"
    manual.mkdir(parents=True)
    shutil.copyfile(SHAKESPEARE_FILE, manual / "input.txt")
    return data_dir


# python_docs ------------------------------------------------------------------------------------


def test_python_docs_splits_are_the_sorted_topics_cut_90_5_5(python_docs_dir):
    corpus = load_char_corpus("python_docs", data_dir=python_docs_dir)

    topics = pydoc_data.topics.topics
    full = "".join(topics[name] + "\n" for name in sorted(topics))
    n = len(full)
    assert n == sum(len(text) for text in topics.values()) + len(topics)
    assert len(corpus.train) + len(corpus.validation) + len(corpus.test) == n
    assert len(corpus.train) == int(0.9 * n)
    assert len(corpus.validation) == int(0.5 * (n - int(0.9 * n)))
    assert corpus.text == full
    assert corpus.train.startswith('The "assert" statement\n**********************\n')
    assert "Assert statements are a convenient way to insert debugging assertions" in corpus.train
    assert corpus.test.endswith(topics["yield"] + "\n")
    assert corpus.name == "python_docs"


@pytest.mark.skipif(sys.version_info[:3] != (3, 11, 7), reason="pinned sizes are CPython 3.11.7's")
def test_python_docs_sizes_on_cpython_3_11_7(python_docs_dir):
    corpus = load_char_corpus("python_docs", data_dir=python_docs_dir)

    assert [len(corpus.split(s)) for s in corpus_lib.SPLITS] == [418_544, 23_252, 23_253]


def test_python_docs_warns_when_built_by_another_python(python_docs_dir, tmp_path, caplog):
    data_dir = tmp_path / "tfds"
    shutil.copytree(python_docs_dir / "python_docs", data_dir / "python_docs")
    metadata_file = data_dir / "python_docs" / "1.0.0" / "metadata.json"
    metadata_file.write_text(json.dumps({"python_version": "3.0.1"}))

    with caplog.at_level(logging.WARNING, logger="kerasrnn.data.corpus"):
        corpus = load_char_corpus("python_docs", data_dir=data_dir)

    assert corpus == load_char_corpus("python_docs", data_dir=python_docs_dir)
    assert "built with Python 3.0.1" in caplog.text
    assert platform.python_version() in caplog.text


def test_preparing_a_dataset_says_so_in_one_line_of_ours(tmp_path, capsys, caplog):
    with caplog.at_level(logging.INFO, logger="kerasrnn.data.tfds_builders"):
        load_char_corpus("python_docs", data_dir=tmp_path)
        load_char_corpus("python_docs", data_dir=tmp_path)  # prepared already: nothing to say

    assert capsys.readouterr().out == ""  # tfds's "Downloading and preparing dataset Unknown size"
    said = [record.getMessage() for record in caplog.records if record.name == "kerasrnn.data.tfds_builders"]
    assert said == [f"Preparing the python_docs dataset in {tmp_path / 'python_docs' / '1.0.0'} "
                    f"(once: later runs read it from there)"]


def test_python_docs_builder_missing_from_a_checkout(monkeypatch, tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / "kerasrnn").mkdir(parents=True)
    (checkout / "pyproject.toml").touch()
    monkeypatch.setattr(tfds_builders, "PACKAGE_DIR", checkout / "kerasrnn")
    missing = checkout / "datasets" / "python_docs" / "python_docs_dataset_builder.py"

    with raises_one_line(str(missing), "restore the datasets/ folder", str(checkout)) as error:
        load_char_corpus("python_docs", data_dir=tmp_path)
    assert "reinstall" not in str(error.value)


def test_python_docs_builder_missing_from_an_installed_kerasrnn(monkeypatch, tmp_path):
    package = tmp_path / "site-packages" / "kerasrnn"
    (package / "datasets").mkdir(parents=True)
    monkeypatch.setattr(tfds_builders, "PACKAGE_DIR", package)
    missing = package / "datasets" / "python_docs" / "python_docs_dataset_builder.py"

    with raises_one_line(str(missing), "reinstall kerasrnn", str(missing.parent)) as error:
        load_char_corpus("python_docs", data_dir=tmp_path)
    assert "checkout" not in str(error.value)


# tiny_shakespeare through tfds ------------------------------------------------------------------


def test_tiny_shakespeare_through_tfds_offline(shakespeare_dir):
    corpus = load_char_corpus("tiny_shakespeare", data_dir=shakespeare_dir)

    sizes = (len(corpus.train), len(corpus.validation), len(corpus.test))
    assert sizes == (1_003_854, 55_770, 55_770)
    assert corpus.train.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")
    text = SHAKESPEARE_FILE.read_text(encoding="utf-8")
    assert corpus.text == text
    assert hashlib.sha256(corpus.text.encode("utf-8")).hexdigest() == SHAKESPEARE_SHA256
    assert (shakespeare_dir / "tiny_shakespeare" / "1.0.0").is_dir()


def test_tiny_shakespeare_file_as_path_matches_tfds_splits(shakespeare_dir):
    from_tfds = load_char_corpus("tiny_shakespeare", data_dir=shakespeare_dir)
    from_path = load_char_corpus(SHAKESPEARE_FILE)

    assert (from_path.train, from_path.validation, from_path.test) == (
        from_tfds.train,
        from_tfds.validation,
        from_tfds.test,
    )
    assert from_path.name == str(SHAKESPEARE_FILE)


def test_tiny_shakespeare_prepared_needs_no_manual_file(shakespeare_dir, tmp_path):
    data_dir = tmp_path / "tfds"
    load_char_corpus("tiny_shakespeare", data_dir=shakespeare_dir)  # Prepared (module fixture).
    shutil.copytree(shakespeare_dir / "tiny_shakespeare", data_dir / "tiny_shakespeare")

    corpus = load_char_corpus("tiny_shakespeare", data_dir=data_dir)

    assert len(corpus.train) == 1_003_854
    assert not (data_dir / "downloads" / "manual").exists()


def test_tiny_shakespeare_missing_manual_file_fails_in_under_5_seconds(tmp_path):
    import tensorflow_datasets  # noqa: F401  Imported first: TensorFlow's import is not the loader.

    manual_file = tmp_path / "downloads" / "manual" / "input.txt"
    start = time.monotonic()
    url = corpus_lib.TINY_SHAKESPEARE_URL
    with raises_one_line("tiny_shakespeare is not prepared", str(manual_file), url):
        load_char_corpus("tiny_shakespeare", data_dir=tmp_path)

    # It takes milliseconds; tfds's network retries would take minutes.
    assert time.monotonic() - start < 5


def test_tiny_shakespeare_wrong_manual_file(tmp_path):
    manual = tmp_path / "downloads" / "manual"
    manual.mkdir(parents=True)
    (manual / "input.txt").write_text("To be, or not to be\n")

    with raises_one_line("not the tiny-shakespeare input.txt", "1,115,394 bytes", "got 20 bytes"):
        load_char_corpus("tiny_shakespeare", data_dir=tmp_path)
    assert not (tmp_path / "tiny_shakespeare" / "1.0.0").exists()


def test_tiny_shakespeare_allow_download_leaves_it_to_tfds(tmp_path, monkeypatch):
    # Offline, only the hand-over is testable: tfds would try the network here.
    reached = []

    def fake_read(builder):
        reached.append(builder.name)
        return "a", "b", "c"

    monkeypatch.setattr(corpus_lib, "_read_tfds_splits", fake_read)

    corpus = load_char_corpus("tiny_shakespeare", data_dir=tmp_path, allow_download=True)

    assert reached == ["tiny_shakespeare"]
    assert corpus == CharCorpus(name="tiny_shakespeare", train="a", validation="b", test="c")


# A user's file or folder ------------------------------------------------------------------------


def test_split_text_90_5_5():
    text = "".join(chr(ord("a") + i % 26) for i in range(1_000))

    train, validation, test = split_text(text)

    assert (len(train), len(validation), len(test)) == (900, 50, 50)
    assert train + validation + test == text
    assert split_text("0123456789abc") == ("0123456789a", "b", "c")  # int(11.7) = 11, then 1, 1.
    assert split_text("") == ("", "", "")


def test_user_file_splits(tmp_path):
    text = "".join(f"line {i:03d}\n" for i in range(100))  # 9 characters a line, 900 in all.
    path = tmp_path / "corpus.md"
    path.write_text(text, encoding="utf-8")

    corpus = load_char_corpus(str(path))

    assert (len(corpus.train), len(corpus.validation), len(corpus.test)) == (810, 45, 45)
    assert corpus.train == text[:810] and corpus.train.endswith("line 089\n")
    assert corpus.validation == "line 090\nline 091\nline 092\nline 093\nline 094\n"
    assert corpus.test == text[855:]
    assert corpus.name == str(path)
    assert load_char_corpus(path) == corpus  # A Path works as well as a str.


def test_user_file_newlines_bom_and_non_ascii(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "Gr\u00fc\u00dfe\r\nzwei\rdrei\n".encode("utf-8") * 10)

    corpus = load_char_corpus(path)

    assert corpus.text == "Grüße\nzwei\ndrei\n" * 10
    assert len(corpus.text) == 160


def test_user_folder_reads_txt_files_sorted_by_relative_path(tmp_path):
    folder = tmp_path / "books"
    (folder / "b_part").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / "c.txt").write_text("C" * 29 + "\n")
    (folder / "a.txt").write_text("A" * 59)  # No final newline: the loader adds one.
    (folder / "b_part" / "b.txt").write_text("B" * 9 + "\n")
    (folder / "empty.txt").write_text("")
    (folder / "notes.md").write_text("ignored: not a .txt file\n")
    (folder / ".hidden.txt").write_text("ignored: hidden\n")
    (folder / ".git" / "x.txt").write_text("ignored: in a hidden folder\n")

    corpus = load_char_corpus(folder)

    expected = "A" * 59 + "\n" + "B" * 9 + "\n" + "C" * 29 + "\n"  # a.txt, b_part/b.txt, c.txt.
    assert corpus.text == expected
    assert (len(corpus.train), len(corpus.validation), len(corpus.test)) == (90, 5, 5)
    assert corpus.validation == "CCCCC"
    assert corpus.test == "CCCC\n"
    assert corpus.name == str(folder)


# Bad input ---------------------------------------------------------------------------------------


def test_unknown_corpus_name():
    with raises_one_line("unknown corpus 'shakespeare'", "python_docs or tiny_shakespeare"):
        load_char_corpus("shakespeare")


def test_missing_path(tmp_path):
    with raises_one_line("no such file or folder", "nope.txt"):
        load_char_corpus(str(tmp_path / "nope.txt"))
    with raises_one_line("no such file or folder"):
        load_char_corpus(tmp_path / "shakespeare")  # A Path is never a corpus name.


def test_empty_source():
    with raises_one_line("no corpus given"):
        load_char_corpus("  ")


@pytest.mark.parametrize("content", [b"", b" \n\n\t\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)

    with raises_one_line(str(path), "is empty"):
        load_char_corpus(path)


def test_folder_without_txt_files(tmp_path):
    (tmp_path / "data.csv").write_text("a,b\n")

    with raises_one_line(f"folder {tmp_path} has no .txt files"):
        load_char_corpus(tmp_path)


def test_folder_of_empty_txt_files(tmp_path):
    (tmp_path / "a.txt").write_text("")
    (tmp_path / "b.txt").write_text("\n")

    with raises_one_line("the 2 .txt files in folder", "are empty"):
        load_char_corpus(tmp_path)


def test_binary_file_in_folder_is_named(tmp_path):
    (tmp_path / "a.txt").write_text("fine text\n")
    (tmp_path / "b.txt").write_bytes(b"PK\x03\x04\x00\x00binary")

    with raises_one_line(str(tmp_path / "b.txt"), "looks binary", "NUL"):
        load_char_corpus(tmp_path)


def test_non_utf8_file_is_named(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Grüße aus Köln\n".encode("latin-1"))

    with raises_one_line(str(path), "is not UTF-8", "byte 0xfc at offset 2", "convert it to UTF-8"):
        load_char_corpus(path)


def test_unknown_split():
    corpus = CharCorpus(name="x", train="ab", validation="c", test="d")

    with raises_one_line("unknown split 'valid'", "train, validation, test"):
        corpus.split("valid")
    assert corpus.split("validation") == "c"
    assert corpus.text == "abcd"
    assert repr(corpus) == "CharCorpus(name='x', train=2 chars, validation=1 chars, test=1 chars)"


# check_long_enough --------------------------------------------------------------------------------


def test_check_long_enough_boundary():
    corpus = CharCorpus(name="small.txt", train="a" * 90, validation="b" * 5, test="c" * 6)

    check_long_enough(corpus, 4)  # Every split has at least 5 characters.
    with raises_one_line(
        "corpus small.txt is too small for sequence length 5",
        "validation split has 5 characters and needs at least 6",
        "shorter sequence length",
    ):
        check_long_enough(corpus, 5)


def test_check_long_enough_names_the_train_split_first():
    corpus = CharCorpus(name="tiny", train="a" * 9, validation="b", test="c")

    with raises_one_line("train split has 9 characters and needs at least 1,001"):
        check_long_enough(corpus, 1_000)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "100"])
def test_check_long_enough_rejects_bad_sequence_length(bad):
    corpus = CharCorpus(name="x", train="abc", validation="d", test="e")

    with raises_one_line("sequence length must be a positive integer", repr(bad)):
        check_long_enough(corpus, bad)
