"""Bad input to the core is a ValueError that says what was expected."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gru_core import GRU


@pytest.fixture
def gru():
    return GRU.random(2, 3, num_layers=2, seed=0)


def test_xs_wrong_rank(gru):
    with pytest.raises(ValueError, match=r"shape \(T, 2\).*got shape \(5,\)"):
        gru.run(np.zeros(5))


def test_xs_wrong_width(gru):
    with pytest.raises(ValueError, match="2 feature column.*got 3"):
        gru.run(np.zeros((5, 3)))


def test_xs_empty(gru):
    with pytest.raises(ValueError, match="at least one time step"):
        gru.run(np.zeros((0, 2)))


def test_xs_nan(gru):
    xs = np.zeros((4, 2))
    xs[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        gru.run(xs)


def test_xs_inf(gru):
    with pytest.raises(ValueError, match="NaN or inf"):
        gru.run(np.full((4, 2), np.inf))


def test_xs_not_numeric(gru):
    with pytest.raises(ValueError, match="numeric"):
        gru.run(np.array([["a", "b"]]))


def test_h0_mismatched(gru):
    with pytest.raises(ValueError, match=r"h0 must have shape \(2, 3\)"):
        gru.run(np.zeros((4, 2)), h0=np.zeros((1, 3)))


def test_h0_nan(gru):
    with pytest.raises(ValueError, match="h0 contains NaN"):
        gru.run(np.zeros((4, 2)), h0=np.full((2, 3), np.nan))


def test_unknown_convention():
    with pytest.raises(ValueError, match="unknown convention"):
        GRU.random(2, 3, convention="lstm")


def test_from_arrays_checks_shapes():
    good = GRU.random(2, 3, seed=0).layers[0].params()
    with pytest.raises(ValueError, match=r"layer 0: weight_ih must have shape \(9, I\)"):
        GRU.from_arrays([{**good, "weight_ih": np.zeros((8, 2))}])
    with pytest.raises(ValueError, match=r"bias_hh must have shape \(9,\)"):
        GRU.from_arrays([{**good, "bias_hh": np.zeros(3)}])
    with pytest.raises(ValueError, match="missing bias_ih"):
        GRU.from_arrays([{k: v for k, v in good.items() if k != "bias_ih"}])
    with pytest.raises(ValueError, match="layer 1 expects 2 inputs but layer 0 has 3"):
        GRU.from_arrays([good, good])
    with pytest.raises(ValueError, match="NaN or inf"):
        GRU.from_arrays([{**good, "weight_hh": np.full((9, 3), np.nan)}])


def test_from_torch_refuses_what_it_cannot_represent():
    with pytest.raises(ValueError, match="bidirectional"):
        GRU.from_torch(torch.nn.GRU(2, 3, bidirectional=True))
    with pytest.raises(ValueError, match="without biases"):
        GRU.from_torch(torch.nn.GRU(2, 3, bias=False))
    with pytest.raises(ValueError, match="expected a torch.nn.GRU, got LSTM"):
        GRU.from_torch(torch.nn.LSTM(2, 3))


def test_random_checks_sizes():
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        GRU.random(2, 0)


def test_layers_must_share_a_hidden_size():
    a = GRU.random(2, 4, seed=0).layers[0]
    b = GRU.random(4, 3, seed=0).layers[0]
    with pytest.raises(ValueError, match="same number of hidden units: layer 0 has 4, layer 1 has 3"):
        GRU([a, b])
