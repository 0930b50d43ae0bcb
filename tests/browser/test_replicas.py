"""Two app processes behind nginx with sticky sessions (deploy/serve.py): a shared link, an upload
and a short training all work through the balancer, and two tabs are spread by their route cookie."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from conftest import CHROMIUM, wait_idle

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy"))
import serve  # noqa: E402 (deploy/ is not a package: the path above)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def cluster():
    if not Path(serve.NGINX).exists():
        pytest.fail("nginx is not installed: `make test` installs it (apt-get install nginx-light)")
    c = serve.start(replicas=2)
    yield c
    c.stop()


def test_a_lesson_through_the_balancer(browser, cluster, tmp_path):
    assert Path(CHROMIUM).exists()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    # a shared link
    page.goto(f"{cluster.url}/?a=13&b=7&t=2")
    page.get_by_text(re.compile(r"13 \+ 7 = 20")).first.wait_for()
    route = {c["name"]: c["value"] for c in context.cookies()}.get(serve.COOKIE)
    assert route, "the balancer sets the route cookie on the first response"
    # an upload: the file goes to the replica that holds this tab's session, or the page could not read it
    csv = tmp_path / "sum.csv"
    csv.write_text("a,b\n1,1\n0,1\n1,0\n0,0\n")
    page.goto(f"{cluster.url}/sequence?mode=csv")
    wait_idle(page)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(csv))
    page.get_by_text(re.compile(r"4 steps × 2 feature")).first.wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    # a short training, in the same session
    page.goto(f"{cluster.url}/train")
    wait_idle(page)
    iterations = page.get_by_role("spinbutton", name="Iterations (at most)")
    iterations.fill("20")
    iterations.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name=re.compile("^Train")).click()
    page.get_by_text(re.compile(r"^Done: 20 iterations")).wait_for()
    assert {c["name"]: c["value"] for c in context.cookies()}[serve.COOKIE] == route   # one route all along
    context.close()


def test_tabs_get_routes_of_their_own(browser, cluster):
    routes = set()
    for _ in range(3):
        context = browser.new_context()
        page = context.new_page()
        page.goto(cluster.url)
        routes.add({c["name"]: c["value"] for c in context.cookies()}[serve.COOKIE])
        context.close()
    assert len(routes) == 3
