"""The equations of a recorded cell, written out for one unit at one step with the recorded numbers.

Each equation is a symbolic form and a numeric line with *slots*: ``{name}`` names a recorded
(T, H) array (or ``t`` / ``unit``), and the browser step view fills it with the chosen unit's value
at the step shown (app/frontend/step_view.js). No number is computed here or there: every slot is a
recorded value. Formats after a colon: ``{name:p}`` puts a negative value in parentheses (it follows
an operator), ``{x:vec}`` writes the step's whole input vector (app/step_payload.py lists them).

The symbolic forms match gru_core.cells.gru_equations for each convention; markup is the small HTML
subset plotly also uses (``<sub>``, ``<i>``), so it reads the same in figures and in the step view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from gru_core import Convention, LayerTrace
from gru_core.cells.lstm import LSTMLayerTrace
from gru_core.cells.rnn import RNNLayerTrace

from . import labels

DIGITS = 4   # decimals of every number in an equation
_SLOT = re.compile(r"\{([a-z_]+(?::[a-z]+)?)\}")   # {name} or {name:format}


@dataclass(frozen=True)
class Equation:
    caption: str    # plain words: what the line computes
    symbolic: str   # the general form (markup)
    numeric: str    # the same form with slots for this unit's recorded numbers at this step


@dataclass(frozen=True)
class Equations:
    """A cell's equations for the step view: the lines, and the recorded arrays their slots name."""

    title: str                       # what the block is, for the heading above it
    lines: tuple[Equation, ...]
    arrays: dict[str, np.ndarray] = field(repr=False)   # name -> (T, H); "x" -> (T, I)

    def slots(self, line: Equation) -> list[str]:
        """The slot names of a numeric line, in order (tests use it to read the line back)."""
        return [s.split(":")[0] for s in _SLOT.findall(line.numeric)]


def _s(base: str, sub: str) -> str:
    return f"<i>{base}</i><sub>{sub}</sub>"


H_TILDE = "<i>h̃</i>"
ODOT = " ⊙ "
SLOT_TU = "{t},{unit}"   # the subscript of a numeric line: this step, this unit


def _gate(name: str, word: str) -> Equation:
    return Equation(
        caption=word,
        symbolic=(f"{_s(name, 't')} = σ({_s('W', 'i' + name)} {_s('x', 't')} + {_s('b', 'i' + name)} + "
                  f"{_s('W', 'h' + name)} {_s('h', 't−1')} + {_s('b', 'h' + name)})"),
        numeric=f"{_s(name, SLOT_TU)} = σ({{ip_{name}}} + {{hp_{name}:p}}) = σ({{pre_{name}}}) = {{{name}}}")


def gru(lt: LayerTrace, convention: Convention) -> Equations:
    """Input, reset gate, update gate, candidate and new state of a GRU layer, in ``convention``'s form."""
    h_prev, h_t = _s("h", "t−1"), _s("h", "t")
    lines = [_input_line(), _gate("r", "reset gate"), _gate("z", "update gate")]
    if convention.reset_after_matmul:
        lines.append(Equation(
            labels.candidate_caption(convention),
            f"{H_TILDE}<sub>t</sub> = tanh({_s('W', 'in')} {_s('x', 't')} + {_s('b', 'in')} + "
            f"{_s('r', 't')}{ODOT}({_s('W', 'hn')} {h_prev} + {_s('b', 'hn')}))",
            f"{H_TILDE}<sub>{SLOT_TU}</sub> = tanh({{ip_n}} + {{r}} · {{hp_n:p}}) = tanh({{pre_n}}) = {{h_tilde}}"))
    else:
        lines.append(Equation(
            labels.candidate_caption(convention),
            f"{H_TILDE}<sub>t</sub> = tanh({_s('W', 'in')} {_s('x', 't')} + {_s('b', 'in')} + "
            f"{_s('W', 'hn')} ({_s('r', 't')}{ODOT}{h_prev}) + {_s('b', 'hn')})",
            f"{H_TILDE}<sub>{SLOT_TU}</sub> = tanh({{ip_n}} + {{hp_n:p}}) = tanh({{pre_n}}) = {{h_tilde}}"))
    if convention.z_keeps_old:
        symbolic = f"{h_t} = (1 − {_s('z', 't')}){ODOT}{H_TILDE}<sub>t</sub> + {_s('z', 't')}{ODOT}{h_prev}"
        numeric = f"{_s('h', SLOT_TU)} = (1 − {{z}}) · {{h_tilde:p}} + {{z}} · {{h_prev:p}} = {{h}}"
    else:
        symbolic = f"{h_t} = (1 − {_s('z', 't')}){ODOT}{h_prev} + {_s('z', 't')}{ODOT}{H_TILDE}<sub>t</sub>"
        numeric = f"{_s('h', SLOT_TU)} = (1 − {{z}}) · {{h_prev:p}} + {{z}} · {{h_tilde:p}} = {{h}}"
    lines.append(Equation(labels.blend_caption(convention), symbolic, numeric))
    arrays = {"x": lt.x, "h_prev": lt.h_prev, "r": lt.r, "z": lt.z, "h_tilde": lt.h_tilde, "h": lt.h}
    for g in "rzn":
        for part, name in (("input_part", "ip"), ("hidden_part", "hp"), ("pre", "pre")):
            arrays[f"{name}_{g}"] = lt.block(g, part)
    return Equations(title=f"the GRU equations in the {convention.name} convention", lines=tuple(lines),
                     arrays=arrays)


def _input_line() -> Equation:
    return Equation("input", "", f"{_s('x', '{t}')} = ({{x:vec}})")


def rnn(lt: RNNLayerTrace) -> Equations:
    """The plain tanh RNN (torch.nn.RNN): one line, the new state from the input and the old state."""
    new = Equation(
        "new state (no gate: the old state always goes through the matrix and tanh)",
        f"{_s('h', 't')} = tanh({_s('W', 'ih')} {_s('x', 't')} + {_s('b', 'ih')} + "
        f"{_s('W', 'hh')} {_s('h', 't−1')} + {_s('b', 'hh')})",
        f"{_s('h', SLOT_TU)} = tanh({{ip}} + {{hp:p}}) = tanh({{pre}}) = {{h}}")
    return Equations(title="the plain RNN's equation", lines=(_input_line(), new),
                     arrays={"x": lt.x, "h_prev": lt.h_prev, "ip": lt.input_part, "hp": lt.hidden_part,
                             "pre": lt.pre, "h": lt.h})


_LSTM_GATES = (("i", "input gate", "σ"), ("f", "forget gate", "σ"), ("g", "candidate cell value", "tanh"),
               ("o", "output gate", "σ"))


def lstm(lt: LSTMLayerTrace) -> Equations:
    """The LSTM (torch.nn.LSTM): four gates, the cell state and the new state."""
    lines = [_input_line()]
    arrays = {"x": lt.x, "h_prev": lt.h_prev, "c_prev": lt.c_prev, "c": lt.c, "h": lt.h}
    H = lt.hidden_size
    for k, (g, word, act) in enumerate(_LSTM_GATES):
        lines.append(Equation(
            word,
            f"{_s(g, 't')} = {act}({_s('W', 'i' + g)} {_s('x', 't')} + {_s('b', 'i' + g)} + "
            f"{_s('W', 'h' + g)} {_s('h', 't−1')} + {_s('b', 'h' + g)})",
            f"{_s(g, SLOT_TU)} = {act}({{ip_{g}}} + {{hp_{g}:p}}) = {act}({{pre_{g}}}) = {{{g}}}"))
        block = slice(k * H, (k + 1) * H)
        arrays.update({f"ip_{g}": lt.input_part[:, block], f"hp_{g}": lt.hidden_part[:, block],
                       f"pre_{g}": lt.pre[:, block], g: lt.gates[:, block]})
    lines.append(Equation(
        "cell state (the forget gate weighs the old cell, the input gate the candidate)",
        f"{_s('c', 't')} = {_s('f', 't')}{ODOT}{_s('c', 't−1')} + {_s('i', 't')}{ODOT}{_s('g', 't')}",
        f"{_s('c', SLOT_TU)} = {{f}} · {{c_prev:p}} + {{i}} · {{g:p}} = {{c}}"))
    lines.append(Equation(
        "new state", f"{_s('h', 't')} = {_s('o', 't')}{ODOT}tanh({_s('c', 't')})",
        f"{_s('h', SLOT_TU)} = {{o}} · tanh({{c:p}}) = {{h}}"))
    return Equations(title="the LSTM equations", lines=tuple(lines), arrays=arrays)

