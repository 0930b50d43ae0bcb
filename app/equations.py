"""The GRU equations for one unit at one step, as LaTeX with the recorded numbers substituted.

Pure functions of a LayerTrace: every number shown is read from the trace, none is recomputed.
The symbolic forms match gru_core.cells.gru_equations for each convention.
"""

from __future__ import annotations

from dataclasses import dataclass

from gru_core import Convention, LayerTrace

from . import labels

DIGITS = 4


def num(v: float, *, paren: bool = False) -> str:
    """A recorded value to DIGITS decimals; negative ones in parentheses where they follow an operator."""
    s = f"{float(v):.{DIGITS}f}"
    if s.startswith("-"):
        s = "-" + s[1:]
        return f"({s})" if paren else s
    return s


@dataclass(frozen=True)
class Equation:
    caption: str    # plain text (KaTeX \text{} takes no combining accents: write "candidate", not h̃)
    symbolic: str   # LaTeX, the general form
    numeric: str    # LaTeX, this unit at this step


def as_block(lt: LayerTrace, t: int, j: int, convention: Convention) -> str:
    """Input and all four equations in one LaTeX block (one KaTeX render on the page, not five)."""
    lines = [input_vector(lt, t).replace(" = ", " &= ", 1)]
    for eq in step_equations(lt, t, j, convention):
        lines += [rf"&\text{{\small {eq.caption}}}", eq.symbolic, eq.numeric]
    return r"\begin{aligned} " + r" \\ ".join(lines) + r" \end{aligned}"


def input_vector(lt: LayerTrace, t: int, max_shown: int = 6) -> str:
    x = lt.x[t]
    shown = ", ".join(num(v).rstrip("0").rstrip(".") if float(v).is_integer() else num(v)
                      for v in x[:max_shown])
    more = r", \ldots" if x.shape[0] > max_shown else ""
    return rf"x_{{{t}}} = ({shown}{more})"


def step_equations(lt: LayerTrace, t: int, j: int, convention: Convention) -> list[Equation]:
    """Reset gate, update gate, candidate and new state of unit ``j`` at step ``t``, in order."""
    H = lt.hidden_size
    if not (0 <= t < lt.steps and 0 <= j < H):
        raise ValueError(f"step {t} / unit {j} outside the trace ({lt.steps} steps, {H} units)")
    def ip(g: str) -> float:   # W_i· x_t + b_i·
        return lt.block(g, "input_part")[t, j]

    def hp(g: str) -> float:   # the recurrent term
        return lt.block(g, "hidden_part")[t, j]

    def pre(g: str) -> float:  # the pre-activation
        return lt.block(g, "pre")[t, j]

    r, z, n, h, hp_ = lt.r[t, j], lt.z[t, j], lt.h_tilde[t, j], lt.h[t, j], lt.h_prev[t, j]
    sub = rf"_{{{t},{j}}}"
    eqs = []
    for g, name, word in (("r", "r", "reset gate"), ("z", "z", "update gate")):
        eqs.append(Equation(
            caption=word,
            symbolic=(rf"{name}_t &= \sigma\left(W_{{i{name}}} x_t + b_{{i{name}}} "
                      rf"+ W_{{h{name}}} h_{{t-1}} + b_{{h{name}}}\right)"),
            numeric=rf"{name}{sub} &= \sigma\left({num(ip(g))} + {num(hp(g), paren=True)}\right) "
                    rf"= \sigma\left({num(pre(g))}\right) = {num(r if g == 'r' else z)}"))
    if convention.reset_after_matmul:
        eqs.append(Equation(
            caption=labels.candidate_caption(convention),
            symbolic=r"\tilde h_t &= \tanh\left(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\right)",
            numeric=rf"\tilde h{sub} &= \tanh\left({num(ip('n'))} + {num(r)} \cdot {num(hp('n'), paren=True)}\right) "
                    rf"= \tanh\left({num(pre('n'))}\right) = {num(n)}"))
    else:
        eqs.append(Equation(
            caption=labels.candidate_caption(convention),
            symbolic=r"\tilde h_t &= \tanh\left(W_{in} x_t + b_{in} + W_{hn} (r_t \odot h_{t-1}) + b_{hn}\right)",
            numeric=rf"\tilde h{sub} &= \tanh\left({num(ip('n'))} + {num(hp('n'), paren=True)}\right) "
                    rf"= \tanh\left({num(pre('n'))}\right) = {num(n)}"))
    if convention.z_keeps_old:
        eqs.append(Equation(
            caption=labels.blend_caption(convention),
            symbolic=r"h_t &= (1 - z_t) \odot \tilde h_t + z_t \odot h_{t-1}",
            numeric=(rf"h{sub} &= (1 - {num(z)}) \cdot {num(n, paren=True)} "
                     rf"+ {num(z)} \cdot {num(hp_, paren=True)} = {num(h)}")))
    else:
        eqs.append(Equation(
            caption=labels.blend_caption(convention),
            symbolic=r"h_t &= (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t",
            numeric=(rf"h{sub} &= (1 - {num(z)}) \cdot {num(hp_, paren=True)} "
                     rf"+ {num(z)} \cdot {num(n, paren=True)} = {num(h)}")))
    return eqs
