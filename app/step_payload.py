"""What the browser step view receives: one binary message per view, built by a pure function.

The browser (app/frontend/step_view.js) draws every step from this message alone: stepping, Play,
the unit picked and the keyboard never reach the server. The message is

    MAGIC (8 bytes) | header length n (uint32, little-endian) | header (n bytes of JSON) |
    zero padding to a multiple of 4 | the arrays, float32, each at its header offset

The header holds the figures (plotly JSON, built by app/figures.py, with each large heatmap's ``z``
replaced by ``{"$rows": name}``), what moves with the step in each figure, the per-step sentences
and equations as templates with slots, and where each array lies. Arrays are stored **unit-major**,
(H, T) for a recorded (T, H) array, so a heatmap row is a slice, and (T,) for a per-step one.

Slots in a template: ``{t}``, ``{unit}``, ``{name}`` or ``{name:format}``, where ``name`` is an
array. Formats (drawn by step_view.js): none = DIGITS decimals; ``p`` the same in parentheses when
negative; ``s`` signed, 3 decimals; ``i`` whole number; ``mark`` ✓ when nonzero, else ✗; ``vec``
the step's values of every row (an input vector; up to 6 shown).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from . import equations, figures, labels, theme
from .cell_views import CellView

MAGIC = b"GRUSTEP1"
PRELOAD = b"GRUSTEP0"   # followed by plotly.js's path: fetch it now, draw nothing (step_view.preload)
FIGURE = b"GRUFIG01"    # followed by JSON: one figure drawn alone, no steps (step_view.figure)
PARTS = frozenset({"top", "heatmaps", "blend", "equations"})   # the sections a step view can draw
SPEEDS = {"slow": 1.0, "normal": 4.0, "fast": 25.0}   # steps per second while playing
PLOTLY_PATH = "app/static/plotly.min.js"               # served by the app itself (step_view.serve_plotly)


@dataclass(frozen=True)
class StepText:
    """A sentence drawn at every step: markup with slots, and the per-step arrays (T,) it names."""

    template: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class StepSpec:
    """Everything one step view shows. ``top`` is a figure above the cell's own (the bit rows or
    the inputs), drawn with the step outlined; ``sentence`` a line under it."""

    view: CellView
    top: go.Figure | None = None
    sentence: StepText | None = None
    start_t: int = 0
    start_unit: int = 0
    link: bool = False            # the URL carries ?t= and ?unit= for this view
    present: bool = False
    font_size: int = theme.FONT_SIZE
    base_url: str = ""            # server.baseUrlPath, so plotly.js is fetched from this app
    name: str = "steps"           # the page's prefix: what the browser keeps this view's step under
    parts: frozenset[str] = PARTS  # which of the view's sections are drawn (a lesson shows a few)
    clicker: bool = True          # Page Up / Page Down step this view (a lesson keeps them for its own steps)
    compact: bool = False         # heatmaps about half as tall (a lesson's view beside its text, on a projector)


class _Arrays:
    """Collects the arrays a view names, once each, as unit-major float32."""

    def __init__(self, steps: int):
        self.steps = steps
        self.named: dict[str, np.ndarray] = {}

    def add(self, name: str, values: np.ndarray) -> str:
        values = np.asarray(values)
        if values.shape[0] != self.steps:
            raise ValueError(f"array {name!r} has {values.shape[0]} steps, the view has {self.steps}")
        stored = np.ascontiguousarray(values.T if values.ndim == 2 else values, dtype=np.float32)
        if name in self.named:
            if not np.array_equal(self.named[name], stored, equal_nan=True):
                raise ValueError(f"two different arrays are both called {name!r}")
        else:
            self.named[name] = stored
        return name


def plotly_src(base_url: str = "") -> str:
    """Where the browser fetches plotly.js: this app's own server (``server.baseUrlPath`` first)."""
    return f"{base_url.rstrip('/')}/{PLOTLY_PATH}".replace("//", "/")


def _figure_json(fig: go.Figure) -> dict:
    return json.loads(fig.to_json())


def _axis_pairs(spec: dict, trace_type: str) -> list[list[str]]:
    """The (x axis, y axis) layout names of every ``trace_type`` trace, e.g. ["xaxis2", "yaxis2"]."""
    pairs = []
    for trace in spec["data"]:
        if trace.get("type") == trace_type:
            x, y = trace.get("xaxis", "x"), trace.get("yaxis", "y")
            pairs.append([x.replace("x", "xaxis", 1), y.replace("y", "yaxis", 1)])
    return pairs


def header(spec: StepSpec) -> tuple[dict, dict[str, np.ndarray]]:
    """The header (JSON-ready) and the named arrays of a view: a pure function of ``spec``."""
    view = spec.view
    T, H = view.steps, view.hidden_size
    t0, unit0 = min(max(int(spec.start_t), 0), T - 1), min(max(int(spec.start_unit), 0), H - 1)
    arrays = _Arrays(T)
    figs = []
    if spec.top is not None and "top" in spec.parts:
        top = _figure_json(spec.top)
        figs.append({"id": "top", "figure": top, "columns": _axis_pairs(top, "heatmap"), "rows": []})

    if "heatmaps" in spec.parts:
        heat = figures.heatmaps(view.panels, None, font_size=spec.font_size, compact=spec.compact)
        for trace in heat.data:   # sent once as arrays below, not as base64 inside the figure
            trace.z = None
        heat_json = _figure_json(heat)
        for i, panel in enumerate(view.panels):
            heat_json["data"][i]["z"] = {"$rows": arrays.add(panel.key, panel.values)}
        pairs = _axis_pairs(heat_json, "heatmap")
        figs.append({"id": "heatmaps", "figure": heat_json, "columns": pairs, "rows": pairs})

    blend_title = None
    if view.blend is not None and "blend" in spec.parts:
        b = view.blend
        names = {f: arrays.add(_blend_name(view, f), getattr(b, f)) for f in ("old", "candidate", "new", "gate")}
        fig = _figure_json(figures.interpolation(b, t0, titled=False, font_size=spec.font_size))
        bind = [{attr: ([names[f] if f else None for f in src] if isinstance(src, list) else names[src])
                 for attr, src in entry.items()} for entry in figures.BLEND_STEP_DATA]
        figs.append({"id": "blend", "figure": fig, "columns": [], "rows": [["xaxis", "yaxis"]], "bind": bind})
        blend_title = labels.plotly(f"Step {{t}}: {b.sentence}")

    eqs = view.equations if "equations" in spec.parts else None
    for name, values in (eqs.arrays.items() if eqs else ()):
        arrays.add(name, values)
    sentence = None
    if spec.sentence is not None:
        for name, values in spec.sentence.arrays.items():
            arrays.add(name, values)
        sentence = spec.sentence.template

    offsets, offset = {}, 0
    for name, values in arrays.named.items():
        offsets[name] = {"offset": offset, "shape": list(values.shape)}
        offset += values.nbytes
    head = {
        "name": spec.name, "steps": T, "units": H, "digits": equations.DIGITS,
        "start": {"t": t0, "unit": unit0},
        "link": spec.link, "present": spec.present, "fontSize": spec.font_size, "clicker": spec.clicker,
        "speeds": SPEEDS, "plotly": plotly_src(spec.base_url),
        "config": theme.PLOTLY_CONFIG,
        "colours": {"outer": theme.STEP_MARKER_OUTER, "inner": theme.STEP_MARKER_INNER,
                    "unit": theme.HIGHLIGHT_COLOUR},
        "figures": figs, "blendTitle": blend_title, "sentence": sentence,
        "equations": None if eqs is None else {
            "heading": f"<b>Unit {{unit}} at step {{t}}</b>: {eqs.title}, with this step's numbers.",
            "startNote": labels.plotly(view.start_note),
            "lines": [{"caption": e.caption, "symbolic": e.symbolic, "numeric": e.numeric} for e in eqs.lines],
        },
        "arrays": offsets,
    }
    return head, arrays.named


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """The same recorded numbers: one view of one buffer (a trace's properties return fresh views)."""
    return (a.shape == b.shape and a.dtype == b.dtype and a.strides == b.strides
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def _blend_name(view: CellView, field_name: str) -> str:
    """A blend field's array name: the panel's or the equations' name when it is the same array."""
    values = getattr(view.blend, field_name)
    for panel in view.panels:
        if _same(panel.values, values):
            return panel.key
    for name, arr in view.equations.arrays.items():
        if _same(arr, values):
            return name
    return f"blend_{field_name}"


def build(spec: StepSpec) -> bytes:
    """The whole message (see the module docstring)."""
    head, arrays = header(spec)
    text = json.dumps(head, separators=(",", ":"), allow_nan=False).encode()
    pad = (-(len(MAGIC) + 4 + len(text))) % 4
    return b"".join([MAGIC, struct.pack("<I", len(text)), text, b" " * pad, *(a.tobytes() for a in arrays.values())])


def read(message: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """The header and the arrays of a message (what the browser decodes; tests use it)."""
    if message[:8] != MAGIC:
        raise ValueError("not a step view message")
    (n,) = struct.unpack_from("<I", message, 8)
    head = json.loads(message[12:12 + n])
    start = 12 + n
    start += (-start) % 4
    body = np.frombuffer(message, dtype=np.float32, offset=start)
    arrays = {}
    for name, where in head["arrays"].items():
        size = int(np.prod(where["shape"]))
        first = where["offset"] // 4
        arrays[name] = body[first:first + size].reshape(where["shape"])
    return head, arrays


def figure_message(fig: go.Figure, *, name: str, base_url: str = "") -> bytes:
    """A figure drawn alone by the step view's widget, with the same plotly.js (step_view.figure):
    FIGURE, then the header as JSON (name, where plotly.js is, plotly's config, the figure)."""
    head = {"name": name, "plotly": plotly_src(base_url), "config": theme.PLOTLY_CONFIG, "figure": _figure_json(fig)}
    return FIGURE + json.dumps(head, separators=(",", ":"), allow_nan=False).encode()


def read_figure(message: bytes) -> dict:
    """The header of a figure message (tests use it)."""
    if message[:8] != FIGURE:
        raise ValueError("not a figure message")
    return json.loads(message[8:])
