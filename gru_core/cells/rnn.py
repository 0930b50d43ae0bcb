"""A plain (Elman) tanh RNN in torch.nn.RNN's layout that records every step — the cell without gates.

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)        weight_ih (H, I), weight_hh (H, H)

The one place the core writes this recurrence. With nothing to carry h_{t-1} forward but W_hh and
tanh's slope, a gradient sent back through many steps is multiplied by diag(1 − h_t²) W_hh at each
one. That product shrinks geometrically when the factors' norms stay below 1 (‖W_hh‖ < 1 suffices,
as the slope is at most 1) — the vanishing gradient the gated cells were invented to avoid — and
can grow instead when W_hh is large and the units are not saturated (gru_core/gradients.py measures
it exactly).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .base import LayerParams, Stack, frozen
from .trace import RecordedLayer, Trace

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class RNNLayerTrace(RecordedLayer):
    x: np.ndarray            # (T, I)  the layer's input at each step
    h_prev: np.ndarray       # (T, H)  h_{t-1}; row 0 is h0
    input_part: np.ndarray   # (T, H)  W_ih x_t + b_ih
    hidden_part: np.ndarray  # (T, H)  W_hh h_{t-1} + b_hh
    pre: np.ndarray          # (T, H)  their sum, the argument of tanh
    h: np.ndarray            # (T, H)  the new state

    def csv_columns(self) -> dict[str, np.ndarray]:
        return {"h_prev": self.h_prev, "pre_h": self.pre, "h": self.h}


@dataclass(frozen=True)
class RNNLayer(LayerParams):
    """One tanh RNN layer: weight_ih (H, I), weight_hh (H, H), biases (H,)."""

    BLOCKS = 1

    def run(self, xs: np.ndarray, h0: np.ndarray) -> RNNLayerTrace:
        """Run over ``xs`` (T, I) from ``h0`` (H,), recording every step."""
        x = np.array(xs, dtype=self.dtype)                               # (T, I), a copy
        T, H = x.shape[0], self.hidden_size
        input_part = x @ self._weight_ih_t + self.bias_ih                # (T, H) all steps at once
        states = np.empty((T + 1, H), self.dtype)                        # h0, h1, ..., hT
        states[0] = h0
        hidden_part, pre = np.empty((T, H), self.dtype), np.empty((T, H), self.dtype)
        for h, h_new, gi, gh, a in zip(states, states[1:], input_part, hidden_part, pre):
            np.dot(h, self._weight_hh_t, out=gh)                         # W_hh h_{t-1}
            np.add(gh, self.bias_hh, out=gh)                             # … + b_hh
            np.add(gi, gh, out=a)                                        # a = W_ih x + b_ih + W_hh h + b_hh
            np.tanh(a, out=h_new)                                        # h_t = tanh(a)
        return RNNLayerTrace(**frozen(x=x, h_prev=states[:-1], input_part=input_part, hidden_part=hidden_part,
                                      pre=pre, h=states[1:]))


class RNN(Stack):
    """Stacked unidirectional tanh RNN, equal to torch.nn.RNN(nonlinearity="tanh")."""

    LAYER, BLOCKS, TORCH = RNNLayer, 1, "RNN"
    convention = None

    @classmethod
    def from_torch(cls, module: torch.nn.RNN) -> RNN:
        layers = cls._torch_layers(module)   # checks the module's kind first
        if module.nonlinearity != "tanh":
            raise ValueError(f"only the tanh RNN is supported, this one uses {module.nonlinearity}")
        return cls.from_arrays(layers)

    def run(self, xs: np.ndarray, h0: np.ndarray | None = None) -> Trace:
        """Run ``xs`` (T, I) from ``h0`` (num_layers, H) or zeros; every step of every layer recorded."""
        xs, h0 = self._check_inputs(xs), self._check_state(h0)
        traces, layer_input = [], xs
        for k, layer in enumerate(self.layers):
            traces.append(layer.run(layer_input, h0[k]))
            layer_input = traces[-1].h
        return Trace(layers=tuple(traces))
