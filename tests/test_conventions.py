"""The relations between the conventions (README, "The three conventions"), and that they are not all
the same model."""

from __future__ import annotations

import numpy as np
import pytest

from gru_core import CONVENTIONS, GRU, get_convention


def negate_update_gate(gru):
    """Flip the sign of the z rows (H..2H) of every weight and bias."""
    layers = []
    for layer in gru.layers:
        H = layer.hidden_size
        p = {n: a.copy() for n, a in layer.params().items()}
        for n in p:
            p[n][H:2 * H] *= -1
        layers.append(p)
    return layers


@pytest.mark.parametrize("num_layers", [1, 2])
def test_chung_with_negated_update_gate_is_cho_exactly(num_layers):
    """Exact in the algebra; in float64 the two orders of rounding agree to ~1e-16."""
    cho = GRU.random(2, 6, num_layers, seed=4, scale=3.0, convention="cho2014")
    chung = GRU.from_arrays(negate_update_gate(cho), "chung2014")
    xs = np.random.default_rng(0).normal(size=(25, 2))
    a, b = cho.run(xs), chung.run(xs)
    for la, lb in zip(a.layers, b.layers):
        np.testing.assert_allclose(lb.h, la.h, atol=1e-13, rtol=0)
        np.testing.assert_allclose(lb.z, 1 - la.z, atol=1e-13, rtol=0)
        np.testing.assert_allclose(lb.r, la.r, atol=1e-13, rtol=0)
        np.testing.assert_allclose(lb.h_tilde, la.h_tilde, atol=1e-13, rtol=0)


def test_cho_and_pytorch_differ():
    gru = GRU.random(2, 6, seed=4, scale=3.0)
    xs = np.random.default_rng(0).normal(size=(25, 2))
    a = gru.run(xs)
    b = gru.with_convention("cho2014").run(xs)
    assert np.abs(a.h - b.h).max() > 1e-2


def test_chung_and_cho_differ_without_the_negation():
    gru = GRU.random(2, 6, seed=4, scale=3.0, convention="cho2014")
    xs = np.random.default_rng(0).normal(size=(25, 2))
    assert np.abs(gru.run(xs).h - gru.with_convention("chung2014").run(xs).h).max() > 1e-2


def test_what_z_means_is_stated_per_convention():
    assert CONVENTIONS["pytorch"].z_one_means == "keep the old state h_{t-1}"
    assert CONVENTIONS["cho2014"].z_one_means == "keep the old state h_{t-1}"
    assert CONVENTIONS["chung2014"].z_one_means == "take the new candidate h̃_t"


def test_z_near_one_keeps_the_state_in_pytorch():
    """Behavioural check of the label: force z ≈ 1 and h stays at h0; in chung2014 it moves to h̃."""
    p = {"weight_ih": np.zeros((3, 1)), "weight_hh": np.zeros((3, 1)),
         "bias_ih": np.array([0.0, 30.0, 1.0]), "bias_hh": np.zeros(3)}
    keep = GRU.from_arrays([p], "pytorch").run(np.zeros((3, 1)), np.array([[0.25]]))
    take = GRU.from_arrays([p], "chung2014").run(np.zeros((3, 1)), np.array([[0.25]]))
    np.testing.assert_allclose(keep.h[:, 0], 0.25, atol=1e-12)
    np.testing.assert_allclose(take.h[:, 0], np.tanh(1.0), atol=1e-12)


def test_unknown_convention_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown convention 'keras'.*pytorch, cho2014, chung2014"):
        get_convention("keras")
    with pytest.raises(ValueError, match="unknown convention"):
        GRU.random(1, 2, convention="keras")
