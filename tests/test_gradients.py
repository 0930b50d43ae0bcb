"""Gradients through time from the recorded pass equal torch autograd (float64, 1e-10): the step
Jacobians of every cell and convention, the GRU's keep/candidate/gate split, and full BPTT through
stacked layers to the inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gru_core import CONVENTIONS, GRU
from gru_core.cells import LSTM, RNN
from gru_core.gradients import gradient_flow, gru_jacobian_parts, jacobians, step_jacobians


def T_(a) -> torch.Tensor:
    return torch.from_numpy(np.array(a, dtype=np.float64))  # a copy: recorded arrays are read-only


def torch_step(cell, k):
    """Layer k's step (x, state) -> state, written in torch from the parameters (autograd's reference)."""
    lay = cell.layers[k]
    W_ih, W_hh, b_ih, b_hh = (T_(a) for a in (lay.weight_ih, lay.weight_hh, lay.bias_ih, lay.bias_hh))
    H = lay.hidden_size
    if isinstance(cell, RNN):
        return lambda x, h: torch.tanh(W_ih @ x + b_ih + W_hh @ h + b_hh)
    if isinstance(cell, LSTM):
        def lstm(x, s):
            h, c = s[:H], s[H:]
            a = W_ih @ x + b_ih + W_hh @ h + b_hh
            i, f, o = torch.sigmoid(a[:H]), torch.sigmoid(a[H:2 * H]), torch.sigmoid(a[3 * H:])
            g = torch.tanh(a[2 * H:3 * H])
            c_new = f * c + i * g
            return torch.cat([o * torch.tanh(c_new), c_new])
        return lstm
    conv = cell.convention

    def gru(x, h):
        gi, gh = W_ih @ x + b_ih, W_hh @ h + b_hh
        r, z = torch.sigmoid(gi[:H] + gh[:H]), torch.sigmoid(gi[H:2 * H] + gh[H:2 * H])
        if conv.reset_after_matmul:
            n = torch.tanh(gi[2 * H:] + r * gh[2 * H:])
        else:
            n = torch.tanh(gi[2 * H:] + W_hh[2 * H:] @ (r * h) + b_hh[2 * H:])
        return (1 - z) * n + z * h if conv.z_keeps_old else (1 - z) * h + z * n
    return gru


def state_of(trace, k, t):
    lt = trace.layers[k]
    return np.concatenate([lt.h[t], lt.c[t]]) if hasattr(lt, "c") else lt.h[t]


def prev_state_of(trace, k, t):
    lt = trace.layers[k]
    return np.concatenate([lt.h_prev[t], lt.c_prev[t]]) if hasattr(lt, "c") else lt.h_prev[t]


CELLS = [("gru", "pytorch"), ("gru", "cho2014"), ("gru", "chung2014"), ("rnn", None), ("lstm", None)]


def make(kind, conv, layers=1, I=3, H=4, seed=0, scale=1.5):
    if kind == "gru":
        return GRU.random(I, H, layers, seed=seed, scale=scale, convention=conv)
    return (RNN if kind == "rnn" else LSTM).random(I, H, layers, seed=seed, scale=scale)


@pytest.mark.parametrize("kind, conv", CELLS)
def test_step_jacobians_equal_autograd(kind, conv):
    cell = make(kind, conv, layers=2)
    xs = np.random.default_rng(1).normal(size=(6, 3))
    trace = cell.run(xs)
    for k in range(2):
        step = torch_step(cell, k)
        layer_in = xs if k == 0 else trace.layers[0].h
        for t in (0, 3, 5):
            j_state, j_input = step_jacobians(cell.layers[k], trace.layers[k], t, cell.convention)
            x0, s0 = T_(layer_in[t]), T_(prev_state_of(trace, k, t))
            ref_s = torch.autograd.functional.jacobian(lambda s, f=step, x=x0: f(x, s), s0)
            ref_x = torch.autograd.functional.jacobian(lambda x, f=step, s=s0: f(x, s), x0)
            np.testing.assert_allclose(j_state, ref_s.numpy(), atol=1e-10, rtol=0)
            np.testing.assert_allclose(j_input, ref_x.numpy(), atol=1e-10, rtol=0)
            # and the recorded state is what the torch step computes
            np.testing.assert_allclose(state_of(trace, k, t),
                                       step(T_(layer_in[t]), T_(prev_state_of(trace, k, t))).numpy(), atol=1e-12)


@pytest.mark.parametrize("conv", list(CONVENTIONS))
def test_the_gru_split_adds_up_and_the_keep_path_is_the_update_gates_diagonal(conv):
    cell = make("gru", conv)
    trace = cell.run(np.random.default_rng(2).normal(size=(5, 3)))
    parts = gru_jacobian_parts(cell, trace)
    full = jacobians(cell, trace)
    z = trace.z
    for t, p in enumerate(parts):
        np.testing.assert_allclose(p.total, full[t], atol=1e-14)
        keep = z[t] if CONVENTIONS[conv].z_keeps_old else 1 - z[t]
        np.testing.assert_allclose(p.keep, np.diag(keep), atol=0)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("kind, conv", CELLS)
def test_bptt_through_time_and_layers_equals_autograd(kind, conv, layers):
    cell = make(kind, conv, layers=layers, seed=3)
    T, H = 12, 4
    xs = np.random.default_rng(4).normal(size=(T, 3))
    dloss = np.random.default_rng(5).normal(size=H)
    flow = gradient_flow(cell, cell.run(xs), dloss)
    # torch: unroll step by step, keep every state, backpropagate L = dloss · h_{T-1} of the top layer
    x_t = T_(xs).requires_grad_(True)
    inputs = list(x_t)
    states_per_layer = []
    for k in range(layers):
        step = torch_step(cell, k)
        s = torch.zeros(H * (2 if kind == "lstm" else 1), dtype=torch.float64)
        states = []
        for t in range(T):
            s = step(inputs[t], s)
            s.retain_grad()
            states.append(s)
        states_per_layer.append(states)
        inputs = [st[:H] for st in states]
    loss = (T_(dloss) * states_per_layer[-1][-1][:H]).sum()
    loss.backward()
    np.testing.assert_allclose(flow.inputs, x_t.grad.numpy(), atol=1e-10, rtol=0)
    np.testing.assert_allclose(flow.input_norms(), np.linalg.norm(x_t.grad.numpy(), axis=1), atol=1e-10, rtol=0)
    for k in range(layers):
        torch_grads = np.stack([st.grad.numpy() for st in states_per_layer[k]])
        # for the LSTM the state is (h_t, c_t), the concatenation each torch step returns
        np.testing.assert_allclose(flow.state[k], torch_grads, atol=1e-10, rtol=0)


def test_the_plain_rnns_gradient_vanishes_where_a_gru_built_to_keep_does_not():
    """Sanity of the story the page tells, on hand-set cells: a GRU whose update gate keeps (z ≈ 1)
    passes the gradient back almost untouched; a small-weight RNN shrinks it geometrically."""
    T, H = 60, 4
    xs = np.zeros((T, 1))
    rnn = RNN.random(1, H, seed=0, scale=0.3)
    keep = GRU.random(1, H, seed=0, scale=0.3)
    b = keep.layers[0].bias_ih.copy()
    b[H:2 * H] = 8.0                         # z = σ(8 + …) ≈ 1: keep the old state
    keep = GRU([keep.layers[0].replace(bias_ih=b)])
    g_rnn = gradient_flow(rnn, rnn.run(xs)).state_norms()
    g_gru = gradient_flow(keep, keep.run(xs)).state_norms()
    assert g_rnn[0] < 1e-10 * g_rnn[-1]
    assert g_gru[0] > 0.5 * g_gru[-1]


def test_the_plain_rnns_gradient_can_also_grow():
    """The factor diag(1 − h_t²) W_hh is not bound to shrink: with W_hh = 1.5 I and the units at 0 (no
    input, no bias, so tanh's slope is 1) the gradient grows by exactly 1.5 a step going back."""
    T, H = 20, 3
    rnn = RNN.from_arrays([{"weight_ih": np.zeros((H, 1)), "weight_hh": 1.5 * np.eye(H),
                            "bias_ih": np.zeros(H), "bias_hh": np.zeros(H)}])
    norms = gradient_flow(rnn, rnn.run(np.zeros((T, 1)))).state_norms()
    np.testing.assert_allclose(norms, np.sqrt(H) * 1.5 ** np.arange(T)[::-1], rtol=1e-12)


@pytest.mark.parametrize("conv", list(CONVENTIONS))
def test_a_gru_step_jacobian_asks_for_its_convention(conv):
    """A layer trace does not say which equations made it: step_jacobians refuses a GRU layer without
    one, with a sentence; jacobians and gradient_flow take it from the cell."""
    gru = make("gru", conv)
    trace = gru.run(np.random.default_rng(6).normal(size=(4, 3)))
    with pytest.raises(ValueError, match="convention"):
        step_jacobians(gru.layers[0], trace.last, 1)
    j_state, j_input = step_jacobians(gru.layers[0], trace.last, 1, gru.convention)
    assert j_state.shape == (4, 4) and j_input.shape == (4, 3)
    np.testing.assert_array_equal(jacobians(gru, trace)[1], j_state)
