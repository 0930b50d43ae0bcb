"""An LSTM in torch.nn.LSTM's layout that records every step (gate rows i, f, g, o).

    i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)       input gate
    f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)       forget gate
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)    candidate cell
    o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)       output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t                      the cell: what the forget gate keeps
    h_t = o_t ⊙ tanh(c_t)

The one place the core writes these. σ(a) = ½(1 + tanh(½a)), as in the GRU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .base import LayerParams, Stack, frozen
from .trace import RecordedLayer, Trace

if TYPE_CHECKING:
    pass

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

    def run(self, xs: np.ndarray, h0: np.ndarray, c0: np.ndarray) -> LSTMLayerTrace:
        """Run over ``xs`` (T, I) from ``h0``, ``c0`` (H,), recording every step."""
        x = np.array(xs, dtype=self.dtype)                               # (T, I), a copy
        T, H, dt = x.shape[0], self.hidden_size, self.dtype
        input_part = x @ self._weight_ih_t + self.bias_ih                # (T, 4H) all steps at once
        hs, cs = np.empty((T + 1, H), dt), np.empty((T + 1, H), dt)      # h0..hT, c0..cT
        hs[0], cs[0] = h0, c0
        hidden_part, pre, gates = (np.empty((T, 4 * H), dt) for _ in range(3))
        tanh_c, ig = np.empty(H, dt), np.empty(H, dt)
        g_, o_ = slice(2 * H, 3 * H), slice(3 * H, 4 * H)
        # one NumPy call per operation, each into a preallocated row (the GRU's recurrence does the same)
        rows = zip(hs, hs[1:], cs, cs[1:], input_part, hidden_part, pre, gates)
        for h, h_new, c, c_new, gi, gh, a, gt in rows:
            np.dot(h, self._weight_hh_t, out=gh)                         # W_h· h_{t-1}
            np.add(gh, self.bias_hh, out=gh)                             # … + b_h·
            np.add(gi, gh, out=a)
            np.multiply(a, 0.5, out=gt)                                  # i, f, o = σ(a) = ½(1 + tanh(½a)),
            np.tanh(gt, out=gt)                                          # computed for all four blocks at
            np.multiply(gt, 0.5, out=gt)                                 # once (fewer calls), then the g
            np.add(gt, 0.5, out=gt)                                      # block is overwritten:
            np.tanh(a[g_], out=gt[g_])                                   # g = tanh(a)
            i, f, g, o = gt[:H], gt[H:2 * H], gt[g_], gt[o_]
            np.multiply(f, c, out=c_new)                                 # c_t = f ⊙ c_{t-1} + i ⊙ g
            np.multiply(i, g, out=ig)
            np.add(c_new, ig, out=c_new)
            np.tanh(c_new, out=tanh_c)
            np.multiply(o, tanh_c, out=h_new)                            # h_t = o ⊙ tanh(c_t)
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
