"""The draw of one character from its logits: argmax(logits / temperature + Gumbel noise)."""

import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.tasks.charlm import data as char_data
from kerasrnn.tasks.charlm.sampling import DRAW_CHUNK, _pick, gumbel_noise

LOGITS = np.array([5.0, 5.0, 1.0, 0.5, 0.0, -1.0, 2.0, 1.5], np.float32)  # the first two are special
ROWS = 4000


def softmax(logits):
    exponentials = np.exp(logits - logits.max())
    return exponentials / exponentials.sum()


def frequencies(temperature, top_k=None):
    """How often each id is drawn in ROWS × DRAW_CHUNK draws with independent noise."""
    noise = gumbel_noise(ROWS, len(LOGITS), tf.constant([3, 0]))
    logits = tf.tile(LOGITS[None, :], [ROWS * DRAW_CHUNK, 1])
    ids = _pick(logits, tf.constant(temperature), top_k, tf.reshape(noise, [-1, len(LOGITS)]))
    return np.bincount(ids.numpy(), minlength=len(LOGITS)) / (ROWS * DRAW_CHUNK)


@pytest.mark.parametrize("temperature", [1.0, 0.5, 2.0])
def test_the_draws_follow_the_softmax(temperature):
    expected = np.zeros(len(LOGITS))
    ordinary = len(char_data.SPECIAL_TOKENS)
    expected[ordinary:] = softmax(LOGITS[ordinary:] / temperature)
    observed = frequencies(temperature)
    # 128,000 draws: a frequency's standard error is at most 0.0014; 0.006 is over four of them.
    np.testing.assert_allclose(observed, expected, atol=0.006)
    assert observed[:ordinary].sum() == 0  # never [UNK] or [BOS]


def test_top_k_draws_among_the_k_largest_in_proportion():
    observed = frequencies(1.0, top_k=tf.constant(2))
    # The two largest ordinary logits: 2.0 (id 6) and 1.5 (id 7).
    expected = np.zeros(len(LOGITS))
    expected[6:8] = softmax(np.array([2.0, 1.5]))
    np.testing.assert_allclose(observed, expected, atol=0.006)


def test_the_noise_is_gumbel_and_a_row_does_not_depend_on_the_rows_after_it():
    draw = tf.function(gumbel_noise, jit_compile=True)  # as the sampler draws it
    many = draw(tf.constant(64), 50, tf.constant([7, 32])).numpy()
    assert many.shape == (64, DRAW_CHUNK, 50)
    np.testing.assert_array_equal(draw(tf.constant(3), 50, tf.constant([7, 32])).numpy(), many[:3])
    assert np.all(np.isfinite(many))
    # Gumbel(0, 1): mean 0.5772 (Euler's constant), standard deviation π/√6 = 1.2825.
    assert many.mean() == pytest.approx(0.5772, abs=0.02)
    assert many.std() == pytest.approx(np.pi / np.sqrt(6), abs=0.02)
    assert not np.array_equal(draw(tf.constant(3), 50, tf.constant([7, 64])).numpy(), many[:3])
