"""Stepping in a real Chromium: the browser step view against the page as it was before it (server-
side stepping, commit BEFORE, checked out from git into a temporary folder and served beside ours in
the same run).

Printed per case (64- and 1,024-bit addition, the sequence page at T = 2,048, H = 256):
  * first paint of a shared link (goto → every figure drawn; median of 3 fresh loads each, after
    one untimed load of each page), ours / before. Ours waits for the step view's three figures
    (data-ready; its carry figure is drawn in between, by the same plotly.js); the page before for
    its outlined figures at step 0 (BEFORE_AT), which holds from the frame its first one is drawn:
    checked frame by frame (2026-12-07), all four of its figures, the carry chart too, land in that
    same frame, as do ours, so both sides time every figure drawn;
  * click on Next → step view repainted, median and p95 (timed in Python around the click, the same
    way for both pages; for ours also inside the page: click → the next frame after the change);
  * steps per second while playing at the fastest speed;
  * websocket frames the browser sent while stepping 50 times (0 means no server rerun);
  * bytes the server sent for the view (the one message, and the whole page load).
And a classroom: 10 and 20 pages of ours stepping at once against one server (p95 click → repaint,
server CPU seconds per 100 steps), with the page before at 10 pages for comparison.

    python bench/run.py --only steps
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from conftest import CHROMIUM, CHROMIUM_ARGS, start_server, wait_idle  # noqa: E402 (needs the path above)

BEFORE = "7c39e5f"   # the last commit with server-side stepping
CLICKS = 25
VIEW = "[data-testid=step-view]"

# before: every figure's step outline has moved to step t (plotly re-rendered after a rerun)
BEFORE_AT = """(t) => {
  const outline = s => s.type === 'rect' && s.name === 'step';
  const plots = [...document.querySelectorAll('.js-plotly-plot')]
    .filter(p => p.layout && p.layout.shapes && p.layout.shapes.some(outline));
  return plots.length > 0 && plots.every(p => p.layout.shapes.filter(outline)
    .every(s => Math.abs((s.x0 + s.x1) / 2 - t) < 1e-9));
}"""
OURS_AT = f"(t) => {{ const v = document.querySelector('{VIEW}'); return v && v.dataset.t === String(t); }}"
OURS_READY = f"() => {{ const v = document.querySelector('{VIEW}'); return v && v.dataset.ready === '1'; }}"
# inside the page: click Next, then time until the frame after the change has been painted
IN_PAGE_CLICK = f"""() => new Promise(done => {{
  const next = document.querySelector('{VIEW} button[data-action=next]');
  const t0 = performance.now();
  next.click();
  requestAnimationFrame(() => {{
    const ch = new MessageChannel();
    ch.port1.onmessage = () => done(performance.now() - t0);
    ch.port2.postMessage(0);
  }});
}})"""
PLAY_RATE = f"""async () => {{
  const v = document.querySelector('{VIEW}');
  const sel = v.querySelector('select');
  sel.value = 'fast'; sel.dispatchEvent(new Event('change'));
  v.querySelector('button[data-action=first]').click();
  v.querySelector('button[data-action=play]').click();
  await new Promise(r => setTimeout(r, 300));
  const t0 = Number(v.dataset.t), s0 = performance.now();
  await new Promise(r => setTimeout(r, 2000));
  const rate = (Number(v.dataset.t) - t0) / ((performance.now() - s0) / 1000);
  v.querySelector('button[data-action=play]').click();
  return rate;
}}"""


def checkout_before() -> Path:
    """The app as it was at BEFORE, in a temporary folder (app/ and assets/; gru_core is today's)."""
    folder = Path(tempfile.mkdtemp(prefix="gru_before_"))
    archive = subprocess.run(["git", "archive", BEFORE, "app"], cwd=ROOT, check=True, capture_output=True).stdout
    tarfile.open(fileobj=io.BytesIO(archive)).extractall(folder, filter="data")
    (folder / "assets").symlink_to(ROOT / "assets")
    return folder


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0   # utime + stime, clock ticks of 1/100 s


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


class Page:
    """One browser tab on a page with a step view (ours) or the page before."""

    def __init__(self, browser, url: str, ours: bool) -> None:
        self.ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.ctx.new_page()
        self.ours, self.sent, self.received, self.times = ours, [], [], []
        self.page.on("websocket", lambda ws: (ws.on("framesent", lambda p: self.sent.append(len(p))),
                                               ws.on("framereceived", lambda p: self.received.append(len(p)))))
        t0 = time.perf_counter()
        self.page.goto(url)
        if ours:
            self.page.wait_for_function(OURS_READY, timeout=120_000, polling="raf")
        else:
            self.page.wait_for_function(BEFORE_AT, arg=0, timeout=120_000, polling="raf")
        self.first_paint = time.perf_counter() - t0
        wait_idle(self.page, timeout=120_000)
        self.t = 0
        self.next = self.page.locator(f"{VIEW} button[data-action=next]") if ours else \
            self.page.get_by_role("button", name="Next").first

    def click(self) -> float:
        self.t += 1
        t0 = time.perf_counter()
        self.next.click()
        self.page.wait_for_function(OURS_AT if self.ours else BEFORE_AT, arg=self.t, polling="raf", timeout=120_000)
        dt = time.perf_counter() - t0
        self.times.append(dt)
        if not self.ours:
            wait_idle(self.page, timeout=120_000)
        return dt

    def close(self) -> None:
        self.ctx.close()


def one_case(browser, name: str, ours_url: str, before_url: str | None, clicks: int) -> dict:
    row = {"case": name}
    ours = Page(browser, ours_url, ours=True)
    row["message_kb"] = max(ours.received) / 1e3
    row["load_kb"] = sum(ours.received) / 1e3
    row["first_paint_s"] = ours.first_paint
    sent_before = len(ours.sent)
    for _ in range(clicks):
        ours.click()
    row["in_page_ms"] = statistics.median(ours.page.evaluate(IN_PAGE_CLICK) for _ in range(clicks))
    ours.page.locator(VIEW).click(position={"x": 5, "y": 5})   # the keyboard goes to this view
    for _ in range(50):
        ours.page.keyboard.press("ArrowRight")
    row["frames_sent_stepping"] = len(ours.sent) - sent_before
    row["ours_median_s"], row["ours_p95_s"] = statistics.median(ours.times), pct(ours.times, 0.95)
    row["play_steps_per_s"] = ours.page.evaluate(PLAY_RATE)
    ours.close()
    if before_url:
        # first paint, fresh browser context each time (nothing cached), alternating pages so drift
        # hits both alike; one untimed load of each first (the servers' own first-request costs)
        for url, is_ours in ((ours_url, True), (before_url, False)):
            Page(browser, url, ours=is_ours).close()
        paints = {True: [], False: []}
        for _ in range(3):
            for url, is_ours in ((ours_url, True), (before_url, False)):
                tab = Page(browser, url, ours=is_ours)
                paints[is_ours].append(tab.first_paint)
                tab.close()
        row["first_paint_s"] = statistics.median(paints[True])
        before = Page(browser, before_url, ours=False)
        row["before_first_paint_s"] = statistics.median(paints[False])
        for _ in range(min(clicks, 10)):
            before.click()
        row["before_median_s"], row["before_p95_s"] = statistics.median(before.times), pct(before.times, 0.95)
        before.close()
    return row


def classroom(browser, url: str, pages: int, clicks: int, ours: bool, pid: int) -> dict:
    """``pages`` tabs open the same link, then all click Next ``clicks`` times at once."""
    tabs = [Page(browser, url, ours) for _ in range(pages)]
    cpu0 = cpu_seconds(pid)
    # Playwright's sync API is one thread: interleave the tabs click by click, all in flight together
    for _ in range(clicks):
        for tab in tabs:
            tab.t += 1
            tab._t0 = time.perf_counter()
            tab.next.click(no_wait_after=True)
        for tab in tabs:
            tab.page.wait_for_function(OURS_AT if ours else BEFORE_AT, arg=tab.t, polling="raf", timeout=300_000)
            tab.times.append(time.perf_counter() - tab._t0)
    cpu = cpu_seconds(pid) - cpu0
    times = [t for tab in tabs for t in tab.times]
    for tab in tabs:
        tab.close()
    return {"pages": pages, "p50_s": statistics.median(times), "p95_s": pct(times, 0.95),
            "cpu_per_100_steps": 100 * cpu / len(times)}


def run() -> list[dict]:
    from playwright.sync_api import sync_playwright

    seq = ",".join(f"{(k * 37 % 101) / 50 - 1:.2f}" for k in range(2048))
    a64, a1024 = (1 << 64) - 1, (1 << 1024) - 1
    cases = [("bit addition, 64-bit", f"/?a={a64}&b=1&t=0", True),
             ("bit addition, 1,024-bit", f"/?a={a1024}&b=1&t=0", True),
             ("sequence, T=2,048 H=256", f"/sequence?mode=numbers&hidden=256&t=0&seq={seq}", False)]
    before_dir = checkout_before()
    ours_proc, ours_url = start_server(ROOT / "app" / "streamlit_app.py")
    before_proc, before_url = start_server(before_dir / "app" / "streamlit_app.py")
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            print(f"\n== Stepping in Chromium: the browser step view vs the page before ({BEFORE}) ==")
            for name, path, with_before in cases:
                row = one_case(browser, name, ours_url + path, before_url + path if with_before else None, CLICKS)
                rows.append(row)
                print(f"   {name}")
                print(f"     click → repaint  ours median {1e3 * row['ours_median_s']:.0f} ms, p95 "
                      f"{1e3 * row['ours_p95_s']:.0f} ms (in the page: {row['in_page_ms']:.1f} ms)"
                      + (f";  before median {1e3 * row['before_median_s']:.0f} ms, p95 "
                         f"{1e3 * row['before_p95_s']:.0f} ms" if with_before else ""))
                print(f"     first paint of the link  ours {row['first_paint_s']:.2f} s"
                      + (f", before {row['before_first_paint_s']:.2f} s, ratio "
                         f"{row['first_paint_s'] / row['before_first_paint_s']:.2f}" if with_before else ""))
                print(f"     play at the fastest speed {row['play_steps_per_s']:.1f} steps/s;  frames sent "
                      f"to the server while stepping 50 times: {row['frames_sent_stepping']}")
                print(f"     sent for the view: message {row['message_kb']:,.0f} KB; whole load "
                      f"{row['load_kb']:,.0f} KB")
            print("\n== A class stepping at once (64-bit addition, one server) ==")
            url = f"/?a={a64}&b=1&t=0"
            for pages, ours, base, proc in ((10, True, ours_url, ours_proc), (20, True, ours_url, ours_proc),
                                            (10, False, before_url, before_proc)):
                r = classroom(browser, base + url, pages, 10 if ours else 4, ours, proc.pid)
                r["page"] = "ours" if ours else "before"
                rows.append(r)
                print(f"   {r['page']:<6} {pages:>3} pages: click → repaint p50 {r['p50_s']:.3f} s, p95 "
                      f"{r['p95_s']:.3f} s; server CPU {r['cpu_per_100_steps']:.2f} s per 100 steps")
            browser.close()
    finally:
        for proc in (ours_proc, before_proc):
            proc.terminate()
    return rows


if __name__ == "__main__":
    run()
