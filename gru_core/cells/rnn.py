"""A plain (Elman) tanh RNN in torch.nn.RNN's layout that records every step — the cell without gates.

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)        weight_ih (H, I), weight_hh (H, H)

The one place the core writes this recurrence. With nothing to keep h_{t-1} but W_hh and tanh's
slope, a gradient sent back through many steps is multiplied by diag(1 − h_t²) W_hh at each one:
the vanishing gradient the gated cells were invented to avoid (gru_core/gradients.py measures it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .base import LayerParams, Stack, frozen, frozen_params
from .trace import Trace

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class RNNLayerTrace:
    x: np.ndarray            # (T, I)  the layer's input at each step
    h_prev: np.ndarray       # (T, H)  h_{t-1}; row 0 is h0
    input_part: np.ndarray   # (T, H)  W_ih x_t + b_ih
    hidden_part: np.ndarray  # (T, H)  W_hh h_{t-1} + b_hh
    pre: np.ndarray          # (T, H)  their sum, the argument of tanh
    h: np.ndarray            # (T, H)  the new state

    @property
    def hidden_size(self) -> int:
        return self.h.shape[1]

    @property
    def steps(self) -> int:
        return self.h.shape[0]

    def csv_columns(self) -> dict[str, np.ndarray]:
        return {"h_prev": self.h_prev, "pre_h": self.pre, "h": self.h}


@dataclass(frozen=True)
class RNNLayer(LayerParams):
    weight_ih: np.ndarray  # (H, I)
    weight_hh: np.ndarray  # (H, H)
    bias_ih: np.ndarray    # (H,)
    bias_hh: np.ndarray    # (H,)
    _weight_ih_t: np.ndarray = field(init=False, repr=False, compare=False)
    _weight_hh_t: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        frozen_params(self, blocks=1)

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
    def from_arrays(cls, layers: list[dict[str, np.ndarray]]) -> RNN:
        return cls(cls._layers_from_arrays(layers))

    @classmethod
    def random(cls, input_size: int, hidden_size: int, num_layers: int = 1, *, seed: int = 0,
               scale: float | None = None, dtype: type = np.float64) -> RNN:
        return cls(cls._random_layers(input_size, hidden_size, num_layers, seed, scale, dtype))

    @classmethod
    def from_torch(cls, module: torch.nn.RNN) -> RNN:
        layers = cls._torch_layers(module)   # checks the module's kind first
        if module.nonlinearity != "tanh":
            raise ValueError(f"only the tanh RNN is supported, this one uses {module.nonlinearity}")
        return cls.from_arrays(layers)

    def to_torch(self, batch_first: bool = False) -> torch.nn.RNN:
        return self._torch_module(batch_first, nonlinearity="tanh")

    def run(self, xs: np.ndarray, h0: np.ndarray | None = None) -> Trace:
        """Run ``xs`` (T, I) from ``h0`` (num_layers, H) or zeros; every step of every layer recorded."""
        xs, h0 = self._check_inputs(xs), self._check_state(h0)
        traces, layer_input = [], xs
        for k, layer in enumerate(self.layers):
            traces.append(layer.run(layer_input, h0[k]))
            layer_input = traces[-1].h
        return Trace(layers=tuple(traces))
