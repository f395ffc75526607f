"""CSV / TSV files of labelled examples: headers, numbered columns, bad tables, the first-row check."""

import pytest

from kerasrnn.data.text_tables import has_no_label_column, read_table
from kerasrnn.errors import UserInputError


def write(path, text):
    path.write_text(text, "utf-8")
    return path


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


def test_a_table_with_texts_but_no_labels(tmp_path):
    glue_test = write(tmp_path / "test.tsv", "index\tsentence\n0\tsome text\n")
    assert has_no_label_column(glue_test, "sentence", "label")
    assert not has_no_label_column(write(tmp_path / "dev.tsv", "sentence\tlabel\nx\t1\n"), "sentence", "label")
    assert not has_no_label_column(glue_test, "1", "2")  # numbered columns: no header to judge
    assert not has_no_label_column(tmp_path, "sentence", "label")
