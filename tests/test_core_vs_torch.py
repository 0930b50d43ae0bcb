"""The recorded GRU against torch.nn.GRU and against an independent recompute, every gate, every layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from reference_gru import reference_run

from gru_core import GRU

CONVENTIONS = ("pytorch", "cho2014", "chung2014")


def saturating_torch_gru(input_size, hidden_size, num_layers, seed, dtype=torch.float64,
                         batch_first=False, scale=4.0):
    """A torch GRU whose weights are scaled up so many gates sit near 0 or 1."""
    torch.manual_seed(seed)
    m = torch.nn.GRU(input_size, hidden_size, num_layers=num_layers, dtype=dtype,
                     batch_first=batch_first)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(scale)
    return m


def torch_forward(m, xs, h0=None):
    x = torch.from_numpy(xs).to(m.weight_hh_l0.dtype)
    x = x[None] if m.batch_first else x[:, None]
    h0t = None if h0 is None else torch.from_numpy(h0).to(x.dtype)[:, None]
    with torch.no_grad():
        out, hn = m(x, h0t)
    return (out[0] if m.batch_first else out[:, 0]).numpy(), hn[:, 0].numpy()


def layer_params(gru):
    return [layer.params() for layer in gru.layers]


@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("batch_first", [False, True])
def test_float64_matches_torch_and_every_gate_matches_reference(num_layers, batch_first):
    m = saturating_torch_gru(3, 8, num_layers, seed=num_layers, batch_first=batch_first)
    rng = np.random.default_rng(num_layers)
    xs = rng.normal(size=(40, 3)) * 2
    h0 = rng.uniform(-1, 1, size=(num_layers, 8))
    gru = GRU.from_torch(m)
    trace = gru.run(xs, h0)
    out, hn = torch_forward(m, xs, h0)
    assert np.abs(trace.h - out).max() < 1e-10
    assert np.abs(np.stack([lt.h[-1] for lt in trace.layers]) - hn).max() < 1e-10
    # the scaled weights really do saturate some gates, so the test covers the flat ends of σ
    assert trace.z.max() > 0.99 and trace.z.min() < 0.01
    ref = reference_run(layer_params(gru), xs, "pytorch", h0)
    for k, lt in enumerate(trace.layers):
        for name in ("r", "z", "h_tilde", "h"):
            assert np.abs(getattr(lt, name) - ref[k][name]).max() < 1e-10, (k, name)


def test_float32_matches_torch_within_1e_5():
    m = saturating_torch_gru(2, 16, 2, seed=7, dtype=torch.float32, scale=2.0)
    xs = np.random.default_rng(0).normal(size=(200, 2)).astype(np.float32)
    gru = GRU.from_torch(m)
    assert gru.dtype == np.float32
    trace = gru.run(xs)
    assert trace.h.dtype == np.float32
    out, _ = torch_forward(m, xs)
    assert np.abs(trace.h - out).max() < 1e-5


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("num_layers", [1, 3])
def test_every_convention_matches_independent_recompute(convention, num_layers):
    gru = GRU.random(2, 6, num_layers, seed=11, scale=3.0, convention=convention)
    xs = np.random.default_rng(3).normal(size=(30, 2))
    trace = gru.run(xs)
    ref = reference_run(layer_params(gru), xs, convention)
    for k, lt in enumerate(trace.layers):
        for name in ("r", "z", "h_tilde", "h"):
            assert np.abs(getattr(lt, name) - ref[k][name]).max() < 1e-10, (convention, k, name)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_trace_is_self_consistent(convention):
    """What a view explains from the trace adds up: pre-activations, parts and h_prev agree."""
    gru = GRU.random(3, 5, 2, seed=2, scale=2.0, convention=convention)
    trace = gru.run(np.random.default_rng(1).normal(size=(12, 3)))
    for lt in trace.layers:
        np.testing.assert_array_equal(lt.h_prev[1:], lt.h[:-1])
        for g in "rz":
            np.testing.assert_allclose(lt.block(g, "pre"), lt.block(g, "input_part") + lt.block(g, "hidden_part"),
                                       atol=1e-15)
        np.testing.assert_allclose(lt.r, 1 / (1 + np.exp(-lt.block("r", "pre"))), atol=1e-15)
        np.testing.assert_allclose(lt.h_tilde, np.tanh(lt.block("n", "pre")), atol=1e-15)


def test_round_trip_through_torch():
    m = saturating_torch_gru(4, 5, 2, seed=5)
    back = GRU.from_torch(m).to_torch()
    for name, p in m.state_dict().items():
        assert torch.equal(p, back.state_dict()[name]), name


def test_to_torch_refuses_other_conventions():
    with pytest.raises(ValueError, match="pytorch convention"):
        GRU.random(1, 2, convention="cho2014").to_torch()


def test_run_does_not_mutate_the_model():
    gru = GRU.random(2, 4, 2, seed=0)
    before = [{n: a.copy() for n, a in layer.params().items()} for layer in gru.layers]
    h0 = np.ones((2, 4)) * 0.5
    h0_copy = h0.copy()
    xs = np.random.default_rng(0).normal(size=(10, 2))
    xs_copy = xs.copy()
    gru.run(xs, h0)
    for layer, snap in zip(gru.layers, before):
        for n, a in layer.params().items():
            np.testing.assert_array_equal(a, snap[n])
            assert not a.flags.writeable
    np.testing.assert_array_equal(h0, h0_copy)
    np.testing.assert_array_equal(xs, xs_copy)


def test_seeded_random_init_is_reproducible():
    a, b, c = GRU.random(3, 4, 2, seed=9), GRU.random(3, 4, 2, seed=9), GRU.random(3, 4, 2, seed=10)
    for la, lb, lc in zip(a.layers, b.layers, c.layers):
        np.testing.assert_array_equal(la.weight_hh, lb.weight_hh)
        assert not np.array_equal(la.weight_hh, lc.weight_hh)
    # torch's default scale: U(-1/sqrt(H), 1/sqrt(H))
    assert np.abs(a.layers[0].weight_ih).max() <= 0.5


def test_reset_before_torch_module_matches_the_cho2014_core():
    """The training module for cho2014 and the NumPy core agree on every state."""
    from gru_core.torch_cells import ResetBeforeGRU

    torch.manual_seed(0)
    m = ResetBeforeGRU(2, 5, num_layers=2).double()
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(3)
    xs = np.random.default_rng(0).normal(size=(20, 2))
    with torch.no_grad():
        out, hn = m(torch.from_numpy(xs)[None])
    sd = m.state_dict()
    gru = GRU.from_arrays([{n: sd[f"{n}_l{k}"].numpy() for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
                           for k in range(2)], "cho2014")
    assert np.abs(gru.run(xs).h - out[0].numpy()).max() < 1e-12


def test_ablated_is_a_copy_with_the_knobs_applied():
    gru = GRU.random(2, 3, 2, seed=0)
    tweaked = gru.ablated(update_bias_shift=1.5, reset_bias_shift=-2.0, recurrent_scale=0.5)
    for old, new in zip(gru.layers, tweaked.layers):
        np.testing.assert_array_equal(new.bias_ih[3:6], old.bias_ih[3:6] + 1.5)   # z rows
        np.testing.assert_array_equal(new.bias_ih[0:3], old.bias_ih[0:3] - 2.0)   # r rows
        np.testing.assert_array_equal(new.bias_ih[6:9], old.bias_ih[6:9])         # n rows untouched
        np.testing.assert_array_equal(new.weight_hh, old.weight_hh * 0.5)
        np.testing.assert_array_equal(new.weight_ih, old.weight_ih)
    assert GRU.random(2, 3, 2, seed=0).layers[0].bias_ih.tolist() == gru.layers[0].bias_ih.tolist()


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_forward_batch_equals_run_for_every_sequence(convention):
    gru = GRU.random(2, 5, 2, seed=1, scale=2.5, convention=convention)
    xs = np.random.default_rng(2).normal(size=(7, 11, 2))
    batch = gru.forward_batch(xs)
    for b in range(7):
        np.testing.assert_allclose(batch[b], gru.run(xs[b]).h, atol=1e-12, rtol=0)
