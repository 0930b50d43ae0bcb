"""`make bench`: every benchmark, ratios against baselines measured in the same run.

Absolute times on shared machines drift by 2×; the ratios are the figures to quote.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# One BLAS thread for NumPy, like torch.set_num_threads(1) on the other side: set before NumPy loads.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["core", "app", "steps", "load"], help="run one section")
    args = parser.parse_args()
    if args.only in (None, "core"):
        import bench_core

        bench_core.run()
    if args.only in (None, "app"):
        import bench_app

        bench_app.run()
        __import__("bench_uploads").run()  # the upload path: the hostile corpus through the sandbox
    if args.only in (None, "steps"):
        __import__("bench_steps").run()    # stepping in Chromium: the browser step view vs the page before
    if args.only in (None, "load"):          # a class at once: 1, 10, 30 and 60 simulated sessions, both cores
        load = __import__("load")
        load.run(seconds=30, replicas=2, mixed=False)   # the goal scenario: open the link, change the example
        load.run(seconds=30, replicas=2)                # and with uploads and trainings in the mix


if __name__ == "__main__":
    main()
