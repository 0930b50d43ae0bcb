"""An independent, deliberately plain GRU step for the tests: written from the README's conventions table with
explicit per-gate matrices and 1/(1+e^{-x}), sharing no code with gru_core."""

from __future__ import annotations

import numpy as np


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def reference_run(layers, xs, convention, h0=None):
    """layers: list of dicts of torch-layout arrays. Returns per layer a dict of (T, H) arrays."""
    out = []
    inp = np.asarray(xs, dtype=np.float64)
    for k, p in enumerate(layers):
        W_ih, W_hh, b_ih, b_hh = (np.asarray(p[n], np.float64) for n in
                                  ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        H = W_hh.shape[1]
        W_ir, W_iz, W_in = W_ih[:H], W_ih[H:2 * H], W_ih[2 * H:]
        W_hr, W_hz, W_hn = W_hh[:H], W_hh[H:2 * H], W_hh[2 * H:]
        b_ir, b_iz, b_in = b_ih[:H], b_ih[H:2 * H], b_ih[2 * H:]
        b_hr, b_hz, b_hn = b_hh[:H], b_hh[H:2 * H], b_hh[2 * H:]
        h = np.zeros(H) if h0 is None else np.asarray(h0[k], np.float64)
        rec = {key: [] for key in ("r", "z", "h_tilde", "h")}
        for x in inp:
            r = _sig(W_ir @ x + b_ir + W_hr @ h + b_hr)
            z = _sig(W_iz @ x + b_iz + W_hz @ h + b_hz)
            if convention == "pytorch":
                n = np.tanh(W_in @ x + b_in + r * (W_hn @ h + b_hn))
                h = (1 - z) * n + z * h
            elif convention == "cho2014":
                n = np.tanh(W_in @ x + b_in + W_hn @ (r * h) + b_hn)
                h = z * h + (1 - z) * n
            elif convention == "chung2014":
                n = np.tanh(W_in @ x + b_in + W_hn @ (r * h) + b_hn)
                h = (1 - z) * h + z * n
            else:
                raise AssertionError(convention)
            for key, v in (("r", r), ("z", z), ("h_tilde", n), ("h", h)):
                rec[key].append(v)
        out.append({key: np.array(v) for key, v in rec.items()})
        inp = out[-1]["h"]
    return out
