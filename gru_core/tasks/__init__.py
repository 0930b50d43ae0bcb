"""Tasks: what a recurrent model is trained on and judged by, behind one small protocol.

A task says what goes in and what comes out, how to draw a training batch, how to score a model
exactly, and how to teach it (its curriculum). :func:`gru_core.train.train` knows nothing else about
a task, so a new task is a new module here and nothing more.

Shapes: B sequences, T steps, I input features, O outputs.

* ``readout = "per_step"``: one output per step from h_t (the bit adder); targets (B, T, O).
* ``readout = "per_sequence"``: one output per sequence from the last step's state h_T (a forecast,
  as seed 001's GRU(50) → GRU(50) → Dense(1)); targets (B, O).

Outputs are the readout's raw values: logits for ``loss = "bce"`` (a bit is 1 where the logit is > 0),
the prediction itself for ``loss = "mse"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from ..models import RecurrentModel

ReadoutKind = Literal["per_step", "per_sequence"]
LossKind = Literal["bce", "mse"]
Schedule = Literal["constant", "cosine"]


@dataclass(frozen=True)
class StopCheck:
    """End a stage early once the model passes a check on a fixed set, tested every ``every`` iterations.

    ``data()`` builds the set once per training run: xs (N, T, I) float32 and targets shaped as the
    task's ys. ``passed(outputs, ys)`` gets the model's outputs on it ((N, T, O) or (N, O), float32
    NumPy, computed by the network being trained) and says whether the stage's goal is met.
    """

    description: str                                            # e.g. "every 8-bit sum exact"
    every: int                                                  # iterations between checks
    data: Callable[[], tuple[np.ndarray, np.ndarray]]
    passed: Callable[[np.ndarray, np.ndarray], bool]


@dataclass(frozen=True)
class Stage:
    """One stage of a curriculum: what batches to draw, how fast to learn, when to stop.

    The optimizer (Adam) and its state carry over from stage to stage; a stage sets its learning rate.
    """

    name: str
    iterations: int                          # at most this many (a stop check may end the stage sooner)
    batch: Mapping[str, Any] = field(default_factory=dict)  # the task's batch settings, read by task.batch
    batch_size: int | None = None            # None: TrainConfig.batch_size
    lr: float | None = None                  # peak learning rate; None: TrainConfig.lr
    schedule: Schedule = "constant"          # "cosine": lr decays to 0 over the stage (half a cosine)
    clip: float | None = None                # max gradient norm; None: no clipping
    stop: StopCheck | None = None            # None: run every iteration

    def lr_at(self, base_lr: float, i: int) -> float:
        """The learning rate of the stage's iteration ``i`` (0-based) given TrainConfig.lr ``base_lr``.

        Written as torch's LambdaLR computes it, ``base_lr × factor`` (and the factor in the same
        order of operations), so training reproduces the shipped weights bit for bit.
        """
        factor = 1.0 if self.lr is None else self.lr / base_lr
        if self.schedule == "cosine":
            n = self.iterations
            factor = factor * 0.5 * (1 + math.cos(math.pi * min(i, n) / n))
        return base_lr * factor


@runtime_checkable
class Task(Protocol):
    """What every task provides (a frozen dataclass whose fields are its settings, in practice)."""

    name: str               # the task's key in checkpoints and the registry, e.g. "bit_addition"
    input_size: int         # I
    output_size: int        # O
    readout: ReadoutKind    # one output per step, or one per sequence from the last state
    loss: LossKind          # "bce" on logits (bits), "mse" on values

    def settings(self) -> dict[str, Any]:
        """The task's own knobs (keyword arguments that rebuild it); kept in the checkpoint's config."""
        ...

    def curriculum(self) -> tuple[Stage, ...]:
        """How to teach it: the stages, in order."""
        ...

    def batch(self, rng: np.random.Generator, size: int, stage: Stage) -> tuple[np.ndarray, np.ndarray]:
        """A training batch for ``stage`` drawn from ``rng`` only: xs (B, T, I) float32 and
        ys (B, T, O) float32 for a per-step readout, (B, O) for a per-sequence one."""
        ...

    def batch_accuracy(self, outputs: np.ndarray, ys: np.ndarray) -> float:
        """The task's exact metric on one batch, in [0, 1] (reported while training)."""
        ...

    def evaluate(self, model: RecurrentModel) -> dict[str, float]:
        """The exact metrics of a trained model, computed through the NumPy core (the app's path)."""
        ...


def task_named(name: str, **settings: Any) -> Task:
    """The task ``name`` built from its settings (as kept in a checkpoint's config)."""
    from .adding import AddingProblem
    from .bit_addition import BitAddition
    from .forecast import Forecast
    from .last_part import LastPart

    known: dict[str, Callable[..., Task]] = {BitAddition.name: BitAddition, AddingProblem.name: AddingProblem,
                                             Forecast.name: Forecast, LastPart.name: LastPart}
    if name not in known:
        raise ValueError(f"unknown task {name!r}: expected one of {', '.join(known)}")
    return known[name](**settings)


__all__ = ["LossKind", "ReadoutKind", "Schedule", "Stage", "StopCheck", "Task", "task_named"]
