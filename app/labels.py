"""Every label that depends on the convention, in one place (see gru_core.conventions).

Labels are written once with a tiny markup — ``h_{t-1}``, ``h̃_t`` — and rendered for each medium:
:func:`plotly` (HTML subscripts in figure titles) and :func:`md` (inline LaTeX in page text).
"""

from __future__ import annotations

import re

from gru_core import Convention

_SUB = re.compile(r"(h̃|[hxzr])_(\{[^}]*\}|t)")


def plotly(text: str) -> str:
    """``h_{t-1}`` → ``h<sub>t-1</sub>`` for plotly titles and hovers."""
    return _SUB.sub(lambda m: f"{m.group(1)}<sub>{m.group(2).strip('{}')}</sub>", text)


def md(text: str) -> str:
    """``h_{t-1}`` → ``$h_{t-1}$``, ``h̃_t`` → ``$\\tilde h_t$`` for st.markdown / st.caption."""
    def repl(m: re.Match) -> str:
        base = r"\tilde h" if m.group(1) == "h̃" else m.group(1)
        return f"${base}_{m.group(2)}$"
    return _SUB.sub(repl, text)


def gate_title(name: str, convention: Convention) -> str:
    """Heatmap titles that say what the ends of the colour scale mean in this convention."""
    if name == "z":
        return f"z · update gate — 1 = {convention.z_one_means}, 0 = {convention.z_zero_means}"
    if name == "r":
        where = "after" if convention.reset_after_matmul else "before"
        return f"r · reset gate — 0 = ignore h_{{t-1}} in the candidate, 1 = use it (acts {where} W_hn)"
    if name == "h_tilde":
        return "h̃ · candidate state, from −1 to 1"
    if name == "h":
        return "h · new state, from −1 to 1"
    raise ValueError(name)


def short_title(name: str) -> str:
    return {"z": "z · update gate", "r": "r · reset gate", "h_tilde": "h̃ · candidate",
            "h": "h · new state"}[name]


def explain(convention: Convention) -> str:
    """One short explanation of what z means, for the convention picker."""
    reset = ("r scales the recurrent term after the matrix, r ⊙ (W_hn h + b_hn)"
             if convention.reset_after_matmul else
             "r scales the old state before the matrix, W_hn (r ⊙ h)")
    return (f"**{convention.name}** ({convention.source}): z ≈ 1 means *{convention.z_one_means}*, "
            f"z ≈ 0 means *{convention.z_zero_means}*; {reset}.")


def blend_sentence(convention: Convention) -> str:
    return ("h_t sits a fraction (1 − z) of the way from h_{t-1} to h̃_t"
            if convention.z_keeps_old else
            "h_t sits a fraction z of the way from h_{t-1} to h̃_t")


def candidate_caption(convention: Convention) -> str:
    """Plain text (it goes in a LaTeX \\text{}): where the reset gate acts in this convention."""
    return ("candidate state (reset applied after the matrix)" if convention.reset_after_matmul
            else "candidate state (reset applied before the matrix)")


def blend_caption(convention: Convention) -> str:
    return ("new state (z weighs the old state)" if convention.z_keeps_old
            else "new state (z weighs the candidate)")


TRAIN_CONVENTIONS = "pytorch trains torch.nn.GRU; cho2014 the reset-before-the-matrix GRU."
