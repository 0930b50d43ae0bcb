"""The adding problem (Hochreiter & Schmidhuber 1997): a long-range memory task with a length knob.

Each step reads two numbers: a value drawn uniformly from [0, 1] and a marker, 1 at exactly two
steps and 0 elsewhere. After the last step the model must output the sum of the two marked values
(one output per sequence, from the last state). The first marker falls in the first tenth of the
sequence and the second in its second half, so the first value must be carried across at least
0.4·T steps of distracting input: exactly what a gradient has to cross to teach it.

Knowing nothing, the best constant answer is 1 (the mean of the sum), whose mean squared error is
the variance of a sum of two uniform values, 2/12 ≈ 0.167: the *baseline*. A model that carried the
first value has an error far below it; the task counts as *solved* below 0.01 (an error of about
0.1 on a sum between 0 and 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from . import Stage, StopCheck

if TYPE_CHECKING:
    from ..models import RecurrentModel

BASELINE_MSE = 2.0 / 12.0    # predict 1 every time: the variance of the sum of two U(0, 1) values
SOLVED_MSE = 0.01
CLOSE = 0.1                  # a prediction within this of the true sum counts as right (batch metric)
CHECK_SIZE = 512             # sequences in the fixed set the stop check and the evaluation use


def sequences(rng: np.random.Generator, count: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` adding-problem sequences: xs (count, length, 2) float32, targets (count, 1) float32."""
    if length < 4:
        raise ValueError(f"the adding problem needs at least 4 steps, got {length}")
    values = rng.random((count, length))
    first = rng.integers(0, max(1, length // 10), size=count)               # in the first tenth
    second = rng.integers(length // 2, length, size=count)                  # in the second half
    marks = np.zeros((count, length))
    rows = np.arange(count)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    xs = np.stack([values, marks], axis=2).astype(np.float32)
    ys = (values[rows, first] + values[rows, second])[:, None].astype(np.float32)
    return xs, ys


def mse(outputs: np.ndarray, ys: np.ndarray) -> float:
    return float(np.mean((np.asarray(outputs, np.float64) - ys) ** 2))


@dataclass(frozen=True)
class AddingProblem:
    """The adding problem at one length; one stage: Adam until solved on a fixed set, or out of budget."""

    name: ClassVar[str] = "adding"
    input_size: ClassVar[int] = 2
    output_size: ClassVar[int] = 1
    readout: ClassVar[str] = "per_sequence"
    loss: ClassVar[str] = "mse"

    length: int = 100
    iterations: int = 3000
    check_every: int = 50
    clip: float = 1.0            # the same for every cell: long sequences make rare large gradients

    def settings(self) -> dict[str, Any]:
        return {"length": self.length, "iterations": self.iterations, "check_every": self.check_every,
                "clip": self.clip}

    def check_set(self) -> tuple[np.ndarray, np.ndarray]:
        """The fixed held-out set (its own seed, never drawn for training)."""
        return sequences(np.random.default_rng(10_000 + self.length), CHECK_SIZE, self.length)

    def curriculum(self) -> tuple[Stage, ...]:
        return (Stage("learn", self.iterations, batch={"length": self.length}, clip=self.clip,
                      stop=StopCheck(f"mean squared error below {SOLVED_MSE} on {CHECK_SIZE} held-out sequences",
                                     every=self.check_every, data=self.check_set,
                                     passed=lambda outputs, ys: mse(outputs, ys) < SOLVED_MSE)),)

    def batch(self, rng: np.random.Generator, size: int, stage: Stage) -> tuple[np.ndarray, np.ndarray]:
        return sequences(rng, size, stage.batch["length"])

    def batch_accuracy(self, outputs: np.ndarray, ys: np.ndarray) -> float:
        """Share of sums predicted within 0.1."""
        return float(np.mean(np.abs(np.asarray(outputs) - ys) < CLOSE))

    def evaluate(self, model: RecurrentModel) -> dict[str, float]:
        """On the held-out set, through the NumPy core: the error, the baseline's, and the share close."""
        xs, ys = self.check_set()
        outputs = model.logits_batch(xs.astype(np.float64))                  # (N, 1)
        error = mse(outputs, ys)
        return {"mse": error, "baseline_mse": BASELINE_MSE, "solved": float(error < SOLVED_MSE),
                "within_0.1": self.batch_accuracy(outputs, ys)}
