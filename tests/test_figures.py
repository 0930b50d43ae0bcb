"""Figures are pure functions of the trace: the arrays drawn are exactly the recorded ones."""

from __future__ import annotations

import numpy as np
import pytest

from app import cell_views, figures, labels, theme
from gru_core import CONVENTIONS, GRU
from gru_core.tasks import bit_addition as ba

FIELDS = ("z", "r", "h_tilde", "h")


@pytest.fixture(scope="module")
def lt():
    return GRU.random(3, 5, seed=1, scale=2.0).run(np.random.default_rng(0).normal(size=(12, 3))).last


def view(lt, name="pytorch"):
    return cell_views.gru_view(lt, CONVENTIONS[name])


def test_heatmaps_show_recorded_arrays_with_fixed_ranges(lt):
    fig = figures.heatmaps(view(lt).panels, 4)
    heat = [tr for tr in fig.data if tr.type == "heatmap"]
    for tr, field in zip(heat, FIELDS, strict=True):
        np.testing.assert_array_equal(tr.z, getattr(lt, field).T.astype(np.float32))
        assert tr.z.dtype == np.float32  # binary transport, not lists
    assert [tr.coloraxis for tr in heat] == ["coloraxis", "coloraxis", "coloraxis2", "coloraxis2"]
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == theme.GATE_RANGE
    assert (fig.layout.coloraxis2.cmin, fig.layout.coloraxis2.cmax, fig.layout.coloraxis2.cmid) == (-1, 1, 0)
    assert fig.layout.coloraxis.colorbar.title.text and fig.layout.coloraxis2.colorbar.title.text
    marker_centres = {(s.x0 + s.x1) / 2 for s in fig.layout.shapes if s.name == figures.STEP_SHAPE}
    assert marker_centres == {4}


@pytest.mark.parametrize("name, one_means", [("pytorch", "keep the old state"),
                                              ("cho2014", "keep the old state"),
                                              ("chung2014", "take the new candidate")])
def test_update_gate_title_says_what_one_means(lt, name, one_means):
    fig = figures.heatmaps(view(lt, name).panels, 0)
    z_title = fig.layout.annotations[0].text
    assert z_title.startswith("z · update gate") and f"1 = {one_means}" in z_title
    r_title = fig.layout.annotations[1].text
    assert r_title.startswith("r · reset gate")


def test_reset_title_is_exact_in_each_convention(lt):
    after = figures.heatmaps(view(lt, "pytorch").panels, 0).layout.annotations[1].text
    assert "b<sub>hn</sub>" in after and "bias included" in after     # r also scales b_hn there
    before = figures.heatmaps(view(lt, "cho2014").panels, 0).layout.annotations[1].text
    assert "ignores h<sub>t-1</sub>" in before and "b<sub>hn</sub>" not in before
    assert "_" not in after.replace("<sub>", "") and "_" not in before.replace("<sub>", "")


def test_interpolation_places_recorded_points(lt):
    fig = figures.interpolation(view(lt).blend, 6, unit=2)
    by_name = {tr.name: tr for tr in fig.data if tr.name}
    np.testing.assert_array_equal(by_name[labels.plotly("h_{t-1} (old state)")].x, lt.h_prev[6].astype(np.float32))
    np.testing.assert_array_equal(by_name[labels.plotly("h̃_t (candidate)")].x, lt.h_tilde[6].astype(np.float32))
    np.testing.assert_array_equal(by_name[labels.plotly("h_t (new state)")].x, lt.h[6].astype(np.float32))
    assert "(1 − z)" in fig.layout.title.text
    chung = figures.interpolation(view(lt, "chung2014").blend, 6)
    assert "fraction z of the way" in chung.layout.title.text


def test_inputs_colour_bar_has_a_title_and_a_fixed_range(lt):
    fig = figures.inputs(lt.x, 3)
    tr = fig.data[0]
    assert tr.colorbar.title.text == "input"
    assert (tr.zmin, tr.zmax) == (min(0.0, lt.x.min()), max(1.0, lt.x.max()))


def test_bit_rows_cross_wrong_bits():
    xs, target = ba.encode(5, 3)
    output = target.copy()
    output[1] ^= 1
    fig = figures.bit_rows(xs, target, output, 2)
    rows = fig.data[0].z
    np.testing.assert_array_equal(rows[2], target)
    crosses = [tr for tr in fig.data if tr.type == "scatter"]
    assert list(crosses[0].x) == [1]


def test_carry_units_highlights_the_named_units():
    corr = np.array([0.1, -0.9, 0.5, -0.899])
    fig = figures.carry_units(corr, [1, 3])
    colours = fig.data[0].marker.color
    assert colours[1] == colours[3] == theme.HIGHLIGHT_COLOUR and colours[0] == theme.NEUTRAL_COLOUR
    assert [a.text for a in fig.layout.annotations] == ["unit 1", "unit 3"]


def test_label_rendering():
    assert labels.plotly("h_{t-1} and h̃_t") == "h<sub>t-1</sub> and h̃<sub>t</sub>"
    assert labels.md("h_{t-1} and h̃_t") == r"$h_{t-1}$ and $\tilde h_{t}$"
    assert labels.md("W_hn and b_hn, not bias_ih") == "$W_{hn}$ and $b_{hn}$, not bias_ih"
