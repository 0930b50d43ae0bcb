"""The recorded cells (recording every intermediate) against torch's plain forward, and the
exact gradients through time against torch autograd's backward, each in one run.

Both sides: CPU, batch 1, one thread (torch.set_num_threads(1); NumPy's BLAS pinned to one thread
by bench/run.py before NumPy loads). The two are timed alternately, so machine drift hits both.

torch runs its float32 LSTM as one fused oneDNN kernel (a few µs a step, nothing recorded and no
Python between steps); its float64 LSTM, and every GRU and RNN, step through ATen operators. The GRU
and RNN step through NumPy calls; the LSTM is one loop compiled by numba (gru_core/cells/lstm.py), so
its first call in a process compiles it or loads it from numba's cache (timed and printed first).
The LSTM float32 rows are also timed against torch with oneDNN switched off (marked †): torch's
per-step loop, as in float64.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from gru_core import GRU
from gru_core.cells import LSTM, RNN
from gru_core.gradients import gradient_flow

CELLS = {"GRU": GRU, "RNN": RNN, "LSTM": LSTM}

SHAPES = ((64, 32), (512, 64), (2048, 128))
INPUT_SIZE = 8


def _time(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def measure(T: int, H: int, dtype: torch.dtype, rounds: int = 15, kind: str = "GRU", layers: int = 1,
            onednn: bool = True) -> dict:
    """``onednn=False`` times torch with oneDNN switched off (only the float32 LSTM uses it)."""
    torch.manual_seed(0)
    module = getattr(torch.nn, kind)(INPUT_SIZE, H, num_layers=layers, dtype=dtype).eval()
    cell = CELLS[kind].from_torch(module)
    xs = np.random.default_rng(0).normal(size=(T, INPUT_SIZE)).astype(cell.dtype)
    x_t = torch.from_numpy(xs)[:, None, :]
    onednn_was = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = onednn_was and onednn
    try:
        with torch.no_grad():
            assert np.abs(cell.run(xs).h - module(x_t)[0][:, 0].numpy()).max() < (1e-10 if dtype == torch.float64
                                                                                  else 1e-4)
            ours, theirs = [], []
            inner = max(1, 2000 // T)
            for _ in range(rounds):  # alternate so both see the same machine state
                theirs += _time(lambda: module(x_t), inner)
                ours += _time(lambda: cell.run(xs), inner)
    finally:
        torch.backends.mkldnn.enabled = onednn_was
    t_ours, t_torch = statistics.median(ours), statistics.median(theirs)
    return {"cell": (kind if layers == 1 else f"{kind}×{layers}") + ("" if onednn else "†"), "T": T, "H": H,
            "dtype": str(dtype).replace("torch.", ""), "ours_ms": 1e3 * t_ours,
            "torch_ms": 1e3 * t_torch, "ratio": t_ours / t_torch}


def measure_gradients(kind: str, T: int, H: int, rounds: int = 7) -> dict:
    """gradient_flow (every ∂L/∂s_t and ∂L/∂x_t, from the recorded pass) against torch's forward +
    backward of L = Σ h_{T-1} with respect to the inputs (float64)."""
    torch.manual_seed(0)
    module = getattr(torch.nn, kind)(INPUT_SIZE, H, dtype=torch.float64)
    cell = CELLS[kind].from_torch(module)
    xs = np.random.default_rng(0).normal(size=(T, INPUT_SIZE))
    trace = cell.run(xs)

    def theirs():
        x_t = torch.from_numpy(xs)[:, None, :].requires_grad_(True)
        module(x_t)[0][-1].sum().backward()
        return x_t.grad[:, 0].numpy()

    assert np.abs(gradient_flow(cell, trace).inputs - theirs()).max() < 1e-8
    ours_t, theirs_t = [], []
    for _ in range(rounds):
        theirs_t += _time(theirs, 1)
        ours_t += _time(lambda: gradient_flow(cell, trace), 1)
    t_ours, t_torch = statistics.median(ours_t), statistics.median(theirs_t)
    return {"cell": kind, "T": T, "H": H, "ours_ms": 1e3 * t_ours, "torch_ms": 1e3 * t_torch,
            "ratio": t_ours / t_torch}


def first_lstm_call() -> dict:
    """Seconds of the LSTM's first call in this process, per dtype: numba compiling its recurrence
    (the first time on a machine) or loading it from the cache (after)."""
    seconds = {}
    for dtype in (np.float32, np.float64):
        cell = LSTM.random(INPUT_SIZE, 4, seed=0)
        cell = LSTM.from_arrays([{n: a.astype(dtype) for n, a in layer.params().items()} for layer in cell.layers])
        t0 = time.perf_counter()
        cell.run(np.zeros((2, INPUT_SIZE), dtype))
        seconds[np.dtype(dtype).name] = time.perf_counter() - t0
    return seconds


def run() -> list[dict]:
    torch.set_num_threads(1)
    rows = []
    first = first_lstm_call()
    print("\n== Core: the LSTM's first call in this process (numba: a compile once a machine, then a cache load) ==")
    print("   " + ", ".join(f"{dtype} {s:.2f} s" for dtype, s in first.items()))
    print("\n== Core: recorded forward (every intermediate) vs torch's forward ==")
    print(f"   batch 1, one thread, input size {INPUT_SIZE}; median of alternating runs")
    print(f"   {'cell':>5} {'T':>5} {'H':>4} {'dtype':>8} {'ours ms':>9} {'torch ms':>9} {'ratio':>6}")
    for kind in CELLS:
        for dtype in (torch.float32, torch.float64):
            fused = (True, False) if kind == "LSTM" and dtype == torch.float32 else (True,)
            for onednn in fused:
                for T, H in SHAPES:
                    r = measure(T, H, dtype, kind=kind, onednn=onednn)
                    rows.append(r)
                    print(f"   {r['cell']:>5} {T:>5} {H:>4} {r['dtype']:>8} {r['ours_ms']:>9.2f} "
                          f"{r['torch_ms']:>9.2f} {r['ratio']:>6.2f}")
    for T in (20, 512):   # seed 001's GRU(50) → GRU(50): a 20-week window, and a long sequence
        r = measure(T, 50, torch.float32, kind="GRU", layers=2)
        rows.append(r)
        print(f"   {r['cell']:>5} {T:>5} {50:>4} {r['dtype']:>8} {r['ours_ms']:>9.2f} {r['torch_ms']:>9.2f} "
              f"{r['ratio']:>6.2f}")
    print("   † torch with oneDNN off: its float32 LSTM then steps through ATen operators, as in float64")
    print("\n== Core: gradients through time (gru_core.gradients.gradient_flow) vs torch forward + backward ==")
    print(f"   {'cell':>5} {'T':>5} {'H':>4} {'ours ms':>9} {'torch ms':>9} {'ratio':>6}")
    for kind in CELLS:
        for T, H in ((100, 16), (200, 32)):
            r = measure_gradients(kind, T, H)
            rows.append(r)
            print(f"   {kind:>5} {T:>5} {H:>4} {r['ours_ms']:>9.2f} {r['torch_ms']:>9.2f} {r['ratio']:>6.2f}")
    return rows


if __name__ == "__main__":
    run()
