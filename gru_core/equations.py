"""The GRU equations — the only place the NumPy core writes them.

(gru_core/torch_cells.py writes the cho2014 form once more in torch, because training needs autograd;
a test holds the two to 1e-12.)

Every function broadcasts over leading axes, so the same code computes one step (H,) inside the
recurrence and is what tests and views refer to. ``out=`` lets the recurrence write straight into
the trace's preallocated rows: recording every intermediate then costs no extra pass.

Gate order everywhere is torch.nn.GRU's: r, z, n (n is the candidate h̃).
"""

from __future__ import annotations

import numpy as np

from .conventions import Convention


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """σ(x) = ½(1 + tanh(x/2)): the same value as 1/(1 + e^{−x}), with no overflow for large |x|."""
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    np.multiply(out, 0.5, out=out)
    np.add(out, 0.5, out=out)
    return out


def gate(input_part: np.ndarray, hidden_part: np.ndarray,
         pre_out: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Reset and update gates: r = σ(W_ir x + b_ir + W_hr h + b_hr), z likewise with its own rows.

    ``input_part`` = W_i· x + b_i·, ``hidden_part`` = W_h· h_{t-1} + b_h·; shapes (..., k).
    The pre-activation is written to ``pre_out`` when given (the trace records it).
    """
    pre = np.add(input_part, hidden_part, out=pre_out)
    return sigmoid(pre, out=out)


def candidate(input_n: np.ndarray, hidden_n: np.ndarray, r: np.ndarray, convention: Convention,
              pre_out: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Candidate state h̃ = tanh(W_in x + b_in + [recurrent term]); shapes (..., H).

    ``hidden_n`` is what the recurrent matrix produced for the candidate rows:
    * reset after the matmul (pytorch): hidden_n = W_hn h_{t-1} + b_hn, term = r ⊙ hidden_n;
    * reset before it (cho2014, chung2014): hidden_n = W_hn (r ⊙ h_{t-1}) + b_hn, term = hidden_n
      (r was already applied to h_{t-1} — see :func:`reset_state`).
    """
    if convention.reset_after_matmul:
        pre = np.multiply(r, hidden_n, out=pre_out)
        np.add(pre, input_n, out=pre)
    else:
        pre = np.add(input_n, hidden_n, out=pre_out)
    return np.tanh(pre, out=out)


def reset_state(r: np.ndarray, h_prev: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """r ⊙ h_{t-1}: what the recurrent matrix sees for the candidate when the reset acts before it."""
    return np.multiply(r, h_prev, out=out)


def blend(h_prev: np.ndarray, h_tilde: np.ndarray, z: np.ndarray, convention: Convention,
          out: np.ndarray | None = None) -> np.ndarray:
    """New state: the point between h_{t-1} and h̃_t that the update gate picks; shapes (..., H).

    z_keeps_old (pytorch, cho2014): h = (1 − z) ⊙ h̃ + z ⊙ h_{t-1} = h̃ + z ⊙ (h_{t-1} − h̃)
    otherwise  (chung2014):         h = (1 − z) ⊙ h_{t-1} + z ⊙ h̃ = h_{t-1} + z ⊙ (h̃ − h_{t-1})
    The right-hand forms are the same numbers with one multiply fewer.
    """
    start, end = (h_tilde, h_prev) if convention.z_keeps_old else (h_prev, h_tilde)
    # start + z ⊙ (end − start); `out` may alias neither input, so compute the difference first.
    out = np.subtract(end, start, out=out)
    np.multiply(out, z, out=out)
    np.add(out, start, out=out)
    return out
