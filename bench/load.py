"""A load generator that speaks to the app as a browser does: Streamlit's websocket protocol.

Each simulated session first asks for /_stcore/health, as the page does (Streamlit sets its XSRF
cookie there, nginx its route cookie), then opens ws://host/_stcore/stream with those cookies, sends
the BackMsg a browser sends (a rerun with the link's query string and its widget states) and waits
for the server's ForwardMsgs up to ``script_finished``: the time a person waits before the page is
complete. An upload goes as the file uploader sends it: a ``file_urls_request`` on the websocket, an
HTTP PUT of the file to the URL the server answers with (same cookies, so through nginx it reaches
the same process), then a rerun whose widget state names the file. It draws nothing, so the machine's
cores go to the server. Widget ids are learnt from the deltas (Streamlit's ids end in the widget's
key), so an action says "set add_a_text to 1234" or "press add_next".

Memory: before the levels, one session per process does every action once (so the figures that
follow are not the code each action imports the first time); then, per level, the resident memory of
each process before it, with all its sessions open and idle after their actions, and after they
closed: once Streamlit's reconnect window for a closed tab has passed (server.disconnectedSessionTTL:
120 s by default, RECONNECT_SECONDS here) and app/capacity.py has given back what closed tabs held.

Bounded: a fixed number of sessions, each for a fixed time, loopback only; it stops by itself.

    python bench/load.py --sessions 1 10 30 --seconds 20     # prints p50/p95 per action, CPU, memory
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT))

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402 (after the path above, with the others)
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

from app import capacity  # noqa: E402

CLOCK_TICKS = 100  # /proc/<pid>/stat counts CPU time in ticks of 1/100 s on Linux
LINK = "a=13&b=7&t=2"  # the shared link every student opens (the lesson's addition, at step 2)
IDLE_SECONDS = 2.0     # every session open, its actions done, before memory is read
# Streamlit keeps a closed tab's state for a reconnect (server.disconnectedSessionTTL, 120 s by
# default); the bench's servers keep it RECONNECT_SECONDS, so memory after close is read in seconds
RECONNECT_SECONDS = 10


def settle_seconds(reconnect: float) -> float:
    """After the sessions close, before memory is read: their reconnect window, then the server's
    watcher (it looks every capacity.WATCH_SECONDS, releases at most every RELEASE_EVERY_SECONDS)."""
    return reconnect + 2 * (capacity.WATCH_SECONDS + capacity.RELEASE_EVERY_SECONDS)

ACTIONS = ("open link", "change example", "upload a sequence", "train (20 it.)")


def _cookies(url: str) -> dict[str, str]:
    """The cookies a browser holds after asking ``url`` (a GET)."""
    with urllib.request.urlopen(url, timeout=30) as r:
        return dict(c.split(";", 1)[0].strip().split("=", 1) for c in r.headers.get_all("Set-Cookie") or [])


@dataclass
class Session:
    """One simulated browser tab."""

    url: str
    query: str = ""
    ids: dict[str, str] = field(default_factory=dict)      # widget key -> widget id
    states: dict[str, WidgetState] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)    # url path -> page script hash
    page: str = ""
    ws: object = None
    cookies: dict[str, str] = field(default_factory=dict)
    session_id: str = ""

    async def connect(self) -> None:
        import websockets

        self.cookies = await asyncio.to_thread(_cookies, f"{self.url}/_stcore/health")
        host = self.url.split("//", 1)[1]
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.ws = await websockets.connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit"],
                                           origin=self.url, max_size=2**26, open_timeout=60,
                                           additional_headers={"Cookie": cookie} if cookie else None)

    async def _until(self, wanted: str) -> tuple[ForwardMsg, int]:
        """Read ForwardMsgs (learning widget ids, pages and the session id) up to one of kind ``wanted``."""
        received = 0
        while True:
            raw = await self.ws.recv()
            received += len(raw)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "delta":
                self._learn_ids(fwd)
            elif kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages}
            elif kind == "new_session":
                self.session_id = fwd.new_session.initialize.session_id or self.session_id
            if kind == wanted:
                return fwd, received

    async def rerun(self, **changes) -> tuple[float, int]:
        """Send a rerun (with ``changes``: key -> value, or key -> True for a button) and wait for
        the script to finish; returns (seconds, bytes received)."""
        for key, value in changes.items():
            state = WidgetState(id=self.ids[key])
            if value is True:
                state.trigger_value = True
            elif isinstance(value, str):
                state.string_value = value
            elif isinstance(value, float):
                state.double_value = value
            else:
                state.int_value = int(value)
            self.states[key] = state
        msg = BackMsg()
        msg.rerun_script.query_string = self.query
        msg.rerun_script.page_script_hash = self.page
        msg.rerun_script.widget_states.widgets.extend(self.states.values())
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        _, received = await self._until("script_finished")
        for key in [k for k, v in changes.items() if v is True]:  # a trigger fires once
            self.states.pop(key, None)
        return time.perf_counter() - t0, received

    async def upload(self, key: str, name: str, data: bytes) -> float:
        """Upload ``data`` through the file uploader ``key`` as the browser does; returns the seconds
        from choosing the file to the page run on it being complete."""
        t0 = time.perf_counter()
        msg = BackMsg()
        msg.file_urls_request.request_id = uuid.uuid4().hex
        msg.file_urls_request.file_names.append(name)
        msg.file_urls_request.session_id = self.session_id
        await self.ws.send(msg.SerializeToString())
        fwd, _ = await self._until("file_urls_response")
        if fwd.file_urls_response.error_msg:
            raise RuntimeError(fwd.file_urls_response.error_msg)
        urls = fwd.file_urls_response.file_urls[0]
        await asyncio.to_thread(self._put, urls.upload_url, name, data)
        state = WidgetState(id=self.ids[key])
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.file_id, info.name, info.size = urls.file_id, name, len(data)
        info.file_urls.CopyFrom(urls)
        self.states[key] = state
        await self.rerun()
        return time.perf_counter() - t0

    def _put(self, path: str, name: str, data: bytes) -> None:
        """The HTTP PUT of one file (multipart, as the browser's FormData), with the tab's cookies
        and Streamlit's XSRF header."""
        boundary = uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Origin": self.url,
                   "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if "_streamlit_xsrf" in self.cookies:
            headers["X-Xsrftoken"] = self.cookies["_streamlit_xsrf"]
        request = urllib.request.Request(self.url + path, data=body, method="PUT", headers=headers)
        with urllib.request.urlopen(request, timeout=60) as r:
            if r.status not in (200, 204):
                raise RuntimeError(f"upload answered {r.status}")

    def _learn_ids(self, fwd: ForwardMsg) -> None:
        element = fwd.delta.new_element
        kind = element.WhichOneof("type")
        if kind:
            wid = getattr(getattr(element, kind), "id", "")
            if wid and "-" in wid:
                self.ids[wid.rsplit("-", 1)[-1]] = wid

    async def goto(self, path: str, query: str = "") -> tuple[float, int]:
        self.page, self.states, self.query = self.pages.get(path, ""), {}, query
        return await self.rerun()

    async def close(self) -> None:
        await self.ws.close()


def proc_stats(pid: int) -> tuple[float, int]:
    """(CPU seconds used so far, resident kB) of process ``pid``."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(stat[11]) + int(stat[12])) / CLOCK_TICKS          # utime + stime
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmRSS"))
    return cpu, rss


def sequence_csv(rng: random.Random) -> bytes:
    """A student's own sequence: 50–400 days of three numbers, as a spreadsheet would export them."""
    rows = [f"{rng.gauss(0, 1):.4f},{rng.gauss(0, 1):.4f},{rng.uniform(0, 100):.2f}"
            for _ in range(rng.randint(50, 400))]
    return ("price,volume,temperature\n" + "\n".join(rows) + "\n").encode()


async def change_example(s: Session, rng: random.Random, timings: dict[str, list[float]]) -> None:
    dt, _ = await s.rerun(add_a_text=str(rng.getrandbits(64)))
    timings["change example"].append(dt)


async def upload_sequence(s: Session, rng: random.Random, timings: dict[str, list[float]]) -> None:
    """To the sequence page in CSV mode, upload a CSV, back to the shared link."""
    await s.goto("sequence", "mode=csv")
    timings["upload a sequence"].append(await s.upload("seq_upload", "my_sequence.csv", sequence_csv(rng)))
    await s.goto("", LINK)


async def train(s: Session, timings: dict[str, list[float]]) -> None:
    """A small adder (20 iterations) on the Train page, then back to the shared link."""
    await s.goto("train")
    await s.rerun(tr_iters=20)
    dt, _ = await s.rerun(tr_start=True)
    timings["train (20 it.)"].append(dt)
    await s.goto("", LINK)


async def student(s: Session, seconds: float, seed: int, timings: dict[str, list[float]], mixed: bool = True) -> None:
    """One student: opens a shared link, then changes the example every ~10 s (stepping between
    changes runs in the browser and sends the server nothing); with ``mixed``, every third student
    uploads a sequence of their own first, and every tenth trains a small adder. Leaves the tab open."""
    rng = random.Random(seed)
    s.query = LINK
    await s.connect()
    dt, _ = await s.rerun()
    timings["open link"].append(dt)
    if mixed and seed % 10 == 9 and "train" in s.pages:
        await train(s, timings)
    if mixed and seed % 3 == 1 and "sequence" in s.pages:
        await upload_sequence(s, rng, timings)
    end = time.perf_counter() + seconds
    next_change = time.perf_counter() + rng.uniform(5, 10)
    while time.perf_counter() < end:
        if time.perf_counter() >= next_change and "add_a_text" in s.ids:
            await change_example(s, rng, timings)
            next_change = time.perf_counter() + 10
        # between changes the student steps: in the browser, so nothing reaches the server
        await asyncio.sleep(rng.uniform(0.5, 1.5))


async def level(url: str, sessions: int, seconds: float, read_idle=lambda: None, mixed: bool = True):
    """``sessions`` students at once; when all have acted for ``seconds``, their tabs stay open and
    idle for IDLE_SECONDS, ``read_idle()`` is called, and they close. Returns (timings, its value)."""
    timings: dict[str, list[float]] = {a: [] for a in ACTIONS}
    tabs = [Session(url) for _ in range(sessions)]
    try:
        await asyncio.gather(*(student(s, seconds, seed, timings, mixed) for seed, s in enumerate(tabs)))
        await asyncio.sleep(IDLE_SECONDS)
        idle = read_idle()
    finally:
        await asyncio.gather(*(s.close() for s in tabs if s.ws is not None), return_exceptions=True)
    return timings, idle


async def warm_up(url: str) -> None:
    """Every action once in one tab, so each process has imported what each action needs."""
    timings: dict[str, list[float]] = {a: [] for a in ACTIONS}
    rng = random.Random(0)
    s = Session(url, query=LINK)
    await s.connect()
    try:
        await s.rerun()
        await change_example(s, rng, timings)
        await upload_sequence(s, rng, timings)
        await train(s, timings)
    finally:
        await s.close()


def run(levels=(1, 10, 30, 60), seconds: float = 20.0, replicas: int = 1,
        reconnect: float = RECONNECT_SECONDS, mixed: bool = True) -> list[dict]:
    """The levels against one app process, or ``replicas`` processes behind nginx (deploy/serve.py:
    each simulated session is one websocket, which the balancer pins to one process)."""
    import os

    from conftest import ROOT as APP_ROOT
    from conftest import start_server

    # the servers' environment: as deploy/serve.py starts them, with a short reconnect window
    os.environ.update({**capacity.SERVER_ENV, **os.environ,
                       "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(int(reconnect))})
    settle = settle_seconds(reconnect)

    if replicas > 1:
        sys.path.insert(0, str(APP_ROOT / "deploy"))
        import serve

        cluster = serve.start(replicas=replicas)
        url, direct = cluster.url, cluster.replica_urls
        pids, stop = [p.pid for p in cluster.processes[:-1]], cluster.stop
    else:
        proc, url = start_server(APP_ROOT / "app" / "streamlit_app.py")
        direct, pids, stop = [url], [proc.pid], proc.terminate

    def cpu() -> float:
        return sum(proc_stats(pid)[0] for pid in pids)

    def rss() -> list[float]:
        """Resident MB of each app process."""
        return [proc_stats(pid)[1] / 1024 for pid in pids]

    def mb(values: list[float]) -> str:
        return " / ".join(f"{v:.0f}" for v in values) + " MB"

    rows = []
    try:
        where = "one server process" if replicas == 1 else f"{replicas} processes behind nginx"
        what = "" if mixed else "; views only: open the link, change the example (no uploads, no training)"
        print(f"\n== Load: simulated sessions over Streamlit's websocket ({where}{what}) ==")
        cold = rss()
        for u in direct:
            asyncio.run(warm_up(u))
        time.sleep(settle)
        warm = rss()
        print(f"   resident memory per process: {mb(cold)} at start, {mb(warm)} after one tab per process did "
              f"every action once and closed (reconnect window {reconnect:.0f} s; Streamlit's default 120 s)")
        print(f"   {'sessions':>8} {'action':<18} {'count':>6} {'p50 s':>7} {'p95 s':>7} {'per s':>6} "
              f"{'CPU s/action':>12}")
        for n in levels:
            before, cpu0 = rss(), cpu()
            t0 = time.perf_counter()
            timings, idle = asyncio.run(level(url, n, seconds, read_idle=rss, mixed=mixed))
            wall = time.perf_counter() - t0 - IDLE_SECONDS
            cpu1 = cpu()
            time.sleep(settle)
            after = rss()
            actions = sum(len(v) for v in timings.values())
            per_session = (sum(idle) - sum(before)) / n
            for action, values in timings.items():
                if not values:
                    continue
                q = statistics.quantiles(values, n=20) if len(values) > 1 else [values[0]] * 19
                row = {"sessions": n, "replicas": replicas, "action": action, "count": len(values),
                       "p50": statistics.median(values), "p95": q[18], "throughput": actions / wall,
                       "cpu_per_action": (cpu1 - cpu0) / actions, "rss_before_mb": before,
                       "rss_idle_mb": idle, "rss_after_close_mb": after, "mb_per_idle_session": per_session}
                rows.append(row)
                print(f"   {n:>8} {action:<18} {len(values):>6} {row['p50']:>7.3f} {row['p95']:>7.3f} "
                      f"{row['throughput']:>6.1f} {row['cpu_per_action']:>12.3f}")
            print(f"   {'':>8} memory per process: {mb(before)} before; {mb(idle)} with the {n} sessions open "
                  f"and idle ({per_session:+.1f} MB per idle session); {mb(after)} {settle:.0f} s "
                  f"after they closed")
    finally:
        stop()
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 30, 60])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--replicas", type=int, default=1, help="app processes behind nginx (1: no nginx)")
    parser.add_argument("--reconnect-window", type=float, default=RECONNECT_SECONDS,
                        help="seconds the servers keep a closed tab's state (server.disconnectedSessionTTL)")
    parser.add_argument("--views-only", action="store_true",
                        help="students only open the link and change the example (the issue's goal scenario)")
    args = parser.parse_args()
    run(tuple(args.sessions), args.seconds, args.replicas, args.reconnect_window, mixed=not args.views_only)
