"""The lesson in Chromium, as a teacher gives it: presentation mode at 1280×720, the whole lesson by keyboard
(a clicker's Page Down), every step of every chapter on one screen with nothing to scroll, ← → stepping the
live view without leaving the chapter's step, and the reveal turning the view to the step it is about."""

from __future__ import annotations

import pytest
from conftest import open_app, shot, wait_idle

from app import lesson as L

pytestmark = pytest.mark.browser
VIEW = "[data-testid=step-view]"


def overflow(page) -> int:
    """How far the page would have to scroll (0: everything is on the screen)."""
    return page.evaluate("() => { const m = document.querySelector('[data-testid=stMain]');"
                         " return m.scrollHeight - m.clientHeight; }")


def view_t(page) -> int:
    return int(page.get_attribute(VIEW, "data-t"))


def test_the_whole_lesson_by_keyboard_in_presentation_mode(page, app_url):
    open_app(page, f"{app_url}/lesson?lesson=1&present=1", plots=False)
    for chapter in L.CHAPTERS:
        for stage in L.STAGES:
            page.get_by_text(f"Chapter {chapter.number} of {len(L.CHAPTERS)} · {stage}").wait_for()
            page.get_by_text(f"{chapter.number} · {chapter.title}").first.wait_for()
            shows_view = stage in ("do", "reveal")
            if shows_view:
                page.wait_for_selector(".js-plotly-plot", timeout=30_000)
                if chapter.number != 5:     # chapter 5's live view is a figure, not a step view
                    page.wait_for_selector(f"{VIEW}[data-ready='1']", timeout=30_000)
            page.wait_for_timeout(300)      # plotly lays its figures out after they arrive
            assert overflow(page) <= 1, f"chapter {chapter.number}, {stage}: scrolls by {overflow(page)} px"
            shot(page, f"lesson_{chapter.number}_{stage}")
            if shows_view and chapter.number != 5:
                before = view_t(page)
                last_step = int(page.get_attribute(VIEW, "data-steps")) - 1
                there, back = ("ArrowRight", "ArrowLeft") if before < last_step else ("ArrowLeft", "ArrowRight")
                page.keyboard.press(there)               # ← → step the live view ...
                page.wait_for_function(f"() => document.querySelector('{VIEW}').dataset.t !== '{before}'")
                page.keyboard.press(back)
                page.wait_for_function(f"() => document.querySelector('{VIEW}').dataset.t === '{before}'")
            if chapter.number == 1 and stage == "reveal":
                assert view_t(page) == 3                 # the reveal is about step 3: the view opens there
            last = chapter.number == len(L.CHAPTERS) and stage == L.STAGES[-1]
            if not last:
                page.keyboard.press("PageDown")          # ... and the clicker moves the lesson on
                wait_idle(page)
    assert "lesson=8" in page.url
    page.keyboard.press("PageUp")
    page.get_by_text(f"Chapter {len(L.CHAPTERS)} of {len(L.CHAPTERS)} · {L.STAGES[-2]}").wait_for()
    assert not page.errors, page.errors


def test_a_student_answers_and_resumes_from_the_link(page, app_url):
    open_app(page, f"{app_url}/lesson?lesson=1", plots=False)
    page.wait_for_selector(f"{VIEW}[data-ready='1']", timeout=30_000)
    page.get_by_role("radiogroup").get_by_text("1", exact=True).click()
    page.get_by_role("button", name="Check my answer").click()
    page.get_by_text("It writes").first.wait_for()
    page.wait_for_function("() => location.search.includes('answers=1.')")
    link = page.url
    page.goto(link)
    wait_idle(page)
    page.get_by_text("1 of 8 chapters answered").wait_for()
    assert not page.errors, page.errors
