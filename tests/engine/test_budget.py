"""`--time-budget`, `--warmup-steps` and the progress lines: the epochs a budget gives, the stop
before an epoch that would overrun it, the schedule's warm-up, and a line at every interval."""

from __future__ import annotations

import json
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn.engine import fitting
from kerasrnn.engine.budget import plan_epochs
from kerasrnn.engine.callbacks import Progress, TimeBudget
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import UserInputError


def test_plan_epochs_fills_what_is_left_of_the_budget():
    # 10 min, 60 s spent: 540 s left; an epoch is 100 steps × 0.5 s + 10 s validation = 60 s.
    plan = plan_epochs(budget_minutes=10, spent_seconds=60, steps_per_epoch=100, seconds_per_step=0.5,
                       seconds_per_validation=10, most=10_000)
    assert plan.epochs == 9 and plan.seconds_left == 540
    assert "9 epochs of 100 steps (about 9.0 min)" in plan.summary(10, 100)
    # Never more than asked, never fewer than one.
    assert plan_epochs(budget_minutes=10, spent_seconds=60, steps_per_epoch=100, seconds_per_step=0.5,
                       seconds_per_validation=10, most=4).epochs == 4
    assert plan_epochs(budget_minutes=0.5, spent_seconds=60, steps_per_epoch=100, seconds_per_step=0.5,
                       seconds_per_validation=10, most=10).epochs == 1


@pytest.mark.parametrize("arguments, message", [
    ({"time_budget": 0.0}, "time budget must be positive"),
    ({"time_budget": float("inf")}, "time budget must be positive"),
    ({"warmup_steps": -1}, "warm-up steps"),
])
def test_bad_budget_settings_are_refused(arguments, message):
    with pytest.raises(UserInputError, match=message):
        TrainConfig(**arguments)


def test_warmup_rises_linearly_then_decays_or_stays():
    schedule = fitting.make_optimizer(TrainConfig(learning_rate=0.01, warmup_steps=10), 110)._learning_rate
    assert [round(float(schedule(step)), 6) for step in (0, 5, 10, 60, 110)] == [0.0, 0.005, 0.01, 0.0055, 0.001]
    constant = fitting.make_optimizer(TrainConfig(learning_rate=0.01, warmup_steps=10, decay=False), 110)
    assert [round(float(constant._learning_rate(step)), 6) for step in (5, 10, 110)] == [0.005, 0.01, 0.01]


def _model_and_data():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=fitting.make_optimizer(TrainConfig(), 100), loss="mse")
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((x, x[:, :1])).batch(8)
    return model, data


def test_a_deadline_ends_training_before_an_epoch_that_would_overrun_it(tmp_path):
    model, data = _model_and_data()
    outcome = fitting.fit(model, data.repeat(), data, tmp_path, TrainConfig(epochs=5), steps_per_epoch=3,
                          verbose=0, deadline=time.monotonic() + 0.01)
    assert outcome.history["epoch"] == [1] and outcome.halted is None


def test_the_budget_sets_the_epochs_before_training_and_saves_them(tmp_path, capsys):
    from kerasrnn.engine.run import train
    from kerasrnn.tasks.charlm.task import CharLMConfig, CharLMTask

    corpus = tmp_path / "text.txt"
    corpus.write_text("the gate forgets a long sequence of the cell state\n" * 80, encoding="utf-8")
    config = CharLMConfig(units=8, embedding_dim=4, sequence_length=20, data=str(corpus))
    # A budget of 0.6 s is spent by the measurement itself: one epoch, never the 50 asked for.
    result = train(CharLMTask(), config, TrainConfig(epochs=50, steps_per_epoch=3, batch_size=8, time_budget=0.01),
                   tmp_path / "run", device="cpu", verbose=0)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["train_config"]
    assert (result.epochs, saved["epochs"], saved["time_budget"]) == (1, 1, 0.01)


def test_progress_says_the_estimate_then_a_line_per_interval(capsys):
    progress = Progress(epochs=2, steps_per_epoch=10, lines=True, interval=0.0, timed_steps=3)
    progress.on_epoch_begin(0)
    for batch in range(10):
        progress.on_train_batch_end(batch, {"loss": 2.5})
    lines = capsys.readouterr().out.splitlines()
    # The estimate once, after the timed steps 2–4 (step 1 traces the graph).
    estimates = [index for index, line in enumerate(lines) if line.startswith("Estimated time: about ")]
    assert estimates == [2] and "for 2 epochs of 10 steps" in lines[2]
    steps = [line for line in lines if line.startswith("  epoch 1/2, step ")]
    # Every step after the first (which traces the graph) is past the interval of 0 s.
    assert [line.split(",")[1].strip() for line in steps] == [f"step {n}/10: loss 2.5000" for n in range(2, 11)]
    assert all("steps/s, about " in line and line.endswith(" left") for line in steps)


def test_no_progress_lines_on_a_terminal_and_none_within_the_interval(capsys):
    for lines, interval in ((False, 0.0), (True, 3600.0)):
        progress = Progress(epochs=1, steps_per_epoch=10, lines=lines, interval=interval, timed_steps=100)
        for batch in range(10):
            progress.on_train_batch_end(batch, {"loss": 1.0})
    assert capsys.readouterr().out == ""


def test_time_budget_callback_judges_by_the_longest_epoch():
    budget = TimeBudget(deadline=time.monotonic() + 3600)
    budget.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    budget.model.stop_training = False
    budget.on_epoch_begin(0)
    budget.on_epoch_end(0)
    assert not budget.model.stop_training
    budget.longest = 7200.0
    budget.on_epoch_begin(1)
    budget.on_epoch_end(1)
    assert budget.model.stop_training
