"""What one forward pass recorded: every intermediate of every step, once.

Views read these arrays; they never recompute a gate. Shapes: T steps, I inputs, H hidden units,
gate blocks in torch.nn.GRU's order (r, z, n).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from .conventions import Convention


@dataclass(frozen=True)
class LayerTrace:
    x: np.ndarray            # (T, I)  the layer's input at each step
    h_prev: np.ndarray       # (T, H)  h_{t-1}; row 0 is h0
    input_part: np.ndarray   # (T, 3H) W_ih x_t + b_ih                       blocks r, z, n
    hidden_part: np.ndarray  # (T, 3H) recurrent matrix output + b_hh         blocks r, z, n
    #   r and z blocks: W_h· h_{t-1} + b_h·; n block: W_hn h_{t-1} + b_hn (reset after the matmul)
    #   or W_hn (r_t ⊙ h_{t-1}) + b_hn (reset before it) — see Trace.convention.
    pre: np.ndarray          # (T, 3H) pre-activations of r, z and h̃
    gates: np.ndarray        # (T, 2H) r_t then z_t
    h_tilde: np.ndarray      # (T, H)  candidate state
    h: np.ndarray            # (T, H)  new state h_t

    @property
    def hidden_size(self) -> int:
        return self.h.shape[1]

    @property
    def steps(self) -> int:
        return self.h.shape[0]

    @property
    def r(self) -> np.ndarray:  # (T, H)
        return self.gates[:, : self.hidden_size]

    @property
    def z(self) -> np.ndarray:  # (T, H)
        return self.gates[:, self.hidden_size :]

    def block(self, name: str, which: str) -> np.ndarray:
        """One gate block (T, H) of ``input_part``/``hidden_part``/``pre``: name in 'r', 'z', 'n'."""
        k = "rzn".index(name)
        H = self.hidden_size
        return getattr(self, which)[:, k * H : (k + 1) * H]


@dataclass(frozen=True)
class Trace:
    """The record of ``GRU.run``: one :class:`LayerTrace` per layer, the last one surfaced."""

    layers: tuple[LayerTrace, ...]
    convention: Convention

    @property
    def last(self) -> LayerTrace:
        return self.layers[-1]

    @property
    def z(self) -> np.ndarray:  # (T, H) update gate, last layer
        return self.last.z

    @property
    def r(self) -> np.ndarray:  # (T, H) reset gate, last layer
        return self.last.r

    @property
    def h_tilde(self) -> np.ndarray:  # (T, H) candidate, last layer
        return self.last.h_tilde

    @property
    def h(self) -> np.ndarray:  # (T, H) new state, last layer
        return self.last.h

    @property
    def steps(self) -> int:
        return self.last.steps

    def to_csv(self) -> str:
        """Long-format CSV, one row per (layer, step, unit): the recorded values, nothing derived."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["convention", "layer", "t", "unit", "z", "r", "h_tilde", "h", "h_prev",
                         "pre_z", "pre_r", "pre_h_tilde"])
        for k, lt in enumerate(self.layers):
            T, H = lt.h.shape
            cols = [lt.z, lt.r, lt.h_tilde, lt.h, lt.h_prev,
                    lt.block("z", "pre"), lt.block("r", "pre"), lt.block("n", "pre")]
            stacked = np.stack([c.reshape(-1) for c in cols], axis=1)  # (T*H, 8)
            t_idx = np.repeat(np.arange(T), H)
            u_idx = np.tile(np.arange(H), T)
            for i in range(T * H):
                writer.writerow([self.convention.name, k, int(t_idx[i]), int(u_idx[i]),
                                 *(repr(float(v)) for v in stacked[i])])
        return buf.getvalue()
