"""The step view's message: a pure function of the view, holding every recorded number it draws."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest

from app import cell_views, figures, step_payload
from app.step_payload import StepSpec, StepText
from gru_core import CONVENTIONS, GRU

SLOT = re.compile(r"\{([a-z_]+)(?::([a-z]+))?\}")


def view(T=7, H=3, name="pytorch"):
    lt = GRU.random(2, H, seed=1, convention=CONVENTIONS[name]).run(np.random.default_rng(0).normal(size=(T, 2))).last
    return lt, cell_views.gru_view(lt, CONVENTIONS[name])


def test_message_round_trip_is_exact_float32_unit_major():
    lt, v = view()
    head, arrays = step_payload.read(step_payload.build(StepSpec(v, start_t=3, start_unit=2, name="x1")))
    assert head["name"] == "x1" and head["start"] == {"t": 3, "unit": 2}
    assert (head["steps"], head["units"]) == (7, 3)
    np.testing.assert_array_equal(arrays["z"], lt.z.T.astype(np.float32))      # (H, T)
    np.testing.assert_array_equal(arrays["x"], lt.x.T.astype(np.float32))      # (I, T)
    for where in head["arrays"].values():
        assert where["offset"] % 4 == 0


def test_each_array_is_sent_once():
    _, v = view()
    head, arrays = step_payload.header(StepSpec(v))
    # the blend moves through arrays the heatmaps and equations already hold
    [blend] = [f for f in head["figures"] if f["id"] == "blend"]
    assert blend["bind"] == [{"x": ["h_prev", "h_tilde", None]}, {"x": "h_prev"}, {"x": "h_tilde"},
                             {"x": "h", "customdata": "z"}]
    assert len(arrays) == len(set(arrays)) == 15   # x, h_prev, z, r, h̃, h and 3 × (ip, hp, pre)
    heat = next(f for f in head["figures"] if f["id"] == "heatmaps")
    assert [tr["z"] for tr in heat["figure"]["data"]] == [{"$rows": k} for k in ("z", "r", "h_tilde", "h")]
    assert heat["columns"] == heat["rows"] == [[f"xaxis{s}", f"yaxis{s}"] for s in ("", "2", "3", "4")]


def test_every_slot_names_a_sent_array():
    lt, v = view()
    run_like = {"bit": np.arange(7) % 2, "ok": np.ones(7)}
    head, arrays = step_payload.header(StepSpec(v, sentence=StepText("{t}: {bit:i} {ok:mark}", run_like),
                                                top=figures.inputs(lt.x, None)))
    templates = [head["sentence"], head["blendTitle"], head["equations"]["heading"],
                 *(line["numeric"] for line in head["equations"]["lines"])]
    for template in templates:
        for name, fmt in SLOT.findall(template):
            assert name in ("t", "unit") or name in arrays, (name, template)
            assert fmt in ("", "p", "s", "i", "mark", "vec")
    top = head["figures"][0]
    assert top["id"] == "top" and top["columns"] == [["xaxis", "yaxis"]] and top["rows"] == []
    # the figures carry no step: the browser draws the outline over them
    for f in head["figures"]:
        assert not [s for s in f["figure"]["layout"].get("shapes", []) if s.get("name") == figures.STEP_SHAPE]


def test_start_is_clamped_and_arrays_must_match_the_view():
    _, v = view(T=5, H=2)
    head, _ = step_payload.header(StepSpec(v, start_t=99, start_unit=-3))
    assert head["start"] == {"t": 4, "unit": 0}
    with pytest.raises(ValueError, match="steps"):
        step_payload.header(StepSpec(v, sentence=StepText("{a}", {"a": np.zeros(4)})))


def test_not_a_message():
    with pytest.raises(ValueError):
        step_payload.read(b"hello world, this is not it")


def test_size_of_the_largest_views():
    """What is sent for the largest views the pages allow: float32, each array once."""
    _, big = view(T=2048, H=256)
    size = len(step_payload.build(StepSpec(big)))
    assert size < 16 * 2048 * 256 * 4          # 15 arrays of T × H float32, and the figures
    _, bits = view(T=1025, H=16)
    assert len(step_payload.build(StepSpec(bits))) < 1.5e6


def test_a_view_can_draw_only_some_of_its_parts():
    """A lesson's compact view: the sections left out are not sent, and what is kept is unchanged."""
    _, v = view()
    full, full_arrays = step_payload.header(StepSpec(view=v))
    head, arrays = step_payload.header(StepSpec(view=v, parts=frozenset({"blend"}), clicker=False))
    assert [f["id"] for f in head["figures"]] == ["blend"]
    assert head["equations"] is None and head["clicker"] is False and full["clicker"] is True
    assert set(arrays) < set(full_arrays)
    for name, values in arrays.items():
        np.testing.assert_array_equal(values, full_arrays[name])
    only_equations, _ = step_payload.header(StepSpec(view=v, parts=frozenset({"equations"})))
    assert only_equations["figures"] == [] and only_equations["equations"] == full["equations"]


def test_a_figure_alone_holds_the_figure_and_this_apps_plotly():
    corr = np.array([0.1, -0.9, 0.5])
    message = step_payload.figure_message(figures.carry_units(corr, [1]), name="add_carry", base_url="/lab/")
    assert message.startswith(step_payload.FIGURE) and not message.startswith(step_payload.MAGIC)
    head = step_payload.read_figure(message)
    assert head["name"] == "add_carry" and head["plotly"] == "/lab/app/static/plotly.min.js"
    bars = head["figure"]["data"][0]["y"]   # plotly 7: a typed array, base64
    drawn = np.frombuffer(base64.b64decode(bars["bdata"]), dtype=bars["dtype"])
    np.testing.assert_array_equal(drawn, corr.astype(np.float32))
    with pytest.raises(ValueError):
        step_payload.read(message)   # never taken for a step view
    with pytest.raises(ValueError):
        step_payload.read_figure(step_payload.build(StepSpec(view()[1])))
