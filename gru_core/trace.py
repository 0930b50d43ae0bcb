"""What one forward pass recorded: every intermediate of every step, once.

Views read these arrays; they never recompute a gate. Shapes: T steps, I inputs, H hidden units,
gate blocks in torch.nn.GRU's order (r, z, n).
"""

from __future__ import annotations

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

    CSV_COLUMNS = ("layer", "t", "unit", "x_t", "h_prev", "pre_r", "r", "pre_z", "z",
                   "pre_h_tilde", "h_tilde", "h")

    def to_csv(self) -> str:
        """Long-format CSV, one row per (layer, step, unit), recorded values only.

        ``x_t`` is the first input feature (the full inputs are the layer-0 rows' own CSV)."""
        buf = io.StringIO()
        buf.write(f"# convention={self.convention.name}\n")
        buf.write(",".join(self.CSV_COLUMNS) + "\n")
        for k, lt in enumerate(self.layers):
            T, H = lt.h.shape
            cols = [np.full((T, H), k), np.repeat(np.arange(T)[:, None], H, 1),
                    np.repeat(np.arange(H)[None, :], T, 0), np.repeat(lt.x[:, :1], H, 1),
                    lt.h_prev, lt.block("r", "pre"), lt.r, lt.block("z", "pre"), lt.z,
                    lt.block("n", "pre"), lt.h_tilde, lt.h]
            table = np.stack([np.asarray(c, dtype=np.float64).reshape(-1) for c in cols], axis=1)
            np.savetxt(buf, table, delimiter=",", fmt=["%d"] * 3 + ["%.17g"] * 9)
        return buf.getvalue()
