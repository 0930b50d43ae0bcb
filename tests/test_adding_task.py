"""The adding problem: the data is what the docstring says, the baseline is what a constant can do,
and every cell trains on it through the one generic loop."""

from __future__ import annotations

import numpy as np
import pytest

from gru_core.tasks import Task, task_named
from gru_core.tasks.adding import BASELINE_MSE, AddingProblem, mse, sequences
from gru_core.train import TrainConfig, train


def test_two_markers_far_apart_and_the_target_is_their_sum():
    xs, ys = sequences(np.random.default_rng(0), 500, 60)
    assert xs.shape == (500, 60, 2) and ys.shape == (500, 1) and xs.dtype == np.float32
    marks = xs[:, :, 1]
    assert (marks.sum(axis=1) == 2).all()
    first = marks.argmax(axis=1)
    second = 59 - marks[:, ::-1].argmax(axis=1)
    assert (first < 6).all() and (second >= 30).all()              # first tenth, second half
    np.testing.assert_allclose(ys[:, 0], xs[np.arange(500), first, 0] + xs[np.arange(500), second, 0], atol=1e-6)
    assert 0.4 * 60 <= (second - first).min()


def test_the_baseline_is_what_always_answering_one_scores():
    _, ys = sequences(np.random.default_rng(1), 20_000, 20)
    assert mse(np.ones_like(ys), ys) == pytest.approx(BASELINE_MSE, rel=0.03)
    assert mse(np.full_like(ys, 0.8), ys) > mse(np.ones_like(ys), ys)     # 1 is the best constant


def test_it_is_a_task_and_is_rebuilt_from_its_settings():
    task = AddingProblem(length=30)
    assert isinstance(task, Task)
    assert task_named("adding", **task.settings()) == task
    with pytest.raises(ValueError, match="at least 4"):
        sequences(np.random.default_rng(0), 1, 3)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_each_cell_trains_and_is_evaluated_through_the_numpy_core(cell):
    task = AddingProblem(length=12, iterations=200, check_every=50)
    model = train(task, TrainConfig(cell=cell, hidden_size=6, lr=1e-2, seed=0))
    assert type(model.cell).__name__.lower() == cell and not model.readout.per_step
    scores = task.evaluate(model)
    assert set(scores) == {"mse", "baseline_mse", "solved", "within_0.1"}
    assert scores["mse"] < BASELINE_MSE      # 200 iterations at length 12 already beat answering 1
    xs, _ = task.check_set()
    # the NumPy evaluation is the torch net's output: the model the page shows is the one trained
    assert model.logits(model.run(xs[0].astype(np.float64))).shape == (1,)
