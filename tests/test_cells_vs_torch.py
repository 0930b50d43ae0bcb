"""The plain RNN and the LSTM beside the GRU: every layer's states equal torch's, every recorded
intermediate equals a step-by-step recompute, bad input is refused like the GRU's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gru_core.cells import LSTM, RNN

SHAPES = [(1, 3, 4, 9), (2, 2, 5, 13)]   # layers, I, H, T


def torch_pair(kind, layers, I, H, seed, big=False):
    torch.manual_seed(seed)
    module = getattr(torch.nn, kind)(I, H, num_layers=layers, dtype=torch.float64)
    if big:  # saturating weights: the gates near 0 and 1, tanh near ±1
        with torch.no_grad():
            for p in module.parameters():
                p.mul_(6.0)
    return module, (RNN if kind == "RNN" else LSTM).from_torch(module)


@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("layers, I, H, T", SHAPES)
@pytest.mark.parametrize("kind", ["RNN", "LSTM"])
def test_every_layer_equals_torch_in_float64(kind, layers, I, H, T, big):
    module, cell = torch_pair(kind, layers, I, H, seed=layers * 10 + H, big=big)
    xs = np.random.default_rng(H).normal(size=(T, I)) * 2
    trace = cell.run(xs)
    inp = torch.from_numpy(xs)
    for k in range(layers):   # torch only returns the last layer's outputs: run the stack one layer at a time
        sub = getattr(torch.nn, kind)(inp.shape[1], H, dtype=torch.float64)
        sub.load_state_dict({f"{n}_l0": getattr(module, f"{n}_l{k}") for n in
                             ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
        out = sub(inp)
        h_torch = out[0].detach().numpy()
        np.testing.assert_allclose(trace.layers[k].h, h_torch, atol=1e-10, rtol=0)
        if kind == "LSTM":
            np.testing.assert_allclose(trace.layers[k].c[-1], out[1][1][0].detach().numpy(), atol=1e-10, rtol=0)
        inp = out[0].detach()


@pytest.mark.parametrize("kind", ["RNN", "LSTM"])
def test_recorded_intermediates_equal_a_step_by_step_recompute(kind):
    _, cell = torch_pair(kind, 1, 3, 4, seed=1)
    xs = np.random.default_rng(2).normal(size=(7, 3))
    lt = cell.run(xs).last
    layer = cell.layers[0]
    h, c = np.zeros(4), np.zeros(4)
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731 — the textbook form, on purpose
    for t in range(7):
        pre = layer.weight_ih @ xs[t] + layer.bias_ih + layer.weight_hh @ h + layer.bias_hh
        np.testing.assert_allclose(lt.pre[t], pre, atol=1e-13)
        if kind == "RNN":
            h = np.tanh(pre)
        else:
            i, f, g, o = sig(pre[:4]), sig(pre[4:8]), np.tanh(pre[8:12]), sig(pre[12:])
            for name, v in zip("ifgo", (i, f, g, o)):
                np.testing.assert_allclose(getattr(lt, name)[t], v, atol=1e-13)
            c = f * c + i * g
            h = o * np.tanh(c)
            np.testing.assert_allclose(lt.c[t], c, atol=1e-13)
        np.testing.assert_allclose(lt.h[t], h, atol=1e-13)


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_the_lstm_records_exactly_what_it_sums_in_either_dtype(dtype, tol):
    """The compiled recurrence (lstm.py) records W x + b, W h + b and, bit for bit, their sum, and it
    equals torch in float32 as in float64 (saturating weights included)."""
    module, _ = torch_pair("LSTM", 2, 3, 5, seed=3, big=True)
    module = module.to(torch.float32 if dtype == np.float32 else torch.float64)
    cell = LSTM.from_torch(module)
    assert cell.dtype == dtype
    xs = (np.random.default_rng(4).normal(size=(11, 3)) * 2).astype(dtype)
    trace = cell.run(xs)
    for layer, lt in zip(cell.layers, trace.layers):
        assert lt.pre.dtype == lt.h.dtype == dtype
        np.testing.assert_array_equal(lt.pre, lt.input_part + lt.hidden_part)
        np.testing.assert_allclose(lt.input_part, lt.x @ layer.weight_ih.T + layer.bias_ih, atol=tol, rtol=0)
        np.testing.assert_allclose(lt.hidden_part, lt.h_prev @ layer.weight_hh.T + layer.bias_hh, atol=tol,
                                   rtol=0)
        np.testing.assert_array_equal(lt.h_prev[1:], lt.h[:-1])
        np.testing.assert_array_equal(lt.c_prev[1:], lt.c[:-1])
    with torch.no_grad():
        out, (h_n, c_n) = module(torch.from_numpy(xs))
    np.testing.assert_allclose(trace.h, out.numpy(), atol=10 * tol, rtol=0)
    np.testing.assert_allclose(trace.c[-1], c_n[-1].numpy(), atol=10 * tol, rtol=0)


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_round_trip_to_torch_and_parameter_count(cls):
    cell = cls.random(3, 6, 2, seed=4)
    module = cell.to_torch()
    assert cell.parameter_count == sum(p.numel() for p in module.parameters())
    xs = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(cell.run(xs).h, module(torch.from_numpy(xs))[0].detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("cls", [RNN, LSTM])
@pytest.mark.parametrize("bad, message", [
    (np.zeros((0, 3)), "empty"), (np.zeros((4, 2)), "feature column"), (np.full((2, 3), np.nan), "NaN"),
    (np.zeros(3), "2 dimensions")])
def test_bad_input_is_refused(cls, bad, message):
    with pytest.raises(ValueError, match=message):
        cls.random(3, 4, seed=0).run(bad)


def test_wrong_modules_and_shapes_are_refused():
    with pytest.raises(ValueError, match="expected a torch.nn.RNN"):
        RNN.from_torch(torch.nn.GRU(2, 3))
    with pytest.raises(ValueError, match="tanh"):
        RNN.from_torch(torch.nn.RNN(2, 3, nonlinearity="relu"))
    with pytest.raises(ValueError, match=r"weight_hh must have shape \(4H, H\)"):
        LSTM.from_arrays([{"weight_ih": np.zeros((9, 2)), "weight_hh": np.zeros((9, 3)),
                           "bias_ih": np.zeros(9), "bias_hh": np.zeros(9)}])


def test_traces_are_read_only_and_export_csv():
    trace = LSTM.random(2, 3, seed=0).run(np.ones((4, 2)))
    with pytest.raises(ValueError, match="read-only"):
        trace.last.c[0, 0] = 1.0
    header = trace.to_csv().splitlines()[0]
    assert header == "layer,t,unit,x_t,h_prev,c_prev,i,f,g,o,c,h"
