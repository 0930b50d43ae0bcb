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
    lines = [Equation("input", "", f"{_s('x', '{t}')} = ({{x:vec}})"),
             _gate("r", "reset gate"), _gate("z", "update gate")]
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
