"""The "Why gates?" page's numbers, figures and sentences: pure functions, no streamlit.

What is drawn comes from gru_core.gradients for the model shown, on one recorded pass:

* :func:`reach` reads a :class:`gru_core.gradients.GradientFlow` sent back from the model's output y:
  ‖∂y/∂s_t‖ (``state_norms``) turned round to distance back, and ∂y/∂x_t of the number read.
* :func:`gru_paths` splits each step back of a GRU's gradient by path: ∂y/∂h_{t-1} = ∂y/∂h_t · J_t and
  J_t = keep + candidate + gate (``gru_jacobian_parts``), so the three vectors ∂y/∂h_t · part add up
  exactly to ∂y/∂h_{t-1}; their sizes say which path carried the gradient at that step.

Distances: d = T − 1 − t steps back from the output, which is read from the last state (d = 0).
The sentences only state what these numbers show; where a sentence depends on the GRU convention
its words come from app/labels.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from gru_core import Convention
from gru_core.gradients import GradientFlow, GRUStepParts

from . import labels, theme

CELLS = ("rnn", "gru", "lstm")
NAMES = {"rnn": "plain RNN", "gru": "GRU", "lstm": "LSTM"}
PATHS = ("keep", "candidate", "gate")


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)   # a copy: shared between sessions by the page's caches
    a.flags.writeable = False
    return a


# -- the numbers --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Reach:
    """How one model's output y depends on the past of one sequence (every array read-only)."""

    state: np.ndarray        # (T,) ‖∂y/∂s_t‖ by distance back: state[d] is d steps before the output
    value: np.ndarray        # (T,) ∂y/∂(the number read at step t), by step t (not reversed)
    answer: float            # y after the last step
    paths: Mapping[str, np.ndarray] | None = None   # GRU: "keep", "candidate", "gate" -> (T,) by distance

    @property
    def steps(self) -> int:
        return self.state.shape[0]

    def mean_factor(self, distance: int) -> float:
        """The geometric mean of what each of the ``distance`` steps back multiplied the gradient's size
        by: (‖∂y/∂s‖ at ``distance`` / ‖∂y/∂s‖ at 0) ** (1 / distance). NaN if either is 0."""
        start, end = self.state[0], self.state[distance]
        if distance < 1 or start <= 0 or end <= 0:
            return float("nan")
        return float(np.exp((np.log(end) - np.log(start)) / distance))


def gru_paths(dy_dh: np.ndarray, parts: Sequence[GRUStepParts]) -> dict[str, np.ndarray]:
    """For each step back, the size of what each path passes on: ‖∂y/∂h_t · part of ∂h_t/∂h_{t-1}‖.

    ``dy_dh`` (T, H) is the GradientFlow's state (∂y/∂h_t at every t), ``parts`` the GRU's split of
    every step's Jacobian. Returns (T,) arrays by distance back: entry d is what reached d steps back
    from d − 1 steps back; entry 0 (the output reads h directly) is NaN.
    """
    T = dy_dh.shape[0]
    out = {name: np.full(T, np.nan) for name in PATHS}
    for t in range(1, T):                       # the step from h_{t-1} to h_t, distance T − t back
        g = dy_dh[t]
        for name in PATHS:
            out[name][T - t] = np.linalg.norm(g @ getattr(parts[t], name))
    return out


def reach(flow: GradientFlow, answer: float, parts: Sequence[GRUStepParts] | None = None) -> Reach:
    """The page's view of a GradientFlow sent back from y (``parts``: the GRU's, for its paths)."""
    paths = None if parts is None else {k: _frozen(v) for k, v in gru_paths(flow.state[-1], parts).items()}
    return Reach(state=_frozen(flow.state_norms()[::-1]), value=_frozen(flow.inputs[:, 0]),
                 answer=float(answer), paths=paths)


def marked_steps(xs: np.ndarray) -> np.ndarray:
    """The steps whose number is marked (the adding problem's second feature)."""
    return np.flatnonzero(np.asarray(xs)[:, 1])


def first_mark_distance(xs: np.ndarray) -> int:
    """How many steps before the output the first marked number is read."""
    return int(np.asarray(xs).shape[0] - 1 - marked_steps(xs)[0])


# -- how numbers are written -----------------------------------------------------------------------------
def num(v: float) -> str:
    """A gradient's size or a slope: 3 significant figures from 0.01 to 1,000, else 1.2e-05."""
    if v == 0:
        return "0"
    if not np.isfinite(v):
        return str(v)
    return f"{v:.3g}" if 0.01 <= abs(v) < 1000 else f"{v:.1e}"


def times(ratio: float) -> str:
    """A ratio of two sizes: '90', '2.5', '3.1e+09'."""
    if ratio >= 1e4:
        return f"{ratio:.1e}"
    return f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.2g}"


def _list(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# -- sentences -------------------------------------------------------------------------------------------
def reach_sentence(trained: Mapping[str, Reach], untrained: Mapping[str, Reach], distance: int,
                   short: bool = False) -> str:
    """What the curves show at the first marked number, every number read off them."""
    length = next(iter(trained.values())).steps
    at = {c: float(r.state[distance]) for c, r in trained.items()}
    values = ", ".join(f"{NAMES[c]} {num(v)}" for c, v in at.items())
    rnn = at.get("rnn")
    gated = [c for c in at if c != "rnn"]
    if rnn is None or not gated:
        ratio = ""
    elif rnn == 0:
        ratio = " The plain RNN's has underflowed to exactly 0 in float64 arithmetic."
    else:
        each = [f"the {NAMES[c]}'s is {times(at[c] / rnn)} times the plain RNN's" for c in gated]
        ratio = f" At distance {distance}, {_list(each)}."
    if short:
        return f"**{distance} steps back** (the first marked number), trained: {values}.{ratio}"
    before = ", ".join(f"{NAMES[c]} {num(float(r.state[distance]))}" for c, r in untrained.items())
    factors = ", ".join(f"{NAMES[c]} {num(r.mean_factor(distance))}" for c, r in trained.items()
                        if np.isfinite(r.mean_factor(distance)))
    text = (f"In this sequence of {length} steps the first marked number is read {distance} steps before the "
            f"output. The size of the gradient of the output with respect to the state at that step is, for "
            f"the trained models: {values}; at initialisation: {before}.{ratio}")
    if factors:
        text += (f" On average (the geometric mean) each of those {distance} steps back multiplied the trained "
                 f"models' gradient by {factors}.")
    return text


def value_sentence(trained: Mapping[str, Reach], first: int, short: bool = False) -> str:
    """∂y/∂x at the first marked number: how much each answer moves with it (the true sum moves by 1)."""
    slopes = [(NAMES[c], num(float(r.value[first]))) for c, r in trained.items()]
    if short:
        return ("Slope of the answer with respect to the first marked number (the sum's is 1): "
                + ", ".join(f"{name} {v}" for name, v in slopes) + ".")
    (name0, v0), rest = slopes[0], slopes[1:]
    moves = _list([f"the trained {name0}'s answer moves by {v0} ε"] + [f"the {n}'s by {v} ε" for n, v in rest])
    return (f"Nudge the first marked number by a small amount ε and, to first order, {moves}. The true sum "
            "moves by exactly ε, so a model that computes the sum has a slope of 1 here; a slope near 0 means "
            "the answer ignores that number.")


def paths_sentence(trained: Reach, untrained: Reach, distance: int, convention: Convention,
                   short: bool = False) -> str:
    """Which path carried the GRU's gradient over the steps between the first marked number and the output."""
    if trained.paths is None or untrained.paths is None or distance < 1:
        return ""
    span = slice(1, distance + 1)
    keep, cand = trained.paths["keep"][span], trained.paths["candidate"][span]
    larger = int(np.sum(keep > cand))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(np.median(keep / cand))
    share = f"at {larger} of those {distance} steps" if larger < distance else f"at every one of those {distance} steps"
    if short:
        where = (f"at every one of the {distance} steps" if larger == distance else
                 f"at {larger} of the {distance} steps")
        return (f"Trained GRU: the keep path carried more of the gradient than the candidate path {where} back to "
                f"the first marked number (median {times(ratio)} times as much).")
    untrained_larger = int(np.sum(untrained.paths["keep"][span] > untrained.paths["candidate"][span]))
    f_trained, f_untrained = trained.mean_factor(distance), untrained.mean_factor(distance)
    return labels.md(
        f"Over the {distance} steps back from the output to the first marked number, the trained GRU's keep "
        f"path passed on more of the gradient than its path through the candidate {share} (at the median step "
        f"{times(ratio)} times as much): {labels.keep_path_text(convention)}. At initialisation the keep path "
        f"was the larger at {untrained_larger} of the {distance} steps too, but each step back multiplied the "
        f"gradient's size by {num(f_untrained)} on average, against {num(f_trained)} once trained: by the first "
        f"marked number {num(float(untrained.state[distance]))} was left of it, against "
        f"{num(float(trained.state[distance]))}.")


# -- figures ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Curve:
    name: str
    values: np.ndarray       # (T,) by distance back
    colour: str
    dashed: bool = False
    wide: bool = False       # the cell in focus


def _layout(height: int, font_size: int, revision: str, **extra) -> dict:
    layout = dict(height=height, margin=dict(l=70, r=20, t=50, b=110), font=dict(size=font_size),
                  uirevision=revision, paper_bgcolor="white", plot_bgcolor="white",
                  legend=dict(orientation="h", y=-0.3, font=dict(size=font_size - 1)), **extra)
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")):   # Streamlit's theme sets small tick fonts: a projector needs these
            axis.setdefault("tickfont", {"size": font_size - 2})
            axis.setdefault("gridcolor", theme.GRID_COLOUR)
            if "title" in axis:
                axis["title"].setdefault("font", {"size": font_size})
    return layout


def _log_values(values: np.ndarray) -> np.ndarray:
    """float64 (the smallest sizes are far below float32's range); an exact 0 has no place on a log axis."""
    v = np.asarray(values, dtype=np.float64)
    return np.where(v > 0, v, np.nan)


def _marker(distance: int | None, text: str, font_size: int) -> tuple[list, list]:
    if distance is None:
        return [], []
    shape = dict(type="line", xref="x", yref="paper", x0=distance, x1=distance, y0=0, y1=1, name="marker",
                 line=dict(color=theme.NEUTRAL_COLOUR, width=1.5, dash="dash"))
    note = dict(x=distance, y=1, xref="x", yref="paper", text=text, showarrow=False, yanchor="bottom",
                font=dict(size=font_size - 2, color=theme.NEUTRAL_COLOUR))
    return [shape], [note]


def reach_figure(curves: Sequence[Curve], *, marker: int | None = None, font_size: int = theme.FONT_SIZE,
                 height: int = 420) -> go.Figure:
    """‖∂y/∂s‖ against distance back in time, log scale, one line per curve; the numbers on hover."""
    data = [go.Scatter(x=np.arange(c.values.shape[0]), y=_log_values(c.values), name=c.name, mode="lines",
                       line=dict(color=c.colour, width=4 if c.wide else 2, dash="dot" if c.dashed else "solid"),
                       hovertemplate=f"{c.name}<br>%{{x}} steps back: %{{y:.3e}}<extra></extra>")
            for c in curves]
    shapes, notes = _marker(marker, "first marked number", font_size)
    return go.Figure(data=data, layout=_layout(
        height, font_size, "reach", shapes=shapes, annotations=notes,
        xaxis=dict(title=dict(text="steps back from the output"), rangemode="tozero"),
        yaxis=dict(title=dict(text="‖∂ output / ∂ state‖"), type="log", exponentformat="power")))


def cell_curves(trained: Mapping[str, Reach], untrained: Mapping[str, Reach] | None, focus: str | None,
                trained_label: str = "trained") -> list[Curve]:
    """The three cells' curves, trained solid and at initialisation dotted, the cell in focus wider."""
    curves = [Curve(f"{NAMES[c]}, {trained_label}", r.state, theme.CELL_COLOURS[c], wide=c == focus)
              for c, r in trained.items()]
    curves += [Curve(f"{NAMES[c]}, at initialisation", r.state, theme.CELL_COLOURS[c], dashed=True, wide=c == focus)
               for c, r in (untrained or {}).items()]
    return curves


def paths_figure(trained: Reach, untrained: Reach, convention: Convention, *, marker: int | None = None,
                 font_size: int = theme.FONT_SIZE) -> go.Figure:
    """The GRU's gradient by distance back (all paths) and what each path passed on at each step back."""
    if trained.paths is None:
        raise ValueError("the keep / candidate split is the GRU's: this Reach has no paths")
    names = labels.path_names(convention)
    lines = [("all paths (the gradient), trained", trained.state, theme.PATH_COLOURS["all"], "solid", 3)]
    lines += [(f"{labels.plotly(names[k])}, trained", trained.paths[k], theme.PATH_COLOURS[k], "solid", 2)
              for k in PATHS]
    lines.append(("all paths, at initialisation", untrained.state, theme.PATH_COLOURS["all"], "dot", 2))
    data = [go.Scatter(x=np.arange(v.shape[0]), y=_log_values(v), name=name, mode="lines",
                       line=dict(color=colour, width=width, dash=dash),
                       hovertemplate=f"{name}<br>%{{x}} steps back: %{{y:.3e}}<extra></extra>")
            for name, v, colour, dash, width in lines]
    shapes, notes = _marker(marker, "first marked number", font_size)
    return go.Figure(data=data, layout=_layout(
        460, font_size, "paths", shapes=shapes, annotations=notes,
        xaxis=dict(title=dict(text="steps back from the output"), rangemode="tozero"),
        yaxis=dict(title=dict(text="‖∂ output / ∂ h‖, and what each path passed on"), type="log",
                   exponentformat="power")))


@dataclass(frozen=True, eq=False)
class LiveRun:
    """One cell's live training, as the page draws it."""

    iterations: np.ndarray    # (N,) 1, 2, … every iteration done
    losses: np.ndarray        # (N,) the batch loss (mean squared error) at each
    checked: np.ndarray       # (M,) the iterations at which the gradient was measured (snapshots)
    at_mark: np.ndarray       # (M,) ‖∂y/∂s‖ at the first marked number for those snapshots


def live_figure(runs: Mapping[str, LiveRun], baseline: float, distance: int, *,
                font_size: int = theme.FONT_SIZE) -> go.Figure:
    """Side by side: each cell's batch loss (linear, with the baseline's), and the gradient reaching the first
    marked number (log), as it learns."""
    data = []
    for c, run in runs.items():
        colour = theme.CELL_COLOURS[c]
        data.append(go.Scatter(x=run.iterations, y=np.asarray(run.losses, np.float64), name=NAMES[c], mode="lines",
                               legendgroup=c, line=dict(color=colour, width=2),
                               hovertemplate=f"{NAMES[c]}<br>iteration %{{x}}: loss %{{y:.4f}}<extra></extra>"))
        data.append(go.Scatter(x=run.checked, y=_log_values(run.at_mark), name=NAMES[c], mode="lines+markers",
                               legendgroup=c, showlegend=False, xaxis="x2", yaxis="y2",
                               line=dict(color=colour, width=2),
                               hovertemplate=f"{NAMES[c]}<br>iteration %{{x}}: %{{y:.3e}}<extra></extra>"))
    shapes = [dict(type="line", xref="x domain", yref="y", x0=0, x1=1, y0=baseline, y1=baseline, name="baseline",
                   line=dict(color=theme.NEUTRAL_COLOUR, width=1.5, dash="dash"))]
    notes = [dict(x=1, y=baseline, xref="x domain", yref="y", text="always answering 1", showarrow=False,
                  xanchor="right", yanchor="bottom", font=dict(size=font_size - 2, color=theme.NEUTRAL_COLOUR)),
             dict(x=0.22, y=1.02, xref="paper", yref="paper", text="batch loss (mean squared error)",
                  showarrow=False, yanchor="bottom", font=dict(size=font_size)),
             dict(x=0.78, y=1.02, xref="paper", yref="paper", showarrow=False, yanchor="bottom",
                  text=f"‖∂ output / ∂ state‖ {distance} steps back", font=dict(size=font_size))]
    return go.Figure(data=data, layout=_layout(
        380, font_size, "live", shapes=shapes, annotations=notes,
        xaxis=dict(domain=[0, 0.44], title=dict(text="iteration")),
        yaxis=dict(rangemode="tozero"),
        xaxis2=dict(domain=[0.56, 1], anchor="y2", title=dict(text="iteration")),
        yaxis2=dict(type="log", anchor="x2", exponentformat="power")))


# -- the measured table ----------------------------------------------------------------------------------
def table_columns(rows: Sequence[Mapping]) -> dict[str, list]:
    """One row per shipped model. Each row: cell, length, metrics (as written in its file), params, and
    recording_s (seconds per step of the recorded forward, measured by the caller)."""
    def per_iteration(m: Mapping) -> str:
        return f"{1e3 * m['train_seconds'] / m['iterations']:.1f}" if m.get("iterations") else "—"

    return {
        "cell": [NAMES[r["cell"]] for r in rows],
        "length": [r["length"] for r in rows],
        "held-out MSE": [f"{r['metrics']['mse']:.4f}" for r in rows],
        "baseline MSE": [f"{r['metrics']['baseline_mse']:.4f}" for r in rows],
        "MSE ÷ baseline": [f"{r['metrics']['mse'] / r['metrics']['baseline_mse']:.3f}" for r in rows],
        "solved": ["yes" if r["metrics"]["solved"] else "no" for r in rows],
        "parameters": [r["params"] for r in rows],
        "iterations": [r["metrics"]["iterations"] for r in rows],
        "training s (file)": [f"{r['metrics']['train_seconds']:.1f}" for r in rows],
        "training ms / iteration (file)": [per_iteration(r["metrics"]) for r in rows],
        "recorded forward µs / step (this server)": [f"{1e6 * r['recording_s']:.1f}" for r in rows],
    }
