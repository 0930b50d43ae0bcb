"""An LSTM in torch.nn.LSTM's layout that records every step (gate rows i, f, g, o).

    i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)       input gate
    f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)       forget gate
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)    candidate cell
    o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)       output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t                      the cell: what the forget gate keeps
    h_t = o_t ⊙ tanh(c_t)

The one place the core writes these. σ(a) = ½(1 + tanh(½a)), as in the GRU.

:meth:`LSTMLayer.run` is the hot loop of every LSTM view: ten NumPy calls a step, each into a
preallocated row (its docstring gives the three exact rewrites that make it that short).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .base import LayerParams, Stack, frozen
from .trace import RecordedLayer, Trace

GATES = ("i", "f", "g", "o")


@dataclass(frozen=True)
class LSTMLayerTrace(RecordedLayer):
    x: np.ndarray            # (T, I)
    h_prev: np.ndarray       # (T, H)  h_{t-1}; row 0 is h0
    c_prev: np.ndarray       # (T, H)  c_{t-1}; row 0 is c0
    input_part: np.ndarray   # (T, 4H) W_i· x_t + b_i·                       blocks i, f, g, o
    hidden_part: np.ndarray  # (T, 4H) W_h· h_{t-1} + b_h·
    pre: np.ndarray          # (T, 4H) their sum
    gates: np.ndarray        # (T, 4H) i, f, o after σ and g after tanh
    c: np.ndarray            # (T, H)  the cell state
    h: np.ndarray            # (T, H)  the new state

    def gate(self, name: str) -> np.ndarray:  # (T, H)
        k, H = GATES.index(name), self.hidden_size
        return self.gates[:, k * H:(k + 1) * H]

    i = property(lambda self: self.gate("i"))
    f = property(lambda self: self.gate("f"))
    g = property(lambda self: self.gate("g"))
    o = property(lambda self: self.gate("o"))

    def csv_columns(self) -> dict[str, np.ndarray]:
        return {"h_prev": self.h_prev, "c_prev": self.c_prev, "i": self.i, "f": self.f, "g": self.g,
                "o": self.o, "c": self.c, "h": self.h}


@dataclass(frozen=True)
class LSTMLayer(LayerParams):
    """One LSTM layer: weight_ih (4H, I), weight_hh (4H, H), biases (4H,); gate rows i, f, g, o."""

    BLOCKS = 4
    # What the recurrence multiplies by, made once (read-only, like the parameters): see run.
    _half_ih_t: np.ndarray = field(init=False, repr=False, compare=False)  # (I, 4H)    W_i·ᵀ, i f o halved
    _half_bias_ih: np.ndarray = field(init=False, repr=False, compare=False)  # (4H,)  b_i·, i f o halved
    _half_hh_t: np.ndarray = field(init=False, repr=False, compare=False)  # (H + 1, 4H) W_h·ᵀ over b_h·, halved
    _gate_scale: np.ndarray = field(init=False, repr=False, compare=False)  # (4H,) ½ for i, f, o; 1 for g
    _gate_shift: np.ndarray = field(init=False, repr=False, compare=False)  # (4H,) ½ for i, f, o; 0 for g

    def __post_init__(self) -> None:
        super().__post_init__()
        H, dt = self.hidden_size, self.dtype
        scale = np.full(4 * H, 0.5, dt)
        scale[2 * H:3 * H] = 1.0                                         # the g block is not halved
        shift = np.where(scale == 1.0, 0.0, 0.5).astype(dt)
        half_hh_t = np.empty((H + 1, 4 * H), dt)
        np.multiply(self._weight_hh_t, scale, out=half_hh_t[:H])
        np.multiply(self.bias_hh, scale, out=half_hh_t[H])
        for name, a in (("_half_ih_t", self._weight_ih_t * scale), ("_half_bias_ih", self.bias_ih * scale),
                        ("_half_hh_t", half_hh_t), ("_gate_scale", scale), ("_gate_shift", shift)):
            a.flags.writeable = False
            object.__setattr__(self, name, a)

    def run(self, xs: np.ndarray, h0: np.ndarray, c0: np.ndarray) -> LSTMLayerTrace:
        """Run over ``xs`` (T, I) from ``h0``, ``c0`` (H,), recording every step.

        Three exact rewrites keep the loop at ten NumPy calls a step, each into a preallocated row:

        * The rows of i, f and o are multiplied by ½ beforehand, so the recurrence adds up ½a for
          those blocks (and a for g) and one tanh call gives tanh(½a) | tanh(a) for all four; one
          multiply and one add then make σ(a) = ½ tanh(½a) + ½ and leave g = tanh(a) · 1 + 0.
          Halving is exact in binary floating point (short of subnormal numbers), so doubling the
          recorded input_part and hidden_part afterwards gives exactly W x + b and W h + b.
        * b_h· is the last row of the recurrent matrix and every h_{t-1} is followed by a 1, so one
          product gives W_h· h_{t-1} + b_h·.
        * The pre-activation is summed into the gates' row and activated in place; the recorded
          ``pre`` is the same sum, input_part + hidden_part, taken once for all steps afterwards.
        """
        x = np.array(xs, dtype=self.dtype)                               # (T, I), a copy
        T, H, dt = x.shape[0], self.hidden_size, self.dtype
        input_part = x @ self._half_ih_t                                 # (T, 4H) all steps at once
        input_part += self._half_bias_ih
        hs = np.empty((T + 1, H + 1), dt)                                # h0..hT, each followed by 1
        hs[:, H] = 1.0
        hs[0, :H] = h0
        cs = np.empty((T + 1, H), dt)                                    # c0..cT
        cs[0] = c0
        hidden_part, gates = np.empty((T, 4 * H), dt), np.empty((T, 4 * H), dt)
        tanh_c, ig = np.empty(H, dt), np.empty(H, dt)
        w, scale, shift = self._half_hh_t, self._gate_scale, self._gate_shift
        dot, add, multiply, tanh = np.dot, np.add, np.multiply, np.tanh  # out= passed by position
        rows = zip(hs, hs[1:, :H], cs, cs[1:], input_part, hidden_part, gates,
                   *(gates[:, k * H:(k + 1) * H] for k in range(4)))
        for h, h_new, c, c_new, gi, gh, gt, i, f, g, o in rows:
            dot(h, w, gh)                           # W_h· h_{t-1} + b_h· (halved for i, f, o)
            add(gi, gh, gt)                         # the pre-activation: ½a for i, f, o; a for g
            tanh(gt, gt)                            # tanh(½a) | tanh(a)
            multiply(gt, scale, gt)                 # i, f, o = σ(a) = ½ tanh(½a) + ½;  g = tanh(a)
            add(gt, shift, gt)
            multiply(f, c, c_new)                   # c_t = f ⊙ c_{t-1} + i ⊙ g
            multiply(i, g, ig)
            add(c_new, ig, c_new)
            tanh(c_new, tanh_c)
            multiply(o, tanh_c, h_new)              # h_t = o ⊙ tanh(c_t)
        unscale = 1.0 / scale                                            # 2 for i, f, o: exact
        input_part *= unscale
        hidden_part *= unscale
        pre = input_part + hidden_part              # the loop's sums, i, f, o doubled: bit for bit
        hs = np.ascontiguousarray(hs[:, :H])
        return LSTMLayerTrace(**frozen(x=x, h_prev=hs[:-1], c_prev=cs[:-1], input_part=input_part,
                                       hidden_part=hidden_part, pre=pre, gates=gates, c=cs[1:], h=hs[1:]))


class LSTM(Stack):
    """Stacked unidirectional LSTM, equal to torch.nn.LSTM (no projections)."""

    LAYER, BLOCKS, TORCH = LSTMLayer, 4, "LSTM"
    STATES = ("h", "c")
    convention = None

    def run(self, xs: np.ndarray, h0: np.ndarray | None = None, c0: np.ndarray | None = None) -> Trace:
        """Run ``xs`` (T, I) from ``h0``, ``c0`` (num_layers, H) or zeros; every step recorded."""
        xs, h0, c0 = self._check_inputs(xs), self._check_state(h0), self._check_state(c0, "c0")
        traces, layer_input = [], xs
        for k, layer in enumerate(self.layers):
            traces.append(layer.run(layer_input, h0[k], c0[k]))
            layer_input = traces[-1].h
        return Trace(layers=tuple(traces))
