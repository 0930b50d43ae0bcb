"""Pure functions: recorded arrays -> plotly figures. No streamlit here, and no arithmetic on gates:
every number drawn is one the core recorded (transposes and dtype casts only).

Arrays go to plotly as float32 NumPy arrays (sent as compact binary), never as lists.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gru_core import Convention, LayerTrace

from . import labels, theme

HEATMAP_FIELDS = ("z", "r", "h_tilde", "h")


def _f32(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def _step_marker(fig: go.Figure, t: int, y0: float, y1: float, row=None, col=None) -> None:
    """A two-tone outline around column ``t``: visible on every colour of either scale."""
    for colour, width in ((theme.STEP_MARKER_OUTER, 4), (theme.STEP_MARKER_INNER, 1.5)):
        fig.add_shape(type="rect", x0=t - 0.5, x1=t + 0.5, y0=y0, y1=y1,
                      line=dict(color=colour, width=width), fillcolor="rgba(0,0,0,0)",
                      row=row, col=col)


def _base_layout(fig: go.Figure, height: int, font_size: int, revision: str) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=60, r=20, t=60, b=50),
                      font=dict(size=font_size), uirevision=revision,
                      paper_bgcolor="white", plot_bgcolor="white")
    return fig


def gate_heatmaps(lt: LayerTrace, t: int, convention: Convention, *, unit: int | None = None,
                  font_size: int = theme.FONT_SIZE) -> go.Figure:
    """z, r, h̃ and h as time × hidden-unit heatmaps, stacked on one time axis, step ``t`` outlined.

    Fixed colour domains: z, r on [0, 1] (sequential); h̃, h on [−1, 1] (diverging, centred on 0).
    Each heatmap's ``z`` is the (H, T) transpose of the recorded (T, H) array.
    """
    T, H = lt.h.shape
    titles = [labels.plotly(labels.gate_title(f, convention)) for f in HEATMAP_FIELDS]
    panel = int(min(260, max(110, 9 * H + 40)))  # px per heatmap: 16 units ≈ 184 px
    fig = make_subplots(rows=4, cols=1, subplot_titles=titles, shared_xaxes=True,
                        vertical_spacing=0.11 if H <= 8 else 0.07)
    steps = np.arange(T)
    units = np.arange(H)
    for i, field in enumerate(HEATMAP_FIELDS):
        is_gate = field in ("z", "r")
        symbol = {"z": "z", "r": "r", "h_tilde": "h̃", "h": "h"}[field]
        fig.add_trace(go.Heatmap(
            z=_f32(getattr(lt, field).T), x=steps, y=units, name=labels.short_title(field),
            coloraxis="coloraxis" if is_gate else "coloraxis2",
            hovertemplate=f"step %{{x}}<br>unit %{{y}}<br>{symbol} = %{{z:.4f}}<extra></extra>",
        ), row=i + 1, col=1)
        _step_marker(fig, t, -0.5, H - 0.5, row=i + 1, col=1)
        if unit is not None:
            fig.add_shape(type="line", x0=-0.5, x1=T - 0.5, y0=unit, y1=unit,
                          line=dict(color=theme.HIGHLIGHT_COLOUR, width=1.5, dash="dot"),
                          row=i + 1, col=1)
    fig.update_layout(
        coloraxis=dict(colorscale=theme.GATE_SCALE, cmin=theme.GATE_RANGE[0], cmax=theme.GATE_RANGE[1],
                       colorbar=dict(title="gate", y=0.77, len=0.45, thickness=14)),
        coloraxis2=dict(colorscale=theme.STATE_SCALE, cmin=theme.STATE_RANGE[0],
                        cmax=theme.STATE_RANGE[1], cmid=0.0,
                        colorbar=dict(title="state", y=0.23, len=0.45, thickness=14)),
    )
    fig.update_xaxes(title_text="time step t", row=4, col=1)
    fig.update_yaxes(title_text="unit", range=[H - 0.5, -0.5])  # unit 0 at the top, as in tables
    fig.update_annotations(font_size=font_size, xanchor="left", x=0)
    return _base_layout(fig, 4 * panel + 130, font_size, "heatmaps")


def interpolation(lt: LayerTrace, t: int, convention: Convention, *, unit: int | None = None,
                  font_size: int = theme.FONT_SIZE) -> go.Figure:
    """For every unit, h_{t-1} and h̃_t on one axis with h_t between them, where z put it."""
    H = lt.hidden_size
    h_prev, h_tilde, h_new, z = lt.h_prev[t], lt.h_tilde[t], lt.h[t], lt.z[t]  # (H,) each
    units = np.arange(H)
    # one segment per unit, separated by gaps (NaN) so they draw as one trace
    seg_x = np.column_stack([h_prev, h_tilde, np.full(H, np.nan)]).ravel()
    seg_y = np.repeat(units, 3).astype(np.float64)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=_f32(seg_x), y=seg_y, mode="lines", hoverinfo="skip",
                             line=dict(color=theme.NEUTRAL_COLOUR, width=3), showlegend=False))
    fig.add_trace(go.Scatter(x=_f32(h_prev), y=units, mode="markers", name=labels.plotly("h_{t-1} (old state)"),
                             marker=dict(symbol="circle-open", size=12, color=theme.H_PREV_COLOUR,
                                         line=dict(width=2.5)),
                             hovertemplate="unit %{y}: h<sub>t-1</sub> = %{x:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=_f32(h_tilde), y=units, mode="markers", name=labels.plotly("h̃_t (candidate)"),
                             marker=dict(symbol="diamond", size=12, color=theme.H_TILDE_COLOUR),
                             hovertemplate="unit %{y}: h̃<sub>t</sub> = %{x:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=_f32(h_new), y=units, mode="markers", name=labels.plotly("h_t (new state)"),
                             customdata=_f32(z),
                             marker=dict(symbol="circle", size=10, color=theme.H_NEW_COLOUR),
                             hovertemplate="unit %{y}: h<sub>t</sub> = %{x:.4f} (z = %{customdata:.3f})<extra></extra>"))
    if unit is not None:
        fig.add_hrect(y0=unit - 0.45, y1=unit + 0.45, fillcolor=theme.HIGHLIGHT_COLOUR, opacity=0.2,
                      line_width=0)
    fig.update_xaxes(range=[-1.08, 1.08], title_text="value", zeroline=True, zerolinecolor="#ccc",
                     showgrid=True, gridcolor="#eee")
    fig.update_yaxes(title_text="unit", range=[H - 0.5, -0.5], tickmode="linear" if H <= 32 else "auto",
                     showgrid=False)
    fig.update_layout(title=dict(text=labels.plotly(f"Step {t}: {labels.blend_sentence(convention)}"),
                                 font_size=font_size + 1),
                      legend=dict(orientation="h", y=-0.12 if H > 4 else -0.4))
    height = int(min(theme.MAX_FIGURE_HEIGHT, 160 + theme.ROW_HEIGHT_PX * H))
    return _base_layout(fig, height, font_size, "interpolation")


def bit_rows(xs: np.ndarray, target: np.ndarray, output: np.ndarray, t: int, *,
             font_size: int = theme.FONT_SIZE) -> go.Figure:
    """The addition as the network reads it: rows a_t, b_t, true sum bit, network output; column t.

    Wrong output bits get a cross. Columns are steps (bit 2^t), least significant on the left.
    """
    T = len(target)
    rows = np.stack([xs[:, 0], xs[:, 1], target, output]).astype(np.float32)  # (4, T)
    names = ["a_t", "b_t", "true sum bit", "network output"]
    show_text = T <= 70
    fig = go.Figure(go.Heatmap(
        z=rows, x=np.arange(T), y=names, zmin=0, zmax=1, showscale=False,
        colorscale=[[0, "#f2f2f2"], [1, theme.H_PREV_COLOUR]], xgap=2, ygap=2,
        text=rows.astype(np.int8) if show_text else None, texttemplate="%{text}" if show_text else None,
        textfont=dict(size=font_size), hovertemplate="step %{x} (bit 2^%{x})<br>%{y} = %{z}<extra></extra>"))
    wrong = np.flatnonzero(output != target)
    if wrong.size:
        fig.add_trace(go.Scatter(x=wrong, y=["network output"] * wrong.size, mode="markers",
                                 marker=dict(symbol="x-thin", size=18, line=dict(width=3, color=theme.WRONG_COLOUR)),
                                 name="wrong bit", hovertemplate="step %{x}: wrong<extra></extra>"))
    _step_marker(fig, t, -0.5, 3.5)
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="time step t = bit position (least significant first)")
    return _base_layout(fig, 250, font_size, "bits")


def inputs(x: np.ndarray, t: int, *, feature_labels: list[str] | None = None,
           step_labels: list[str] | None = None, font_size: int = theme.FONT_SIZE) -> go.Figure:
    """The input sequence (T, I) as a heatmap, features as rows; step ``t`` outlined."""
    T, I = x.shape
    fig = go.Figure(go.Heatmap(
        z=_f32(x.T), x=np.arange(T), y=feature_labels or [f"x[{i}]" for i in range(I)],
        colorscale="Greys", showscale=I > 1 or True,
        customdata=None if step_labels is None else np.array([step_labels] * I, dtype=object),
        hovertemplate=("step %{x}" + (" '%{customdata}'" if step_labels is not None else "")
                       + "<br>%{y} = %{z:.4g}<extra></extra>")))
    _step_marker(fig, t, -0.5, I - 0.5)
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="time step t")
    return _base_layout(fig, int(min(420, 140 + 18 * I)), font_size, "inputs")


def carry_units(corr: np.ndarray, *, font_size: int = theme.FONT_SIZE) -> go.Figure:
    """Each unit's correlation with the true carry bit; the strongest (by |r|) highlighted."""
    H = corr.shape[0]
    best = int(np.argmax(np.abs(corr)))
    colours = [theme.HIGHLIGHT_COLOUR if j == best else theme.NEUTRAL_COLOUR for j in range(H)]
    fig = go.Figure(go.Bar(x=np.arange(H), y=_f32(corr), marker_color=colours,
                           hovertemplate="unit %{x}: correlation %{y:.3f}<extra></extra>"))
    fig.add_annotation(x=best, y=float(corr[best]), text=f"unit {best}", showarrow=True,
                       arrowhead=2, ay=-30 if corr[best] >= 0 else 30)
    fig.update_yaxes(range=[-1.05, 1.05], title_text="correlation with carry")
    fig.update_xaxes(title_text="unit", tickmode="linear" if H <= 32 else "auto")
    return _base_layout(fig, 300, font_size, "carry")
