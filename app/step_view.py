"""The step view: one browser widget that steps through a recorded view with no server round trip.

A page hands over what it shows — a CellView, and optionally a figure above it and a sentence per
step — once; app/step_payload.py turns that into one message and app/frontend/step_view.js draws
every step from it. The server never hears of the step: t and the unit start where the link (or
the session) says, then belong to the browser tab (its URL and its session storage).

    step_view.show("add", step_view.fingerprint(model.cell, xs), view, top=lambda: bits_figure(run))

``key`` names what is shown: two calls with the same key show the same thing, so the message is
built once and shared by every session that asks for it (bounded by bytes: app/capacity.py).
``figure(name, fig)`` draws a page's other figures with the same widget and plotly.js, so a page
with a step view loads one copy of plotly.js, not Streamlit's as well.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Callable, Hashable
from pathlib import Path

import numpy as np
import plotly
import plotly.graph_objects as go
import streamlit as st

from . import limits, session, step_payload, ui
from .capacity import ByteCache
from .cell_views import CellView
from .step_payload import StepSpec, StepText

FRONTEND = Path(__file__).parent / "frontend"
STATIC = Path(__file__).parent / "static"   # served at /app/static/ (server.enableStaticServing)


def serve_plotly() -> Path:
    """Copy plotly.js from the plotly package to the app's static folder (once per install): a
    classroom may have no internet, so the browser fetches it from this server. Beside it a gzipped
    copy, made once here: Streamlit gzips a .js file from the static folder again on every request
    (level 9, about half a second of CPU for plotly.js before its first byte leaves), while a .gz
    is sent as it lies; the step view fetches that and unpacks it (app/frontend/step_view.js)."""
    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    target = STATIC / "plotly.min.js"
    packed = STATIC / "plotly.min.js.gz"
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        STATIC.mkdir(exist_ok=True)
        _write(target, source.read_bytes())
    if not packed.exists() or packed.stat().st_mtime < target.stat().st_mtime:
        _write(packed, gzip.compress(target.read_bytes(), compresslevel=9, mtime=0))
    return target


def _write(target: Path, data: bytes) -> None:
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)   # atomic: another process may be serving it


MESSAGES: ByteCache[bytes] = ByteCache(limits.MESSAGE_CACHE_BYTES, size=len)


def fingerprint(cell, xs: np.ndarray, *extra: Hashable) -> tuple:
    """A key for a view of ``cell`` (any recorded cell) run on ``xs``: the cell's own content hash
    (gru_core: parameters and convention) and a digest of the inputs, which together fix every
    recorded number (a few milliseconds, not a hash of the trace)."""
    xs = np.ascontiguousarray(xs)
    inputs = hashlib.blake2b(xs.tobytes() + str(xs.shape).encode(), digest_size=16).hexdigest()
    return (cell.fingerprint(), inputs, *extra)


@st.cache_resource
def _component():
    serve_plotly()
    return st.components.v2.component(
        "gru_step_view", js=(FRONTEND / "step_view.js").read_text(), css=(FRONTEND / "step_view.css").read_text(),
        # plotly.js puts its own CSS in the document head (hover labels, mode bar, colour bars)
        isolate_styles=False)


def _base_url() -> str:
    """server.baseUrlPath: where this app is served, so plotly.js is fetched from this app itself."""
    return str(st.get_option("server.baseUrlPath") or "")


def preload() -> None:
    """Start fetching plotly.js as soon as a page opens, not when its step view arrives (a step
    view comes after the page's other content has been computed): an empty instance of the widget
    whose only job is the fetch. It draws nothing."""
    src = step_payload.plotly_src(_base_url())
    _component()(key=session.element("app_preload"), data=step_payload.PRELOAD + src.encode())


def figure(name: str, fig: go.Figure) -> None:
    """Draw ``fig`` alone (no steps) with the step view's own plotly.js. A page with a step view
    draws its other figures this way: st.plotly_chart would load Streamlit's copy of plotly.js as
    well (4.7 MB more to parse before the page settles; the bit page's first paint was 1.4× the
    page before it with both). ``name``: the element's key in app/session.py."""
    data = step_payload.figure_message(fig, name=name, base_url=_base_url())
    _component()(key=session.element(name), data=data)


def start(prefix: str) -> tuple[int, int]:
    """Where the view opens: the step and unit from the link, or 0 and 0."""
    return int(session.get(f"{prefix}_t")), int(session.get(f"{prefix}_unit"))


def show(prefix: str, key: Hashable, view: CellView, *, top: Callable[[], go.Figure] | None = None,
         sentence: Callable[[], StepText] | None = None, link: bool = False,
         parts: frozenset[str] = step_payload.PARTS, clicker: bool = True, compact: bool = False) -> None:
    """Draw the step view of ``view``. ``top`` and ``sentence`` make the figure above it and the
    per-step sentence; they are called only when the message is built, not on every rerun.
    ``link``: the page's URL carries ?t= and ?unit= (the browser keeps them up to date; the server
    reads them once, when a link is opened). ``parts``: the sections drawn (step_payload.PARTS);
    ``clicker``: whether Page Up / Page Down step this view (a page with steps of its own says no);
    ``compact``: heatmaps about half as tall."""
    t, unit = start(prefix)
    present, font_size = ui.presenting(), ui.font_size()
    base_url = _base_url()

    def build() -> bytes:
        return step_payload.build(StepSpec(
            view=view, top=top() if top else None, sentence=sentence() if sentence else None, start_t=t,
            start_unit=unit, link=link, present=present, font_size=font_size, name=prefix, base_url=base_url,
            parts=parts, clicker=clicker, compact=compact))

    data = MESSAGES.get((key, prefix, t, unit, link, present, font_size, base_url, parts, clicker, compact), build)
    if link:
        session.write_link({}, drop_params=session.BROWSER_PARAMS)
    _component()(key=session.element(f"{prefix}_steps"), data=data)
