"""Tests for kerasrnn.data.corpus_stream: the streamed text equals the loaded text piece by piece,
the scan's sizes and vocabulary equal the in-memory corpus's, the id file holds the right ids, the
cache is reused, renewed and written whole, and bad input gets the in-memory loader's one line."""

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kerasrnn.data import corpus_stream
from kerasrnn.data.corpus import load_char_corpus, source_files
from kerasrnn.data.corpus_stream import scan_char_corpus, should_stream, text_pieces
from kerasrnn.data.id_file import IdSpan
from kerasrnn.errors import UserInputError

REPO_ROOT = Path(__file__).resolve().parents[2]
CHUNKS = [1, 2, 3, 7, 4096]  # bytes a read: every boundary a multi-byte character or \r\n can straddle


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Every test gets its own cache folder (never the user's ~/.cache)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(corpus_stream.CACHE_ENV, str(folder))
    return folder


def ids_by_hand(text: str, characters) -> list[int]:
    """The ids of `make_char_lookup(characters)`: 2 + position, 0 for an unknown character."""
    index = {c: i + 2 for i, c in enumerate(characters)}
    return [index.get(c, 0) for c in text]


def write_folder(folder: Path, texts: dict[str, bytes]) -> Path:
    for name, data in texts.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


# The text, piece by piece -------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_bytes", CHUNKS)
def test_pieces_join_to_the_loaded_text(tmp_path, chunk_bytes):
    folder = write_folder(tmp_path / "books", {
        "a.txt": "\ufeffGrüße\r\nzwei\rdrei\r".encode("utf-8"),        # BOM, \r\n, \r, a final \r
        "b/c.txt": "\r\n日本語 👍 naïve".encode("utf-8"),               # starts with the \n of \r\n
        "b/d.txt": b"",                                                # empty: no newline added
        "e.txt": "\ufeff\ufeffkeeps the second BOM\n".encode("utf-8"),
    })
    expected = load_char_corpus(folder).text

    pieces = list(text_pieces(source_files(folder), chunk_bytes))

    assert "".join(pieces) == expected
    assert all(pieces)
    assert expected == "Grüße\nzwei\ndrei\n\n日本語 👍 naïve\n\ufeffkeeps the second BOM\n"


def test_random_files_stream_as_they_load(tmp_path):
    """200 random little folders of BOMs, \\r, \\r\\n and multi-byte characters, at odd chunk sizes."""
    rng = random.Random(0)
    alphabet = ["a", " ", "\r", "\n", "\r\n", "é", "日", "👍", "\ufeff"]
    for trial in range(200):
        folder = write_folder(tmp_path / str(trial), {
            f"{k}.txt": ("\ufeff" * rng.randint(0, 1) + "".join(
                rng.choice(alphabet) for _ in range(rng.randint(0, 20)))).encode("utf-8")
            for k in range(rng.randint(1, 3))})
        try:
            loaded = load_char_corpus(folder).text
        except UserInputError:  # only blanks: the scan's own test below
            continue
        chunk = rng.choice(CHUNKS)
        assert "".join(text_pieces(source_files(folder), chunk)) == loaded, (trial, chunk)


# The scan -----------------------------------------------------------------------------------------


def test_scan_sizes_and_vocabulary_are_the_in_memory_corpus_s(tmp_path):
    # 'Z' occurs only after the training split (900 of 1,000 characters): it is not in the vocabulary.
    # 'q' occurs only at the last training character, 'é' only at the first.
    text = "é" + "ab\n" * 299 + "\nq" + "Z" * 5 + "ab" * 47 + "b"
    assert len(text) == 1_000 and text[899] == "q" and text.index("Z") == 900
    path = tmp_path / "corpus.txt"
    path.write_text(text, encoding="utf-8")

    corpus = scan_char_corpus(path, chunk_bytes=3)
    loaded = load_char_corpus(path)

    assert [corpus.size(s) for s in ("train", "validation", "test")] == [900, 50, 50]
    assert [corpus.size(s) for s in ("train", "validation", "test")] == [
        len(loaded.train), len(loaded.validation), len(loaded.test)]
    assert corpus.characters == tuple(sorted(set(loaded.train))) == ("\n", "a", "b", "q", "é")
    assert corpus.length == 1_000 and corpus.name == str(path)
    assert repr(corpus) == (f"StreamedCorpus(name={str(path)!r}, train=900 chars, validation=50 chars, "
                            f"test=50 chars)")
    with pytest.raises(UserInputError, match="unknown split 'dev'"):
        corpus.size("dev")


def test_split_sizes_follow_split_text_for_every_length(tmp_path):
    for length in [11, 13, 19, 20, 21, 101, 999, 1_001]:
        path = tmp_path / f"{length}.txt"
        path.write_text("x" * length)
        loaded = load_char_corpus(path)
        corpus = scan_char_corpus(path)
        assert [corpus.size(s) for s in ("train", "validation", "test")] == [
            len(loaded.train), len(loaded.validation), len(loaded.test)], length


# The id file ---------------------------------------------------------------------------------------


def test_the_id_file_holds_every_character_s_id(tmp_path, cache):
    text = "the cat sat.\nthe dog ran 日本\n" * 40 + "ZZZ unseen"
    path = tmp_path / "corpus.txt"
    path.write_text(text, encoding="utf-8")
    corpus = scan_char_corpus(path, chunk_bytes=5)

    ids = corpus.ids(corpus.characters)

    expected = ids_by_hand(text, corpus.characters)
    assert ids.dtype == "uint16" and ids.length == len(text)
    assert ids.path.parent.parent == cache / "corpora"
    assert ids.path.stat().st_size == 2 * len(text)
    whole = IdSpan(ids, 0, len(text))
    assert whole.read(0, len(text)).tolist() == expected
    assert whole.read(0, 3).dtype == np.int32
    train, validation, test = (ids.split(s) for s in ("train", "validation", "test"))
    assert (train.start, train.stop, test.start, test.stop) == (
        0, corpus.size("train"), len(text) - corpus.size("test"), len(text))
    assert validation.start == train.stop and validation.stop == test.start
    assert test.read(0, test.size).tolist() == expected[-test.size:]
    # Windows and rows, relative to the span.
    starts = np.array([0, 5, validation.size - 4])
    np.testing.assert_array_equal(validation.windows(starts, 4),
                                  [expected[validation.start + s:validation.start + s + 4] for s in starts])
    np.testing.assert_array_equal(validation.rows(2, 3, 5),
                                  np.reshape(expected[validation.start + 10:validation.start + 25], (3, 5)))
    np.testing.assert_array_equal(whole.bincount(), np.bincount(expected, minlength=ids.vocabulary_size))
    assert validation.head(7).size == 7 and validation.head(10**9).size == validation.size
    with pytest.raises(IndexError):
        validation.windows(np.array([validation.size - 3]), 4)
    with pytest.raises(IndexError):
        validation.read(validation.size - 1, 2)


def test_another_vocabulary_gets_its_own_id_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("abcabc" * 20 + "xyz")
    corpus = scan_char_corpus(path)

    own = corpus.ids(corpus.characters)
    other = corpus.ids(["b", "x"])  # a run's vocabulary, for evaluate --data

    assert own.path != other.path
    assert IdSpan(other, 0, other.length).read(0, 6).tolist() == [0, 2, 0, 0, 2, 0]
    assert IdSpan(other, 0, other.length).read(other.length - 3, 3).tolist() == [3, 0, 0]


def test_a_vocabulary_beyond_uint16_gets_int32_ids(tmp_path):
    characters = [chr(0x4E00 + i) for i in range(70_000 // 2)] + [chr(0x20000 + i) for i in range(35_000)]
    text = "".join(characters) * 2
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    corpus = scan_char_corpus(path)

    ids = corpus.ids(corpus.characters)

    assert ids.dtype == "int32" and ids.vocabulary_size == 70_002
    assert IdSpan(ids, 0, ids.length).read(0, 3).tolist() == ids_by_hand(text[:3], corpus.characters)
    assert IdSpan(ids, 0, ids.length).read(69_999, 2).tolist() == [70_001, 2]


# The cache -----------------------------------------------------------------------------------------


def test_the_cache_is_reused_without_reading_the_text(tmp_path, monkeypatch):
    path = tmp_path / "corpus.txt"
    path.write_text("hello world\n" * 50)
    first = scan_char_corpus(path)
    ids = first.ids(first.characters)

    def no_reading(*arguments, **keywords):
        raise AssertionError("the text was read again")

    monkeypatch.setattr(corpus_stream, "text_pieces", no_reading)
    again = scan_char_corpus(path)
    assert again == first
    assert again.ids(again.characters) == ids


def test_an_edited_corpus_is_read_again_and_its_old_cache_deleted(tmp_path, cache):
    path = tmp_path / "corpus.txt"
    path.write_text("aaaa bbbb\n" * 50)
    old = scan_char_corpus(path)
    old.ids(old.characters)
    path.write_text("cccc dddd\n" * 60)

    new = scan_char_corpus(path)

    assert new.characters == ("\n", " ", "c", "d") and new.length == 600
    assert new.cache_dir != old.cache_dir
    assert [p.name for p in (cache / "corpora").iterdir()] == [new.cache_dir.name]


def test_a_crash_while_writing_leaves_no_id_file(tmp_path, monkeypatch):
    path = tmp_path / "corpus.txt"
    path.write_text("some text\n" * 100)
    corpus = scan_char_corpus(path)
    pieces = corpus_stream.text_pieces

    def crashing(found, chunk_bytes=corpus_stream.CHUNK_BYTES):
        yield next(iter(pieces(found, 4)))
        raise KeyboardInterrupt  # a kill in the middle of the file

    monkeypatch.setattr(corpus_stream, "text_pieces", crashing)
    with pytest.raises(KeyboardInterrupt):
        corpus.ids(corpus.characters)
    assert sorted(p.name for p in corpus.cache_dir.iterdir()) == ["scan.json"]

    monkeypatch.setattr(corpus_stream, "text_pieces", pieces)
    ids = corpus.ids(corpus.characters)
    assert IdSpan(ids, 0, ids.length).read(0, 4).tolist() == ids_by_hand("some", corpus.characters)


def test_a_half_written_id_file_is_rebuilt(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("abc\n" * 100)
    corpus = scan_char_corpus(path)
    ids = corpus.ids(corpus.characters)
    assert IdSpan(ids, 0, 400).read(0, 4).tolist() == ids_by_hand("abc\n", corpus.characters)
    ids.path.write_bytes(ids.path.read_bytes()[:10])  # cut short behind our back
    with pytest.raises(UserInputError, match="was cut short: delete it and run again"):
        IdSpan(ids, 0, 400).read(396, 4)

    again = corpus.ids(corpus.characters)  # rebuilt, and read from the new file

    assert again.path.stat().st_size == 800
    assert IdSpan(again, 0, 400).read(396, 4).tolist() == ids_by_hand("abc\n", corpus.characters)


def test_an_unwritable_cache_is_one_line(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(corpus_stream.CACHE_ENV, str(blocker / "cache"))
    path = tmp_path / "corpus.txt"
    path.write_text("abc\n" * 100)

    with pytest.raises(UserInputError, match="cannot write the corpus cache .*KERASRNN_CACHE_DIR") as info:
        scan_char_corpus(path)
    assert "\n" not in str(info.value)


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(corpus_stream.CACHE_ENV, str(tmp_path / "x"))
    assert corpus_stream.cache_root() == tmp_path / "x"
    monkeypatch.delenv(corpus_stream.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert corpus_stream.cache_root() == tmp_path / "xdg" / "kerasrnn"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert corpus_stream.cache_root() == Path.home() / ".cache" / "kerasrnn"


# Which path -----------------------------------------------------------------------------------------


def test_should_stream(tmp_path, monkeypatch):
    small, big = tmp_path / "small.txt", tmp_path / "big"
    small.write_text("x" * 100)
    write_folder(big, {"a.txt": b"y" * 60, "b.txt": b"z" * 60, "ignored.md": b"w" * 1000})
    monkeypatch.setattr(corpus_stream, "STREAMING_THRESHOLD_BYTES", 100)

    assert not should_stream(str(small)) and should_stream(str(big))  # 100 is not more than 100; 120 is
    assert should_stream(str(small), "always") and not should_stream(str(big), "never")
    assert not should_stream("python_docs", "always") and not should_stream("tiny_shakespeare")
    assert not should_stream(str(tmp_path / "missing.txt"))  # the loader says what is wrong
    with pytest.raises(UserInputError, match="unknown streaming mode 'sometimes'"):
        should_stream(str(small), "sometimes")


# Bad input: the in-memory loader's message, word for word ------------------------------------------


@pytest.mark.parametrize("chunk_bytes", [1, 3, 4096])
@pytest.mark.parametrize("name, files", [
    ("binary file", {"a.txt": b"fine\n", "b.txt": b"PK\x03\x04\x00binary"}),
    ("NUL after a bad byte", {"a.txt": b"caf\xe9 " + b"x" * 20 + b"\x00"}),
    ("latin-1", {"a.txt": "ok line\nGrüße aus Köln\n".encode("latin-1")}),
    ("cut multi-byte character", {"a.txt": "abc日".encode("utf-8")[:-1]}),
    ("empty files", {"a.txt": b"", "b.txt": b" \n\t"}),
    ("no txt files", {"a.md": b"text"}),
])
def test_bad_input_has_the_loader_s_message(tmp_path, chunk_bytes, name, files):
    folder = write_folder(tmp_path / "in", files)
    with pytest.raises(UserInputError) as loaded:
        load_char_corpus(folder)

    with pytest.raises(UserInputError) as streamed:
        scan_char_corpus(folder, chunk_bytes=chunk_bytes)

    assert str(streamed.value) == str(loaded.value)
    assert "\n" not in str(streamed.value)


@pytest.mark.parametrize("content", [b"", b"  \r\n\r\n "])
def test_an_empty_file_has_the_loader_s_message(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(UserInputError) as loaded:
        load_char_corpus(path)
    with pytest.raises(UserInputError) as streamed:
        scan_char_corpus(path)
    assert str(streamed.value) == str(loaded.value)


def test_a_missing_path_has_the_loader_s_message(tmp_path):
    for source in [str(tmp_path / "nope.txt"), "shakespeare", "  "]:
        with pytest.raises(UserInputError) as loaded:
            load_char_corpus(source)
        with pytest.raises(UserInputError) as streamed:
            scan_char_corpus(source)
        assert str(streamed.value) == str(loaded.value)


# Memory ---------------------------------------------------------------------------------------------


def test_streaming_a_corpus_keeps_memory_far_below_its_size(tmp_path):
    """`benchmarks/bench_streaming_memory.py` on a 48 MiB corpus, in its own process (about 15 s):
    scanning it, writing its ids, training 10 steps, validating and the unigram baseline over train and
    validation raise the peak resident memory by less than a quarter of the corpus's size (measured:
    3 to 7 MiB, most of it TensorFlow's during training; the in-memory path needs about 60 bytes a
    character, about 3 GiB here)."""
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "bench_streaming_memory.py"), "--megabytes", "48",
         "--steps", "10", "--validation-batches", "5", "--json"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])

    assert figures["peak_is_since_before"]
    assert figures["characters"] > 40 * 2**20
    assert figures["growth_mib"] < figures["corpus_mib"] / 4, figures
    assert figures["id_file_mib"] == pytest.approx(2 * figures["characters"] / 2**20)
    assert np.isfinite(figures["train_loss"]) and np.isfinite(figures["validation_loss"])
    assert 0 < figures["unigram_baseline"] < np.log(40)
