"""The GRU equations: the one place the NumPy core writes them.

One step, gate rows in torch.nn.GRU's order (r, z, n = the candidate h̃):

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    h̃_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))      reset after the matrix (pytorch)
    h̃_t = tanh(W_in x_t + b_in + W_hn (r_t ⊙ h_{t-1}) + b_hn)      reset before it (cho2014, chung2014)
    h_t = (1 − z_t) ⊙ h̃_t + z_t ⊙ h_{t-1}                          z keeps the old state (pytorch, cho2014)
    h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t                          z takes the candidate (chung2014)

:func:`recur` runs these over every step, writing each intermediate straight into the caller's
arrays, so recording costs no extra pass. It is the hot loop of every click, which shapes how it is
written: one NumPy call per arithmetic operation, each into a preallocated row.
(gru_core/torch_cells.py writes the reset-before form once more in torch, because training needs
autograd; a test holds the two together to 1e-12.)

σ(a) is computed as ½(1 + tanh(½a)): the same value as 1/(1 + e^{−a}), without overflow.
"""

from __future__ import annotations

import numpy as np

from ..conventions import Convention


def recur(input_part: np.ndarray, weight_hh_t: np.ndarray, bias_hh: np.ndarray, convention: Convention,
          states: np.ndarray, hidden_part: np.ndarray, pre: np.ndarray, gates: np.ndarray,
          h_tilde: np.ndarray) -> None:
    """Run the recurrence over T steps for one sequence or a batch, recording everything.

    Shapes, with ``...`` empty for one sequence or ``B`` for a batch:
      input_part (T, ..., 3H)   W_ih x_t + b_ih for every step (one matrix product, done by the caller)
      weight_hh_t (H, 3H), bias_hh (3H,)
    Written here:
      states (T+1, ..., H)      states[0] is h0 (set by the caller); states[t+1] = h_t
      hidden_part (T, ..., 3H)  W_h· h_{t-1} + b_h· (candidate block: W_hn (r ⊙ h_{t-1}) + b_hn when the
                                reset acts before the matrix)
      pre (T, ..., 3H)          pre-activations of r, z and h̃
      gates (T, ..., 2H)        r then z
      h_tilde (T, ..., H)       the candidate
    """
    H = weight_hh_t.shape[0]
    rz, n = slice(0, 2 * H), slice(2 * H, 3 * H)
    w_rz, b_rz = np.ascontiguousarray(weight_hh_t[:, rz]), bias_hh[rz]   # (H, 2H), (2H,)
    w_n, b_n = np.ascontiguousarray(weight_hh_t[:, n]), bias_hh[n]       # (H, H), (H,)
    keeps_old = convention.z_keeps_old
    # np.dot is the quicker matrix-vector product for one sequence; a batch writes into strided
    # rows (B, 2H) of hidden_part, which only np.matmul accepts as an output.
    product = np.dot if states.ndim == 2 else np.matmul
    rows = zip(states, states[1:], input_part[..., rz], input_part[..., n], hidden_part,
               hidden_part[..., rz], hidden_part[..., n], pre[..., rz], pre[..., n], gates,
               gates[..., :H], gates[..., H:], h_tilde)
    if convention.reset_after_matmul:
        for h, h_new, gi_rz, gi_n, gh, gh_rz, gh_n, a_rz, a_n, g, r, z, n_t in rows:
            product(h, weight_hh_t, out=gh)                   # W_hr h, W_hz h, W_hn h
            np.add(gh, bias_hh, out=gh)                       # … + b_hr, b_hz, b_hn
            np.add(gi_rz, gh_rz, out=a_rz)                    # a_r, a_z = W_i· x + b_i· + W_h· h + b_h·
            np.multiply(a_rz, 0.5, out=g)                     # r, z = σ(a) = ½(1 + tanh(½a))
            np.tanh(g, out=g)
            np.multiply(g, 0.5, out=g)
            np.add(g, 0.5, out=g)
            np.multiply(r, gh_n, out=a_n)                     # a_n = W_in x + b_in + r ⊙ (W_hn h + b_hn)
            np.add(a_n, gi_n, out=a_n)
            np.tanh(a_n, out=n_t)                             # h̃ = tanh(a_n)
            _blend(h, n_t, z, h_new, keeps_old)
    else:
        reset_h = np.empty_like(states[0])                    # r ⊙ h_{t-1}
        for h, h_new, gi_rz, gi_n, _gh, gh_rz, gh_n, a_rz, a_n, g, r, z, n_t in rows:
            product(h, w_rz, out=gh_rz)                       # W_hr h, W_hz h
            np.add(gh_rz, b_rz, out=gh_rz)                    # … + b_hr, b_hz
            np.add(gi_rz, gh_rz, out=a_rz)                    # a_r, a_z = W_i· x + b_i· + W_h· h + b_h·
            np.multiply(a_rz, 0.5, out=g)                     # r, z = σ(a) = ½(1 + tanh(½a))
            np.tanh(g, out=g)
            np.multiply(g, 0.5, out=g)
            np.add(g, 0.5, out=g)
            np.multiply(r, h, out=reset_h)                    # r ⊙ h_{t-1}
            product(reset_h, w_n, out=gh_n)                   # W_hn (r ⊙ h_{t-1}) + b_hn
            np.add(gh_n, b_n, out=gh_n)
            np.add(gi_n, gh_n, out=a_n)                       # a_n = W_in x + b_in + W_hn (r ⊙ h) + b_hn
            np.tanh(a_n, out=n_t)                             # h̃ = tanh(a_n)
            _blend(h, n_t, z, h_new, keeps_old)


def _blend(h: np.ndarray, n: np.ndarray, z: np.ndarray, out: np.ndarray, keeps_old: bool) -> None:
    """The new state, written as one multiply: the same numbers as the two-term forms above.

    z keeps the old state:  h_t = h̃ + z ⊙ (h_{t-1} − h̃)
    z takes the candidate:  h_t = h_{t-1} + z ⊙ (h̃ − h_{t-1})
    """
    start, end = (n, h) if keeps_old else (h, n)
    np.subtract(end, start, out=out)
    np.multiply(out, z, out=out)
    np.add(out, start, out=out)


def old_state_weight(z: np.ndarray, convention: Convention) -> np.ndarray:
    """The weight h_t puts on the old state h_{t-1}, from the recorded update gate z (any shape).

    h_t = w ⊙ h_{t-1} + (1 − w) ⊙ h̃_t, with w = z where z keeps the old state (pytorch, cho2014) and
    w = 1 − z where z takes the candidate (chung2014): the one place that reads z as "keep".
    """
    z = np.asarray(z)
    return z if convention.z_keeps_old else 1 - z
