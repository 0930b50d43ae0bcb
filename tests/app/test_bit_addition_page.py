"""The bit-addition page through AppTest: what it shows equals what gru_core recorded."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import app, assert_step_view_shows, decode, figure_alone, step_figure, step_view, texts

from gru_core import registry
from gru_core.tasks import bit_addition as ba


@pytest.fixture(scope="module")
def models():
    return {c: registry.shipped_adder(c) for c in ("pytorch", "cho2014", "chung2014")}


def assert_page_matches(at, model, a, b, t, unit=0):
    run = ba.run_addition(model, a, b)
    assert not at.exception, [e.value for e in at.exception]
    assert_step_view_shows(at, "add", run.trace.last, t, unit)
    rows = decode(step_figure(at, "add", "top")["data"][0]["z"])
    np.testing.assert_array_equal(rows[2], run.target)
    np.testing.assert_array_equal(rows[3], run.output)
    head, arrays = step_view(at, "add")
    np.testing.assert_array_equal(arrays["output"], run.output)
    np.testing.assert_array_equal(arrays["carry_out"], run.carries)
    np.testing.assert_array_equal(arrays["carry_in"], np.r_[0, run.carries[:-1]])
    np.testing.assert_array_equal(arrays["logit"], run.logits.astype(np.float32))
    assert head["link"] is True
    return run


def test_default_example_shows_several_carries(models):
    at = app()
    at.run()
    run = assert_page_matches(at, models["pytorch"], 45, 27, 0)
    assert run.carries.sum() >= 4
    assert "45 + 27 = 72" in at.success[0].value and "right" in at.success[0].value
    assert at.query_params["a"] == ["45"] or at.query_params["a"] == "45"


def test_shared_link_opens_at_the_step(models):
    at = app(a="13", b="7", t="2", unit="3")
    at.run()
    assert_page_matches(at, models["pytorch"], 13, 7, 2, unit=3)
    assert "13 + 7 = 20" in at.success[0].value
    # from here on the browser owns the step: the server leaves ?t= and ?unit= to it
    assert "t" not in at.query_params and "unit" not in at.query_params


def test_stepping_sends_nothing_new(models):
    """Every step of the view is in the one message: a rerun of the page sends the same bytes."""
    at = app(a="13", b="7")
    at.run()
    first = [el.proto.bytes for el in at.get("bidi_component")]
    at.run()
    assert [el.proto.bytes for el in at.get("bidi_component")] == first


def test_new_operands(models):
    at = app()
    at.run()
    at.text_input(key="add_a_text").set_value("1000").run()
    at.text_input(key="add_b_text").set_value("2000").run()
    assert_page_matches(at, models["pytorch"], 1000, 2000, 0)
    assert "1,000 + 2,000 = 3,000" in at.success[0].value


def test_256_bit_operands(models):
    a, b = 2**256 - 1, 2**255 + 12345
    at = app(a=str(a), b=str(b), t="256")
    at.run()
    assert_page_matches(at, models["pytorch"], a, b, 256)
    assert "right" in at.success[0].value


@pytest.mark.parametrize("conv", ["cho2014", "chung2014"])
def test_convention_switch_relabels_and_reexpresses(models, conv):
    at = app(a="45", b="27", t="3")
    at.run()
    at.segmented_control(key="add_conv").set_value(conv).run()
    assert_page_matches(at, models[conv], 45, 27, 3)
    heat = step_figure(at, "add", "heatmaps")
    z_title = heat["layout"]["annotations"][0]["text"]
    expected = "keep the old state" if conv == "cho2014" else "take the new candidate"
    assert f"1 = {expected}" in z_title
    head, _ = step_view(at, "add")
    h_eq = head["equations"]["lines"][-1]["symbolic"]
    if conv == "chung2014":
        assert h_eq.endswith("<i>h</i><sub>t−1</sub> + <i>z</i><sub>t</sub> ⊙ <i>h̃</i><sub>t</sub>")
    else:
        assert h_eq.endswith("<i>h̃</i><sub>t</sub> + <i>z</i><sub>t</sub> ⊙ <i>h</i><sub>t−1</sub>")
    assert f"in the {conv} convention" in head["equations"]["heading"]
    assert str(at.query_params["conv"]).strip("[]'") == conv


def test_chung_is_cho_with_z_flipped_on_the_page(models):
    """Same network, other labelling: h identical, z ↔ 1 − z."""
    cho = ba.run_addition(models["cho2014"], 45, 27).trace.last
    chung = ba.run_addition(models["chung2014"], 45, 27).trace.last
    np.testing.assert_allclose(chung.h, cho.h, atol=1e-12)
    np.testing.assert_allclose(chung.z, 1 - cho.z, atol=1e-12)


@pytest.mark.parametrize("query, fragment", [
    ({"a": "banana"}, "a=banana"), ({"t": "999999"}, "t=999999"), ({"a": "-5"}, "below 0"),
    ({"b": str(2**1100)}, "too large"), ({"conv": "keras"}, "conv=keras"), ({"unit": "-1"}, "below 0"),
])
def test_bad_links_warn_and_fall_back(models, query, fragment):
    at = app(**query)
    at.run()
    assert not at.exception
    assert any(fragment in w for w in texts(at.warning)), texts(at.warning)
    assert at.success or at.error  # the page still shows an addition


def test_bad_typed_operand_keeps_the_last_good_addition(models):
    at = app(a="13", b="7")
    at.run()
    at.text_input(key="add_a_text").set_value("12abc").run()
    assert not at.exception
    assert any("12abc" in e and "still showing" in e for e in texts(at.error))
    assert "13 + 7 = 20" in at.success[0].value
    assert at.text_input(key="add_a_text").value == "12abc"  # what was typed is not thrown away


def test_random_example(models):
    at = app()
    at.run()
    at.selectbox(key="add_random_bits").set_value(64).run()
    buttons = [bt for bt in at.button if bt.label == "Random example"]
    buttons[0].click().run()
    a, b = int(at.text_input(key="add_a_text").value), int(at.text_input(key="add_b_text").value)
    assert (a, b) != (45, 27) and max(a, b) < 2**64
    assert_page_matches(at, models["pytorch"], a, b, 0)


def recompute_finding(model, sample):
    """The carry finding worked out here, step by step from recorded traces, independently of the core:
    units within 0.005 of the best |correlation|; over the steps where the carry holds, the weight h_t
    gives h_{t-1} (read off the recorded numbers: h_t = w h_{t-1} + (1 − w) h̃_t)."""
    T = sample.steps
    hs, ws, c_out = [], [], []
    for a, b in sample.pairs():
        lt = model.cell.run(ba.encode(a, b, T)[0]).last
        hs.append(lt.h)
        with np.errstate(divide="ignore", invalid="ignore"):
            ws.append((lt.h - lt.h_tilde) / (lt.h_prev - lt.h_tilde))   # the blend weight on h_{t-1}
        c_out.append(ba.carries(a, b, T))
    h, w, c = np.concatenate(hs), np.concatenate(ws), np.concatenate(c_out).astype(float)
    c_in = np.concatenate([np.r_[0, x[:-1]] for x in c_out])
    corr = np.array([np.corrcoef(h[:, j], c)[0, 1] if h[:, j].std() else 0.0 for j in range(h.shape[1])])
    units = np.flatnonzero(np.abs(corr) >= np.abs(corr).max() - 0.005)
    holding = (c_in == 1) & (c == 1)
    weight = {j: np.nanmean(w[holding, j]) for j in units}
    keeps = {j: np.nanmean(w[holding, j] > 0.5) for j in units}
    return corr, units, weight, keeps


@pytest.mark.parametrize("conv", ["pytorch", "cho2014", "chung2014"])
def test_the_carry_finding_is_computed_from_the_model_shown(models, conv):
    at = app(conv=conv)
    at.run()
    assert not at.exception
    corr, units, weight, keeps = recompute_finding(models[conv], ba.EXACT_SUM_CHECK)
    bars = figure_alone(at, "add_carry")["data"][0]
    np.testing.assert_allclose(decode(bars["y"]), corr, atol=1e-5)
    words = " ".join(texts(at.markdown))
    named = "Units " + " and ".join(str(j) for j in units) if len(units) > 1 else f"Unit {units[0]}"
    assert named in words
    assert ("spread over more than one unit" in words) == (len(units) > 1)
    for j in units:
        assert f"average weight of {weight[j]:.3f}" in words
        # the shipped adders carry through the candidate: say so, in every convention
        assert keeps[j] < 0.5 and "travels through the candidate" in words
    assert ("(that weight is z in" in words) == (conv != "chung2014")
    assert ("update gate holds the carry" not in words) and ("gate holds" not in words)
