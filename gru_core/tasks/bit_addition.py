"""Binary addition with a recurrent network — the one home of the encoding, its checks and its curriculum
(seed 000's task).

Operands are fed least significant bit first, one pair of bits per step: the input at step t is
(a_t, b_t) and the target is bit t of a + b. One extra step (where both inputs are 0) emits the
final carry. So ``T = max(bits(a), bits(b), 1) + 1`` and the network must learn to carry. The model
is a recurrent cell with a per-step readout of one logit: the bit is 1 where the logit is > 0.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..cells.gru_equations import old_state_weight
from ..cells.trace import Trace
from ..conventions import Convention
from . import Stage, StopCheck

if TYPE_CHECKING:
    from ..models import RecurrentModel


# -- the encoding ------------------------------------------------------------------------------------
def check_operand(value: Any, name: str = "operand") -> int:
    """A non-negative integer of any size, as a Python int; anything else is a ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a non-negative integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if value < 0:
        raise ValueError(f"{name} must be non-negative, got {value}")
    return value


def n_steps(a: int, b: int) -> int:
    """Time steps to add a and b: one per bit of the longer operand (at least one), plus the carry."""
    return max(a.bit_length(), b.bit_length(), 1) + 1


def to_bits(n: int, width: int) -> np.ndarray:
    """Bits of ``n`` least significant first, zero-padded to ``width``: (width,) uint8."""
    n = check_operand(n)
    if n.bit_length() > width:
        raise ValueError(f"{n} needs {n.bit_length()} bits, more than width {width}")
    raw = np.frombuffer(n.to_bytes((width + 7) // 8, "little"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:width]


def from_bits(bits: np.ndarray) -> int:
    """Inverse of :func:`to_bits`: (T,) array of 0/1, least significant first → int."""
    bits = np.asarray(bits)
    if bits.ndim != 1 or not np.isin(bits, (0, 1)).all():
        raise ValueError("bits must be a 1-D array of 0s and 1s")
    return int.from_bytes(np.packbits(bits.astype(np.uint8), bitorder="little").tobytes(), "little")


def encode(a: int, b: int, steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (T, 2) float64 with columns (a_t, b_t) and targets (T,) uint8 = bits of a + b."""
    a, b = check_operand(a, "a"), check_operand(b, "b")
    T = n_steps(a, b) if steps is None else steps
    if T < n_steps(a, b):
        raise ValueError(f"{a} + {b} needs {n_steps(a, b)} steps, got {steps}")
    xs = np.stack([to_bits(a, T), to_bits(b, T)], axis=1).astype(np.float64)
    return xs, to_bits(a + b, T)


def decode(bits: np.ndarray) -> int:
    """The integer whose bits (least significant first) the network emitted."""
    return from_bits(bits)


def carries(a: int, b: int, steps: int | None = None) -> np.ndarray:
    """The true carry *out of* each step (T,) uint8 — what the network has to remember."""
    xs, target = encode(a, b, steps)
    a_bits, b_bits = xs[:, 0].astype(np.uint8), xs[:, 1].astype(np.uint8)
    # target_t = a_t ⊕ b_t ⊕ c_in, so c_in = target ⊕ a ⊕ b; carry out of step t = carry into t+1
    carry_in = target ^ a_bits ^ b_bits
    return np.append(carry_in[1:], 0).astype(np.uint8)


# -- operands ----------------------------------------------------------------------------------------
def adversarial_pairs(max_k: int = 1024) -> Iterator[tuple[int, int]]:
    """Long carry chains — what uniform random operands almost never contain (a run of k
    propagating positions has chance 2^-k) and what a teacher tries first: 2^k − 1 plus 1, 0 or
    itself, 2^k + (2^k − 1), and 1010… + 0101… + 1 (a chain of 2k bits)."""
    for k in (1, 2, 7, 8, 31, 32, 33, 63, 64, 100, 255, 256, 1000, 1024):
        if k > max_k:
            break
        ones = (1 << k) - 1
        alternating = int("10" * k, 2)
        yield from [(ones, 1), (ones, ones), (1 << k, ones), (ones, 0), (alternating, (alternating >> 1) + 1)]


def random_operands(rng: np.random.Generator, bits: int, count: int) -> list[tuple[int, int]]:
    """``count`` pairs of uniformly random ``bits``-bit operands drawn from an explicit RNG."""
    raw = rng.integers(0, 2, size=(count, 2, bits), dtype=np.uint8)
    return [(from_bits(p[0]), from_bits(p[1])) for p in raw]


@dataclass(frozen=True)
class AdditionSample:
    """A named, reproducible set of random additions: ``count`` pairs of ``bits``-bit operands."""

    bits: int
    count: int
    seed: int

    def describe(self) -> str:
        """How a page quotes it, e.g. "300 random 16-bit additions"."""
        return f"{self.count:,} random {self.bits}-bit additions"

    def pairs(self) -> list[tuple[int, int]]:
        return random_operands(np.random.default_rng(self.seed), self.bits, self.count)

    @property
    def steps(self) -> int:
        """Every addition in the sample runs bits + 1 steps (the last emits the final carry)."""
        return self.bits + 1


# The sample the app quotes for "exact sums" and for "which unit carries the carry": one home, so the
# number a page shows and the sentence describing it cannot drift apart.
EXACT_SUM_CHECK = AdditionSample(bits=16, count=300, seed=0)
# What `python -m gru_core.train` measures and the checkpoint keeps (the README's table).
EVALUATION = (AdditionSample(8, 10_000, seed=8), AdditionSample(64, 10_000, seed=64),
              AdditionSample(256, 1_000, seed=256), AdditionSample(1024, 200, seed=1024))


def _encode_batch(pairs: list[tuple[int, int]], steps: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`encode` for many pairs of the same length: inputs (B, T, 2), targets (B, T)."""
    encoded = [encode(a, b, steps) for a, b in pairs]
    return np.stack([x for x, _ in encoded]), np.stack([y for _, y in encoded])


# -- running a model ---------------------------------------------------------------------------------
def check_adder(model: RecurrentModel) -> None:
    """A bit adder reads (a_t, b_t) and emits one logit per step; anything else is a ValueError."""
    if model.cell.input_size != 2 or model.readout.output_size != 1 or not model.readout.per_step:
        raise ValueError(f"a bit adder reads 2 inputs and emits 1 output per step; this model is {model!r}")


@dataclass(frozen=True)
class AdditionRun:
    """One addition, fully recorded: what the network read, what it should emit, what it emitted."""

    a: int
    b: int
    xs: np.ndarray       # (T, 2) inputs (a_t, b_t)
    target: np.ndarray   # (T,) true bits of a + b
    carries: np.ndarray  # (T,) true carry out of each step
    trace: Trace         # every gate at every step
    logits: np.ndarray   # (T,) readout of h_t
    output: np.ndarray   # (T,) emitted bits, [logit > 0]

    @property
    def carry_in(self) -> np.ndarray:
        """(T,) the true carry into each step: 0 into step 0, then the carry out of the step before."""
        return np.concatenate([[0], self.carries[:-1]]).astype(self.carries.dtype)

    @property
    def result(self) -> int:
        return decode(self.output)

    @property
    def correct(self) -> bool:
        return self.result == self.a + self.b


def run_addition(model: RecurrentModel, a: int, b: int) -> AdditionRun:
    """a + b through the model, every step recorded (the path every page shows)."""
    check_adder(model)
    a, b = check_operand(a, "a"), check_operand(b, "b")
    xs, target = encode(a, b)
    trace = model.run(xs)
    logits = model.logits(trace)[:, 0]                       # (T,) the one output per step
    true_carries, output = carries(a, b), (logits > 0).astype(np.uint8)
    for arr in (xs, target, logits, true_carries, output):  # shared between sessions by the app's cache
        arr.flags.writeable = False
    return AdditionRun(a=a, b=b, xs=xs, target=target, carries=true_carries, trace=trace,
                       logits=logits, output=output)


def add(model: RecurrentModel, a: int, b: int) -> int:
    """a + b as the network computes it, for non-negative ints of any size."""
    return run_addition(model, a, b).result


def exact_sum_accuracy(model: RecurrentModel, sample: AdditionSample = EXACT_SUM_CHECK) -> float:
    """Fraction of the sample's additions the model gets exactly right (every output bit).

    All the additions have bits + 1 steps, so they run as one batch (:meth:`RecurrentModel.logits_batch`);
    a test checks that this agrees with :func:`add`, the recorded path, sum by sum.
    """
    check_adder(model)
    xs, targets = _encode_batch(sample.pairs(), sample.steps)         # (N, T, 2), (N, T)
    logits = model.logits_batch(xs)[..., 0]                          # (N, T)
    return float(((logits > 0) == targets.astype(bool)).all(axis=1).mean())


# -- where the carry lives ---------------------------------------------------------------------------
CARRY_UNIT_TOLERANCE = 0.005  # units whose |correlation| is this close to the best one all carry it


def _pearson(h: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Pearson correlation (H,) of each column of h (N, H) with c (N,); a constant column scores 0."""
    h_c = h - h.mean(axis=0)
    c_c = c - c.mean()
    denom = np.sqrt((h_c ** 2).sum(axis=0) * (c_c ** 2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (h_c * c_c[:, None]).sum(axis=0) / denom
    return np.nan_to_num(corr, nan=0.0)


@dataclass(frozen=True)
class CarryUnit:
    """One unit that follows the carry, and how its new state treats its old one while the carry holds."""

    unit: int
    correlation: float       # of h_t with the carry out of step t
    holding_steps: int       # steps where the carry holds: carry into t = carry out of t = 1
    old_state_weight: float  # mean weight h_t puts on h_{t-1} over those steps (nan if there are none)
    keep_fraction: float     # share of those steps where that weight is > ½ (nan if there are none)

    @property
    def candidate_fraction(self) -> float:
        """Share of the holding steps where h_t is mostly the candidate h̃_t (weight on h_{t-1} ≤ ½)."""
        return 1.0 - self.keep_fraction


@dataclass(frozen=True, eq=False)
class CarryFinding:
    """Which units carry the carry, and whether the update gate holds it or the candidate does.

    The weight on the old state is z or 1 − z depending on the convention
    (:func:`gru_core.cells.gru_equations.old_state_weight`), so the finding reads the same in cho2014
    and chung2014: same h, same weights, z read the other way round.
    """

    sample: AdditionSample
    convention: Convention
    correlation: np.ndarray        # (H,) every unit's correlation with the carry
    units: tuple[CarryUnit, ...]   # the carry units, by unit number


def carry_finding(model: RecurrentModel, sample: AdditionSample = EXACT_SUM_CHECK) -> CarryFinding:
    """Compute the carry finding for ``model`` over ``sample``, from recorded passes (GRU.run).

    Every addition is run and recorded; h_t of each unit is correlated with the true carry out of
    step t; the carry units are those within :data:`CARRY_UNIT_TOLERANCE` of the best |correlation|;
    for each, over the steps where the carry holds, the weight its new state puts on its old state.
    """
    check_adder(model)
    T, convention = sample.steps, model.cell.convention
    h, z, c_out = [], [], []
    for a, b in sample.pairs():
        trace = model.run(encode(a, b, T)[0])
        h.append(trace.h)                                    # (T, H) last layer
        z.append(trace.z)                                    # (T, H)
        c_out.append(carries(a, b, T))                       # (T,)
    h_all, z_all = np.concatenate(h), np.concatenate(z)      # (N·T, H)
    c_out_all = np.concatenate(c_out)                        # (N·T,)
    c_in_all = np.concatenate([np.append(0, c[:-1]) for c in c_out])  # carry into step t; none into step 0
    holding = (c_in_all == 1) & (c_out_all == 1)             # (N·T,)
    weight = old_state_weight(z_all[holding], convention)    # (steps holding, H)

    corr = _pearson(h_all, c_out_all.astype(np.float64))
    best = np.abs(corr).max()
    units = []
    for j in np.flatnonzero(np.abs(corr) >= best - CARRY_UNIT_TOLERANCE):
        w = weight[:, j]
        units.append(CarryUnit(unit=int(j), correlation=float(corr[j]), holding_steps=int(holding.sum()),
                               old_state_weight=float(w.mean()) if w.size else float("nan"),
                               keep_fraction=float((w > 0.5).mean()) if w.size else float("nan")))
    corr.flags.writeable = False
    return CarryFinding(sample=sample, convention=convention, correlation=corr, units=tuple(units))


# -- training batches ------------------------------------------------------------------------------------
def sum_bits(a_bits: np.ndarray, b_bits: np.ndarray) -> np.ndarray:
    """Bits of a + b for (B, n) operand bits (least significant first) → (B, n + 1), vectorised."""
    B, n = a_bits.shape
    out = np.zeros((B, n + 1), np.uint8)
    carry = np.zeros(B, np.uint8)
    for t in range(n):
        s = a_bits[:, t] + b_bits[:, t] + carry
        out[:, t] = s & 1
        carry = s >> 1
    out[:, n] = carry
    return out


def make_batch(rng: np.random.Generator, batch_size: int, bits: int, propagate: tuple[float, ...] = (),
               flip: tuple[float, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (B, bits+1, 2) float32 and targets (B, bits+1) float32 — the encoding of :func:`encode`,
    for many pairs at once.

    With ``propagate`` empty the operands are uniform. Otherwise each pair draws a probability p
    from it and makes each position a carry-*propagating* one (a_t ≠ b_t) with probability p, else
    a generate or kill (a_t = b_t). Uniform operands almost never hold a run of k propagating
    positions (chance 2^-k), yet 2^k − 1 + 1 is the first sum a teacher tries; these runs are what
    make the carry last.

    With ``flip`` empty the first operand's bits are independent. Otherwise each pair draws a
    probability f from it and each bit of the first operand differs from the previous one with
    probability f. Inside a propagate run, independent bits make a random mix of (1, 0) and (0, 1)
    inputs, whereas the sums people try hold one pattern for the whole run: constant (2^k − 1 + 1,
    2^k − 1 + 0) or alternating (1010… + 0101… + 1). The carry must hold under each, so both are
    drawn often; f near but not at 0 or 1 keeps every input kind on both sides of a carry.
    """
    ops = rng.integers(0, 2, size=(batch_size, 2, bits), dtype=np.uint8)
    if flip:
        f = rng.choice(np.asarray(flip), size=(batch_size, 1))
        ops[:, 0] = ops[:, 0, :1] ^ (np.cumsum(rng.random((batch_size, bits)) < f, axis=1) & 1)
    if propagate:
        p = rng.choice(np.asarray(propagate), size=(batch_size, 1))
        differ = (rng.random((batch_size, bits)) < p).astype(np.uint8)
        ops[:, 1] = ops[:, 0] ^ differ
    xs = np.zeros((batch_size, bits + 1, 2), np.float32)
    xs[:, :bits, 0], xs[:, :bits, 1] = ops[:, 0], ops[:, 1]
    return xs, sum_bits(ops[:, 0], ops[:, 1]).astype(np.float32)


def all_pairs(bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of ``bits``-bit operands (4^bits of them), encoded as :func:`make_batch` does."""
    n = 1 << bits
    a, b = np.divmod(np.arange(n * n), n)
    shifts = np.arange(bits)
    a_bits = ((a[:, None] >> shifts) & 1).astype(np.uint8)
    b_bits = ((b[:, None] >> shifts) & 1).astype(np.uint8)
    xs = np.zeros((n * n, bits + 1, 2), np.float32)
    xs[:, :bits, 0], xs[:, :bits, 1] = a_bits, b_bits
    return xs, sum_bits(a_bits, b_bits).astype(np.float32)


def _with_output_axis(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Targets (B, T) -> (B, T, 1): the task protocol's one output per step."""
    return xs, ys[..., None]


def _all_exact(logits: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Per sequence: is every emitted bit right? logits, ys (B, T, 1) -> (B,) bool."""
    return ((logits > 0) == (ys > 0.5)).reshape(len(ys), -1).all(axis=1)


# -- the task and its curriculum -----------------------------------------------------------------------
LEARN_ITERATIONS = 1000    # at most; with the defaults every 8-bit sum is exact after 160–230
HARDEN_ITERATIONS = 1300
HARDEN_BITS = 128          # chains longer than 64 steps, so the carry must hold, not just last
HARDEN_PROPAGATE = (0.5, 0.9, 0.97, 0.99)   # see make_batch
HARDEN_FLIP = (0.5, 0.02, 0.98)             # see make_batch
HARDEN_LR = 3e-3           # peak, decayed to 0 along half a cosine
HARDEN_CLIP = 0.1          # max gradient norm while hardening
CHECKED_BITS = 8           # the learn stage's goal: every sum of two numbers this wide (65,536) exact


@dataclass(frozen=True)
class BitAddition:
    """The bit-addition task (see the module docstring) and how the shipped adders were taught.

    Curriculum: *learn* on ``bits``-bit operands until every sum of two min(bits, 8)-bit numbers is
    exact (checked every ``check_every`` iterations); then, with ``harden``, *harden*: long operands
    drawn so that long carry-propagating runs are common, a cosine-decayed learning rate and a clipped
    gradient norm push the gates into saturation, so the carry becomes a stable state that does not
    drift over hundreds of steps — what makes the adder exact at 256 and 1,024 bits, not just at 8.
    """

    name: ClassVar[str] = "bit_addition"
    input_size: ClassVar[int] = 2
    output_size: ClassVar[int] = 1
    readout: ClassVar[str] = "per_step"
    loss: ClassVar[str] = "bce"

    bits: int = 8                  # operand width while learning
    harden: bool = True            # then harden on long carry chains
    harden_bits: int = HARDEN_BITS
    check_every: int = 10          # iterations between exhaustive checks while learning

    def settings(self) -> dict[str, Any]:
        return {"bits": self.bits, "harden": self.harden, "harden_bits": self.harden_bits,
                "check_every": self.check_every}

    def curriculum(self) -> tuple[Stage, ...]:
        k = min(self.bits, CHECKED_BITS)
        learn = Stage("learn", LEARN_ITERATIONS, batch={"bits": self.bits},
                      stop=StopCheck(f"all {4 ** k:,} sums of two {k}-bit numbers exact", every=self.check_every,
                                     data=lambda: _with_output_axis(*all_pairs(k)),
                                     passed=lambda outputs, ys: bool(_all_exact(outputs, ys).all())))
        if not self.harden:
            return (learn,)
        # Long sequences give rare gradient spikes that knock a nearly exact net off its saturated
        # gates; clipping makes every step the same small size instead.
        harden = Stage("harden", HARDEN_ITERATIONS,
                       batch={"bits": self.harden_bits, "propagate": HARDEN_PROPAGATE, "flip": HARDEN_FLIP},
                       lr=HARDEN_LR, schedule="cosine", clip=HARDEN_CLIP)
        return learn, harden

    def batch(self, rng: np.random.Generator, size: int, stage: Stage) -> tuple[np.ndarray, np.ndarray]:
        return _with_output_axis(*make_batch(rng, size, **stage.batch))

    def batch_accuracy(self, outputs: np.ndarray, ys: np.ndarray) -> float:
        """Exact-sum fraction: sequences whose every bit is right."""
        return float(_all_exact(outputs, ys).mean())

    def evaluate(self, model: RecurrentModel) -> dict[str, float]:
        """Exact-sum accuracy at each width of :data:`EVALUATION`, through the NumPy core."""
        return {f"exact_{s.bits}bit": exact_sum_accuracy(model, s) for s in EVALUATION}
