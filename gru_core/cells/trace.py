"""What one forward pass recorded: every intermediate of every step, once.

:class:`Trace` is any cell's record (one layer record per layer); :class:`LayerTrace` is the GRU's
layer record. Views read these arrays; they never recompute a gate. Shapes: T steps, I inputs,
H hidden units, gate blocks in torch.nn.GRU's order (r, z, n).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from ..conventions import Convention


class RecordedLayer:
    """What every layer record has: ``h`` (T, H), and so its number of steps and units."""

    h: np.ndarray

    @property
    def hidden_size(self) -> int:
        return self.h.shape[1]

    @property
    def steps(self) -> int:
        return self.h.shape[0]


@dataclass(frozen=True)
class LayerTrace(RecordedLayer):
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
    def r(self) -> np.ndarray:  # (T, H)
        return self.gates[:, : self.hidden_size]

    @property
    def z(self) -> np.ndarray:  # (T, H)
        return self.gates[:, self.hidden_size :]

    def csv_columns(self) -> dict[str, np.ndarray]:
        """The (T, H) arrays of this layer's CSV export, by column name (see Trace.to_csv)."""
        return {"h_prev": self.h_prev, "pre_r": self.block("r", "pre"), "r": self.r,
                "pre_z": self.block("z", "pre"), "z": self.z, "pre_h_tilde": self.block("n", "pre"),
                "h_tilde": self.h_tilde, "h": self.h}

    def block(self, name: str, which: str) -> np.ndarray:
        """One gate block (T, H) of ``input_part``/``hidden_part``/``pre``: name in 'r', 'z', 'n'."""
        k = "rzn".index(name)
        H = self.hidden_size
        return getattr(self, which)[:, k * H : (k + 1) * H]


@dataclass(frozen=True)
class Trace:
    """The record of one forward pass of a stacked cell: one layer record per layer.

    ``trace.z``, ``trace.h`` … read the last layer's record (``trace.layers[k]`` any layer's); the
    layer records say which names a cell records (for the GRU, :class:`LayerTrace`).
    ``convention`` is the GRU convention the pass used (None for cells that have no conventions).
    """

    layers: tuple
    convention: Convention | None = None

    @property
    def last(self):
        return self.layers[-1]

    @property
    def steps(self) -> int:
        return self.last.steps

    def __getattr__(self, name: str):
        # only for names the dataclass does not define: a cell's recorded arrays, last layer
        if name.startswith("_") or name in ("layers", "convention"):
            raise AttributeError(name)
        return getattr(self.last, name)

    def to_csv(self) -> str:
        """Long-format CSV, one row per (layer, step, unit), recorded values only.

        Columns: layer, t, unit, x_t (the layer's first input feature), then every array the cell
        names in ``csv_columns()``, in that order."""
        buf = io.StringIO()
        if self.convention is not None:
            buf.write(f"# convention={self.convention.name}\n")
        names = list(self.last.csv_columns())
        buf.write(",".join(["layer", "t", "unit", "x_t", *names]) + "\n")
        for k, lt in enumerate(self.layers):
            T, H = lt.h.shape
            cols = [np.full((T, H), k), np.repeat(np.arange(T)[:, None], H, 1),
                    np.repeat(np.arange(H)[None, :], T, 0), np.repeat(lt.x[:, :1], H, 1),
                    *lt.csv_columns().values()]
            table = np.stack([np.asarray(c, dtype=np.float64).reshape(-1) for c in cols], axis=1)
            np.savetxt(buf, table, delimiter=",", fmt=["%d"] * 3 + ["%.17g"] * (len(cols) - 3))
        return buf.getvalue()
