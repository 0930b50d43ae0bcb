"""The step view in Chromium: keyboard, buttons, Play, the URL — and the numbers drawn at a step are the
recorded ones, read back from the page and compared with gru_core's trace."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import open_app, wait_idle, wait_step

from gru_core import registry
from gru_core.tasks import bit_addition as ba

pytestmark = pytest.mark.browser
VIEW = "[data-testid=step-view]"


def ready(page) -> None:
    page.wait_for_selector(f"{VIEW}[data-ready='1']", timeout=60_000)


def count_sent(page) -> list[int]:
    """Websocket frames the page sends from now on (each would be a message to the server)."""
    sent: list[int] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(len(payload))))
    return sent


def slots(page) -> dict[str, list[float]]:
    """Every number the equations show, by the recorded array it names, in order."""
    pairs = page.eval_on_selector_all(f"{VIEW} .gsv-equations [data-slot]",
                                      "els => els.map(e => [e.dataset.slot, e.textContent])")
    out: dict[str, list[float]] = {}
    for name, text in pairs:
        if name == "x":
            continue
        out.setdefault(name, []).append(float(text.replace("−", "-").strip("()")))
    return out


def test_numbers_drawn_at_a_step_are_the_recorded_ones(page, app_url):
    sent = count_sent(page)
    open_app(page, f"{app_url}/?a=45&b=27&t=0")
    ready(page)
    page.wait_for_timeout(300)
    opened = len(sent)
    assert opened > 0   # the listener does see this page's websocket
    page.locator(f"{VIEW} .gsv-bar").click(position={"x": 2, "y": 2})
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    wait_step(page, "t === 3")
    unit = page.get_by_label("Unit whose equations are written out")
    unit.fill("5")
    page.wait_for_function(f"() => document.querySelector('{VIEW}').dataset.unit === '5'")
    lt = ba.run_addition(registry.shipped_adder("pytorch"), 45, 27).trace.last
    t, j, H = 3, 5, lt.hidden_size
    expected = {"r": [lt.r[t, j]], "z": [lt.z[t, j]] * 3, "h_tilde": [lt.h_tilde[t, j]] * 2,
                "h_prev": [lt.h_prev[t, j]], "h": [lt.h[t, j]]}
    for k, g in enumerate("rzn"):
        expected[f"ip_{g}"] = [lt.input_part[t, k * H + j]]
        expected[f"hp_{g}"] = [lt.hidden_part[t, k * H + j]]
        expected[f"pre_{g}"] = [lt.pre[t, k * H + j]]
    expected["r"] = [lt.r[t, j]] * 2          # the gate, and its factor in the candidate (pytorch)
    shown = slots(page)
    assert set(shown) == set(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(shown[name], values, atol=5.1e-5, err_msg=name)
    # the blend: every unit's old state, candidate and new state at step 3, as plotly holds them
    blend = page.evaluate(f"""() => {{
        const gd = document.querySelector('{VIEW} [data-figure=blend] .js-plotly-plot');
        return [1, 2, 3].map(i => Array.from(gd.data[i].x));
    }}""")
    for drawn, recorded in zip(blend, (lt.h_prev[t], lt.h_tilde[t], lt.h[t]), strict=True):
        np.testing.assert_allclose(drawn, recorded.astype(np.float32), rtol=0, atol=1e-7)
    run = ba.run_addition(registry.shipped_adder("pytorch"), 45, 27)
    sentence = page.locator(f"{VIEW} .gsv-sentence").inner_text()
    assert f"carry out {int(run.carries[t])}" in sentence and f"writes {int(run.output[t])}" in sentence
    assert "t=3" in page.url and "unit=5" in page.url
    assert len(sent) == opened   # none of it asked the server for anything
    assert not page.errors


def test_the_bit_page_loads_one_plotly_and_draws_the_carry_with_it(page, app_url):
    """The carry figure under the step view is drawn by the same widget and plotly.js (a fresh browser
    fetches it once, packed), so Streamlit's own plotly chunk is never loaded; its bars are the core's
    correlations. Opened again, the page takes plotly.js from the browser's cache."""
    open_app(page, f"{app_url}/?a=45&b=27&t=0")
    ready(page)
    figure = page.locator("[data-testid=step-view-figure][data-name=add_carry]")
    figure.scroll_into_view_if_needed()
    page.wait_for_selector("[data-testid=step-view-figure][data-ready='1']", timeout=60_000)
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => [e.name, e.transferSize])")
    fetched = [name for name, size in loaded if "plotly" in name.lower() and size > 0]
    assert fetched == [f"{app_url}/app/static/plotly.min.js.gz"]   # not Streamlit's PlotlyChart chunk
    bars = page.evaluate("""() => Array.from(document.querySelector(
        '[data-testid=step-view-figure] .js-plotly-plot')._fullData[0].y)""")
    finding = ba.carry_finding(registry.shipped_adder("pytorch"))
    np.testing.assert_allclose(bars, finding.correlation.astype(np.float32), rtol=0, atol=1e-7)
    page.evaluate("fetch('/app/static/plotly.min.js').then(r => r.blob())")   # as the page does later on
    page.wait_for_function("""() => performance.getEntriesByType('resource').some(
        e => e.name.endsWith('/plotly.min.js') && e.transferSize > 0)""")
    open_app(page, f"{app_url}/?a=45&b=27&t=0")
    ready(page)
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => [e.name, e.transferSize])")
    assert [name for name, size in loaded if "plotly" in name.lower() and size > 0] == []
    assert page.evaluate("[...document.scripts].some(s => s.src.endsWith('/app/static/plotly.min.js'))")
    assert not page.errors


def test_keyboard_home_end_space_and_a_reload(page, app_url):
    open_app(page, f"{app_url}/?a=1023&b=1&t=4")
    ready(page)
    assert page.locator(VIEW).get_attribute("data-t") == "4"
    page.locator("h1").first.click()          # the page, not an input, has the focus
    page.keyboard.press("End")
    wait_step(page, "t === 10")
    page.keyboard.press("Home")
    wait_step(page, "t === 0")
    page.keyboard.press("PageDown")           # a presentation clicker's "next"
    wait_step(page, "t === 1")
    page.keyboard.press("Space")
    page.wait_for_function(f"() => document.querySelector('{VIEW}').dataset.playing === '1'")
    wait_step(page, "t >= 3")
    page.keyboard.press("Space")
    page.wait_for_function(f"() => document.querySelector('{VIEW}').dataset.playing === '0'")
    paused = int(page.locator(VIEW).get_attribute("data-t"))
    page.wait_for_timeout(800)
    assert int(page.locator(VIEW).get_attribute("data-t")) == paused
    assert f"t={paused}" in page.url
    page.reload()                             # the link as it now stands opens at the same step
    wait_idle(page)
    ready(page)
    assert page.locator(VIEW).get_attribute("data-t") == str(paused)
    assert not page.errors


def test_typing_in_a_box_does_not_step(page, app_url):
    open_app(page, f"{app_url}/?a=13&b=7&t=1")
    ready(page)
    box = page.get_by_label("a", exact=True)
    box.click()
    box.press("End")
    box.press("ArrowLeft")
    assert page.locator(VIEW).get_attribute("data-t") == "1"
    assert not page.errors


def test_play_runs_in_the_browser_on_every_page(page, app_url):
    sent = count_sent(page)
    for path in ("/sequence?mode=numbers&seq=1,0,1,1,0,0,1,0,1,1,1,0&hidden=6", "/lab"):
        open_app(page, f"{app_url}{path}")
        ready(page)
        page.wait_for_timeout(300)
        before = len(sent)
        assert before > 0   # the listener does see this page's websocket
        page.locator(f"{VIEW} select").select_option("fast")
        page.get_by_role("button", name="Play").click()
        page.wait_for_function(f"() => document.querySelector('{VIEW}').dataset.playing === '0'", timeout=20_000)
        steps = int(page.locator(VIEW).get_attribute("data-steps"))
        assert page.locator(VIEW).get_attribute("data-t") == str(steps - 1)   # played to the end, stopped
        page.get_by_role("button", name="Prev").click()
        wait_step(page, f"t === {steps - 2}")
        assert len(sent) == before
    assert not page.errors


def test_why_gates_link_steps_the_lstm_and_its_numbers(page, app_url):
    open_app(page, f"{app_url}/why_gates?length=10&cell=lstm&t=2")
    ready(page)
    assert page.locator(VIEW).get_attribute("data-t") == "2"
    assert page.get_by_text("How much gradient reaches the past").is_visible()
    page.locator("h1").first.click()
    page.keyboard.press("End")
    wait_step(page, "t === 9")
    model = registry.load("adding_lstm_10")
    from gru_core.tasks.adding import sequences

    xs, _ = sequences(np.random.default_rng(2024 + 10), 1, 10)
    lt = model.cell.run(xs[0].astype(np.float64)).last
    shown = slots(page)
    np.testing.assert_allclose(shown["c"], [lt.c[9, 0]] * 2, atol=5.1e-5)      # c line and h line
    np.testing.assert_allclose(shown["f"], [lt.f[9, 0]] * 2, atol=5.1e-5)
    assert "t=9" in page.url and "cell=lstm" in page.url and "length=10" in page.url
    assert not page.errors
