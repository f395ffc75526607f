"""`text_features`: every feature of small fixed texts against arrays written out by hand."""

import numpy as np
import pytest

from kerasrnn.analysis.text_features import FEATURES, text_features


def check(text, expected):
    features = text_features(text)
    assert tuple(features) == FEATURES
    for name, values in expected.items():
        assert features[name].dtype == np.float32 and features[name].shape == (len(text),), name
        np.testing.assert_array_equal(features[name], values, err_msg=name)


def test_a_call_with_a_string_and_a_newline():
    check('f(x, "a")\n', {
        "inside_quotes": [0, 0, 0, 0, 0, 1, 1, 1, 0, 0],
        "bracket_depth": [0, 1, 1, 1, 1, 1, 1, 1, 0, 0],
        "position_in_line": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        "after_newline": [0] * 10,
        "inside_word": [1, 0, 1, 0, 0, 0, 1, 0, 0, 0],
        "indentation": [0] * 10,
        "inside_code": [0] * 10,
    })


def test_an_open_quote_ends_with_its_line_and_brackets_never_go_below_zero():
    check("say \"hi\nx'y' (a[b]))", {
        "inside_quotes": [0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        "bracket_depth": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 1, 0, 0],
        "position_in_line": [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        "after_newline": [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        "inside_word": [1, 1, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0],
    })


def test_indentation_fences_and_doctest_lines():
    check("  a = 1\n\n```\nb\n```\n>>> c\nd", {
        "position_in_line": [0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 1, 2, 3, 0, 1, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 0],
        "after_newline": [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1],
        "indentation": [2] * 8 + [0] * 18,
        "inside_code": [1] * 8 + [0] + [1] * 16 + [0],
    })


def test_a_tab_counts_four_and_a_blank_line_has_no_indentation():
    check("\tx\n  \n", {"indentation": [4, 4, 4, 0, 0, 0], "inside_code": [1, 1, 1, 0, 0, 0]})


@pytest.mark.parametrize("text", ["", "\n", "é\r\n"])
def test_every_feature_has_one_value_per_character(text):
    assert all(values.shape == (len(text),) for values in text_features(text).values())
