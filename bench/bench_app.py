"""What still reaches the server, in a real Chromium: our pages against a bare Streamlit baseline.

A knob of the lab (new data: a rerun that rebuilds the step view's message) against a bare page
with the same figures, alternating notch by notch; and live training in the page against the same
loop outside Streamlit. Stepping itself runs in the browser: bench_steps.py measures it.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from conftest import CHROMIUM, CHROMIUM_ARGS, start_server, wait_idle  # noqa: E402 (needs the path above)

STEPS = 25


Z_CHECKSUM = """() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')]
    .find(p => p.data && p.data.length === 4 && p.data[0].type === 'heatmap');
  return gd && gd._fullData
    ? Array.from(gd._fullData[0].z, row => Array.from(row)).flat().reduce((a, b) => a + b, 0) : null;
}"""


class TweakProbe:
    """One open page with a slider nudged one notch at a time, timed until the z heatmap changes."""

    def __init__(self, page, url: str, slider: str, prepare=None) -> None:
        self.page, self.times, self.k = page, [], 0
        page.goto(url)
        page.wait_for_selector(".js-plotly-plot")
        wait_idle(page)
        if prepare:
            prepare(page)
        page.wait_for_function(Z_CHECKSUM)
        self.knob = page.locator(f"input[type=range][aria-label='{slider}']")

    def nudge(self) -> None:
        before = self.page.evaluate(Z_CHECKSUM)
        self.knob.focus()
        t0 = time.perf_counter()
        self.page.keyboard.press("ArrowRight" if self.k < STEPS // 2 + 1 else "ArrowLeft")
        self.k += 1
        self.page.wait_for_function(f"(old) => {{ const v = ({Z_CHECKSUM})(); return v !== null && v !== old; }}",
                                    arg=before, polling="raf")
        self.times.append(time.perf_counter() - t0)
        wait_idle(self.page)


def lab_ablate(page) -> None:
    page.get_by_text("Turn the knobs of the trained adder", exact=True).click()
    wait_idle(page)


def measure_training(page, url: str, iterations: int) -> float:
    """Iterations per second the training page reports for itself (its own clock around train())."""
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp']")
    wait_idle(page)
    box = page.get_by_role("spinbutton", name="Iterations (at most)")
    box.fill(str(iterations))
    box.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name=re.compile("^Train")).click()
    done = page.get_by_text(re.compile(r"^Done: \d+ iterations"))
    done.wait_for(timeout=300_000)
    m = re.search(r"Done: (\d+) iterations in ([\d.]+) s", done.inner_text())
    return int(m.group(1)) / float(m.group(2))


def training_outside(iterations: int) -> float:
    from gru_core.tasks.bit_addition import BitAddition
    from gru_core.train import TrainConfig, train

    t0 = time.perf_counter()
    model = train(BitAddition(harden=False), TrainConfig(stage_iterations={"learn": iterations}))
    return model.metrics["iterations"] / (time.perf_counter() - t0)


def run() -> list[dict]:
    from playwright.sync_api import sync_playwright

    from gru_core.tasks.bit_addition import n_steps

    app_proc, app_url = start_server(ROOT / "app" / "streamlit_app.py")
    base_proc, base_url = start_server(ROOT / "bench" / "baseline_app.py")
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            print(f"\n== App: slider tweak → new heatmaps in Chromium ({STEPS} notches; median) ==")
            probes = [TweakProbe(browser.new_context(viewport={"width": 1280, "height": 900}).new_page(),
                                 url, name, prep)
                      for url, name, prep in ((app_url + "/lab", "Shift the update-gate bias", lab_ablate),
                                              (base_url + f"/?T={n_steps(46955, 27509)}&H=16&I=4", "Shift", None))]
            for _ in range(STEPS):  # alternate, as for the steps
                for probe in probes:
                    probe.nudge()
            ours, bare = (statistics.median(p.times) for p in probes)
            for p in probes:
                p.page.context.close()
            row = {"page": "lab: update-gate bias knob", "ours_s": ours, "bare_s": bare, "ratio": ours / bare}
            rows.append(row)
            print(f"   {row['page']:<32} ours {row['ours_s']:.3f} s  bare {row['bare_s']:.3f} s  "
                  f"ratio {row['ratio']:.2f}")

            print("\n== Live training: iterations per second in the page vs the same loop outside Streamlit ==")
            iterations = 400
            outside = training_outside(iterations)
            ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            inside = measure_training(ctx.new_page(), app_url + "/train", iterations)
            ctx.close()
            row = {"page": "training", "inside_its": inside, "outside_its": outside, "ratio": inside / outside}
            rows.append(row)
            print(f"   in the page {inside:.1f} it/s, outside {outside:.1f} it/s, ratio {row['ratio']:.2f}"
                  f"  (default settings, at most {iterations} iterations, stops when 8-bit sums are exact)")
            browser.close()
    finally:
        for proc in (app_proc, base_proc):
            proc.terminate()
    return rows


if __name__ == "__main__":
    run()
