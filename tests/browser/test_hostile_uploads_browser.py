"""Issue 12 in a real browser: the worst uploads get a message, and the server keeps serving.

Two pages on one server of this module's own (so its process id, and memory, can be read):
page 1 uploads each of the worst corpus files as "your GRU" on the sequence page; after each,
page 1 shows an error and no traceback, page 2 (bit addition) still steps, and the server's
resident memory stays under SERVER_RSS_BOUND_MB. (The file name ends in _browser because pytest's
default import mode names test modules by their base name, and tests/test_hostile_uploads.py has
the in-process half.)
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.request

import pytest
from conftest import ROOT, shot, slider_value, start_server, wait_idle, wait_step

from tests import hostile_files as hf

pytestmark = pytest.mark.browser

# -- everything the test knows about the pages, in one place ----------------------------------------
SEQUENCE_PAGE = "/sequence"
ADDITION_PAGE = "/?a=13&b=7"
MODEL_SELECT = "GRU"                                   # the selectbox's label (exact)
UPLOAD_OPTION = re.compile(r"^Upload a torch\.nn\.GRU")
FILE_INPUT = "[data-testid='stFileUploaderDropzoneInput']"
ERROR = "[data-testid='stAlertContentError']"
TRACEBACK = "[data-testid='stException']"
NEXT, PREV = re.compile(r"^Next"), re.compile(r"^Prev")
# what page 1 must say for each file (its reason, as load_gru words it)
WORST = {
    "deep_key_150k": r"nested more than 100 levels deep",
    "expand_giant": r"claims 90,000 values",
    "sparse_giant": r"sparse_coo tensor",
    "zip_bomb": r"would unpack to 1,073\.7 MB",
    "meta_tensor": r"meta tensor: it has a shape but no values",
}
SERVER_RSS_BOUND_MB = 600          # the server process, absolute (~290 MB measured with these pages open)
SERVER_GROWTH_BOUND_MB = 200       # its growth over all the uploads (the parsing happens elsewhere)


@pytest.fixture(scope="module")
def server():
    """(process, url) of a server for this module alone: the tests read its /proc entry."""
    proc, url = start_server(ROOT / "app" / "streamlit_app.py")
    yield proc, url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def second_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def children_rss_mb(pid: int) -> float:
    """Resident memory of the server's direct children (the sandbox zygotes), for the record."""
    total = 0.0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            total += sum(rss_mb(int(c)) for c in f.read().split())
    return total


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp']")
    wait_idle(page)


def choose_upload(page) -> None:
    page.get_by_label(MODEL_SELECT, exact=True).click()
    page.get_by_role("option", name=UPLOAD_OPTION).click()
    wait_idle(page)
    page.locator(FILE_INPUT).last.wait_for(state="attached")


def still_steps(page) -> None:
    """Next moves the step on by one, Prev brings it back (so the test can repeat it)."""
    t = slider_value(page)
    page.get_by_role("button", name=NEXT).click()
    wait_step(page, f"t === {t + 1}")
    page.get_by_role("button", name=PREV).click()
    wait_step(page, f"t === {t}")


def test_worst_uploads_leave_the_server_serving(server, page, second_page, tmp_path):
    proc, url = server
    paths = hf.write_corpus(tmp_path / "corpus", tuple(WORST), tmp_path)
    open_page(second_page, url + ADDITION_PAGE)
    still_steps(second_page)
    open_page(page, url + SEQUENCE_PAGE)
    choose_upload(page)
    baseline = peak = rss_mb(proc.pid)
    for name, reason in WORST.items():
        started = time.monotonic()
        page.locator(FILE_INPUT).last.set_input_files(str(paths[name]))
        error = page.locator(ERROR).filter(has_text=re.compile(reason)).first
        error.wait_for(timeout=60_000)
        wait_idle(page)
        print(f"\n{name}: message shown {time.monotonic() - started:.2f} s after the upload", end="")
        assert page.locator(TRACEBACK).count() == 0, f"{name}: a traceback is shown"
        assert proc.poll() is None, f"{name}: the server died"
        still_steps(second_page)
        peak = max(peak, rss_mb(proc.pid))
        if name == "zip_bomb":
            error.scroll_into_view_if_needed()
            shot(page, "hostile_upload_refused")
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as r:
        assert r.status == 200
    print(f"\nserver RSS: {baseline:.0f} MB before the uploads, peak {peak:.0f} MB "
          f"(bounds {SERVER_RSS_BOUND_MB} MB, +{SERVER_GROWTH_BOUND_MB} MB); "
          f"sandbox zygotes {children_rss_mb(proc.pid):.0f} MB")
    assert peak < SERVER_RSS_BOUND_MB
    assert peak - baseline < SERVER_GROWTH_BOUND_MB
    assert not page.errors and not any(p for p in tmp_path.iterdir() if p.is_file())
