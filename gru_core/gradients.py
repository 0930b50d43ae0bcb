"""Gradients through time, exactly, from what a forward pass recorded.

For one step of a recorded cell the state s_t depends on s_{t-1} and x_t; this module writes those
derivatives once per cell kind, from the recorded intermediates (no autograd, no re-run):

    J_t = ∂s_t/∂s_{t-1}   (S, S)      s = h for the GRU and the plain RNN; s = (h, c) for the LSTM
    K_t = ∂s_t/∂x_t       (S, I)

Back-propagation through time is then a product of these: the gradient of a loss at the last step
with respect to s_t is g_t = g_{t+1} J_{t+1}. Its norm against the distance T − 1 − t shows whether a
cell can learn from inputs far back. For the plain RNN every factor is J = diag(1 − h_t²) W_hh, with
‖J‖ ≤ ‖W_hh‖ since tanh's slope is at most 1. The product's norm is at most the product of the
factors' norms, so it shrinks geometrically when those stay below 1 (small recurrent weights, or
saturated units) — the vanishing gradient — and it can grow instead when W_hh is large and the units
are not saturated. The GRU has a direct path, the diagonal the update gate sets (z where z keeps the
old state), and the LSTM its cell path c_{t-1} → c_t, scaled by the forget gate alone: paths whose
factor is a gate's value, with no W_hh in it, near 1 while the gate keeps.

For the GRU, :func:`gru_jacobian_parts` splits J_t into that keep path, the path through the
candidate h̃_t, and the path through the update gate itself; the three add up to J_t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cells.base import Stack
from .cells.gru import GRULayer
from .cells.gru_equations import old_state_weight
from .cells.lstm import LSTMLayer
from .cells.rnn import RNNLayer
from .cells.trace import Trace
from .conventions import Convention


def _blocks(w: np.ndarray, n: int) -> list[np.ndarray]:
    """Split a (n·H, ·) weight into its n gate blocks (H, ·)."""
    H = w.shape[0] // n
    return [w[k * H:(k + 1) * H] for k in range(n)]


def _sigma_slope(s: np.ndarray) -> np.ndarray:
    """σ'(a) from σ(a) = s: s (1 − s)."""
    return s * (1.0 - s)


# -- one step of each cell: (∂s_t/∂s_{t-1}, ∂s_t/∂x_t) ---------------------------------------------------
@dataclass(frozen=True)
class GRUStepParts:
    """∂h_t/∂h_{t-1} (H, H) for one GRU step, split by the path the gradient takes."""

    keep: np.ndarray       # diag(w): h_{t-1} copied into h_t with the weight w the update gate sets
    candidate: np.ndarray  # diag(1 − w) ∂h̃_t/∂h_{t-1}: through the candidate (and the reset gate in it)
    gate: np.ndarray       # diag(h_{t-1} − h̃_t) ∂w/∂h_{t-1}: through the update gate's own value

    @property
    def total(self) -> np.ndarray:
        return self.keep + self.candidate + self.gate


def _gru_step(layer: GRULayer, lt, t: int, convention: Convention) -> tuple[GRUStepParts, np.ndarray]:
    """The GRU step's parts of ∂h_t/∂h_{t-1}, and ∂h_t/∂x_t (H, I), from the recorded values.

    h_t = w ⊙ h_{t-1} + (1 − w) ⊙ h̃_t with w = z (z keeps the old state) or 1 − z (z takes the candidate).
    """
    W_ir, W_iz, W_in = _blocks(layer.weight_ih, 3)
    W_hr, W_hz, W_hn = _blocks(layer.weight_hh, 3)
    r, z, n, h_prev = lt.r[t], lt.z[t], lt.h_tilde[t], lt.h_prev[t]          # (H,) each
    w = old_state_weight(z, convention)
    sign = 1.0 if convention.z_keeps_old else -1.0                            # ∂w/∂z
    dr_h, dr_x = _sigma_slope(r)[:, None] * W_hr, _sigma_slope(r)[:, None] * W_ir
    dw_h, dw_x = (sign * _sigma_slope(z))[:, None] * W_hz, (sign * _sigma_slope(z))[:, None] * W_iz
    tanh_slope = (1.0 - n * n)[:, None]
    if convention.reset_after_matmul:  # h̃ = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
        gh_n = lt.block("n", "hidden_part")[t]                                # W_hn h_{t-1} + b_hn
        dn_h = tanh_slope * (r[:, None] * W_hn + gh_n[:, None] * dr_h)
        dn_x = tanh_slope * (W_in + gh_n[:, None] * dr_x)
    else:                              # h̃ = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)
        dn_h = tanh_slope * (W_hn * r[None, :] + W_hn @ (h_prev[:, None] * dr_h))
        dn_x = tanh_slope * (W_in + W_hn @ (h_prev[:, None] * dr_x))
    gap = (h_prev - n)[:, None]
    parts = GRUStepParts(keep=np.diag(w), candidate=(1.0 - w)[:, None] * dn_h, gate=gap * dw_h)
    return parts, (1.0 - w)[:, None] * dn_x + gap * dw_x


def _rnn_step(layer: RNNLayer, lt, t: int, convention) -> tuple[np.ndarray, np.ndarray]:
    """h_t = tanh(W_ih x + b_ih + W_hh h_{t-1} + b_hh): J = diag(1 − h_t²) W_hh, K = diag(1 − h_t²) W_ih."""
    slope = (1.0 - lt.h[t] ** 2)[:, None]
    return slope * layer.weight_hh, slope * layer.weight_ih


def _lstm_step(layer: LSTMLayer, lt, t: int, convention) -> tuple[np.ndarray, np.ndarray]:
    """∂(h_t, c_t)/∂(h_{t-1}, c_{t-1}) (2H, 2H) and ∂(h_t, c_t)/∂x_t (2H, I)."""
    W_i = _blocks(layer.weight_ih, 4)
    W_h = _blocks(layer.weight_hh, 4)
    i, f, g, o = lt.i[t], lt.f[t], lt.g[t], lt.o[t]
    c, c_prev = lt.c[t], lt.c_prev[t]
    slopes = (_sigma_slope(i), _sigma_slope(f), 1.0 - g * g, _sigma_slope(o))
    d_h = [s[:, None] * W for s, W in zip(slopes, W_h)]                        # ∂(i, f, g, o)/∂h_{t-1}
    d_x = [s[:, None] * W for s, W in zip(slopes, W_i)]                        # ∂(i, f, g, o)/∂x_t
    tc = np.tanh(c)
    out_slope = (o * (1.0 - tc * tc))[:, None]                                 # ∂h_t/∂c_t (diagonal)
    dc_h = c_prev[:, None] * d_h[1] + g[:, None] * d_h[0] + i[:, None] * d_h[2]
    dc_x = c_prev[:, None] * d_x[1] + g[:, None] * d_x[0] + i[:, None] * d_x[2]
    dc_c = np.diag(f)                                                          # the cell path
    dh_h = tc[:, None] * d_h[3] + out_slope * dc_h
    dh_c = out_slope * dc_c
    dh_x = tc[:, None] * d_x[3] + out_slope * dc_x
    return np.block([[dh_h, dh_c], [dc_h, dc_c]]), np.vstack([dh_x, dc_x])


def step_jacobians(layer, lt, t: int, convention: Convention | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(∂s_t/∂s_{t-1} (S, S), ∂s_t/∂x_t (S, I)) for step ``t`` of a recorded layer. A GRU layer's
    Jacobian depends on its convention (where the reset gate acts): pass the cell's."""
    if isinstance(layer, GRULayer):
        if convention is None:
            raise ValueError("a GRU layer's Jacobian needs its convention (the cell's .convention)")
        parts, k = _gru_step(layer, lt, t, convention)
        return parts.total, k
    if isinstance(layer, LSTMLayer):
        return _lstm_step(layer, lt, t, convention)
    if isinstance(layer, RNNLayer):
        return _rnn_step(layer, lt, t, convention)
    raise ValueError(f"no Jacobian is written for {type(layer).__name__}")


def jacobians(cell: Stack, trace: Trace, layer: int = -1) -> np.ndarray:
    """∂s_t/∂s_{t-1} at every step of one layer: (T, S, S). Memory T·S²: for plots of short runs."""
    k = layer % cell.num_layers
    lt, lay = trace.layers[k], cell.layers[k]
    return np.stack([step_jacobians(lay, lt, t, cell.convention)[0] for t in range(lt.steps)])


def gru_jacobian_parts(cell: Stack, trace: Trace, layer: int = -1) -> list[GRUStepParts]:
    """For a GRU layer: ∂h_t/∂h_{t-1} at every step, split into keep / candidate / gate paths."""
    k = layer % cell.num_layers
    if not isinstance(cell.layers[k], GRULayer):
        raise ValueError("the keep / candidate split is the GRU's: this cell is not a GRU")
    return [_gru_step(cell.layers[k], trace.layers[k], t, cell.convention)[0] for t in range(trace.steps)]


# -- back-propagation through time -----------------------------------------------------------------------
@dataclass(frozen=True)
class GradientFlow:
    """The gradient of a loss at the last step, sent back through time and through the layers."""

    state: tuple[np.ndarray, ...]   # per layer, (T, S): ∂L/∂s_t (s = h, or (h, c) for the LSTM)
    inputs: np.ndarray              # (T, I): ∂L/∂x_t of the sequence itself

    def state_norms(self, layer: int = -1) -> np.ndarray:
        """‖∂L/∂s_t‖ for t = 0 … T − 1 (T,); the distance back from the loss is T − 1 − t."""
        return np.linalg.norm(self.state[layer], axis=1)

    def input_norms(self) -> np.ndarray:
        """‖∂L/∂x_t‖ for t = 0 … T − 1 (T,): how strongly the loss depends on the sequence's input at
        each step, through every layer (the same distance T − 1 − t back)."""
        return np.linalg.norm(self.inputs, axis=1)


def gradient_flow(cell: Stack, trace: Trace, dloss_dh: np.ndarray | None = None) -> GradientFlow:
    """Send ∂L/∂h_{T−1} (H,) of the last layer (default: all ones, L = Σ h_{T−1}) back through time.

    Exact for the recorded pass: g_t = e_t + g_{t+1} J_{t+1}, where e_t is what reaches s_t from the
    layer above (that layer's ∂L/∂x_t, into h) and J the step Jacobians; costs O(T · S²) per layer.
    """
    T, H = trace.steps, cell.hidden_size
    dloss_dh = np.ones(H) if dloss_dh is None else np.asarray(dloss_dh, dtype=np.float64)
    if dloss_dh.shape != (H,):
        raise ValueError(f"dloss_dh must have shape ({H},), got {dloss_dh.shape}")
    from_above = np.zeros((T, H))
    from_above[-1] = dloss_dh
    states: list[np.ndarray] = []
    for k in reversed(range(cell.num_layers)):
        layer, lt = cell.layers[k], trace.layers[k]
        S = H * len(cell.STATES)
        g = np.zeros((T, S))
        dx = np.zeros((T, layer.input_size))
        carried = np.zeros(S)                                   # g_{t+1} J_{t+1}
        for t in reversed(range(T)):
            j_state, j_input = step_jacobians(layer, lt, t, cell.convention)
            g[t] = carried
            g[t, :H] += from_above[t]                           # the loss and the layer above reach h
            dx[t] = g[t] @ j_input
            carried = g[t] @ j_state
        states.insert(0, g)
        from_above = dx
    return GradientFlow(state=tuple(states), inputs=from_above)
