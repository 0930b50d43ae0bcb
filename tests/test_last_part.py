"""Only the last part counts (seed 003's reset gate): the data is what the docstring says, the shipped
model answers it far better than the yardsticks, and the reset finding is recomputed here step by step
from the recorded gates, independently of gru_core.tasks.last_part.reset_finding, in every convention."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gru_core import registry
from gru_core.tasks import Task, task_named
from gru_core.tasks import last_part as lp
from gru_core.train import TrainConfig, train
from tests.test_read_only import assert_read_only


@pytest.fixture(scope="module")
def model():
    return registry.load("last_part")


def _review(values, marks):
    xs = np.zeros((len(values), 2), np.float32)
    xs[:, 0], xs[marks, 1] = values, 1.0
    return xs


# -- the data ----------------------------------------------------------------------------------------
def test_hand_computed_targets():
    xs = np.stack([_review([0.5, -0.25, 1.0, 0.5, -1.0], [1, 3]),     # last part: steps 3, 4
                   _review([0.5, -0.25, 1.0, 0.5, -1.0], [0]),        # one part: the whole review
                   _review([0.5, -0.25, 1.0, 0.5, -1.0], [2, 4])])    # last part: the last step alone
    np.testing.assert_array_equal(lp.last_markers(xs), [3, 0, 4])
    ys = lp.targets(xs)
    assert ys.shape == (3, 1) and ys.dtype == np.float32
    np.testing.assert_array_equal(ys[:, 0], [-0.5, 0.75, -1.0])
    with pytest.raises(ValueError, match="at least one marker"):
        lp.targets(_review([1.0, 2.0, 3.0, 4.0], [])[None])


def test_sequences_and_batches_are_what_the_docstring_says():
    xs, ys = lp.sequences(np.random.default_rng(0), 400, 15, max_markers=3)
    assert xs.shape == (400, 15, 2) and ys.shape == (400, 1) and xs.dtype == ys.dtype == np.float32
    marks = xs[:, :, 1]
    assert set(np.unique(marks)) == {0.0, 1.0}
    counts = marks.sum(axis=1)
    assert counts.min() == 1 and counts.max() == 3
    assert (np.abs(xs[:, :, 0]) <= 1).all()
    for x, y in zip(xs, ys, strict=True):       # the sum from the last marker on, step by step
        last = max(t for t in range(15) if x[t, 1] == 1)
        assert y[0] == pytest.approx(sum(float(x[t, 0]) for t in range(last, 15)), abs=1e-5)
    task = lp.LastPart()
    rng = np.random.default_rng(1)
    stage = task.curriculum()[0]
    seen = set()
    for _ in range(40):
        bx, by = task.batch(rng, 8, stage)
        assert bx.shape[0] == by.shape[0] == 8 and bx.shape[2] == 2 and by.shape == (8, 1)
        seen.add(bx.shape[1])
        np.testing.assert_array_equal(by, lp.targets(bx))
    assert seen <= set(task.lengths()) and len(seen) > 3
    with pytest.raises(ValueError, match="at least 4"):
        lp.sequences(rng, 1, 3)


def test_it_is_a_task_rebuilt_from_its_settings_and_it_trains():
    task = lp.LastPart(min_length=6, max_length=8, iterations=30, polish_iterations=5, check_every=10)
    assert isinstance(task, Task) and task_named("last_part", **task.settings()) == task
    model = train(task, TrainConfig(hidden_size=4, seed=0))
    assert model.metrics["iterations"] == 35 and not model.readout.per_step
    scores = task.evaluate(model)
    assert set(scores) == {"mse", "baseline_mse", "no_reset_mse", "solved", "within_0.2", "reset_blind_mse",
                           "update_blind_mse", "candidate_blind_mse"}


def test_the_best_constant_is_zero_and_its_error_is_the_variance():
    _, ys = lp.sequences(np.random.default_rng(2), 20_000, 15)
    assert abs(ys.mean()) < 0.05
    assert lp.mse(np.zeros_like(ys), ys) < lp.mse(np.full_like(ys, 0.2), ys)


# -- the shipped model -------------------------------------------------------------------------------
def test_the_shipped_model_beats_every_yardstick(model):
    scores = lp.LastPart().evaluate(model)
    assert scores == pytest.approx({k: model.metrics[k] for k in scores})        # what its file says
    assert scores["mse"] < lp.SOLVED_MSE and scores["solved"] == 1.0
    assert scores["mse"] < scores["baseline_mse"] / 100 and scores["mse"] < scores["no_reset_mse"] / 100
    # cutting the marker's wire to either gate costs a lot: both react to "a new part starts here"
    assert scores["reset_blind_mse"] > 10 * scores["mse"] and scores["update_blind_mse"] > 10 * scores["mse"]


def by_hand(model, batch):
    """Per unit, mean r at marker steps and elsewhere, read off trace.last.r step by step; the weight
    on h_{t-1} read off h_t itself (h_t = w h_{t-1} + (1 − w) h̃_t), without asking the convention."""
    H = model.cell.hidden_size
    r_m, r_o, w_m, w_o = [], [], [], []
    for xs in batch:
        tr = model.cell.run(xs)
        for t in range(len(xs)):
            h_prev, h_tilde, h, z = tr.last.h_prev[t], tr.last.h_tilde[t], tr.last.h[t], tr.last.z[t]
            keep = np.abs(z * h_prev + (1 - z) * h_tilde - h).max()
            take = np.abs((1 - z) * h_prev + z * h_tilde - h).max()
            w = z if keep < take else 1 - z
            (r_m if xs[t, 1] == 1 else r_o).append(tr.last.r[t])
            (w_m if xs[t, 1] == 1 else w_o).append(w)
    r_m, r_o, w_m, w_o = (np.array(a).reshape(-1, H) for a in (r_m, r_o, w_m, w_o))
    return r_m.mean(0), r_o.mean(0), w_m.mean(0), w_o.mean(0), len(r_m), len(r_o)


def convention_variants(model):
    """The shipped model, and its parameters read under cho2014 and chung2014 (other networks, but each
    a GRU whose r is how much of h_{t-1} its candidate sees)."""
    cho = model.cell.with_convention("cho2014")
    return {"pytorch": model, "cho2014": model.with_cell(cho), "chung2014": model.with_cell(cho.flip_update_gate())}


@pytest.mark.parametrize("convention", ["pytorch", "cho2014", "chung2014"])
def test_the_finding_is_a_recompute_of_the_recorded_gates(model, convention):
    m = convention_variants(model)[convention]
    batch, _ = lp.sequences(np.random.default_rng(7), 12, 14)
    f = lp.reset_finding(m, batch)
    r_m, r_o, w_m, w_o, n_m, n_o = by_hand(m, batch.astype(np.float64))
    assert f.convention.name == convention and (f.marker_steps, f.other_steps) == (n_m, n_o)
    np.testing.assert_allclose(f.r_at_markers, r_m, atol=1e-12)
    np.testing.assert_allclose(f.r_elsewhere, r_o, atol=1e-12)
    np.testing.assert_allclose(f.old_weight_at_markers, w_m, atol=1e-12)
    np.testing.assert_allclose(f.old_weight_elsewhere, w_o, atol=1e-12)
    assert f.unit == int(np.argmax(r_o - r_m))
    assert f.lower_at_markers == bool(r_m[f.unit] < r_o[f.unit])
    assert_read_only(f)


def test_cho2014_and_chung2014_are_one_network_and_read_the_same(model):
    v = convention_variants(model)
    batch, _ = lp.sequences(np.random.default_rng(8), 6, 12)
    cho, chung = lp.reset_finding(v["cho2014"], batch), lp.reset_finding(v["chung2014"], batch)
    for field in ("r_at_markers", "r_elsewhere", "past_at_markers", "old_weight_at_markers", "old_weight_elsewhere"):
        np.testing.assert_allclose(getattr(cho, field), getattr(chung, field), atol=1e-12)


def test_on_the_shipped_model_r_closes_at_the_markers(model):
    """What the lesson says, computed: for the found unit (and in fact every unit) r is far lower at
    a marker than elsewhere, and the candidate's view of the past shrinks with it."""
    batch, _ = lp.sequences(np.random.default_rng(9), 50, 16)
    f = lp.reset_finding(model, batch)
    u = f.unit
    assert f.lower_at_markers
    assert f.r_at_markers[u] < 0.15 and f.r_at_markers[u] < f.r_elsewhere[u] / 3
    assert (f.r_at_markers < f.r_elsewhere).all()
    assert (f.past_at_markers < f.past_elsewhere / 2).all()
    # the update gate takes the candidate there too: washing out needs both (z: take it; r: it is blind)
    assert (f.old_weight_at_markers < f.old_weight_elsewhere).all()


def test_the_past_term_is_r_times_the_recurrent_part_in_the_pytorch_convention(model):
    xs = lp.example_sequence(3)
    tr = model.cell.run(xs)
    layer, H = model.cell.layers[0], model.cell.hidden_size
    by_weights = tr.last.r * (tr.last.h_prev @ layer.weight_hh[2 * H:].T + layer.bias_hh[2 * H:])
    np.testing.assert_allclose(lp.past_term(tr), by_weights, atol=1e-12)


def test_the_example_review(model):
    e = lp.example(model, seed=0)
    assert e.xs.shape == (lp.EXAMPLE_STEPS, 2) and len(e.markers) == lp.EXAMPLE_MARKERS
    assert e.markers == tuple(int(t) for t in np.flatnonzero(e.xs[:, 1])) and 0 < e.markers[0]
    assert e.last_marker <= lp.EXAMPLE_STEPS - 3
    assert e.truth == pytest.approx(sum(e.xs[e.last_marker:, 0]), abs=1e-12)
    h_T = e.trace.last.h[-1]
    assert e.answer == pytest.approx(float(h_T @ model.readout.weight[0] + model.readout.bias[0]), abs=1e-12)
    assert abs(e.error) < 0.1
    again = lp.example(model, seed=0)
    np.testing.assert_array_equal(again.xs, e.xs)          # fixed: same seed, same review
    assert not np.array_equal(lp.example_sequence(1), e.xs)
    f = lp.reset_finding(model, e.xs)
    np.testing.assert_array_equal(f.r_at_markers, e.finding.r_at_markers)
    assert_read_only(e)
    for seed in range(5):                                    # every demo seed is answered closely
        assert abs(lp.example(model, seed).error) < 0.1


def test_marker_blind_cuts_one_wire_only(model):
    cell, H = model.cell, model.cell.hidden_size
    for k, gate in enumerate("rzn"):
        blind = lp.marker_blind(cell, gate).layers[0].weight_ih
        expected = np.array(cell.layers[0].weight_ih)
        expected[k * H:(k + 1) * H, 1] = 0
        np.testing.assert_array_equal(blind, expected)
    assert (cell.layers[0].weight_ih[:H, 1] != 0).all()      # the shipped cell is untouched


def test_the_finding_refuses_what_it_cannot_compare(model):
    with pytest.raises(ValueError, match="needs both"):
        lp.reset_finding(model, _review([0.1, 0.2, 0.3, 0.4], []))
    with pytest.raises(ValueError, match="shape"):
        lp.reset_finding(model, np.zeros((4, 3)))
    assert dataclasses.is_dataclass(lp.ResetFinding)
