"""Forecasting a real time series (seed 001): a window of past weeks in, the next week out.

The data ships inside a package the project already depends on, so nothing is downloaded: plotly's
``stocks`` dataset, the weekly closing prices of six companies (GOOG, AAPL, AMZN, FB, NFLX, MSFT)
from January 2018 to December 2019, each divided by its first price. It is read here as the file
it is (gzip CSV inside plotly's package data); plotly itself is not imported (gru_core imports no
UI package).

A window is ``window`` consecutive weeks of one stock, and the target is the week after it. Prices
are given relative to the window's last price (p / p_last − 1), so every window speaks the same
units and the target is next week's relative change. The split is by time: windows whose target
falls in the last fifth of the weeks are held out (never trained on), for every stock.

The honest yardstick is the *naive forecast*, next week = this week (a relative change of 0), which
is hard to beat on prices: :meth:`Forecast.evaluate` reports both errors and says which is lower.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from . import Stage

if TYPE_CHECKING:
    from ..models import RecurrentModel

HELD_OUT = 0.2   # the last fifth of the weeks: targets there are never trained on


def _plotly_dataset(name: str) -> Path:
    """Where plotly's package keeps a dataset, found without importing plotly."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("plotly is not installed, and the forecast data ships inside it")
    return Path(spec.submodule_search_locations[0]) / "package_data" / "datasets" / f"{name}.csv.gz"


@lru_cache(maxsize=1)
def stocks() -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray]:
    """(dates (W,), tickers (S,), prices (W, S) float64, each stock divided by its first price)."""
    with gzip.open(_plotly_dataset("stocks"), "rt") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    prices = np.array([[float(v) for v in row[1:]] for row in body])
    prices.flags.writeable = False
    return tuple(row[0] for row in body), tuple(header[1:]), prices


def windows(prices: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every window of one price series (W,): inputs (N, window, 1) relative to the window's last
    price, targets (N, 1) the next week's relative change, and the week index of each target (N,)."""
    W = prices.shape[0]
    starts = np.arange(W - window)
    idx = starts[:, None] + np.arange(window)[None, :]                        # (N, window)
    last = prices[starts + window - 1]                                         # (N,)
    xs = prices[idx] / last[:, None] - 1.0
    ys = prices[starts + window] / last - 1.0
    return xs[:, :, None].astype(np.float32), ys[:, None].astype(np.float32), starts + window


@dataclass(frozen=True)
class Forecast:
    """Next week's price from the last ``window`` weeks, for the six stocks; one output per window."""

    name: ClassVar[str] = "forecast"
    input_size: ClassVar[int] = 1
    output_size: ClassVar[int] = 1
    readout: ClassVar[str] = "per_sequence"
    loss: ClassVar[str] = "mse"

    window: int = 20
    iterations: int = 1500

    def settings(self) -> dict[str, Any]:
        return {"window": self.window, "iterations": self.iterations}

    def split(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """{"train": (xs, ys), "held_out": (xs, ys)} over all six stocks, split by the target's week."""
        return {part: (xs, ys) for part, (xs, ys, _) in self.labelled_split().items()}

    def labelled_split(self) -> dict[str, tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]]:
        """:meth:`split` with, for each window, the stock and the date of the week it forecasts."""
        dates, tickers, prices = stocks()
        cut = int(round(prices.shape[0] * (1 - HELD_OUT)))
        parts: dict[str, list] = {"train": [], "held_out": []}
        for s, ticker in enumerate(tickers):
            xs, ys, week = windows(prices[:, s], self.window)
            for part, keep in (("train", week < cut), ("held_out", week >= cut)):
                parts[part].append((xs[keep], ys[keep], [(ticker, dates[w]) for w in week[keep]]))
        return {k: (np.concatenate([x for x, _, _ in v]), np.concatenate([y for _, y, _ in v]),
                    [label for _, _, labels in v for label in labels]) for k, v in parts.items()}

    def curriculum(self) -> tuple[Stage, ...]:
        return (Stage("learn", self.iterations),)

    def batch(self, rng: np.random.Generator, size: int, stage: Stage) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = self.split()["train"]
        pick = rng.integers(0, xs.shape[0], size=size)
        return xs[pick], ys[pick]

    def batch_accuracy(self, outputs: np.ndarray, ys: np.ndarray) -> float:
        """Share of windows where the forecast gets the direction of next week's move right."""
        return float(np.mean(np.sign(np.asarray(outputs)) == np.sign(ys)))

    def evaluate(self, model: RecurrentModel) -> dict[str, float]:
        """Held-out mean squared error of the relative change: the model's, the naive forecast's
        (next = last, a change of 0), and the drift forecast's (the mean weekly change of the training
        windows: these stocks mostly rose, so "up a little" is a second thing a model could learn)."""
        xs, ys = self.split()["held_out"]
        ys = ys.astype(np.float64)
        outputs = model.logits_batch(xs.astype(np.float64))                    # (N, 1)
        drift = float(self.split()["train"][1].mean())
        model_mse = float(np.mean((outputs - ys) ** 2))
        naive_mse = float(np.mean(ys ** 2))
        return {"mse": model_mse, "naive_mse": naive_mse, "drift_mse": float(np.mean((ys - drift) ** 2)),
                "mse_over_naive": model_mse / naive_mse, "direction_right": self.batch_accuracy(outputs, ys),
                "held_out_windows": float(xs.shape[0])}
