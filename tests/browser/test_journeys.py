"""The main journeys in a real Chromium. Screenshots in tests/artifacts/ are what a class sees."""

from __future__ import annotations

import re

import pytest
from conftest import open_app, shot, slider_value, wait_idle, wait_step

pytestmark = pytest.mark.browser


def test_shared_link_opens_the_right_step(page, app_url):
    open_app(page, f"{app_url}/?a=13&b=7&t=2")
    assert slider_value(page) == 2
    assert page.get_by_text("13 + 7 = 20").first.is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    page.get_by_text("Step through time").first.scroll_into_view_if_needed()
    shot(page, "shared_link_13_plus_7_step_2")
    assert not page.errors


def test_step_buttons(page, app_url):
    open_app(page, f"{app_url}/?a=45&b=27&t=0")
    page.get_by_role("button", name=re.compile("^Next")).click()
    wait_step(page, "t === 1")
    page.get_by_role("button", name=re.compile("^Last")).click()
    wait_step(page, "t === 6")
    wait_idle(page)
    assert "t=6" in page.url
    page.get_by_role("button", name=re.compile("^Prev")).click()
    wait_step(page, "t === 5")
    wait_idle(page)
    page.locator(".js-plotly-plot").nth(1).scroll_into_view_if_needed()
    shot(page, "heatmaps_45_plus_27_step_5")
    assert not page.errors


def test_play_advances_on_its_own_and_pauses(page, app_url):
    open_app(page, f"{app_url}/?a=1023&b=1&t=0")
    page.get_by_role("button", name=re.compile("^Play")).click()
    # with no further input the step moves forward: the fragment's run_every timer drives it
    wait_step(page, "t >= 3")
    page.get_by_role("button", name=re.compile("^Pause")).click()
    # the pause has taken effect once the button offers Play again (a tick queued before the click may
    # still land first on a loaded machine)
    page.get_by_role("button", name=re.compile("^Play")).wait_for()
    wait_idle(page)
    page.wait_for_timeout(1000)
    paused_at = slider_value(page)
    page.wait_for_timeout(2000)
    assert slider_value(page) == paused_at
    assert not page.errors


def test_bad_link_explains_and_falls_back(page, app_url):
    open_app(page, f"{app_url}/?a=banana&b=7&t=999999")
    warnings = page.locator("[data-testid='stAlertContentWarning']")
    assert warnings.count() == 2
    assert "a=banana" in warnings.first.inner_text()
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("45 + 7 = 52").first.is_visible()
    shot(page, "bad_link_banana")


def test_own_sequence_page(page, app_url):
    open_app(page, f"{app_url}/sequence?mode=text&seq=this%20book%20was%20dull&hidden=6")
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator(".js-plotly-plot").count() >= 3
    page.get_by_role("button", name=re.compile("^Next")).click()
    wait_step(page, "t === 1")
    wait_idle(page)
    page.locator(".js-plotly-plot").nth(1).scroll_into_view_if_needed()
    shot(page, "sequence_text")
    assert not page.errors
