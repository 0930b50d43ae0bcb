"""Pure functions: recorded arrays -> plotly figures. No streamlit here, and no arithmetic on gates:
every number drawn is one the core recorded (transposes and dtype casts only).

Each figure is built in one ``go.Figure(data=..., layout=...)`` call from plain dicts. Plotly
validates a whole layout in one pass an order of magnitude faster than it applies dozens of
``add_shape`` / ``make_subplots`` updates, and these figures are rebuilt on every step. Arrays go
in as float32 NumPy arrays (sent as compact binary).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from . import labels, theme
from .cell_views import GATE, STATE, Blend, Panel

STEP_SHAPE = "step"  # name of the shapes that outline the current step (tests look for it)


def _f32(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def step_outline(t: int, xref: str = "x", yref: str = "paper", y0: float = 0.0, y1: float = 1.0) -> list[dict]:
    """A two-tone outline around column ``t`` — dark outside, light inside — visible on every colour
    of both scales."""
    return [dict(type="rect", name=STEP_SHAPE, xref=xref, yref=yref, x0=t - 0.5, x1=t + 0.5, y0=y0, y1=y1,
                 line=dict(color=colour, width=width), fillcolor="rgba(0,0,0,0)", layer="above")
            for colour, width in ((theme.STEP_MARKER_OUTER, 4), (theme.STEP_MARKER_INNER, 1.5))]


def _layout(height: int, font_size: int, revision: str, bottom: int = 50, **extra) -> dict:
    return dict(height=height, margin=dict(l=60, r=20, t=60, b=bottom), font=dict(size=font_size),
                uirevision=revision, paper_bgcolor="white", plot_bgcolor="white", **extra)


def _figure(data: list, layout: dict) -> go.Figure:
    """Build in one call, with every axis's and the legend's type at the layout's size: Streamlit's
    plotly theme sets its own small tick fonts, which a projector needs overridden."""
    size = layout["font"]["size"]
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")):
            axis.setdefault("tickfont", {"size": size - 2})
            if "title" in axis:
                axis["title"].setdefault("font", {"size": size})
    layout.setdefault("legend", {}).setdefault("font", {"size": size - 1})
    return go.Figure(data=data, layout=layout)


def _title(text: str, font_size: int) -> dict:
    return dict(text=labels.plotly(text), font=dict(size=font_size + 1))


def heatmaps(panels: Sequence[Panel], t: int | None, *, unit: int | None = None,
             font_size: int = theme.FONT_SIZE, compact: bool = False) -> go.Figure:
    """The panels (each a recorded (T, H) array) as time × unit heatmaps on one time axis, step
    ``t`` outlined and ``unit``'s row marked (neither when None: the browser step view draws them).
    Trace i draws panels[i], on axes x{i+1}/y{i+1} (``x``/``y`` for the first). ``compact``: about
    half the height (a lesson's view, which must fit a projector's screen beside its text).

    Fixed colour domains (app/theme.py): gates on [0, 1], sequential; states on [−1, 1], diverging
    around 0. Each heatmap's ``z`` is the (H, T) transpose of the recorded array.
    """
    T, H = panels[0].values.shape
    n = len(panels)
    panel = int(min(150, max(75, 4 * H + 30)) if compact else min(260, max(110, 9 * H + 40)))   # 16 units: 184 px
    height = n * panel + (100 if compact else 150)
    gap = 70 / height                                  # room for each panel's title
    span = (1 - (n - 1) * gap) / n
    steps, units = np.arange(T), np.arange(H)
    data, annotations, shapes = [], [], []
    layout = _layout(height, font_size, "heatmaps")
    if compact:   # less room around the panels; each panel's title still fits above it
        layout["margin"].update(t=40, b=40)
    for i, p in enumerate(panels):
        sfx = "" if i == 0 else str(i + 1)
        data.append(go.Heatmap(
            z=_f32(p.values.T), x=steps, y=units, xaxis=f"x{sfx}", yaxis=f"y{sfx}",
            name=labels.plotly(p.short), coloraxis=_COLOUR_AXIS[p.scale],
            hovertemplate=f"step %{{x}}<br>unit %{{y}}<br>{p.symbol} = %{{z:.4f}}<extra></extra>"))
        top = 1 - i * (span + gap)
        bottom = max(0.0, round(top - span, 6))
        last = i == n - 1
        layout[f"xaxis{sfx}"] = dict(anchor=f"y{sfx}", showticklabels=last,
                                     **({"matches": "x"} if i else {}),
                                     **({"title": dict(text="time step t")} if last and not compact else {}))
        layout[f"yaxis{sfx}"] = dict(domain=[bottom, round(top, 6)], anchor=f"x{sfx}",
                                     range=[H - 0.5, -0.5], title=dict(text="unit"),
                                     **({"tickmode": "linear", "dtick": 1 if H <= (3 if compact else 8) else 5}
                                        if H <= 32 else {}))
        annotations.append(dict(text=labels.plotly(p.title), showarrow=False,
                                x=0, xref="paper", xanchor="left", y=round(top, 6), yref="paper",
                                yanchor="bottom", font=dict(size=font_size)))
        if unit is not None:
            shapes.append(dict(type="line", xref=f"x{sfx}", yref=f"y{sfx}", x0=-0.5, x1=T - 0.5,
                               y0=unit, y1=unit, line=dict(color=theme.HIGHLIGHT_COLOUR, width=1.5, dash="dot")))
        if t is not None:  # per panel, so the outline never crosses a panel's title
            shapes += step_outline(t, xref=f"x{sfx}", yref=f"y{sfx} domain")
    layout.update(annotations=annotations, shapes=shapes)
    # one colour bar per scale, beside the first panel that uses it
    for scale, axis in _COLOUR_AXIS.items():
        rows = [i for i, p in enumerate(panels) if p.scale == scale]
        if rows:
            lo, hi = theme.SCALES[scale]["range"]
            layout[axis] = dict(colorscale=theme.SCALES[scale]["colours"], cmin=lo, cmax=hi,
                                **({"cmid": 0.0} if lo < 0 < hi else {}),
                                colorbar=dict(title=dict(text=theme.SCALES[scale]["title"],
                                                         **({"side": "right"} if compact else {})),
                                              y=1 - rows[0] * (span + gap) - span / 2,
                                              len=span if compact else min(0.45, 2.2 * span), thickness=14,
                                              **({"tickvals": [lo, hi]} if compact else {})))
    return _figure(data, layout)


_COLOUR_AXIS = {GATE: "coloraxis", STATE: "coloraxis2"}


# What each trace of :func:`interpolation` shows at step t, by Blend field: the browser step view
# swaps in step t's values (a list interleaves the fields unit by unit, None making the gap).
BLEND_STEP_DATA = ({"x": ["old", "candidate", None]}, {"x": "old"}, {"x": "candidate"},
                   {"x": "new", "customdata": "gate"})


def interpolation(blend: Blend, t: int, *, unit: int | None = None, titled: bool = True,
                  font_size: int = theme.FONT_SIZE) -> go.Figure:
    """For every unit, the old state and the candidate on one axis with the new state between them.

    ``titled=False`` leaves out the title (the browser step view writes it above the figure)."""
    h_prev, h_tilde, h_new, gate = blend.old[t], blend.candidate[t], blend.new[t], blend.gate[t]  # (H,) each
    H = h_prev.shape[0]
    units = np.arange(H)
    # one segment per unit, separated by gaps (NaN) so they draw as one trace
    seg_x = np.column_stack([h_prev, h_tilde, np.full(H, np.nan)]).ravel()
    seg_y = np.repeat(units, 3).astype(np.float64)
    g = blend.gate_symbol
    data = [
        go.Scatter(x=_f32(seg_x), y=seg_y, mode="lines", hoverinfo="skip", showlegend=False,
                   line=dict(color=theme.NEUTRAL_COLOUR, width=3)),
        go.Scatter(x=_f32(h_prev), y=units, mode="markers", name=labels.plotly("h_{t-1} (old state)"),
                   marker=dict(symbol="circle-open", size=12, color=theme.H_PREV_COLOUR, line=dict(width=2.5)),
                   hovertemplate="unit %{y}: h<sub>t-1</sub> = %{x:.4f}<extra></extra>"),
        go.Scatter(x=_f32(h_tilde), y=units, mode="markers", name=labels.plotly("h̃_t (candidate)"),
                   marker=dict(symbol="diamond", size=12, color=theme.H_TILDE_COLOUR),
                   hovertemplate="unit %{y}: h̃<sub>t</sub> = %{x:.4f}<extra></extra>"),
        go.Scatter(x=_f32(h_new), y=units, mode="markers", name=labels.plotly("h_t (new state)"),
                   customdata=_f32(gate), marker=dict(symbol="circle", size=10, color=theme.H_NEW_COLOUR),
                   hovertemplate=f"unit %{{y}}: h<sub>t</sub> = %{{x:.4f}} ({g} = %{{customdata:.3f}})<extra></extra>"),
    ]
    shapes = []
    if unit is not None:
        shapes.append(dict(type="rect", xref="paper", x0=0, x1=1, yref="y", y0=unit - 0.45, y1=unit + 0.45,
                           fillcolor=theme.HIGHLIGHT_COLOUR, opacity=0.2, line=dict(width=0), layer="below"))
    plot_px = max(90, theme.ROW_HEIGHT_PX * H)
    height = int(min(theme.MAX_FIGURE_HEIGHT, plot_px + 200))
    layout = _layout(
        height, font_size, "interpolation", bottom=110, shapes=shapes,
        **({"title": _title(f"Step {t}: {blend.sentence}", font_size)} if titled else {}),
        # below the axis title, whatever the plot's height: an offset in pixels, turned into paper units
        legend=dict(orientation="h", yanchor="top", y=-70 / min(plot_px, theme.MAX_FIGURE_HEIGHT - 200)),
        xaxis=dict(range=[-1.08, 1.08], title=dict(text="value"), zeroline=True,
                   zerolinecolor=theme.ZERO_LINE_COLOUR, showgrid=True, gridcolor=theme.GRID_COLOUR),
        yaxis=dict(title=dict(text="unit"), range=[H - 0.5, -0.5], showgrid=False, zeroline=False,
                   **({"tickmode": "linear", "dtick": 1} if H <= 32 else {})))
    if not titled:
        layout["margin"]["t"] = 20
    return _figure(data, layout)


def bit_rows(xs: np.ndarray, target: np.ndarray, output: np.ndarray | None, t: int | None, *,
             font_size: int = theme.FONT_SIZE, compact: bool = False) -> go.Figure:
    """The addition as the network reads it: rows a_t, b_t, true sum bit, network output (left out
    when ``output`` is None: a lesson asks for it first); column t outlined (unless None).

    Wrong output bits get a cross. Columns are steps (bit 2^t), least significant on the left.
    """
    T = len(target)
    rows = np.stack([xs[:, 0], xs[:, 1], target] + ([] if output is None else [output])).astype(np.float32)
    names = ["a_t", "b_t", "true sum bit", "network output"][:len(rows)]
    show_text = T <= theme.BIT_TEXT_MAX_STEPS
    data = [go.Heatmap(
        z=rows, x=np.arange(T), y=[labels.plotly(n) for n in names], zmin=0, zmax=1, showscale=False,
        colorscale=[[0, theme.BIT_ZERO_COLOUR], [1, theme.H_PREV_COLOUR]], xgap=2, ygap=2,
        text=rows.astype(np.int8) if show_text else None, texttemplate="%{text}" if show_text else None,
        textfont=dict(size=font_size), hovertemplate="step %{x} (bit 2^%{x})<br>%{y} = %{z}<extra></extra>")]
    wrong = np.flatnonzero(output != target) if output is not None else np.array([], int)
    if wrong.size:
        data.append(go.Scatter(x=wrong, y=["network output"] * wrong.size, mode="markers", name="wrong bit",
                               marker=dict(symbol="x-thin", size=18, line=dict(width=3, color=theme.WRONG_COLOUR)),
                               hovertemplate="step %{x}: wrong<extra></extra>"))
    outline = [] if t is None else step_outline(t, yref="y", y0=-0.5, y1=len(rows) - 0.5)
    layout = _layout(140 if compact else 250, font_size, "bits", shapes=outline,
                     yaxis=dict(autorange="reversed", automargin=True),
                     xaxis=dict(title=dict(text="time step t = bit position (least significant first)")))
    if compact:   # no title above the rows, and the step's label names the axis: no room for either
        layout["margin"].update(t=10, b=35)
        del layout["xaxis"]["title"]
    return _figure(data, layout)


def inputs(x: np.ndarray, t: int | None, *, feature_labels: list[str] | None = None,
           step_labels: list[str] | None = None, font_size: int = theme.FONT_SIZE, compact: bool = False) -> go.Figure:
    """The input sequence (T, I) as a heatmap, features as rows; step ``t`` outlined (unless None).

    The colour range is the whole sequence's (never less than 0 to 1, so bits and one-hot inputs
    read the same on every page), fixed while stepping."""
    T, I = x.shape
    lo, hi = min(0.0, float(x.min())), max(1.0, float(x.max()))
    hover = "step %{x}" + (" '%{customdata}'" if step_labels is not None else "") + "<br>%{y} = %{z:.4g}<extra></extra>"
    data = [go.Heatmap(z=_f32(x.T), x=np.arange(T), y=feature_labels or [f"x[{i}]" for i in range(I)],
                       colorscale=theme.INPUT_SCALE, zmin=lo, zmax=hi,
                       colorbar=dict(thickness=10, len=0.8, title=dict(text="input"),
                                     **({"tickvals": [lo, hi]} if compact else {})),
                       customdata=None if step_labels is None else np.array([step_labels] * I, dtype=object),
                       hovertemplate=hover)]
    layout = _layout(int(min(420, (70 if compact else 140) + 18 * I)), font_size, "inputs",
                     shapes=[] if t is None else step_outline(t, yref="y", y0=-0.5, y1=I - 0.5),
                     yaxis=dict(autorange="reversed", automargin=True), xaxis=dict(title=dict(text="time step t")))
    if compact:   # as bit_rows: no title, and the step's label names the axis
        layout["margin"].update(t=10, b=35)
        del layout["xaxis"]["title"]
    return _figure(data, layout)


def carry_units(corr: np.ndarray, highlight: Sequence[int], *, font_size: int = theme.FONT_SIZE) -> go.Figure:
    """Each unit's correlation (H,) with the true carry; the ``highlight`` units marked and named."""
    H = corr.shape[0]
    colours = [theme.HIGHLIGHT_COLOUR if j in highlight else theme.NEUTRAL_COLOUR for j in range(H)]
    data = [go.Bar(x=np.arange(H), y=_f32(corr), marker_color=colours,
                   hovertemplate="unit %{x}: correlation %{y:.3f}<extra></extra>")]
    layout = _layout(300, font_size, "carry",
                     annotations=[dict(x=j, y=float(corr[j]), text=f"unit {j}", showarrow=True,
                                       arrowhead=2, ay=-30 if corr[j] >= 0 else 30) for j in highlight],
                     yaxis=dict(range=[-1.05, 1.05], title=dict(text="correlation with carry")),
                     xaxis=dict(title=dict(text="unit"), **({"tickmode": "linear", "dtick": 1} if H <= 32 else {})))
    return _figure(data, layout)


def training_curves(history: np.ndarray, *, font_size: int = theme.FONT_SIZE) -> go.Figure:
    """Loss (log scale) and batch exact-sum accuracy against iteration; ``history`` (N, 3)."""
    data = [go.Scatter(x=history[:, 0], y=history[:, 1], name="loss (BCE)", yaxis="y",
                       line=dict(color=theme.H_PREV_COLOUR)),
            go.Scatter(x=history[:, 0], y=history[:, 2], name="exact sums in the batch", yaxis="y2",
                       line=dict(color=theme.RIGHT_COLOUR))]
    layout = _layout(300, font_size, "training", legend=dict(orientation="h", y=1.15),
                     xaxis=dict(title=dict(text="iteration")),
                     yaxis=dict(title=dict(text="loss"), type="log"),
                     yaxis2=dict(title=dict(text="accuracy"), overlaying="y", side="right", range=[0, 1.02]))
    layout["margin"]["r"] = 60
    return _figure(data, layout)
