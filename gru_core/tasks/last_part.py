"""Only the last part counts (seed 003's reset gate): a review where the verdict is its last sentences.

Seed 003 explains the reset gate with a book review that starts "this is a fantasy book which
illustrates…" and ends "I didn't quite enjoy the book because…": only the last part decides the
verdict, so "as the network approaches the end of the text it will learn to assign r_t close to 0,
washing out the past". This task is that review, small enough to read every gate.

Each step reads two numbers: a value drawn uniformly from [−1, 1] (a sentence's opinion, from
negative to positive) and a marker, 1 where a new part of the review starts and 0 elsewhere. Every
sequence has between one and ``max_markers`` markers at distinct random steps. After the last step
the model must output the *sum of the values from the last marker on* (the marked step included):
the verdict of the last part. Everything before the last marker is to be forgotten, so at every
marker the network has to wash its running sum out and start again.

Why the reset gate is the natural tool here: a running sum needs the candidate to see the past
(h̃ ≈ h_{t-1} + a little of x_t, the candidate built from h through W_hn), so the candidate cannot
simply ignore h; at a marker it must, for one step. r multiplies exactly the candidate's view of the
past (r ⊙ (W_hn h + b_hn) in the pytorch convention, W_hn (r ⊙ h) + b_hn in cho2014/chung2014), so
a low r at markers and a higher one elsewhere does it. It is not alone: washing out takes the update
gate too (h_t must take the candidate, not keep h_{t-1}), and the marker also sets where the new sum
starts from through the candidate's input. What the trained model does is computed from its recorded
gates (:func:`reset_finding`), never assumed, and what each gate's reaction to the marker is worth is
measured by cutting it (:func:`marker_blind`, in :meth:`LastPart.evaluate`).

Yardsticks (:meth:`LastPart.evaluate`, on held-out sequences through the NumPy core): the best
constant answer (0: the targets' mean, whose error is the targets' variance) and the *no-reset*
answer, the sum of the whole sequence (what a network that never washes out its past would say).
The task counts as solved below :data:`SOLVED_MSE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..cells.gru import GRU
from ..cells.gru_equations import old_state_weight
from ..cells.trace import Trace
from ..conventions import Convention
from . import Stage, StopCheck

if TYPE_CHECKING:
    from ..models import RecurrentModel

SOLVED_MSE = 0.01
CLOSE = 0.2                  # an answer within this of the true sum counts as right (batch metric)
CHECK_SIZE = 512             # sequences per length in the fixed held-out set
MIN_STEPS = 4


def sequences(rng: np.random.Generator, count: int, length: int,
              max_markers: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """``count`` sequences of ``length`` steps: xs (count, length, 2) float32 (value, marker) and the
    targets (count, 1) float32, the sum of the values from the last marker on."""
    if length < MIN_STEPS:
        raise ValueError(f"a review needs at least {MIN_STEPS} steps, got {length}")
    if not 1 <= max_markers <= length:
        raise ValueError(f"max_markers must be between 1 and the length ({length}), got {max_markers}")
    values = rng.uniform(-1.0, 1.0, size=(count, length))
    k = rng.integers(1, max_markers + 1, size=count)                       # markers per sequence
    ranks = rng.random((count, length)).argsort(axis=1).argsort(axis=1)    # a random permutation per row
    marks = (ranks < k[:, None]).astype(np.float64)                         # k distinct random steps
    xs = np.stack([values, marks], axis=2).astype(np.float32)
    return xs, targets(xs)


def last_markers(xs: np.ndarray) -> np.ndarray:
    """The step of the last marker of each sequence: xs (..., T, 2) -> (...) int."""
    marks = np.asarray(xs)[..., 1] > 0.5
    if not marks.any(axis=-1).all():
        raise ValueError("every sequence needs at least one marker (input feature 1 set to 1)")
    T = marks.shape[-1]
    return T - 1 - np.argmax(marks[..., ::-1], axis=-1)


def last_part_sums(xs: np.ndarray) -> np.ndarray:
    """The sum of the values from the last marker on, in float64: xs (N, T, 2) -> (N,)."""
    xs = np.asarray(xs)
    counted = np.arange(xs.shape[1])[None, :] >= last_markers(xs)[:, None]   # (N, T)
    return (xs[:, :, 0].astype(np.float64) * counted).sum(axis=1)


def targets(xs: np.ndarray) -> np.ndarray:
    """The training targets: xs (N, T, 2) -> (N, 1) float32, :func:`last_part_sums`."""
    return last_part_sums(xs)[:, None].astype(np.float32)


def mse(outputs: np.ndarray, ys: np.ndarray) -> float:
    return float(np.mean((np.asarray(outputs, np.float64) - np.asarray(ys, np.float64)) ** 2))


@dataclass(frozen=True)
class LastPart:
    """Sum the last part: lengths drawn from [min_length, max_length] per batch; Adam until solved on
    a fixed held-out set (or out of budget), then a short cosine polish."""

    name: ClassVar[str] = "last_part"
    input_size: ClassVar[int] = 2
    output_size: ClassVar[int] = 1
    readout: ClassVar[str] = "per_sequence"
    loss: ClassVar[str] = "mse"

    min_length: int = 10
    max_length: int = 20
    max_markers: int = 3
    iterations: int = 3000
    polish_iterations: int = 500
    check_every: int = 50
    lr: float = 1e-2

    def settings(self) -> dict[str, Any]:
        return {"min_length": self.min_length, "max_length": self.max_length, "max_markers": self.max_markers,
                "iterations": self.iterations, "polish_iterations": self.polish_iterations,
                "check_every": self.check_every, "lr": self.lr}

    def lengths(self) -> range:
        return range(self.min_length, self.max_length + 1)

    def check_set(self, length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The fixed held-out set at one length (the longest by default), its own seed, never trained on."""
        length = self.max_length if length is None else length
        return sequences(np.random.default_rng(30_000 + length), CHECK_SIZE, length, self.max_markers)

    def curriculum(self) -> tuple[Stage, ...]:
        stop = StopCheck(f"mean squared error below {SOLVED_MSE} on {CHECK_SIZE} held-out sequences of "
                         f"{self.max_length} steps", every=self.check_every, data=self.check_set,
                         passed=lambda outputs, ys: mse(outputs, ys) < SOLVED_MSE)
        return (Stage("learn", self.iterations, batch={}, lr=self.lr, clip=1.0, stop=stop),
                Stage("polish", self.polish_iterations, batch={}, lr=self.lr / 3, schedule="cosine", clip=1.0))

    def batch(self, rng: np.random.Generator, size: int, stage: Stage) -> tuple[np.ndarray, np.ndarray]:
        length = int(rng.integers(self.min_length, self.max_length + 1))
        return sequences(rng, size, length, self.max_markers)

    def batch_accuracy(self, outputs: np.ndarray, ys: np.ndarray) -> float:
        """Share of sums answered within 0.2."""
        return float(np.mean(np.abs(np.asarray(outputs) - ys) < CLOSE))

    def evaluate(self, model: RecurrentModel) -> dict[str, float]:
        """On the held-out sets of every length, through the NumPy core: the model's error; the best
        constant's (0, the targets' mean: their variance); the no-reset answer's (the sum of the whole
        sequence); the share within 0.2; and, for a GRU, the error when its reset gate, its update gate
        or its candidate is blind to the marker (:func:`marker_blind`): what each one's reaction to
        "a new part starts here" is worth."""
        variants = {"mse": model}
        if isinstance(model.cell, GRU):
            variants["reset_blind_mse"] = model.with_cell(marker_blind(model.cell, "r"))
            variants["update_blind_mse"] = model.with_cell(marker_blind(model.cell, "z"))
            variants["candidate_blind_mse"] = model.with_cell(marker_blind(model.cell, "n"))
        sets = [self.check_set(length) for length in self.lengths()]
        ys = np.concatenate([y for _, y in sets]).astype(np.float64)
        whole = np.concatenate([x[:, :, 0].astype(np.float64).sum(axis=1, keepdims=True) for x, _ in sets])
        outputs = {key: np.concatenate([m.logits_batch(x.astype(np.float64)) for x, _ in sets])   # (N, 1)
                   for key, m in variants.items()}
        error = mse(outputs["mse"], ys)
        scores = {"mse": error, "baseline_mse": mse(np.zeros_like(ys), ys), "no_reset_mse": mse(whole, ys),
                  "solved": float(error < SOLVED_MSE), "within_0.2": self.batch_accuracy(outputs["mse"], ys)}
        scores.update({key: mse(out, ys) for key, out in outputs.items() if key != "mse"})
        return scores


def marker_blind(cell: GRU, gate: str) -> GRU:
    """A copy of ``cell`` whose gate ``gate`` ("r" or "z"; or "n", the candidate) no longer reads the
    marker input: that gate's column of the first layer's W_i· for input feature 1 set to 0.

    The gate still sees the value and h_{t-1}; it only loses the marker's direct wire. How much worse
    the model answers without it says what that gate's reaction to "a new part starts here" does.
    """
    k = "rzn".index(gate)
    first, *rest = cell.layers
    H = first.hidden_size
    weight = np.array(first.weight_ih)
    weight[k * H:(k + 1) * H, 1] = 0.0
    return GRU([first.replace(weight_ih=weight), *rest], cell.convention)


# -- what the reset gate does at the markers ---------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ResetFinding:
    """What the reset gate does at the marker steps, per unit, read from recorded passes.

    r_t (any convention) is how much of h_{t-1} the candidate h̃_t sees. Every array is (H,), one
    number per unit, a mean over the steps of the sequences given: marker steps vs the other steps.
    """

    convention: Convention
    marker_steps: int               # how many marker steps the means are over
    other_steps: int                # how many other steps
    r_at_markers: np.ndarray        # (H,) mean r_t at marker steps
    r_elsewhere: np.ndarray         # (H,) mean r_t at the other steps
    past_at_markers: np.ndarray     # (H,) mean |past's term in the candidate's pre-activation| at markers
    past_elsewhere: np.ndarray      # (H,) the same at the other steps
    old_weight_at_markers: np.ndarray  # (H,) mean weight h_t puts on h_{t-1} at markers (z or 1 − z)
    old_weight_elsewhere: np.ndarray   # (H,) the same at the other steps
    unit: int                       # the unit whose r drops most at markers (largest r_elsewhere − r_at_markers)

    @property
    def drop(self) -> np.ndarray:
        """(H,) how much lower r is at markers than elsewhere (negative: higher at markers)."""
        return self.r_elsewhere - self.r_at_markers

    @property
    def lower_at_markers(self) -> bool:
        """Whether, for :attr:`unit`, r is lower at the markers than elsewhere (computed, not assumed)."""
        return bool(self.r_at_markers[self.unit] < self.r_elsewhere[self.unit])


def past_term(trace: Trace) -> np.ndarray:
    """(T, H) the part of the candidate's pre-activation that comes from h_{t-1}'s side: the recorded
    pre-activation of h̃ minus its input part, r ⊙ (W_hn h + b_hn) (pytorch) or W_hn (r ⊙ h) + b_hn
    (cho2014, chung2014)."""
    last = trace.last
    return last.block("n", "pre") - last.block("n", "input_part")


def reset_finding(model: RecurrentModel, xs: np.ndarray) -> ResetFinding:
    """The reset finding for ``model`` (a GRU, any convention, its last layer) on ``xs``: one sequence
    (T, 2) or several (N, T, 2), each run and recorded from a zero state (``model.cell.run``).

    Marker steps are those whose marker input is 1. A ValueError if there are none, or no other step.
    """
    xs = np.asarray(xs, dtype=np.float64)
    batch = xs[None] if xs.ndim == 2 else xs
    if batch.ndim != 3 or batch.shape[2] != LastPart.input_size:
        raise ValueError(f"xs must have shape (T, 2) or (N, T, 2), got {xs.shape}")
    r, past, z, marks = [], [], [], []
    for seq in batch:
        trace = model.cell.run(seq)
        if not hasattr(trace.last, "r"):
            raise ValueError(f"the reset finding reads a GRU's reset gate; this model's cell is "
                             f"{type(model.cell).__name__}")
        r.append(trace.last.r)                                 # (T, H)
        past.append(np.abs(past_term(trace)))                  # (T, H)
        z.append(trace.last.z)                                 # (T, H)
        marks.append(seq[:, 1] > 0.5)                          # (T,)
    r_all, past_all, z_all, m = np.concatenate(r), np.concatenate(past), np.concatenate(z), np.concatenate(marks)
    if not m.any() or m.all():
        raise ValueError("the reset finding compares marker steps with the other steps: it needs both")
    convention = model.cell.convention
    w = old_state_weight(z_all, convention)
    at, away = r_all[m].mean(axis=0), r_all[~m].mean(axis=0)
    arrays = {"r_at_markers": at, "r_elsewhere": away,
              "past_at_markers": past_all[m].mean(axis=0), "past_elsewhere": past_all[~m].mean(axis=0),
              "old_weight_at_markers": w[m].mean(axis=0), "old_weight_elsewhere": w[~m].mean(axis=0)}
    for a in arrays.values():
        a.flags.writeable = False
    return ResetFinding(convention=convention, marker_steps=int(m.sum()), other_steps=int((~m).sum()),
                        unit=int(np.argmax(away - at)), **arrays)


# -- one review to show ------------------------------------------------------------------------------
EXAMPLE_STEPS = 12
EXAMPLE_MARKERS = 2


@dataclass(frozen=True, eq=False)
class ResetExample:
    """One fixed demo review and what the model makes of it."""

    seed: int
    xs: np.ndarray              # (T, 2) value, marker
    markers: tuple[int, ...]    # the marker steps, in order
    truth: float                # the sum of the values from the last marker on
    answer: float               # the model's output after the last step
    trace: Trace                # the recorded pass (trace.last.r, .z, .h …)
    finding: ResetFinding       # the reset finding on this one sequence

    @property
    def last_marker(self) -> int:
        return self.markers[-1]

    @property
    def error(self) -> float:
        return self.answer - self.truth


def example_sequence(seed: int = 0, steps: int = EXAMPLE_STEPS, markers: int = EXAMPLE_MARKERS) -> np.ndarray:
    """A fixed review (steps, 2) float64 from ``seed``: ``markers`` markers, never at step 0 (so the
    first marker washes out a real past), the last one at least three steps before the end."""
    if steps < MIN_STEPS or not 1 <= markers <= steps - 3:
        raise ValueError(f"an example needs at least {MIN_STEPS} steps and 1 to steps − 3 markers, "
                         f"got {steps} steps and {markers} markers")
    rng = np.random.default_rng(seed)
    values = np.round(rng.uniform(-1.0, 1.0, size=steps), 2)     # two decimals: readable on a page
    at = np.sort(rng.choice(np.arange(1, steps - 2), size=markers, replace=False))
    xs = np.zeros((steps, 2))
    xs[:, 0] = values
    xs[at, 1] = 1.0
    return xs


def example(model: RecurrentModel, seed: int = 0, steps: int = EXAMPLE_STEPS,
            markers: int = EXAMPLE_MARKERS) -> ResetExample:
    """The model on the fixed review of ``seed``: its answer, the truth, the trace and the finding."""
    xs = example_sequence(seed, steps, markers)
    xs.flags.writeable = False
    trace = model.cell.run(xs)
    return ResetExample(seed=seed, xs=xs, markers=tuple(int(t) for t in np.flatnonzero(xs[:, 1] > 0.5)),
                        truth=float(last_part_sums(xs[None])[0]), answer=float(model.readout.outputs(trace)[0]),
                        trace=trace, finding=reset_finding(model, xs))
