"""Seed 001's forecast: real data read from the file plotly ships (plotly itself not imported), windows
split by time, and the model judged against the naive and drift forecasts."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from gru_core import registry
from gru_core.tasks import Task, task_named
from gru_core.tasks.forecast import HELD_OUT, Forecast, stocks, windows


def test_the_data_is_plotlys_stocks_read_without_importing_plotly():
    code = ("import sys; from gru_core.tasks.forecast import stocks; d, t, p = stocks(); "
            "print(len(d), t, p.shape, 'plotly' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[-1] == "False"
    dates, tickers, prices = stocks()
    assert tickers == ("GOOG", "AAPL", "AMZN", "FB", "NFLX", "MSFT")
    assert dates[0] == "2018-01-01" and prices.shape == (len(dates), 6)
    np.testing.assert_array_equal(prices[0], 1.0)                     # each divided by its first price


def test_windows_are_relative_to_their_last_price():
    p = np.array([1.0, 2.0, 4.0, 8.0, 4.0])
    xs, ys, week = windows(p, 2)
    np.testing.assert_allclose(xs[:, :, 0], [[-0.5, 0.0], [-0.5, 0.0], [-0.5, 0.0]])
    np.testing.assert_allclose(ys[:, 0], [1.0, 1.0, -0.5])
    assert week.tolist() == [2, 3, 4]


def test_held_out_windows_come_after_every_training_window():
    task = Forecast(window=10)
    split = task.split()
    n_weeks = stocks()[2].shape[0]
    cut = round(n_weeks * (1 - HELD_OUT))
    target_weeks = windows(stocks()[2][:, 0], 10)[2]                  # the same for every stock
    assert split["train"][0].shape[0] == 6 * int((target_weeks < cut).sum())
    assert split["held_out"][0].shape[0] == 6 * int((target_weeks >= cut).sum()) > 0
    assert isinstance(task, Task) and task_named("forecast", **task.settings()) == task


def test_the_shipped_model_is_seed_001s_architecture_and_is_compared_with_the_naive_forecast():
    model = registry.load("forecast_stocks")
    assert model.cell.num_layers == 2 and model.cell.hidden_size == 50 and not model.readout.per_step
    scores = Forecast(**model.config["task_settings"]).evaluate(model)
    assert scores == {k: model.metrics[k] for k in scores}            # what the file says is what it does
    xs, ys = Forecast().split()["held_out"]
    assert scores["naive_mse"] == np.mean(ys.astype(np.float64) ** 2)
    assert scores["mse_over_naive"] == scores["mse"] / scores["naive_mse"]
