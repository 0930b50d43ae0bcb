"""Real-browser fixtures: the app served by `streamlit run` on a free port, driven by Playwright in
Debian's Chromium. Screenshots land in tests/artifacts/ for a person to look at."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(script: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    port = port or _free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"streamlit did not start: {proc.stdout.read().decode(errors='replace')[-2000:]}")


@pytest.fixture(scope="session")
def app_url():
    proc, url = start_server(ROOT / "app" / "streamlit_app.py")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: `make test` installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    # A classroom may have no internet, and a visit should leak nowhere: the page asks nothing of
    # any host but the app's own server.
    foreign: list[str] = []
    context.on("request", lambda r: foreign.append(r.url) if not _is_local(r.url) else None)
    yield pg
    context.close()
    assert not foreign, f"requests to other hosts: {sorted(set(foreign))[:5]}"


def _is_local(url: str) -> bool:
    from urllib.parse import urlparse

    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname in ("127.0.0.1", "localhost")


def wait_idle(page, timeout: float = 30_000) -> None:
    """Until Streamlit has finished the current run (and the page has something in it)."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=timeout)
    page.wait_for_timeout(150)  # let the last deltas paint


def open_app(page, url: str, plots: bool = True) -> None:
    """Open ``url`` and wait until the run is over (and, where the page has figures, drawn)."""
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp']")
    wait_idle(page)
    if plots:
        page.wait_for_selector(".js-plotly-plot", timeout=30_000)


STEP_INPUT = "input[type=range][aria-label='Time step t']"


def slider_value(page) -> int:
    """The time-step slider's value (Streamlit 1.67 renders it as a react-aria range input)."""
    return int(page.locator(STEP_INPUT).input_value())


def wait_step(page, predicate: str, timeout: float = 20_000) -> None:
    """Wait until the step satisfies a JS predicate on ``t``, e.g. ``"t === 3"`` or ``"t >= 3"``."""
    page.wait_for_function(
        f"() => {{ const e = document.querySelector(\"{STEP_INPUT}\"); "
        f"if (!e) return false; const t = Number(e.value); return {predicate}; }}", timeout=timeout)


def shot(page, name: str, full_page: bool = False) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
