"""A stacked, unidirectional GRU in NumPy that records every step (see :mod:`gru_core.cells.trace`).

Parameters use torch.nn.GRU's layout and gate order (r, z, n), so import and export are a copy:
``weight_ih (3H, I)``, ``weight_hh (3H, H)``, ``bias_ih (3H,)``, ``bias_hh (3H,)``.
The equations themselves live in :mod:`gru_core.cells.gru_equations`; this file holds the parameters and
prepares the arrays the recurrence writes into.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..conventions import CONVENTIONS, Convention, get_convention
from . import gru_equations as eq
from .base import PARAM_NAMES, LayerParams, Stack
from .trace import LayerTrace, Trace

if TYPE_CHECKING:  # torch is imported lazily: the core's NumPy path never needs it
    import torch

__all__ = ["GRU", "GRULayer", "PARAM_NAMES"]


@dataclass(frozen=True)
class GRULayer(LayerParams):
    """One GRU layer: weight_ih (3H, I), weight_hh (3H, H), biases (3H,); gate rows r, z, n."""

    BLOCKS = 3

    def run(self, xs: np.ndarray, h0: np.ndarray, convention: Convention) -> LayerTrace:
        """Run the recurrence over ``xs`` (T, I) from ``h0`` (H,), recording every step."""
        x = np.array(xs, dtype=self.dtype)                                   # (T, I), a copy
        rec = self._record(x @ self._weight_ih_t + self.bias_ih, h0, convention)  # input part (T, 3H)
        x.flags.writeable = False  # a trace is shared between sessions by the app's caches
        return LayerTrace(x=x, **rec)

    def run_batch(self, xs: np.ndarray, convention: Convention) -> np.ndarray:
        """h for a batch ``xs`` (T, B, I) from zeros -> (T, B, H); the same recurrence as :meth:`run`."""
        x = np.asarray(xs, dtype=self.dtype)
        h0 = np.zeros(x.shape[1:-1] + (self.hidden_size,), self.dtype)
        return self._record(x @ self._weight_ih_t + self.bias_ih, h0, convention)["h"]

    def _record(self, input_part: np.ndarray, h0: np.ndarray, convention: Convention) -> dict:
        """Preallocate every recorded array, run :func:`equations.recur` into them, freeze them.

        input_part (T, ..., 3H); h0 (..., H). Returns the LayerTrace fields but ``x``.
        """
        T, lead, H = input_part.shape[0], input_part.shape[1:-1], self.hidden_size
        dt = self.dtype
        states = np.empty((T + 1, *lead, H), dt)                             # h0, h1, ..., hT
        states[0] = h0
        rec = dict(input_part=input_part, hidden_part=np.empty((T, *lead, 3 * H), dt),
                   pre=np.empty((T, *lead, 3 * H), dt), gates=np.empty((T, *lead, 2 * H), dt),
                   h_tilde=np.empty((T, *lead, H), dt))
        eq.recur(weight_hh_t=self._weight_hh_t, bias_hh=self.bias_hh, convention=convention,
                 states=states, **rec)
        for a in (*rec.values(), states):
            a.flags.writeable = False
        return dict(rec, h_prev=states[:-1], h=states[1:])


class GRU(Stack):
    """Stacked unidirectional GRU; ``run`` returns a :class:`Trace` of every gate at every step."""

    LAYER, BLOCKS, TORCH = GRULayer, 3, "GRU"

    def __init__(self, layers: list[GRULayer] | tuple[GRULayer, ...],
                 convention: str | Convention = "pytorch") -> None:
        super().__init__(layers)
        self._convention = get_convention(convention)

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_arrays(cls, layers: list[dict[str, np.ndarray]],
                    convention: str | Convention = "pytorch") -> GRU:
        """From one dict per layer with keys weight_ih, weight_hh, bias_ih, bias_hh (shapes checked)."""
        return cls(cls._layers_from_arrays(layers), convention)

    @classmethod
    def random(cls, input_size: int, hidden_size: int, num_layers: int = 1, *, seed: int = 0,
               scale: float | None = None, convention: str | Convention = "pytorch",
               dtype: type = np.float64) -> GRU:
        """Seeded initialisation: U(−s, s) with s = 1/√H like torch.nn.GRU unless ``scale`` is given."""
        return cls(cls._random_layers(input_size, hidden_size, num_layers, seed, scale, dtype), convention)

    @classmethod
    def from_torch(cls, module: torch.nn.GRU, convention: str | Convention = "pytorch") -> GRU:
        """Copy a unidirectional torch.nn.GRU with biases (any depth, batch_first either way)."""
        return cls.from_arrays(cls._torch_layers(module), convention)

    def to_torch(self, batch_first: bool = False) -> torch.nn.GRU:
        """Export to torch.nn.GRU; only the pytorch convention is expressible there."""
        if not (self.convention.reset_after_matmul and self.convention.z_keeps_old):
            raise ValueError(
                f"torch.nn.GRU computes the pytorch convention; this GRU uses {self.convention.name}")
        return self._torch_module(batch_first)

    def flip_update_gate(self) -> GRU:
        """The same network written in the other update-gate convention (cho2014 ↔ chung2014).

        Negating the z rows of every weight and bias turns σ(a) into σ(−a) = 1 − σ(a), so a network
        whose z weighs the old state becomes one whose z weighs the candidate: same h at every
        step, z ↔ 1 − z. The reset placement is untouched, so pytorch has no partner here.
        """
        c = self.convention
        partner = next((o for o in CONVENTIONS.values() if o.reset_after_matmul == c.reset_after_matmul
                        and o.z_keeps_old != c.z_keeps_old), None)
        if partner is None:
            raise ValueError(f"{self.convention.name} has no update-gate partner among the conventions "
                             "(cho2014 and chung2014 are each other's)")
        layers = []
        for layer in self.layers:
            H = layer.hidden_size
            sign = np.ones(3 * H, dtype=layer.dtype)
            sign[H:2 * H] = -1.0
            layers.append(layer.replace(weight_ih=layer.weight_ih * sign[:, None],
                                        weight_hh=layer.weight_hh * sign[:, None],
                                        bias_ih=layer.bias_ih * sign, bias_hh=layer.bias_hh * sign))
        return GRU(layers, partner)

    def ablated(self, *, update_bias_shift: float = 0.0, reset_bias_shift: float = 0.0,
                recurrent_scale: float = 1.0) -> GRU:
        """A copy with the ablation knobs applied to every layer (this GRU is left untouched).

        ``update_bias_shift`` / ``reset_bias_shift`` are added to b_iz / b_ir (the gate sees the sum
        b_i· + b_h·, so either bias would do); ``recurrent_scale`` multiplies W_hh, all three blocks.
        """
        layers = []
        for layer in self.layers:
            H = layer.hidden_size
            shift = np.zeros(3 * H, dtype=layer.dtype)
            shift[:H], shift[H:2 * H] = reset_bias_shift, update_bias_shift
            layers.append(layer.replace(bias_ih=layer.bias_ih + shift,
                                        weight_hh=layer.weight_hh * recurrent_scale))
        return GRU(layers, self.convention)

    def with_convention(self, convention: str | Convention) -> GRU:
        """The same parameters read under another convention's equations."""
        return GRU(self.layers, convention)

    # -- properties -----------------------------------------------------------------------------
    @property
    def convention(self) -> Convention:
        return self._convention

    def __repr__(self) -> str:
        return f"GRU({self._sizes()}, convention={self.convention.name!r}, dtype={self.dtype})"

    # -- the forward pass -----------------------------------------------------------------------
    def run(self, xs: np.ndarray, h0: np.ndarray | None = None) -> Trace:
        """Run ``xs`` (T, I) from ``h0`` (num_layers, H) or zeros; returns the full :class:`Trace`."""
        xs = self._check_inputs(xs)
        h0 = self._check_state(h0)
        traces = []
        layer_input = xs
        for k, layer in enumerate(self.layers):
            lt = layer.run(layer_input, h0[k], self.convention)
            traces.append(lt)
            layer_input = lt.h
        return Trace(layers=tuple(traces), convention=self.convention)

    def forward_batch(self, xs: np.ndarray, chunk: int = 2048) -> np.ndarray:
        """Last layer's h for a batch: ``xs`` (B, T, I) -> (B, T, H), without keeping the traces.

        For evaluating many sequences at once (e.g. exact-sum accuracy over thousands of additions):
        the same recurrence as :meth:`run`, with a batch axis, in chunks of ``chunk`` sequences.
        """
        xs = np.asarray(xs)
        if xs.ndim != 3 or xs.shape[0] == 0:
            raise ValueError(f"xs must have shape (B, T, {self.input_size}) with B >= 1, got {xs.shape}")
        self._check_inputs(xs.reshape(-1, xs.shape[2]) if xs.shape[1] else xs[0])  # width, dtype, finite
        out = []
        for start in range(0, xs.shape[0], chunk):
            layer_input = np.swapaxes(xs[start:start + chunk], 0, 1)        # (T, b, I)
            for layer in self.layers:
                layer_input = layer.run_batch(layer_input, self.convention)  # (T, b, H)
            out.append(np.swapaxes(layer_input, 0, 1))
        return np.concatenate(out)
