"""Uploads through the real path (load_gru / parse_csv, each parsed in a sandboxed worker).

For every file of the hostile corpus (tests/hostile_files.py), plus a few good files for
reference: its size, the outcome (the first words of the message), the median time per file,
the worker's peak resident memory (wait4's ru_maxrss: it includes the pages it shares with its
zygote) and how much this process's peak grew while reading it (VmHWM, reset before each file).
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REPEATS = 3


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # VmHWM := VmRSS


def _measure(read, data: bytes) -> tuple[str, float, float, float]:
    """(outcome, median seconds, worker peak MB, this process's peak growth MB) over REPEATS reads."""
    from gru_core import sandbox

    times, worker_kb, grown_kb = [], 0, 0
    outcome = ""
    for _ in range(REPEATS):
        _reset_peak()
        before = _status_kb("VmRSS")
        started = time.perf_counter()
        try:
            read(data)
            outcome = "loaded"
        except ValueError as err:  # the reason, without the preamble many messages share
            outcome = re.sub(r"^This file (is not a plain PyTorch checkpoint|could not be read safely): ", "",
                             str(err))
        times.append(time.perf_counter() - started)
        grown_kb = max(grown_kb, _status_kb("VmHWM") - before)
        stats = sandbox.last_stats()
        worker_kb = max(worker_kb, stats.child_peak_kb if stats and stats.seconds else 0)
        sandbox._last.stats = None  # a file refused before the sandbox leaves no stats
    return outcome, statistics.median(times), worker_kb / 1024, grown_kb / 1024


def run() -> None:
    import torch

    from app.sequences import parse_csv
    from gru_core import sandbox
    from gru_core.checkpoints import load_gru
    from tests import hostile_files as hf

    with tempfile.TemporaryDirectory() as markers:
        torch.manual_seed(0)
        good = {"good_gru_3x4": hf.torch_saved(torch.nn.GRU(3, 4).state_dict()),
                "good_gru_64x256x2": hf.torch_saved(torch.nn.GRU(64, 256, num_layers=2).state_dict())}
        corpus = [(name, load_gru, data) for name, data in {**good, **hf.checkpoints(markers)}.items()]
        corpus += [("good_csv", parse_csv, b"a;b\n1;2\n3;4\n")]
        corpus += [(name, parse_csv, data) for name, data in hf.csv_files().items()]

        sandbox.shutdown()  # cold start: the first read starts the zygotes (torch's import dominates)
        started = time.perf_counter()
        load_gru(good["good_gru_3x4"])
        cold_torch = time.perf_counter() - started
        started = time.perf_counter()
        parse_csv(b"1\n")
        cold_csv = time.perf_counter() - started

        print(f"\n## Uploads through the sandbox (median of {REPEATS}; worker peak includes pages shared "
              "with its zygote)\n")
        print(f"{'file':28} {'size':>11} {'ms':>7} {'worker MB':>9} {'parent +MB':>10}  outcome")
        total = 0.0
        for name, read, data in corpus:
            outcome, seconds, worker_mb, grown_mb = _measure(read, data)
            total += seconds
            print(f"{name:28} {len(data):>11,} {seconds * 1000:>7.0f} {worker_mb:>9.0f} {grown_mb:>10.1f}  "
                  f"{outcome[:80]}")
        ran = sorted(Path(markers).iterdir())
        zygotes = {z.preload: z for z in sandbox._zygotes.values()}
        print(f"\n{len(corpus)} files: {total:.1f} s in all (one pass); cold start {cold_torch:.2f} s (torch "
              f"zygote) and {cold_csv:.2f} s (CSV zygote); zygotes resident: "
              + ", ".join(f"{'+'.join(p) or 'numpy'} {_rss_mb(z._proc.pid):.0f} MB" for p, z in zygotes.items())
              + f"; code-running pickles that ran: {len(ran)}")


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


if __name__ == "__main__":
    run()
