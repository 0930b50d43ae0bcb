"""The LSTM's compiled recurrence (gru_core/cells/lstm.py): its float32 tanh is tanh to within one
unit in the last place, and every float32 value it records equals a float64 recompute from the other
recorded values (the float64 cell is held to torch at 1e-10 in test_cells_vs_torch.py)."""

from __future__ import annotations

import numpy as np
import torch
from numba import njit

from gru_core.cells import LSTM
from gru_core.cells.lstm import _COMPILE, _tanh


@njit(**_COMPILE)  # compiled as _record is (fused multiply-adds allowed)
def _tanh_of(xs, scale, out):
    for k in range(xs.shape[0]):
        out[k] = _tanh(xs[k], scale)


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in float32 steps (a and b float32; ±0 are one value)."""
    def ordered(x):
        i = x.view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFFFFFF), i)
    return np.abs(ordered(a) - ordered(b))


def test_float32_tanh_is_correctly_rounded_but_for_one_ulp():
    xs = np.concatenate([np.linspace(-12, 12, 4_000_001), np.geomspace(1e-30, 12, 200_001),
                         -np.geomspace(1e-30, 12, 20_001), [0.0, -0.0, 9.0, 9.1, 9.2, -9.1, 1e30, -1e30]])
    xs = xs.astype(np.float32)
    for scale in (1.0, 0.5):
        out = np.empty(xs.shape, np.float64)
        _tanh_of(xs, scale, out)
        exact = np.tanh(scale * xs.astype(np.float64)).astype(np.float32)
        ulps = _ulps(out.astype(np.float32), exact)
        assert ulps.max() <= 1
        assert (ulps > 0).mean() < 0.02                     # about 1 in 100 rounds the other way
    assert np.abs(out).max() <= 1.0


def test_float32_records_equal_a_float64_recompute_from_the_record():
    torch.manual_seed(7)
    module = torch.nn.LSTM(3, 6, num_layers=2)               # float32, torch's default
    with torch.no_grad():
        for p in module.parameters():
            p.mul_(4.0)                                      # gates near 0 and 1 as well as in between
    cell = LSTM.from_torch(module)
    xs = (np.random.default_rng(1).normal(size=(40, 3)) * 2).astype(np.float32)
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731 — the textbook form, on purpose
    for lt in cell.run(xs).layers:
        pre = lt.pre.astype(np.float64)
        H = lt.hidden_size
        want = np.concatenate([sig(pre[:, :2 * H]), np.tanh(pre[:, 2 * H:3 * H]), sig(pre[:, 3 * H:])], axis=1)
        # one step of float32, or for σ near 0 (½ + ½ tanh(½a), tanh near -1) a billionth
        assert np.all(np.abs(lt.gates - want) <= np.abs(np.spacing(want.astype(np.float32))) + 1e-9)
        f, i, g, o = (lt.gate(n).astype(np.float64) for n in "figo")
        c = f * lt.c_prev + i * g
        np.testing.assert_array_equal(lt.c, c.astype(np.float32))      # one rounding, as recorded
        assert _ulps(lt.h, (o * np.tanh(lt.c.astype(np.float64))).astype(np.float32)).max() <= 1
