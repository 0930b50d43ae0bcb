"""What the step view draws for a recorded layer: named arrays and their labels, nothing computed.

The step view (app/step_view.py) and the figures (app/figures.py) know nothing about GRUs: they
draw a :class:`CellView`. Each kind of recorded cell has one function here that selects its
recorded arrays (T, H) and attaches the labels of its convention. A new cell adds one function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gru_core import Convention, LayerTrace
from gru_core.cells.lstm import LSTMLayerTrace
from gru_core.cells.rnn import RNNLayerTrace

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
    return CellView(inputs=lt.x, panels=panels, blend=blend, equations=equations.gru(lt, convention),
                    start_note=_start_note(lt))


def layers_view(trace, convention: Convention) -> CellView:
    """A stacked GRU seen at once: every layer's new state h, one heatmap per layer (layer 0 first);
    the equations are the top layer's."""
    panels = tuple(Panel(f"h_layer{k}", lt.h, STATE, f"h · layer {k}'s new state, from −1 to 1",
                         f"layer {k} · h", "h") for k, lt in enumerate(trace.layers))
    return CellView(inputs=trace.layers[0].x, panels=panels, blend=None,
                    equations=equations.gru(trace.last, convention), start_note=_start_note(trace.last))


def _start_note(lt) -> str:
    """What the state(s) are at step 0 (h_{t-1}, and c_{t-1} for an LSTM), read from the trace."""
    if hasattr(lt, "c_prev"):
        zero = not lt.h_prev[0].any() and not lt.c_prev[0].any()
        start = "which are all zeros" if zero else "the ones this run was given"
        return f"At step 0 there is no earlier step: h_{{t-1}} and c_{{t-1}} are the initial states, {start}."
    start = "which is all zeros" if not lt.h_prev[0].any() else "the one this run was given"
    return f"At step 0 there is no earlier step: h_{{t-1}} is the initial state, {start}."


def rnn_view(lt: RNNLayerTrace) -> CellView:
    """A plain tanh RNN layer: its state, and the argument of tanh (no gates, nothing to blend)."""
    panels = (Panel("h", lt.h, STATE, "h · new state, from −1 to 1", "h · new state", "h"),)
    return CellView(inputs=lt.x, panels=panels, blend=None, equations=equations.rnn(lt),
                    start_note=_start_note(lt))


def lstm_view(lt: LSTMLayerTrace) -> CellView:
    """An LSTM layer: its gates i, f, o on the gate scale, g, the cell state and h on the state scale."""
    panels = (Panel("f", lt.f, GATE, "f · forget gate — 1 = keep the old cell state, 0 = drop it",
                    "f · forget gate", "f"),
              Panel("i", lt.i, GATE, "i · input gate — 1 = write the candidate in, 0 = write nothing",
                    "i · input gate", "i"),
              Panel("o", lt.o, GATE, "o · output gate — how much of tanh(c) the state shows", "o · output gate", "o"),
              Panel("g", lt.g, STATE, "g · candidate cell value, from −1 to 1", "g · candidate", "g"),
              Panel("c", lt.c, STATE, "c · cell state (not bounded: colours stop at ±1)", "c · cell state", "c"),
              Panel("h", lt.h, STATE, "h · new state, from −1 to 1", "h · new state", "h"))
    return CellView(inputs=lt.x, panels=panels, blend=None, equations=equations.lstm(lt),
                    start_note=_start_note(lt))

