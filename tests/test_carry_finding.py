"""The carry finding is computed, not asserted: recomputed here step by step, independently of
gru_core.tasks.bit_addition.carry_finding, in every convention."""

from __future__ import annotations

import numpy as np
import pytest

from gru_core import CONVENTIONS, GRU, registry
from gru_core.cells.gru_equations import old_state_weight
from gru_core.tasks import bit_addition as ba

SMALL = ba.AdditionSample(bits=12, count=25, seed=3)


@pytest.fixture(scope="module", params=["pytorch", "cho2014", "chung2014"])
def adder(request):
    return registry.shipped_adder(request.param)


def by_hand(model, sample):
    """Per step: the carry from the bits themselves, and the weight on h_{t-1} read off h_t itself.

    Of z and 1 − z, the weight on the old state is the w with h_t = w h_{t-1} + (1 − w) h̃_t; this
    picks it from the recorded numbers, without asking the convention which one it is.
    """
    hs, zs, carry_out, carry_in, weights = [], [], [], [], []
    for a, b in sample.pairs():
        xs, _ = ba.encode(a, b, sample.bits + 1)
        tr = model.cell.run(xs)
        carry = 0
        for t in range(sample.bits + 1):
            total = int(xs[t, 0]) + int(xs[t, 1]) + carry
            carry_in.append(carry)
            carry = total // 2
            carry_out.append(carry)
            h_prev, h_tilde, h, z = tr.h_prev[t], tr.h_tilde[t], tr.h[t], tr.z[t]
            keep = np.abs(z * h_prev + (1 - z) * h_tilde - h).max()
            take = np.abs((1 - z) * h_prev + z * h_tilde - h).max()
            assert min(keep, take) < 1e-12
            weights.append(z if keep < take else 1 - z)
            hs.append(h)
            zs.append(z)
    hs, zs, w = np.array(hs), np.array(zs), np.array(weights)                   # (N·T, H) each
    c_out, c_in = np.array(carry_out, float), np.array(carry_in)               # (N·T,)
    corr = np.array([np.corrcoef(hs[:, j], c_out)[0, 1] for j in range(hs.shape[1])])
    best = np.abs(corr).max()
    units = [j for j in range(len(corr)) if np.abs(corr[j]) >= best - 0.005]
    holding = (c_in == 1) & (c_out == 1)
    return corr, units, holding.sum(), {j: w[holding, j] for j in units}, {j: zs[holding, j] for j in units}


def test_the_finding_matches_a_step_by_step_recompute(adder):
    finding = ba.carry_finding(adder, SMALL)
    corr, units, holding, w, _ = by_hand(adder, SMALL)
    assert finding.sample == SMALL and finding.convention == adder.cell.convention
    np.testing.assert_allclose(finding.correlation, corr, atol=1e-12)
    assert [u.unit for u in finding.units] == units
    for u in finding.units:
        assert u.holding_steps == holding > 0
        assert u.correlation == pytest.approx(corr[u.unit], abs=1e-12)
        assert u.old_state_weight == pytest.approx(w[u.unit].mean(), abs=1e-12)
        assert u.keep_fraction == np.mean(w[u.unit] > 0.5)
        assert u.candidate_fraction == pytest.approx(1 - u.keep_fraction)


def test_chung2014_finds_what_cho2014_finds():
    """Same h at every step, z read the other way round: the same units, the same weights."""
    cho = ba.carry_finding(registry.shipped_adder("cho2014"))
    chung = ba.carry_finding(registry.shipped_adder("chung2014"))
    np.testing.assert_allclose(chung.correlation, cho.correlation, atol=1e-12)
    assert [u.unit for u in chung.units] == [u.unit for u in cho.units]
    for a, b in zip(chung.units, cho.units, strict=True):
        assert a.holding_steps == b.holding_steps
        assert a.old_state_weight == pytest.approx(b.old_state_weight, abs=1e-12)
        assert a.keep_fraction == b.keep_fraction


def test_in_the_shipped_adders_the_candidate_carries_the_carry(adder):
    """What the page reports, on the sample it quotes: while the carry holds, the carry units' new
    state is mostly the candidate h̃_t (which reads h_{t-1} through W_hn), not the kept old state."""
    finding = ba.carry_finding(adder)
    assert finding.sample == ba.EXACT_SUM_CHECK
    assert finding.units and all(abs(u.correlation) > 0.9 for u in finding.units)
    for u in finding.units:
        assert u.old_state_weight < 0.1 and u.keep_fraction < 0.05
    # in the gate's own terms, read straight off the recorded z: near 0 where z keeps the old state
    # (pytorch, cho2014), near 1 where z takes the candidate (chung2014)
    *_, z = by_hand(adder, SMALL)
    for zj in z.values():
        assert zj.mean() < 0.1 if adder.cell.convention.z_keeps_old else zj.mean() > 0.9


@pytest.mark.parametrize("name", list(CONVENTIONS))
def test_old_state_weight_is_what_the_new_state_puts_on_the_old_one(name):
    gru = GRU.random(2, 5, seed=1, scale=2.0, convention=name)
    tr = gru.run(np.random.default_rng(0).normal(size=(30, 2)))
    w = old_state_weight(tr.z, gru.convention)
    np.testing.assert_allclose(w * tr.h_prev + (1 - w) * tr.h_tilde, tr.h, atol=1e-12)


def test_a_unit_that_never_holds_a_carry_is_reported_without_numbers():
    model = registry.shipped_adder()
    finding = ba.carry_finding(model, ba.AdditionSample(bits=1, count=3, seed=0))  # 1-bit sums: no chain
    assert finding.units
    for u in finding.units:
        assert u.holding_steps == 0 and np.isnan(u.old_state_weight) and np.isnan(u.keep_fraction)
