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
