"""A recurrent cell with a linear readout: the one model every task trains and the app shows.

    outputs = W h + b        W (O, H), b (O,)
        per step:      h = h_t of the last layer at every step  -> (T, O)
        per sequence:  h = h_T, the last layer's last state      -> (O,)

The checkpoint is a small torch file that carries what rebuilds the model (nanoGPT's layout):
``{"state_dict", "config", "metrics"}``; ``state_dict`` holds ``cell.<torch name>`` (the cell's own
torch module names, e.g. ``cell.weight_ih_l0``) and ``readout.weight`` (O, H), ``readout.bias`` (O,);
``config`` the cell kind, convention, sizes, readout kind and task (plus how it was trained);
``metrics`` what training and evaluation measured. It is read with ``torch.load(weights_only=True)``,
so loading a file never runs code from it.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .cells import GRU, LSTM, RNN
from .cells.base import PARAM_NAMES
from .cells.trace import Trace

# The cells a checkpoint can name: kind -> (class, parameter names per layer, in torch's layout).
CELLS: dict[str, tuple[type, tuple[str, ...]]] = {"gru": (GRU, PARAM_NAMES), "rnn": (RNN, PARAM_NAMES),
                                                  "lstm": (LSTM, PARAM_NAMES)}


def build_cell(kind: str, layers: list[dict[str, np.ndarray]], convention: str | None = None):
    """A cell of ``kind`` from per-layer arrays; only the GRU takes a convention."""
    cls, _ = CELLS[kind]
    return cls.from_arrays(layers, convention or "pytorch") if cls is GRU else cls.from_arrays(layers)


def cell_kind(cell: Any) -> str:
    """The checkpoint name of a cell's kind ("gru")."""
    for kind, (cls, _) in CELLS.items():
        if isinstance(cell, cls):
            return kind
    raise ValueError(f"unknown cell type {type(cell).__name__}: expected one of {', '.join(CELLS)}")


@dataclass(frozen=True, eq=False)  # arrays: compare by identity, hash by identity
class Readout:
    """A linear readout from the last layer's state: logits = h @ weight.T + bias."""

    weight: np.ndarray  # (O, H)
    bias: np.ndarray    # (O,)
    per_step: bool = True  # True: one output per step; False: one per sequence, from the last state

    def __post_init__(self) -> None:
        w = np.array(self.weight, dtype=np.result_type(self.weight, np.float32))   # a copy, never a view
        b = np.array(self.bias, dtype=w.dtype).reshape(-1)
        if w.ndim != 2 or 0 in w.shape:
            raise ValueError(f"readout weight must have shape (O, H), got {w.shape}")
        if b.shape != (w.shape[0],):
            raise ValueError(f"readout bias must have shape ({w.shape[0]},), got {b.shape}")
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise ValueError("the readout contains NaN or inf")
        for name, a in (("weight", w), ("bias", b)):
            a.flags.writeable = False  # shared between sessions by the app's caches
            object.__setattr__(self, name, a)
        object.__setattr__(self, "per_step", bool(self.per_step))

    @property
    def output_size(self) -> int:
        return self.weight.shape[0]

    @property
    def hidden_size(self) -> int:
        return self.weight.shape[1]

    def logits(self, h: np.ndarray) -> np.ndarray:
        """The readout formula, the only place it is written: h (..., H) -> (..., O)."""
        return h @ self.weight.T + self.bias

    def outputs(self, trace: Trace, *, last_step: bool = False) -> np.ndarray:
        """What this readout outputs on a recorded pass, from the last layer's states ``trace.h`` (T, H).

        per step:      (T, O), the output at every step, from every h_t
        per sequence:  (O,), the one output, from the last state h_T
        ``last_step=True``: (O,) for either kind, the output after the last step (a per-step
        readout's last row, computed from h_T alone), the one value a page shows for a sequence.
        """
        h = trace.h                                               # (T, H) last layer
        return self.logits(h if self.per_step and not last_step else h[-1])


@dataclass(frozen=True, eq=False)
class RecurrentModel:
    """A recurrent cell (stacked, any number of layers) and a linear readout, trained on ``task``.

    ``config`` always carries the architecture (cell, convention, input/hidden/output sizes,
    num_layers, readout, task), derived here from the cell and readout so it can never disagree with
    them; anything else in it (the task's settings, the training settings) is kept as given.
    ``config`` and ``metrics`` are copies owned by the model: read them, do not change them.
    """

    cell: GRU
    readout: Readout
    task: str
    config: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.readout.hidden_size != self.cell.hidden_size:
            raise ValueError(f"the readout reads {self.readout.hidden_size} units, the cell has "
                             f"{self.cell.hidden_size}")
        object.__setattr__(self, "config", {**copy.deepcopy(dict(self.config)), **self.architecture()})
        object.__setattr__(self, "metrics", copy.deepcopy(dict(self.metrics)))

    def architecture(self) -> dict[str, Any]:
        """What rebuilds the model from a state_dict: cell kind, convention, sizes, readout, task."""
        convention = self.cell.convention
        return {"cell": cell_kind(self.cell), "convention": convention.name if convention else None,
                "input_size": self.cell.input_size, "hidden_size": self.cell.hidden_size,
                "num_layers": self.cell.num_layers, "output_size": self.readout.output_size,
                "readout": "per_step" if self.readout.per_step else "per_sequence", "task": self.task}

    @property
    def gru(self) -> GRU:
        """The cell, when it is a GRU (kept for code written before other cells existed)."""
        if not isinstance(self.cell, GRU):
            raise AttributeError(f"this model's cell is a {type(self.cell).__name__}, not a GRU: use .cell")
        return self.cell

    # -- variants ---------------------------------------------------------------------------------
    def with_cell(self, cell: GRU) -> RecurrentModel:
        """The same readout on another cell (a tweak, a relabelling); config and metrics are copied."""
        return dataclasses.replace(self, cell=cell)

    def with_metrics(self, **metrics: Any) -> RecurrentModel:
        """The same model with more metrics recorded (e.g. an evaluation after training)."""
        return dataclasses.replace(self, metrics={**self.metrics, **metrics})

    # -- the forward pass -------------------------------------------------------------------------
    def run(self, xs: np.ndarray) -> Trace:
        """The cell's full record of ``xs`` (T, I) from a zero state (see :meth:`GRU.run`)."""
        return self.cell.run(xs)

    def logits(self, trace: Trace) -> np.ndarray:
        """Readout of a recorded pass: (T, O) per step, or (O,) per sequence from the last step
        (:meth:`Readout.outputs`)."""
        return self.readout.outputs(trace)

    def logits_batch(self, xs: np.ndarray) -> np.ndarray:
        """Readout for a batch ``xs`` (B, T, I): (B, T, O) per step, (B, O) per sequence.

        The same recurrence as :meth:`run` (:meth:`GRU.forward_batch`), without keeping the traces.
        """
        h = self.cell.forward_batch(xs)                           # (B, T, H)
        return self.readout.logits(h if self.readout.per_step else h[:, -1])

    # -- persistence ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """torch tensors: ``cell.<name>_l<k>`` in the cell's torch layout, ``readout.weight`` (O, H),
        ``readout.bias`` (O,)."""
        import torch

        _, names = CELLS[cell_kind(self.cell)]
        sd = {f"cell.{n}_l{k}": torch.from_numpy(np.array(getattr(layer, n)))
              for k, layer in enumerate(self.cell.layers) for n in names}
        sd["readout.weight"] = torch.from_numpy(self.readout.weight.copy())
        sd["readout.bias"] = torch.from_numpy(self.readout.bias.copy())
        return sd

    def save(self, path: str | Path) -> None:
        import torch

        torch.save({"state_dict": self.state_dict(), "config": dict(self.config),
                    "metrics": dict(self.metrics)}, path)

    @classmethod
    def load(cls, path: str | Path, dtype: type = np.float64) -> RecurrentModel:
        """Rebuild a model from a file written by :meth:`save`, from the file alone.

        Read with ``torch.load(weights_only=True)``: a file that would run code is refused.
        """
        import torch

        blob = torch.load(path, map_location="cpu", weights_only=True)
        try:
            sd, config = blob["state_dict"], dict(blob["config"])
            _, names = CELLS[config["cell"]]
            layers = [{n: sd[f"cell.{n}_l{k}"].double().numpy().astype(dtype) for n in names}
                      for k in range(int(config["num_layers"]))]
            cell = build_cell(config["cell"], layers, config["convention"])
            readout = Readout(sd["readout.weight"].double().numpy().astype(dtype),
                              sd["readout.bias"].double().numpy().astype(dtype),
                              per_step=config["readout"] == "per_step")
        except (KeyError, TypeError) as err:
            raise ValueError(f"{path} is not a model checkpoint written by RecurrentModel.save: "
                             f"missing {err}") from None
        return cls(cell=cell, readout=readout, task=config["task"], config=config,
                   metrics=dict(blob.get("metrics", {})))

    def __repr__(self) -> str:
        kind = "per step" if self.readout.per_step else "per sequence"
        return f"RecurrentModel({self.cell!r} → Linear({self.readout.hidden_size} → " \
               f"{self.readout.output_size}, {kind}), task={self.task!r})"
