"""One GRU step worked by hand, in each convention — the numbers a student would write on paper."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gru_core import GRU


def one_unit_gru(convention):
    # H = 1, I = 1; rows r, z, n. Chosen so every term is visible:
    # W_ir=1, W_iz=-1, W_in=2; W_hr=0.5, W_hz=1.5, W_hn=-1; b_ih=(0.1, 0.2, 0.3); b_hh=(-0.1, 0.4, 0.5)
    return GRU.from_arrays([{
        "weight_ih": np.array([[1.0], [-1.0], [2.0]]),
        "weight_hh": np.array([[0.5], [1.5], [-1.0]]),
        "bias_ih": np.array([0.1, 0.2, 0.3]),
        "bias_hh": np.array([-0.1, 0.4, 0.5]),
    }], convention)


def sig(v):
    return 1 / (1 + math.exp(-v))


X, H_PREV = 0.7, -0.4
R = sig(1 * X + 0.1 + 0.5 * H_PREV - 0.1)          # σ(0.7 + 0.1 − 0.2 − 0.1) = σ(0.5)
Z = sig(-1 * X + 0.2 + 1.5 * H_PREV + 0.4)         # σ(−0.7 + 0.2 − 0.6 + 0.4) = σ(−0.7)


@pytest.mark.parametrize("convention, h_tilde, h", [
    # reset after the matrix: tanh(2·0.7 + 0.3 + r·(−1·(−0.4) + 0.5)); h = (1−z)h̃ + z h_prev
    ("pytorch", math.tanh(1.4 + 0.3 + R * (0.4 + 0.5)), None),
    # reset before it: tanh(1.4 + 0.3 + (−1)(r·(−0.4)) + 0.5); h = z h_prev + (1−z)h̃
    ("cho2014", math.tanh(1.4 + 0.3 + 0.4 * R + 0.5), None),
    # same candidate as cho2014; h = (1−z) h_prev + z h̃
    ("chung2014", math.tanh(1.4 + 0.3 + 0.4 * R + 0.5), None),
])
def test_single_step_by_hand(convention, h_tilde, h):
    expected_h = (h_tilde + Z * (H_PREV - h_tilde)) if convention != "chung2014" \
        else (H_PREV + Z * (h_tilde - H_PREV))
    trace = one_unit_gru(convention).run(np.array([[X]]), np.array([[H_PREV]]))
    assert R == pytest.approx(sig(0.5), abs=1e-15)
    assert Z == pytest.approx(sig(-0.7), abs=1e-15)
    assert trace.r[0, 0] == pytest.approx(R, abs=1e-14)
    assert trace.z[0, 0] == pytest.approx(Z, abs=1e-14)
    assert trace.h_tilde[0, 0] == pytest.approx(h_tilde, abs=1e-14)
    assert trace.h[0, 0] == pytest.approx(expected_h, abs=1e-14)
    assert trace.last.block("z", "pre")[0, 0] == pytest.approx(-0.7, abs=1e-14)


def test_pytorch_numbers_written_out():
    """The pytorch step with the arithmetic spelled out to plain decimals."""
    trace = one_unit_gru("pytorch").run(np.array([[0.7]]), np.array([[-0.4]]))
    r = 0.6224593312018546   # σ(0.5)
    z = 0.3318122278318339   # σ(−0.7)
    n = math.tanh(1.7 + r * 0.9)
    assert trace.r[0, 0] == pytest.approx(r, abs=1e-15)
    assert trace.z[0, 0] == pytest.approx(z, abs=1e-15)
    assert trace.h[0, 0] == pytest.approx((1 - z) * n + z * -0.4, abs=1e-14)
