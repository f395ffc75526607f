"""Bad constructor arguments raise a ValueError that names the bad value."""

import re

import pytest

from kerasrnn.layers import URNN, TextbookGRUCell, TextbookLSTMCell, URNNCell, VanillaRNNCell

ALL = [VanillaRNNCell, TextbookGRUCell, TextbookLSTMCell, URNNCell, URNN]


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
@pytest.mark.parametrize("units", [0, -3, 2.5, "8", True])
def test_units_must_be_positive_int(cls, units):
    with pytest.raises(ValueError, match="units.*" + re.escape(repr(units))):
        cls(units)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
@pytest.mark.parametrize("rate", [-0.1, 1.0, 2])
def test_dropout_must_be_a_rate(cls, rate):
    with pytest.raises(ValueError, match="dropout.*" + re.escape(repr(rate))):
        cls(4, dropout=rate)


@pytest.mark.parametrize("cls", [VanillaRNNCell, TextbookGRUCell, TextbookLSTMCell], ids=lambda c: c.__name__)
def test_unknown_activation_is_named(cls):
    with pytest.raises(ValueError, match="activation 'tanhh'"):
        cls(4, activation="tanhh")
    with pytest.raises(ValueError, match="recurrent_dropout.*1.5"):
        cls(4, recurrent_dropout=1.5)


@pytest.mark.parametrize("cls", [TextbookGRUCell, TextbookLSTMCell], ids=lambda c: c.__name__)
def test_unknown_recurrent_activation_is_named(cls):
    with pytest.raises(ValueError, match="recurrent_activation 'sigmod'"):
        cls(4, recurrent_activation="sigmod")


def test_urnn_specific_arguments():
    with pytest.raises(ValueError, match="implementation.*'dense'"):
        URNNCell(4, implementation="dense")
    with pytest.raises(ValueError, match="epsilon.*0"):
        URNNCell(4, epsilon=0)
    with pytest.raises(ValueError, match="seed.*'abc'"):
        URNN(4, seed="abc")
