"""`--time-budget`, `--warmup-steps` and the progress lines: the first plan, the re-plans that make
a budget run end on time with its schedule finished (also when the machine slows down or speeds up
half-way, and across a crash and `--resume`), the schedule's warm-up, and a line at every interval."""

from __future__ import annotations

import json
import logging
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrnn import fileio
from kerasrnn.engine import backup, fitting
from kerasrnn.engine import run_dir as run_files
from kerasrnn.engine.budget import plan_epochs, replan
from kerasrnn.engine.callbacks import Progress, TimeBudget
from kerasrnn.engine.schedule import ReplannedCosineDecay
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


def test_replan_ends_nearest_the_budget_and_never_cuts_the_plan_in_force():
    # 3 done of 10 planned, 100 s left at 30 s an epoch: 3.33 more, so 6 in all; at 20 s: 5 more, 8.
    assert replan(done=3, planned=10, most=100, seconds_left=100, seconds_per_epoch=30) == 6
    assert replan(done=3, planned=10, most=100, seconds_left=100, seconds_per_epoch=20) == 8
    # No time left: still the next epoch, whose steps the schedule in force has begun decaying.
    assert replan(done=3, planned=10, most=100, seconds_left=-5, seconds_per_epoch=20) == 4
    # Faster: more epochs, never above --epochs; the plan done: stop.
    assert replan(done=3, planned=4, most=7, seconds_left=1000, seconds_per_epoch=20) == 7
    assert replan(done=4, planned=4, most=100, seconds_left=1000, seconds_per_epoch=20) == 4


def test_a_refitted_schedule_keeps_its_rate_and_ends_on_the_final_rate():
    schedule = ReplannedCosineDecay(0.01, total_steps=100, warmup_steps=10, alpha=0.1)
    assert [round(float(schedule(step)), 7) for step in (0, 5, 10, 99)] == [0.0, 0.005, 0.01, 0.001]
    for total, step in ((300, 40), (60, 55)):  # longer, then shorter
        before = float(schedule(step))
        schedule.refit(total, step)
        assert float(schedule(step)) == pytest.approx(before, abs=1e-9)
        assert float(schedule(total - 2)) > 0.001
        assert float(schedule(total - 1)) == pytest.approx(0.001, abs=1e-9)
    schedule.refit(57, 56)  # one step left: the last, on the final rate
    assert float(schedule(56)) == pytest.approx(0.001, abs=1e-9)
    again = ReplannedCosineDecay.from_config(schedule.get_config())
    assert [float(again(s)) for s in (50, 56)] == [float(schedule(s)) for s in (50, 56)]


def test_without_a_budget_the_schedule_is_the_keras_one_it_was():
    schedule = fitting.make_optimizer(TrainConfig(learning_rate=0.01), 100)._learning_rate
    assert type(schedule) is keras.optimizers.schedules.CosineDecay
    assert [round(float(schedule(step)), 7) for step in (0, 50, 99, 100)] == [0.01, 0.0055, 0.0010022, 0.001]
    budgeted = fitting.make_optimizer(TrainConfig(learning_rate=0.01, time_budget=1.0), 100)._learning_rate
    assert isinstance(budgeted, ReplannedCosineDecay)


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


BUDGET = TrainConfig(epochs=10_000, learning_rate=0.01, time_budget=1.0, patience=10_000)
STEPS = 10


def _model_and_data(config=BUDGET):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=fitting.make_optimizer(config, 100), loss="mse")
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((x, x[:, :1])).batch(8)
    return model, data


def _budget_run(tmp_path, monkeypatch, *, seconds, step_seconds, first_plan):
    """A budget run of a tiny model (`seconds` long, its first plan `first_plan` epochs) on a clock
    that moves only in the `sleep` fault, `step_seconds(step)` a step: the machine's pace, made
    deterministic (a test that slept for real would fail on a busy machine). Returns its planner,
    its history, the seconds it took and the learning rate of its last step."""
    clock = _FakeClock(step_seconds=step_seconds)
    monkeypatch.setenv(fileio.FAULT_ENV, "steps-after:0")
    monkeypatch.setenv(fileio.MODE_ENV, "sleep:0")
    monkeypatch.setattr(fileio, "_sleep", clock.sleep)
    model, data = _model_and_data()
    started = clock()
    planner = TimeBudget(deadline=started + seconds, budget_seconds=seconds, epochs=first_plan, most=10_000,
                         steps_per_epoch=STEPS, clock=clock)
    outcome = fitting.fit(model, data.repeat(), data, tmp_path, BUDGET, steps_per_epoch=STEPS, verbose=0,
                          budget=planner)
    last_rate = fitting.learning_rate_at(model.optimizer, int(model.optimizer.iterations) - 1)
    return planner, outcome.history, planner.ended - started, last_rate


def test_a_run_slowed_down_half_way_still_ends_on_time_on_the_final_rate(tmp_path, monkeypatch):
    # 10 s: 50 epochs of 0.2 s planned, then every step takes 0.06 s instead of 0.02 after step 200
    # (epoch 20): an epoch takes 0.6 s, so far fewer epochs fit.
    planner, history, took, last_rate = _budget_run(
        tmp_path, monkeypatch, seconds=10.0, step_seconds=lambda step: 0.02 if step <= 200 else 0.06, first_plan=50)
    epochs = len(history["epoch"])
    assert abs(took - 10.0) <= 0.05 * 10.0, (took, planner.decisions)
    assert took - 10.0 <= max(planner.epoch_seconds)  # never more than an epoch over
    assert epochs == planner.planned < max(planned for _, planned in planner.decisions[:20])
    assert last_rate == pytest.approx(0.1 * BUDGET.learning_rate, abs=1e-6)
    # history.csv has the rate of every epoch's last step; its last row, the final rate.
    rates = run_files.read_history(tmp_path)["learning_rate"]
    assert len(rates) == epochs and rates[-1] == pytest.approx(1e-3, abs=1e-6)
    assert all(a >= b for a, b in zip(rates, rates[1:]))  # never a jump up when the plan changed


def test_a_run_that_speeds_up_replans_to_more_epochs_and_ends_on_the_final_rate(tmp_path, monkeypatch):
    # 2 s planned at the slow pace (0.3 s an epoch: about 6 epochs); after step 40 (4 epochs) a
    # step takes 0.01 s instead of 0.03, and an epoch 0.1 s.
    planner, history, took, last_rate = _budget_run(
        tmp_path, monkeypatch, seconds=2.0, step_seconds=lambda step: 0.03 if step <= 40 else 0.01, first_plan=6)
    slow_plan = dict(planner.decisions)[4]
    assert len(history["epoch"]) == planner.planned > slow_plan
    assert abs(took - 2.0) <= 0.05 * 2.0, (took, planner.decisions)
    assert took - 2.0 <= max(planner.epoch_seconds)
    assert last_rate == pytest.approx(1e-3, abs=1e-6)


class _FakeClock:
    """Time that passes only in the `sleep` fault (its seconds, or `step_seconds(step)`), and a crash
    at step `crash_at`."""

    def __init__(self, crash_at=None, step_seconds=None):
        self.now, self.steps, self.crash_at, self.step_seconds = 1000.0, 0, crash_at, step_seconds

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.steps += 1
        if self.steps == self.crash_at:
            raise fileio.SimulatedCrash(f"crash before step {self.steps}")
        self.now += seconds if self.step_seconds is None else self.step_seconds(self.steps)


def _fake_budget_run(run_dir, clock, *, resume=False):
    """A budget run (3 s, first plan 3 epochs of 4 steps at 0.1 s) on `clock`, or its resumption."""
    config = TrainConfig(epochs=10_000, learning_rate=0.01, time_budget=0.05, patience=10_000)
    model, data = _model_and_data(config)
    done, epochs, spent = 0, 3, 0.0
    if resume:
        done = backup.restore_state(run_dir, model)
        epochs, spent = backup.saved_budget(run_dir)
    planner = TimeBudget(deadline=clock() + 3.0 - spent, budget_seconds=3.0, epochs=epochs, most=10_000,
                         steps_per_epoch=4, clock=clock)
    fitting.fit(model, data.repeat().skip(done * 4), data, run_dir, config, steps_per_epoch=4, verbose=0,
                budget=planner, initial_epoch=done,
                history=run_files.truncated_history(run_files.read_history(run_dir), done))
    return model, planner


def test_a_budget_run_crashed_and_resumed_ends_bit_for_bit_where_the_whole_run_ends(tmp_path, monkeypatch):
    # Time from a fake clock, so that both runs re-plan alike: the plan grows from 3 to 7 epochs.
    monkeypatch.setenv(fileio.FAULT_ENV, "steps-after:0")
    monkeypatch.setenv(fileio.MODE_ENV, "sleep:0.1")
    whole_clock = _FakeClock()
    monkeypatch.setattr(fileio, "_sleep", whole_clock.sleep)
    whole, planner = _fake_budget_run(tmp_path / "whole", whole_clock)
    assert planner.decisions[0] == (1, 7) and planner.planned == 7

    crash_clock = _FakeClock(crash_at=14)  # in epoch 4, after the re-plans of epochs 1 to 3
    monkeypatch.setattr(fileio, "_sleep", crash_clock.sleep)
    with pytest.raises(fileio.SimulatedCrash):
        _fake_budget_run(tmp_path / "crashed", crash_clock)
    assert backup.saved_budget(tmp_path / "crashed") == (7, pytest.approx(1.2))
    resumed, _ = _fake_budget_run(tmp_path / "crashed", crash_clock, resume=True)
    for a, b in zip(whole.weights, resumed.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert (tmp_path / "crashed" / "history.csv").read_text() == (tmp_path / "whole" / "history.csv").read_text()
    # Resumed once more, after its plan is done: nothing is left to train.
    again, _ = _fake_budget_run(tmp_path / "crashed", crash_clock, resume=True)
    assert int(again.optimizer.iterations) == 7 * 4
    assert (tmp_path / "crashed" / "history.csv").read_text() == (tmp_path / "whole" / "history.csv").read_text()


def test_the_budget_plans_before_training_and_keeps_the_epochs_asked_in_the_config(tmp_path, caplog):
    from kerasrnn.engine.run import train
    from kerasrnn.tasks.charlm.task import CharLMConfig, CharLMTask

    corpus = tmp_path / "text.txt"
    corpus.write_text("the gate forgets a long sequence of the cell state\n" * 80, encoding="utf-8")
    config = CharLMConfig(units=8, embedding_dim=4, sequence_length=20, data=str(corpus))
    # A budget of 0.6 s is spent by the measurement itself: one epoch, never the 50 asked for, and
    # its decay still ends on the final rate.
    result = train(CharLMTask(), config, TrainConfig(epochs=50, steps_per_epoch=3, batch_size=8, time_budget=0.01),
                   tmp_path / "run", device="cpu", verbose=0)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["train_config"]
    assert (result.epochs, saved["epochs"], saved["time_budget"]) == (1, 50, 0.01)
    assert run_files.read_history(tmp_path / "run")["learning_rate"] == [pytest.approx(0.1 * 8e-3, abs=1e-6)]
    assert backup.saved_budget(tmp_path / "run")[0] == 1
    # Resumed, it continues the saved plan (done) rather than measuring again.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="kerasrnn.engine.budget"):
        resumed = train(CharLMTask(), config, TrainConfig(epochs=50, steps_per_epoch=3, batch_size=8,
                                                          time_budget=0.01),
                        tmp_path / "run", resume=True, device="cpu", verbose=0)
    assert resumed.epochs == 1
    assert [record.getMessage()[:45] for record in caplog.records
            if record.name == "kerasrnn.engine.budget"] == ["Time budget 0.01 min: resuming the plan of 1 "]


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
