"""Binary addition with a GRU — the single source of truth for the encoding (seed 000's task).

Operands are fed least significant bit first, one pair of bits per step: the input at step t is
(a_t, b_t) and the target is bit t of a + b. One extra step (where both inputs are 0) emits the
final carry. So ``T = max(bits(a), bits(b), 1) + 1`` and the network must learn to carry.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .cells.gru import GRU, PARAM_NAMES
from .cells.trace import Trace

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
# One trained network per reset placement; chung2014 is the cho2014 network re-expressed exactly.
ASSETS = {"pytorch": ASSETS_DIR / "bit_adder.pt", "cho2014": ASSETS_DIR / "bit_adder_cho2014.pt"}


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


def adversarial_pairs(max_k: int = 1024):
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
class BitAdder:
    """A GRU(2 → H) and a linear readout: bit_t = [w · h_t + c > 0]."""

    gru: GRU
    readout_weight: np.ndarray  # (H,)
    readout_bias: float
    config: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        w = np.array(self.readout_weight, dtype=self.gru.dtype).reshape(-1)
        if w.shape != (self.gru.hidden_size,):
            raise ValueError(f"readout_weight must have shape ({self.gru.hidden_size},), got {w.shape}")
        if self.gru.input_size != 2:
            raise ValueError(f"a bit adder reads 2 inputs per step, this GRU reads {self.gru.input_size}")
        w.flags.writeable = False
        object.__setattr__(self, "readout_weight", w)
        object.__setattr__(self, "readout_bias", float(self.readout_bias))

    def with_gru(self, gru: GRU) -> BitAdder:
        """The same readout on another GRU (a tweak, a relabelling); config and metrics are copied."""
        return BitAdder(gru, self.readout_weight, self.readout_bias, dict(self.config), dict(self.metrics))

    def readout(self, trace: Trace) -> np.ndarray:
        """Logits (T,) of the output bit at each step, from the last layer's h."""
        return trace.h @ self.readout_weight + self.readout_bias

    # -- persistence: a small torch file that carries its own config and metrics ---------------
    def state_dict(self) -> dict[str, Any]:
        import torch

        sd = {f"gru.{n}_l{k}": torch.from_numpy(np.array(getattr(layer, n)))
              for k, layer in enumerate(self.gru.layers) for n in PARAM_NAMES}
        sd["readout.weight"] = torch.from_numpy(self.readout_weight.copy())[None, :]
        sd["readout.bias"] = torch.tensor([self.readout_bias], dtype=sd["readout.weight"].dtype)
        return sd

    def save(self, path: str | Path) -> None:
        import torch

        torch.save({"state_dict": self.state_dict(),
                    "config": {**self.config, "convention": self.gru.convention.name},
                    "metrics": dict(self.metrics)}, path)

    @classmethod
    def load(cls, path: str | Path, dtype: type = np.float64) -> BitAdder:
        """Load a checkpoint written by :meth:`save`; never executes code (weights_only=True)."""
        import torch

        blob = torch.load(path, map_location="cpu", weights_only=True)
        sd = blob["state_dict"]
        n_layers = 1 + max(int(k.rsplit("_l", 1)[1]) for k in sd if k.startswith("gru."))
        layers = [{n: sd[f"gru.{n}_l{k}"].double().numpy().astype(dtype) for n in PARAM_NAMES}
                  for k in range(n_layers)]
        convention = blob.get("config", {}).get("convention", "pytorch")
        return cls(gru=GRU.from_arrays(layers, convention),
                   readout_weight=sd["readout.weight"].double().numpy().reshape(-1).astype(dtype),
                   readout_bias=float(sd["readout.bias"].reshape(-1)[0]),
                   config=dict(blob.get("config", {})), metrics=dict(blob.get("metrics", {})))


def pretrained(convention: str = "pytorch") -> BitAdder:
    """The bit adder shipped in assets/ for ``convention`` (trained by ``python -m gru_core.train``).

    pytorch and cho2014 are two networks, each trained with its own equations; chung2014 is the
    cho2014 network with its update gate flipped (:meth:`GRU.flip_update_gate`): the same
    computation, z ↔ 1 − z.
    """
    from .conventions import get_convention

    name = get_convention(convention).name
    if name == "chung2014":
        cho = pretrained("cho2014")
        return cho.with_gru(cho.gru.flip_update_gate())
    return BitAdder.load(ASSETS[name])


@dataclass(frozen=True)
class AdditionRun:
    """One addition, fully recorded: what the network read, what it should emit, what it emitted."""

    a: int
    b: int
    xs: np.ndarray       # (T, 2) inputs (a_t, b_t)
    target: np.ndarray   # (T,) true bits of a + b
    carries: np.ndarray  # (T,) true carry out of each step
    trace: Trace         # every gate at every step
    logits: np.ndarray   # (T,) readout w · h_t + c
    output: np.ndarray   # (T,) emitted bits, [logit > 0]

    @property
    def result(self) -> int:
        return decode(self.output)

    @property
    def correct(self) -> bool:
        return self.result == self.a + self.b


def run_addition(model: BitAdder, a: int, b: int) -> AdditionRun:
    a, b = check_operand(a, "a"), check_operand(b, "b")
    xs, target = encode(a, b)
    trace = model.gru.run(xs)
    logits = model.readout(trace)
    true_carries, output = carries(a, b), (logits > 0).astype(np.uint8)
    for arr in (xs, target, logits, true_carries, output):  # shared between sessions by the app's cache
        arr.flags.writeable = False
    return AdditionRun(a=a, b=b, xs=xs, target=target, carries=true_carries, trace=trace,
                       logits=logits, output=output)


def add(model: BitAdder, a: int, b: int) -> int:
    """a + b as the GRU computes it, for non-negative ints of any size."""
    return run_addition(model, a, b).result


def _encode_batch(pairs: list[tuple[int, int]], steps: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`encode` for many pairs of the same length: inputs (B, T, 2), targets (B, T)."""
    encoded = [encode(a, b, steps) for a, b in pairs]
    return np.stack([x for x, _ in encoded]), np.stack([y for _, y in encoded])


def exact_sum_accuracy(model: BitAdder, bits: int, count: int, seed: int = 12345) -> float:
    """Fraction of ``count`` random ``bits``-bit additions the model gets exactly right.

    All the additions have bits + 1 steps, so they run as one batch (:meth:`GRU.forward_batch`);
    a test checks that this agrees with :func:`add`, the recorded path, sum by sum.
    """
    pairs = random_operands(np.random.default_rng(seed), bits, count)
    xs, targets = _encode_batch(pairs, bits + 1)                # (B, T, 2), (B, T)
    logits = model.gru.forward_batch(xs) @ model.readout_weight + model.readout_bias  # (B, T)
    return float(((logits > 0) == targets.astype(bool)).all(axis=1).mean())


def carries(a: int, b: int, steps: int | None = None) -> np.ndarray:
    """The true carry *out of* each step (T,) uint8 — what the network has to remember."""
    xs, target = encode(a, b, steps)
    a_bits, b_bits = xs[:, 0].astype(np.uint8), xs[:, 1].astype(np.uint8)
    # target_t = a_t ⊕ b_t ⊕ c_in, so c_in = target ⊕ a ⊕ b; carry out of step t = carry into t+1
    carry_in = target ^ a_bits ^ b_bits
    return np.append(carry_in[1:], 0).astype(np.uint8)


def carry_correlation(model: BitAdder, additions: int = 400, bits: int = 16,
                      seed: int = 0) -> np.ndarray:
    """Pearson correlation (H,) of each last-layer unit's h_t with the true carry out of step t,
    over every step of ``additions`` random ``bits``-bit sums. A unit that never varies scores 0."""
    pairs = random_operands(np.random.default_rng(seed), bits, additions)
    xs, _ = _encode_batch(pairs, bits + 1)                                   # (N, T, 2)
    h = model.gru.forward_batch(xs).reshape(-1, model.gru.hidden_size)      # (N·T, H)
    c = np.concatenate([carries(a, b, bits + 1) for a, b in pairs]).astype(np.float64)  # (N·T,)
    h_c = h - h.mean(axis=0)
    c_c = c - c.mean()
    denom = np.sqrt((h_c ** 2).sum(axis=0) * (c_c ** 2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (h_c * c_c[:, None]).sum(axis=0) / denom
    return np.nan_to_num(corr, nan=0.0)
