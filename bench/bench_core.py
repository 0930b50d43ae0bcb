"""gru.run (NumPy, recording every gate) against torch.nn.GRU's plain forward, in one run.

Both sides: CPU, batch 1, one thread (torch.set_num_threads(1); NumPy's BLAS pinned to one thread
by bench/run.py before NumPy loads). The two are timed alternately, so machine drift hits both.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from gru_core import GRU

SHAPES = ((64, 32), (512, 64), (2048, 128))
INPUT_SIZE = 8


def _time(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def measure(T: int, H: int, dtype: torch.dtype, rounds: int = 15) -> dict:
    torch.manual_seed(0)
    module = torch.nn.GRU(INPUT_SIZE, H, dtype=dtype).eval()
    gru = GRU.from_torch(module)
    xs = np.random.default_rng(0).normal(size=(T, INPUT_SIZE)).astype(gru.dtype)
    x_t = torch.from_numpy(xs)[:, None, :]
    with torch.no_grad():
        assert np.abs(gru.run(xs).h - module(x_t)[0][:, 0].numpy()).max() < (1e-10 if dtype == torch.float64 else 1e-4)
        ours, theirs = [], []
        inner = max(1, 2000 // T)
        for _ in range(rounds):  # alternate so both see the same machine state
            theirs += _time(lambda: module(x_t), inner)
            ours += _time(lambda: gru.run(xs), inner)
    t_ours, t_torch = statistics.median(ours), statistics.median(theirs)
    return {"T": T, "H": H, "dtype": str(dtype).replace("torch.", ""), "ours_ms": 1e3 * t_ours,
            "torch_ms": 1e3 * t_torch, "ratio": t_ours / t_torch}


def run() -> list[dict]:
    torch.set_num_threads(1)
    rows = []
    print("\n== Core: gru.run (records z, r, h̃, h, pre-activations) vs torch.nn.GRU forward ==")
    print(f"   batch 1, one thread, input size {INPUT_SIZE}; median of alternating runs")
    print(f"   {'T':>5} {'H':>4} {'dtype':>8} {'gru.run ms':>11} {'torch ms':>9} {'ratio':>6}")
    for dtype in (torch.float32, torch.float64):
        for T, H in SHAPES:
            r = measure(T, H, dtype)
            rows.append(r)
            print(f"   {T:>5} {H:>4} {r['dtype']:>8} {r['ours_ms']:>11.2f} {r['torch_ms']:>9.2f} {r['ratio']:>6.2f}")
    return rows


if __name__ == "__main__":
    run()
