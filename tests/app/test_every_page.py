"""Every page, in every convention: it runs, it shows no stray element, and its words about the gates
are the ones of the convention shown."""

from __future__ import annotations

import pytest
from helpers import app

from gru_core import CONVENTIONS

PAGES = [("bit_addition", None), ("sequence", None), ("lab", "tiny"), ("lab", "ablate"), ("train", None)]
# What z ≈ 1 means is the one phrase that flips between conventions; each must only ever say its own.
WRONG = {True: ("1 = take the new candidate", "z ≈ 1 means *take"),
         False: ("1 = keep the old state", "z ≈ 1 means *keep")}


def all_text(at) -> list[str]:
    out = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success",
                 "latex", "code"):
        out += [str(e.value) for e in getattr(at, kind)]
    for el in at.get("plotly_chart"):
        out.append(el.proto.spec)
    return out


@pytest.mark.parametrize("conv", list(CONVENTIONS))
@pytest.mark.parametrize("page, mode", PAGES, ids=[f"{p}-{m}" if m else p for p, m in PAGES])
def test_page_runs_cleanly_in_each_convention(page, mode, conv):
    at = app(conv=conv)
    at.switch_page(f"views/{page}.py").run()
    if mode:
        at.segmented_control(key="lab_mode").set_value(mode).run()
    for key in ("add_conv", "seq_conv", "lab_conv"):
        controls = [c for c in at.segmented_control if c.key == key]
        if controls:
            controls[0].set_value(conv).run()
    assert not at.exception, [e.value for e in at.exception]
    texts = all_text(at)
    stray = [t for t in texts if t.strip() in ("None", "null")]
    assert not stray, "a stray element (e.g. an expression statement written by Streamlit's magic)"
    z_keeps_old = CONVENTIONS[conv].z_keeps_old
    if page != "train" and mode != "ablate":  # those two show a model in its own convention
        for phrase in WRONG[z_keeps_old]:
            assert not [t for t in texts if phrase in t], f"{conv}: '{phrase}' is the other convention's"
