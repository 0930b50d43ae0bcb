"""Read back what a page showed: plotly figures (decoded binary arrays), latex numbers."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
ENTRY = str(ROOT / "app" / "streamlit_app.py")


def app(**query: str) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    return at


def decode(value):
    """plotly 7 stores arrays as {"dtype", "bdata", "shape"}; plain lists pass through."""
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if shape:
            arr = arr.reshape([int(s) for s in str(shape).split(",")] if isinstance(shape, str) else shape)
        return arr
    return np.asarray(value)


def figures(at: AppTest) -> dict[str, dict]:
    """Every plotly chart on the page by its key suffix (e.g. 'heatmaps')."""
    out = {}
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        key = el.proto.id
        out[key] = spec
    return out


def figure(at: AppTest, name: str) -> dict:
    matches = [spec for key, spec in figures(at).items() if name in key]
    assert len(matches) == 1, f"expected one chart named {name}, found {len(matches)}: {list(figures(at))}"
    return matches[0]


def heatmap_arrays(fig: dict) -> list[np.ndarray]:
    return [decode(tr["z"]) for tr in fig["data"] if tr["type"] == "heatmap"]


def step_marker_x(fig: dict) -> set[float]:
    """Centres of the current-step outlines in a figure."""
    return {round((s["x0"] + s["x1"]) / 2, 6) for s in fig["layout"].get("shapes", []) if s.get("name") == "step"}


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def equation_lines(at: AppTest) -> list[str]:
    """The lines of the page's equations block (one st.latex holding every equation)."""
    blocks = [x for x in texts(at.latex) if r"\begin{aligned}" in x]
    assert len(blocks) == 1, f"expected one equations block, found {len(blocks)}"
    return [line.strip() for line in blocks[0].strip("$\n ").split(r"\\")]


def numeric_line(at: AppTest, symbol: str, t: int, unit: int) -> str:
    """The substituted line for ``symbol`` (r, z, \\tilde h, h) of unit ``unit`` at step ``t``."""
    head = f"{symbol}_{{{t},{unit}}}"
    return next(line for line in equation_lines(at) if line.replace(r"\begin{aligned} ", "").startswith(head))


def numbers_in(latex: str) -> np.ndarray:
    """Every decimal number in a LaTeX string, in order (to read the equations back from a page)."""
    import re

    return np.array([float(m) for m in re.findall(r"-?\d+\.\d+", latex)])


# -- the browser step view: the one message it is sent ------------------------------------------
def step_views(at: AppTest) -> dict[str, tuple[dict, dict[str, np.ndarray]]]:
    """Every step view on the page by its name (the page's prefix): (header, arrays)."""
    from app import step_payload

    out = {}
    for el in at.get("bidi_component"):
        if not el.proto.bytes.startswith(step_payload.MAGIC):   # plotly.js's fetch, or a figure alone
            continue
        head, arrays = step_payload.read(el.proto.bytes)
        out[head["name"]] = (head, arrays)
    return out


def figure_alone(at: AppTest, name: str) -> dict:
    """A figure the page draws alone with the step view's plotly.js (step_view.figure), by its key."""
    from app import step_payload

    heads = [step_payload.read_figure(el.proto.bytes) for el in at.get("bidi_component")
             if el.proto.bytes.startswith(step_payload.FIGURE)]
    figs = [head["figure"] for head in heads if head["name"] == name]
    assert len(figs) == 1, f"{len(figs)} figures called {name!r}"
    return figs[0]


def step_view(at: AppTest, name: str) -> tuple[dict, dict[str, np.ndarray]]:
    views = step_views(at)
    assert name in views, f"no step view {name!r} on the page: {list(views)}"
    return views[name]


def step_figure(at: AppTest, name: str, figure_id: str) -> dict:
    """One figure of a step view ('top', 'heatmaps', 'blend'), its heatmaps' rows filled in (H, T)."""
    head, arrays = step_view(at, name)
    [fig] = [f["figure"] for f in head["figures"] if f["id"] == figure_id]
    for trace in fig["data"]:
        if isinstance(trace.get("z"), dict) and "$rows" in trace["z"]:
            trace["z"] = arrays[trace["z"]["$rows"]]
    return fig


def assert_step_view_shows(at: AppTest, name: str, lt, t: int = 0, unit: int = 0) -> dict:
    """The step view ``name`` holds exactly the recorded layer ``lt`` (float32) and opens at (t, unit):
    its heatmaps, the blend it moves through and every number its equations name."""
    head, arrays = step_view(at, name)
    assert head["start"] == {"t": t, "unit": unit}
    assert (head["steps"], head["units"]) == lt.h.shape
    heat = step_figure(at, name, "heatmaps")
    shown = [tr["z"] for tr in heat["data"] if tr["type"] == "heatmap"]
    for rows, recorded in zip(shown, (lt.z, lt.r, lt.h_tilde, lt.h), strict=True):
        np.testing.assert_array_equal(rows, recorded.T.astype(np.float32))
    H = lt.hidden_size
    recorded = {"x": lt.x, "h_prev": lt.h_prev, "r": lt.r, "z": lt.z, "h_tilde": lt.h_tilde, "h": lt.h}
    for k, g in enumerate("rzn"):
        for part, short in (("input_part", "ip"), ("hidden_part", "hp"), ("pre", "pre")):
            recorded[f"{short}_{g}"] = getattr(lt, part)[:, k * H:(k + 1) * H]
    for key, values in recorded.items():
        np.testing.assert_array_equal(arrays[key], values.T.astype(np.float32), err_msg=key)
    [blend] = [f for f in head["figures"] if f["id"] == "blend"]
    assert blend["bind"][1] == {"x": "h_prev"} and blend["bind"][2] == {"x": "h_tilde"}
    assert blend["bind"][3] == {"x": "h", "customdata": "z"}
    return head


def step_heatmaps(at: AppTest, name: str) -> list[np.ndarray]:
    """The heatmaps of step view ``name``, each (H, T) as drawn."""
    return [tr["z"] for tr in step_figure(at, name, "heatmaps")["data"] if tr["type"] == "heatmap"]
