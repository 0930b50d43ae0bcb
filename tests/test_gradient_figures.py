"""app/gradient_figures.py as pure functions: the numbers it reads from gru_core.gradients, its figures and
its sentences, in every GRU convention."""

from __future__ import annotations

import numpy as np
import pytest

from app import gradient_figures as gf
from app import labels, theme
from gru_core import CONVENTIONS, GRU, gradients
from gru_core.cells import LSTM, RNN

XS = np.random.default_rng(3).random((30, 2))
XS[:, 1] = 0.0
XS[[2, 20], 1] = 1.0          # the first marked number at step 2: 27 steps before the output


def gru(convention="pytorch", seed=0):
    return GRU.random(2, 5, seed=seed, scale=1.5, convention=convention)


def reach_of(cell, w=None):
    trace = cell.run(XS)
    w = np.linspace(-1, 1, cell.hidden_size) if w is None else w
    flow = gradients.gradient_flow(cell, trace, w)
    parts = gradients.gru_jacobian_parts(cell, trace) if isinstance(cell, GRU) else None
    return gf.reach(flow, float(trace.h[-1] @ w), parts), flow, trace


@pytest.mark.parametrize("conv", list(CONVENTIONS))
def test_the_three_paths_are_the_cores_parts_and_add_up_to_the_gradient(conv):
    cell = gru(conv)
    r, flow, trace = reach_of(cell)
    parts = gradients.gru_jacobian_parts(cell, trace)
    g, T = flow.state[-1], XS.shape[0]
    assert np.isnan(r.paths["keep"][0])
    for d in range(1, T):
        t = T - d
        pieces = {k: g[t] @ getattr(parts[t], k) for k in gf.PATHS}
        np.testing.assert_allclose(sum(pieces.values()), g[t - 1], rtol=1e-10, atol=1e-14)
        for k in gf.PATHS:
            assert r.paths[k][d] == pytest.approx(np.linalg.norm(pieces[k]), rel=1e-12)
    # the keep path is h_{t-1} copied with the weight the update gate sets, whatever z's direction
    w = trace.last.z if CONVENTIONS[conv].z_keeps_old else 1 - trace.last.z
    np.testing.assert_allclose(r.paths["keep"][1], np.linalg.norm(g[T - 1] * w[T - 1]), rtol=1e-12)


def test_the_paths_do_not_depend_on_which_way_z_is_written():
    """chung2014 is cho2014 with z ↔ 1 − z: the same network, so the same paths and the same sentence numbers."""
    cho = gru("cho2014")
    chung = cho.flip_update_gate()
    a, _, _ = reach_of(cho)
    b, _, _ = reach_of(chung)
    for k in gf.PATHS:
        np.testing.assert_allclose(a.paths[k], b.paths[k], rtol=1e-10)
    np.testing.assert_allclose(a.state, b.state, rtol=1e-10)


def test_reach_reads_the_flow_by_distance_and_is_read_only():
    r, flow, trace = reach_of(RNN.random(2, 6, seed=1))
    np.testing.assert_array_equal(r.state, flow.state_norms()[::-1])
    np.testing.assert_array_equal(r.value, flow.inputs[:, 0])
    assert r.paths is None and r.steps == 30
    with pytest.raises(ValueError):
        r.state[0] = 1.0
    assert r.mean_factor(10) == pytest.approx((r.state[10] / r.state[0]) ** (1 / 10), rel=1e-12)
    lstm, lflow, _ = reach_of(LSTM.random(2, 4, seed=2))
    np.testing.assert_array_equal(lstm.state, np.linalg.norm(lflow.state[-1], axis=1)[::-1])   # h and c together


def test_marks_and_distance():
    assert list(gf.marked_steps(XS)) == [2, 20]
    assert gf.first_mark_distance(XS) == 27


@pytest.mark.parametrize("value, text", [(0, "0"), (1.6931, "1.69"), (0.018731, "0.0187"), (1.6e-12, "1.6e-12"),
                                         (-0.0252, "-0.0252"), (12345.0, "1.2e+04")])
def test_numbers_are_written_as_the_page_quotes_them(value, text):
    assert gf.num(value) == text


def test_ratios():
    assert gf.times(90.4) == "90" and gf.times(2.54) == "2.5" and gf.times(3.1e9) == "3.1e+09"


def test_reach_figure_is_log_scale_with_the_numbers_on_hover_and_zeros_left_out():
    values = np.array([1.0, 0.5, 0.0, 1e-40])
    fig = gf.reach_figure([gf.Curve("plain RNN, trained", values, theme.CELL_COLOURS["rnn"], wide=True),
                           gf.Curve("GRU, at initialisation", values * 2, theme.CELL_COLOURS["gru"], dashed=True)],
                          marker=3, font_size=20)
    rnn, g = fig.data
    assert fig.layout.yaxis.type == "log" and fig.layout.font.size == 20
    np.testing.assert_array_equal(rnn.y, [1.0, 0.5, np.nan, 1e-40])    # float64: 1e-40 is kept exactly
    assert rnn.line.width == 4 and g.line.width == 2 and g.line.dash == "dot" and rnn.line.color == "#D55E00"
    assert "%{x} steps back: %{y:.3e}" in rnn.hovertemplate
    assert [s.x0 for s in fig.layout.shapes] == [3]


def test_cell_curves_draw_the_cell_in_focus_wider():
    r, _, _ = reach_of(gru())
    curves = gf.cell_curves({"gru": r}, {"gru": r}, "gru")
    assert [(c.name, c.wide, c.dashed) for c in curves] == [("GRU, trained", True, False),
                                                            ("GRU, at initialisation", True, True)]


@pytest.mark.parametrize("conv", list(CONVENTIONS))
def test_paths_figure_and_sentence_use_the_conventions_words(conv):
    convention = CONVENTIONS[conv]
    trained, _, _ = reach_of(gru(conv, seed=0))
    initial, _, _ = reach_of(gru(conv, seed=1))
    fig = gf.paths_figure(trained, initial, convention, marker=27)
    names = [tr.name for tr in fig.data]
    weight = "z" if convention.z_keeps_old else "1 − z"
    assert f"keep path (h<sub>t-1</sub> copied, weight {weight}), trained" in names
    for tr, key in zip(fig.data[1:4], gf.PATHS, strict=True):
        np.testing.assert_array_equal(tr.y, np.where(trained.paths[key] > 0, trained.paths[key], np.nan))
        assert tr.line.color == theme.PATH_COLOURS[key]
    text = gf.paths_sentence(trained, initial, 27, convention)
    keeps = "0" if conv == "chung2014" else "1"
    assert f"with the weight {weight} (in the {conv} convention z near {keeps} keeps the old state)" in text
    assert f"z near {'1' if keeps == '0' else '0'} keeps" not in text
    assert labels.md(labels.keep_path_text(convention)) in text
    keep, cand = trained.paths["keep"][1:28], trained.paths["candidate"][1:28]
    assert f"{gf.times(float(np.median(keep / cand)))} times as much" in text
    assert gf.num(initial.mean_factor(27)) in text and gf.num(trained.mean_factor(27)) in text


def test_paths_figure_refuses_a_cell_without_the_split():
    r, _, _ = reach_of(RNN.random(2, 3))
    with pytest.raises(ValueError, match="GRU"):
        gf.paths_figure(r, r, CONVENTIONS["pytorch"])
    assert gf.paths_sentence(r, r, 5, CONVENTIONS["pytorch"]) == ""


def test_reach_sentence_reads_each_curve_at_the_distance():
    rs = {"rnn": reach_of(RNN.random(2, 6, seed=1))[0], "gru": reach_of(gru())[0],
          "lstm": reach_of(LSTM.random(2, 4, seed=2))[0]}
    text = gf.reach_sentence(rs, rs, 27)
    for c, r in rs.items():
        assert f"{gf.NAMES[c]} {gf.num(float(r.state[27]))}" in text
    ratio = gf.times(float(rs["gru"].state[27] / rs["rnn"].state[27]))
    assert f"the GRU's is {ratio} times the plain RNN's" in text
    short = gf.reach_sentence(rs, rs, 27, short=True)
    assert len(short) < len(text) / 2 and f"the GRU's is {ratio} times" in short


def test_reach_sentence_when_the_rnn_underflows():
    r, _, _ = reach_of(gru())
    zero = gf.Reach(state=np.zeros(30), value=np.zeros(30), answer=0.0)
    text = gf.reach_sentence({"rnn": zero, "gru": r}, {"rnn": zero, "gru": r}, 27)
    assert "underflowed to exactly 0" in text and "times the plain RNN's" not in text


def test_value_sentence_quotes_the_slope_at_the_first_marked_number():
    rs = {"rnn": reach_of(RNN.random(2, 6, seed=1))[0], "gru": reach_of(gru())[0]}
    text = gf.value_sentence(rs, 2)
    assert (f"the trained plain RNN's answer moves by {gf.num(float(rs['rnn'].value[2]))} ε and the GRU's by "
            f"{gf.num(float(rs['gru'].value[2]))} ε") in text
    assert "exactly ε" in text


def test_live_figure_has_the_loss_and_the_gradient_side_by_side():
    run = gf.LiveRun(iterations=np.arange(1, 51.0), losses=np.linspace(0.2, 0.05, 50), checked=np.array([0, 25, 50.0]),
                     at_mark=np.array([1e-9, 1e-3, 0.5]))
    fig = gf.live_figure({"gru": run, "rnn": run}, 1 / 6, 27, font_size=14)
    loss = [tr for tr in fig.data if tr.xaxis in (None, "x")]
    grads = [tr for tr in fig.data if tr.xaxis == "x2"]
    assert [tr.name for tr in loss] == ["GRU", "plain RNN"] and len(grads) == 2
    np.testing.assert_array_equal(grads[0].y, run.at_mark)
    assert fig.layout.yaxis.type is None and fig.layout.yaxis2.type == "log"   # the loss linear, the gradient log
    np.testing.assert_array_equal(loss[0].y, run.losses)
    assert [s.y0 for s in fig.layout.shapes] == [1 / 6]
    assert any("27 steps back" in a.text for a in fig.layout.annotations)


def test_table_columns_quote_the_metrics_as_written():
    metrics = {"mse": 0.0078049, "baseline_mse": 1 / 6, "solved": 1.0, "iterations": 550, "train_seconds": 9.132}
    cols = gf.table_columns([{"cell": "gru", "length": 50, "metrics": metrics, "params": 977, "recording_s": 2.46e-5}])
    assert cols["cell"] == ["GRU"] and cols["held-out MSE"] == ["0.0078"] and cols["MSE ÷ baseline"] == ["0.047"]
    assert cols["solved"] == ["yes"] and cols["training ms / iteration (file)"] == ["16.6"]
    assert cols["recorded forward µs / step (this server)"] == ["24.6"] and cols["parameters"] == [977]
