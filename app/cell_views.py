"""What the step view draws for a recorded layer: named arrays and their labels, nothing computed.

The step view (app/step_view.py) and the figures (app/figures.py) know nothing about GRUs: they
draw a :class:`CellView`. Each kind of recorded cell has one function here that selects its
recorded arrays (T, H) and attaches the labels of its convention. A new cell adds one function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gru_core import Convention, LayerTrace

from . import equations, labels

GATE, STATE = "gate", "state"   # the two colour scales (app/theme.py): [0, 1] and [−1, 1]


@dataclass(frozen=True)
class Panel:
    """One heatmap: a recorded (T, H) array, its colour scale and its title (label markup)."""

    key: str
    values: np.ndarray   # (T, H)
    scale: str           # GATE or STATE
    title: str           # says what the ends of the colour scale mean
    short: str           # legend / hover name
    symbol: str          # the symbol in hovers, e.g. "z"


@dataclass(frozen=True)
class Blend:
    """The new state as a point between two recorded ones, for every unit (GRU: h_{t-1} → h̃_t)."""

    old: np.ndarray        # (T, H) h_{t-1}
    candidate: np.ndarray  # (T, H) h̃_t
    new: np.ndarray        # (T, H) h_t
    gate: np.ndarray       # (T, H) the gate that places h_t, shown in hovers
    gate_symbol: str
    sentence: str          # where h_t sits, true in the convention shown


@dataclass(frozen=True)
class CellView:
    inputs: np.ndarray                 # (T, I) the layer's input
    panels: tuple[Panel, ...]
    blend: Blend | None
    equations: equations.Equations     # one unit's equations, with slots for the recorded numbers
    start_note: str                    # what h_{t-1} is at step 0

    @property
    def steps(self) -> int:
        return self.panels[0].values.shape[0]

    @property
    def hidden_size(self) -> int:
        return self.panels[0].values.shape[1]


def gru_view(lt: LayerTrace, convention: Convention) -> CellView:
    """A GRU layer: z, r, h̃ and h, the blend of h_{t-1} and h̃_t, and the four equations."""
    panels = tuple(Panel(key, getattr(lt, key), GATE if key in ("z", "r") else STATE,
                         labels.gate_title(key, convention), labels.short_title(key), labels.SYMBOLS[key])
                   for key in ("z", "r", "h_tilde", "h"))
    blend = Blend(old=lt.h_prev, candidate=lt.h_tilde, new=lt.h, gate=lt.z, gate_symbol="z",
                  sentence=labels.blend_sentence(convention))
    start = "which is all zeros" if not lt.h_prev[0].any() else "the one this run was given"
    return CellView(inputs=lt.x, panels=panels, blend=blend, equations=equations.gru(lt, convention),
                    start_note=f"At step 0 there is no earlier step: h_{{t-1}} is the initial state, {start}.")
