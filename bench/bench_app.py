"""A step change in a real Chromium: our pages against a bare Streamlit baseline, in one run.

For each page the browser clicks Next N times; a step counts as done when every figure's step
outline has moved to the new step (Plotly has re-rendered). Reported: median click-to-repaint,
the ratio to the baseline (same number of figures, arrays of the same shapes), and the bytes the
server sent over the websocket per step.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from conftest import CHROMIUM, CHROMIUM_ARGS, start_server, wait_idle  # noqa: E402

STEPS = 15
# app.figures names its step outlines 'step'; the baseline does the same
MARKERS_AT = """(t) => {
  const outline = s => s.type === 'rect' && s.name === 'step';
  const plots = [...document.querySelectorAll('.js-plotly-plot')]
    .filter(p => p.layout && p.layout.shapes && p.layout.shapes.some(outline));
  return plots.length > 0 && plots.every(p => p.layout.shapes.filter(outline)
    .every(s => Math.abs((s.x0 + s.x1) / 2 - t) < 1e-9));
}"""


def measure(page, url: str, next_button: str) -> dict:
    sent: list[int] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda p: sent.append(len(p))))
    page.goto(url)
    page.wait_for_selector(".js-plotly-plot")
    wait_idle(page)
    page.wait_for_function(MARKERS_AT, arg=0)
    button = page.get_by_role("button", name=re.compile(f"^{next_button}"))
    times, sizes = [], []
    for step in range(1, STEPS + 1):
        before = len(sent)
        t0 = time.perf_counter()
        button.click()
        page.wait_for_function(MARKERS_AT, arg=step, polling="raf")
        times.append(time.perf_counter() - t0)
        wait_idle(page)
        sizes.append(sum(sent[before:]))
    return {"median_s": statistics.median(times), "bytes": statistics.median(sizes)}


def run() -> list[dict]:
    from playwright.sync_api import sync_playwright

    import numpy as np

    from gru_core.bit_addition import n_steps

    a = b = (1 << 64) - 1
    T_add = n_steps(a, b)
    seq = ",".join(f"{v:.3f}" for v in np.sin(np.arange(512) / 7.0))
    cases = [
        ("bit addition, 64-bit operands", f"/?a={a}&b={b}&t=0", f"/?T={T_add}&H=16&I=4"),
        ("sequence, T=512, H=64", f"/sequence?mode=numbers&hidden=64&t=0&seq={seq}", "/?T=512&H=64&I=1"),
    ]
    app_proc, app_url = start_server(ROOT / "app" / "streamlit_app.py")
    base_proc, base_url = start_server(ROOT / "bench" / "baseline_app.py")
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            print(f"\n== App: step change in Chromium ({STEPS} clicks each; median click → figures repainted) ==")
            print(f"   {'page':<32} {'ours s':>7} {'bare s':>7} {'ratio':>6} {'KB/step':>8} {'bare KB':>8}")
            for name, ours_path, base_path in cases:
                results = []
                for url, label in ((app_url + ours_path, "Next"), (base_url + base_path, "Next")):
                    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                    results.append(measure(ctx.new_page(), url, label))
                    ctx.close()
                ours, bare = results
                row = {"page": name, "ours_s": ours["median_s"], "bare_s": bare["median_s"],
                       "ratio": ours["median_s"] / bare["median_s"], "kb": ours["bytes"] / 1e3,
                       "bare_kb": bare["bytes"] / 1e3}
                rows.append(row)
                print(f"   {name:<32} {row['ours_s']:>7.3f} {row['bare_s']:>7.3f} {row['ratio']:>6.2f} "
                      f"{row['kb']:>8.1f} {row['bare_kb']:>8.1f}")
            browser.close()
    finally:
        for proc in (app_proc, base_proc):
            proc.terminate()
    return rows


if __name__ == "__main__":
    run()
