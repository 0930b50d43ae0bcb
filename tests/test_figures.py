"""Figures are pure functions of the trace: the arrays drawn are exactly the recorded ones."""

from __future__ import annotations

import numpy as np
import pytest

from app import figures, labels, theme
from gru_core import CONVENTIONS, GRU
from gru_core import bit_addition as ba


@pytest.fixture(scope="module")
def lt():
    return GRU.random(3, 5, seed=1, scale=2.0).run(np.random.default_rng(0).normal(size=(12, 3))).last


def test_heatmaps_show_recorded_arrays_with_fixed_ranges(lt):
    fig = figures.gate_heatmaps(lt, 4, CONVENTIONS["pytorch"])
    heat = [tr for tr in fig.data if tr.type == "heatmap"]
    for tr, field in zip(heat, figures.HEATMAP_FIELDS):
        np.testing.assert_array_equal(tr.z, getattr(lt, field).T.astype(np.float32))
        assert tr.z.dtype == np.float32  # binary transport, not lists
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == theme.GATE_RANGE
    assert (fig.layout.coloraxis2.cmin, fig.layout.coloraxis2.cmax, fig.layout.coloraxis2.cmid) == (-1, 1, 0)
    marker_centres = {(s.x0 + s.x1) / 2 for s in fig.layout.shapes if s.name == figures.STEP_SHAPE}
    assert marker_centres == {4}


@pytest.mark.parametrize("name, one_means", [("pytorch", "keep the old state"),
                                              ("cho2014", "keep the old state"),
                                              ("chung2014", "take the new candidate")])
def test_update_gate_title_says_what_one_means(lt, name, one_means):
    fig = figures.gate_heatmaps(lt, 0, CONVENTIONS[name])
    z_title = fig.layout.annotations[0].text
    assert z_title.startswith("z · update gate") and f"1 = {one_means}" in z_title
    r_title = fig.layout.annotations[1].text
    assert r_title.startswith("r · reset gate")


def test_interpolation_places_recorded_points(lt):
    fig = figures.interpolation(lt, 6, CONVENTIONS["pytorch"], unit=2)
    by_name = {tr.name: tr for tr in fig.data if tr.name}
    np.testing.assert_array_equal(by_name[labels.plotly("h_{t-1} (old state)")].x, lt.h_prev[6].astype(np.float32))
    np.testing.assert_array_equal(by_name[labels.plotly("h̃_t (candidate)")].x, lt.h_tilde[6].astype(np.float32))
    np.testing.assert_array_equal(by_name[labels.plotly("h_t (new state)")].x, lt.h[6].astype(np.float32))
    assert "(1 − z)" in fig.layout.title.text
    chung = figures.interpolation(lt, 6, CONVENTIONS["chung2014"])
    assert "fraction z of the way" in chung.layout.title.text


def test_bit_rows_cross_wrong_bits():
    xs, target = ba.encode(5, 3)
    output = target.copy()
    output[1] ^= 1
    fig = figures.bit_rows(xs, target, output, 2)
    rows = fig.data[0].z
    np.testing.assert_array_equal(rows[2], target)
    crosses = [tr for tr in fig.data if tr.type == "scatter"]
    assert list(crosses[0].x) == [1]


def test_carry_units_highlights_the_strongest():
    corr = np.array([0.1, -0.9, 0.5])
    fig = figures.carry_units(corr)
    colours = fig.data[0].marker.color
    assert colours[1] == theme.HIGHLIGHT_COLOUR and colours[0] == theme.NEUTRAL_COLOUR


def test_label_rendering():
    assert labels.plotly("h_{t-1} and h̃_t") == "h<sub>t-1</sub> and h̃<sub>t</sub>"
    assert labels.md("h_{t-1} and h̃_t") == r"$h_{t-1}$ and $\tilde h_t$"
