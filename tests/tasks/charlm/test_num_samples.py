"""Several samples after one prompt, drawn in one batch (`generate --num-samples N`)."""

import keras
import pytest

from kerasrnn.engine.run_dir import MODEL_FILE, VOCABULARY_FILE, save_config
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import UserInputError
from kerasrnn.tasks.charlm import data as text_data
from kerasrnn.tasks.charlm.model import build_char_lm
from kerasrnn.tasks.charlm.sampling import MAX_BATCH_CHARACTERS, MAX_NUM_SAMPLES, CharSampler
from kerasrnn.tasks.charlm.task import CharLMConfig, CharLMTask
from tests.cli_helpers import assert_one_line_error, run

CHARACTERS = list(" .abcdeghilnorst")
CONFIG = CharLMConfig(cell="keras-lstm", units=8, layers=1, dropout=0.2, embedding_dim=4, carry_state=False)
# Drawn by `CharSampler.sample` before it took `num_samples` (keras-lstm, seed 1, see `sampler`).
BEFORE = {("the ", 1.0, 9): ". nsddsndihcnieobrhrlags ne lasedrhrdreg",
          ("", 1.5, 3): "t.rtstreg.diiacinhc tesrinhebogn aselobc"}


@pytest.fixture(scope="module")
def model():
    """An untrained tiny LSTM language model: flat enough distributions that rows differ."""
    keras.utils.set_random_seed(1)
    return build_char_lm(CONFIG, len(CHARACTERS) + 2, seed=1)


@pytest.fixture(scope="module")
def sampler(model):
    return CharSampler(model, CONFIG, CHARACTERS)


@pytest.fixture(scope="module")
def run_dir(model, tmp_path_factory):
    """A run directory of that model (no training: sampling needs only the files)."""
    folder = tmp_path_factory.mktemp("num_samples") / "run"
    folder.mkdir()
    model.save(folder / MODEL_FILE)
    save_config(folder, "charlm", CONFIG, TrainConfig())
    text_data.save_vocabulary(text_data.make_char_lookup(CHARACTERS), folder / VOCABULARY_FILE)
    return folder


@pytest.mark.parametrize("prompt, temperature, seed", list(BEFORE))
def test_one_sample_is_the_text_drawn_before(sampler, prompt, temperature, seed):
    text = BEFORE[(prompt, temperature, seed)]
    assert sampler.sample(prompt, 40, temperature=temperature, seed=seed) == text
    assert sampler.sample(prompt, 40, temperature=temperature, seed=seed, num_samples=1) == [text]
    assert "".join(sampler.stream(prompt, 40, temperature=temperature, seed=seed, block=32)) == text


def test_a_batch_of_samples(sampler):
    texts = sampler.sample("the ", 40, seed=9, num_samples=6)
    assert len(texts) == 6 and all(len(text) == 40 and set(text) <= set(CHARACTERS) for text in texts)
    assert texts[0] == BEFORE[("the ", 1.0, 9)]  # row 0 is the sample drawn alone
    assert len(set(texts)) == 6  # the rows draw independently
    assert sampler.sample("the ", 40, seed=9, num_samples=6) == texts  # same seed, same texts
    # Row b draws the same in every batch of more than b rows: a larger batch adds samples.
    assert sampler.sample("the ", 40, seed=9, num_samples=3) == texts[:3]
    assert sampler.sample("the ", 40, seed=10, num_samples=6)[0] == sampler.sample("the ", 40, seed=10)


def test_every_row_continues_the_prompt(sampler):
    """Greedy decoding draws no random number: every row is the prompt's one continuation, so the
    state after the prompt reached every row, not only the first."""
    greedy = sampler.sample("a dog", 25, top_k=1, seed=0)
    assert sampler.sample("a dog", 25, top_k=1, seed=0, num_samples=4) == [greedy] * 4
    assert sampler.sample("a cat", 25, top_k=1, seed=0, num_samples=2) != [greedy] * 2  # the prompt matters


def test_a_streamed_batch_is_the_batch_in_pieces(sampler):
    pieces = list(sampler.stream("the ", 150, temperature=1.2, seed=4, block=96, num_samples=3))
    assert len(pieces) == 5  # 96 characters in all per piece: one chunk of 32 per row, the last of 22
    assert all(len(piece) == 3 for piece in pieces)
    assert ["".join(row) for row in zip(*pieces)] == sampler.sample("the ", 150, temperature=1.2, seed=4,
                                                                     num_samples=3)


@pytest.mark.parametrize(
    "num_samples, length, message",
    [
        (0, 10, "number of samples must be an integer from 1 to 4,096, got 0"),
        (-3, 10, "got -3"),
        (2.0, 10, "got 2.0"),
        (True, 10, "got True"),
        (MAX_NUM_SAMPLES + 1, 10, "got 4097"),
        (10**9, 10, "got 1000000000"),
        (100, MAX_BATCH_CHARACTERS // 100 + 1, "more than the 20,000,000 one batch holds in memory"),
    ],
)
def test_bad_numbers_of_samples(sampler, num_samples, length, message):
    with pytest.raises(UserInputError, match=message):
        sampler.sample("the ", length, num_samples=num_samples)
    with pytest.raises(UserInputError, match=message):
        next(sampler.stream("the ", length, num_samples=num_samples))


def test_the_task_generates_a_list(sampler, run_dir):
    texts = CharLMTask().generate(run_dir, "the ", 40, temperature=1.0, seed=9, num_samples=3)
    assert texts == sampler.sample("the ", 40, seed=9, num_samples=3)
    assert CharLMTask().generate(run_dir, "the ", 40, temperature=1.0, seed=9) == texts[0]


def test_the_cli_prints_delimited_samples(sampler, run_dir):
    result = run("generate", run_dir, "--prompt", "the ", "--length", "40", "--temperature", "1",
                 "--seed", "9", "--num-samples", "3")
    assert result.exit_code == 0, result.output
    expected = "".join(f"--- sample {index} of 3 ---\nthe {text}\n" for index, text in
                       enumerate(sampler.sample("the ", 40, seed=9, num_samples=3), start=1))
    assert result.output == expected
    one = run("generate", run_dir, "--prompt", "the ", "--length", "40", "--temperature", "1", "--seed", "9")
    assert one.output == run("generate", run_dir, "--prompt", "the ", "--length", "40", "--temperature", "1",
                             "--seed", "9", "--num-samples", "1").output == "the " + BEFORE[("the ", 1.0, 9)] + "\n"


@pytest.mark.parametrize(
    "arguments, message, exit_code",
    [
        (["--num-samples", "0"], "Invalid value for '--num-samples'", 2),
        (["--num-samples", "two"], "Invalid value for '--num-samples'", 2),
        (["--num-samples", str(10**9)], "number of samples must be an integer from 1 to 4,096", 1),
        (["--num-samples", "4096", "--length", "10000"], "ask for fewer or shorter samples", 1),
    ],
)
def test_bad_numbers_of_samples_in_the_cli(run_dir, arguments, message, exit_code):
    assert_one_line_error(run("generate", run_dir, *arguments), message, exit_code=exit_code)
