"""Issue-4 journeys in Chromium: a tweak, live training, an upload, presentation mode and the keyboard."""

from __future__ import annotations

import io
import re

import pytest
import torch
from conftest import open_app, shot, slider_value, wait_idle, wait_step

pytestmark = pytest.mark.browser
KNOB = "input[type=range][aria-label='Shift the update-gate bias']"

# the z heatmap's values as plotly.js decoded them (gd.data keeps the binary spec; _fullData the numbers)
Z_OF_HEATMAPS = """() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')]
    .find(p => p.data && p.data.length === 4 && p.data[0].type === 'heatmap');
  return gd && gd._fullData ? Array.from(gd._fullData[0].z, row => Array.from(row)) : null;
}"""


def test_a_knob_changes_the_heatmaps_and_the_accuracy(page, app_url):
    open_app(page, f"{app_url}/lab")
    page.get_by_text("Turn the knobs of the trained adder", exact=True).click()
    wait_idle(page)
    page.wait_for_function(Z_OF_HEATMAPS)
    before = page.evaluate(Z_OF_HEATMAPS)
    metric = page.get_by_test_id("stMetric").filter(has_text="Exact sums").get_by_test_id("stMetricValue")
    assert metric.inner_text() == "100.0 %"
    knob = page.locator("input[type=range][aria-label='Shift the update-gate bias']")
    knob.focus()
    for _ in range(12):                     # 12 × 0.25 = +3.0 on the update-gate bias
        page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => document.querySelector(\"{KNOB}\").value === '3'")
    page.wait_for_function("""() => {
        const m = [...document.querySelectorAll('[data-testid=stMetric]')]
          .find(e => e.innerText.includes('Exact sums'));
        return m && m.querySelector('[data-testid=stMetricValue]').innerText !== '100.0 %';
    }""")
    wait_idle(page)
    checksum = f"(({Z_OF_HEATMAPS})() || []).flat().reduce((a, b) => a + b, 0)"
    before_sum = sum(sum(row) for row in before)
    page.wait_for_function(f"(old) => Math.abs({checksum} - old) > 1e-3", arg=before_sum)
    after = page.evaluate(Z_OF_HEATMAPS)
    assert after != before
    assert page.locator("[data-testid=step-view]").count() == 1   # the new view replaced the old one
    assert metric.inner_text() != "100.0 %"
    shot(page, "lab_update_bias_plus_3")
    assert not page.errors


def test_live_training_progresses_and_stops(page, app_url):
    open_app(page, f"{app_url}/train", plots=False)
    iters = page.get_by_role("spinbutton", name="Iterations (at most)")
    iters.fill("3000")
    iters.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name=re.compile("^Train")).click()
    status = page.get_by_text(re.compile(r"^Iteration \d+"))
    status.first.wait_for(timeout=30_000)
    first = int(re.search(r"\d+", status.first.inner_text()).group())
    page.wait_for_function(
        """(n) => { const el = [...document.querySelectorAll('p')].find(p => /^Iteration \\d+/.test(p.innerText));
                    return el && Number(el.innerText.match(/\\d+/)[0]) > n + 20; }""", arg=first, timeout=30_000)
    # curves and the gate snapshot (the first draw waits for plotly.js to load)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=30_000)
    shot(page, "training_in_progress")
    page.locator("[data-testid='stMain']").get_by_role("button", name=re.compile("^Stop")).click()
    page.get_by_text(re.compile(r"^Stopped after \d+ iterations")).wait_for(timeout=30_000)
    wait_idle(page)
    shot(page, "training_stopped")
    assert not page.errors


def test_upload_a_gru(page, app_url, tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "my_gru.pt"
    torch.save(torch.nn.GRU(1, 5, num_layers=2).state_dict(), path)
    open_app(page, f"{app_url}/sequence")
    page.get_by_label("GRU", exact=True).click()
    page.get_by_role("option", name="Upload a torch.nn.GRU").click()
    wait_idle(page)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").last.set_input_files(str(path))
    page.get_by_text(re.compile(r"GRU\(1 → 5 → 5")).wait_for(timeout=30_000)
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    evil = tmp_path / "evil.pt"
    buf = io.BytesIO()

    class RunsCode:
        def __reduce__(self):
            return (exec, ("open('/tmp/gru_gate_lab_browser_pwned', 'w').write('x')",))

    torch.save({"weight_ih_l0": RunsCode()}, buf)
    evil.write_bytes(buf.getvalue())
    page.locator("[data-testid='stFileUploaderDropzoneInput']").last.set_input_files(str(evil))
    page.get_by_text(re.compile("could run code")).wait_for(timeout=30_000)
    shot(page, "upload_refused")
    import os

    assert not os.path.exists("/tmp/gru_gate_lab_browser_pwned")


def test_presentation_mode_and_keyboard_stepping(page, app_url):
    open_app(page, f"{app_url}/?a=45&b=27&t=0&present=1")
    assert slider_value(page) == 0
    page.locator("h1").first.click()          # focus the page, not an input
    page.keyboard.press("ArrowRight")
    wait_step(page, "t === 1")
    page.keyboard.press("ArrowRight")
    wait_step(page, "t === 2")
    page.keyboard.press("ArrowLeft")
    wait_step(page, "t === 1")
    page.keyboard.press("End")
    wait_step(page, "t === 6")
    wait_idle(page)
    assert "t=6" in page.url and "present=1" in page.url
    # readable on a 1280×720 projector: the heatmaps take the width, with large type
    heat = page.locator(".js-plotly-plot").nth(1)
    heat.scroll_into_view_if_needed()
    box = heat.bounding_box()
    assert box["width"] >= 1000
    font = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')][1].layout.font.size")
    assert font >= 18
    shot(page, "present_heatmaps_1280x720")
    page.locator(".js-plotly-plot").nth(2).scroll_into_view_if_needed()
    shot(page, "present_interpolation_1280x720")
    assert not page.errors
