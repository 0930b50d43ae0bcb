"""A load generator that speaks to the app as a browser does: Streamlit's websocket protocol.

Each simulated session opens ws://host/_stcore/stream, sends the BackMsg a browser sends (a rerun
with the link's query string and its widget states) and waits for the server's ForwardMsgs up to
``script_finished``: the time a person waits before the page is complete. It draws nothing, so the
machine's cores go to the server. Widget ids are learnt from the deltas (Streamlit's ids end in the
widget's key), so an action says "set add_a_text to 1234" or "press add_next".

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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402 (after the path above, with the others)
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

CLOCK_TICKS = 100  # /proc/<pid>/stat counts CPU time in ticks of 1/100 s on Linux


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

    async def connect(self) -> None:
        import websockets

        host = self.url.split("//", 1)[1]
        self.ws = await websockets.connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit"],
                                           origin=self.url, max_size=2**26)

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
            elif kind == "script_finished":
                break
        for key in [k for k, v in changes.items() if v is True]:  # a trigger fires once
            self.states.pop(key, None)
        return time.perf_counter() - t0, received

    def _learn_ids(self, fwd: ForwardMsg) -> None:
        element = fwd.delta.new_element
        kind = element.WhichOneof("type")
        if kind:
            wid = getattr(getattr(element, kind), "id", "")
            if wid and "-" in wid:
                self.ids[wid.rsplit("-", 1)[-1]] = wid

    async def goto(self, path: str) -> tuple[float, int]:
        self.page, self.states = self.pages.get(path, ""), {}
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


async def student(url: str, seconds: float, seed: int, timings: dict[str, list[float]]) -> None:
    """One student: opens a shared link, then changes the example every ~10 s (stepping between
    changes runs in the browser and sends the server nothing);
    every tenth student also trains a small adder (20 iterations) on the Train page first."""
    rng = random.Random(seed)
    s = Session(url, query="a=13&b=7&t=2")
    await s.connect()
    try:
        dt, _ = await s.rerun()
        timings["open link"].append(dt)
        if seed % 10 == 9 and "train" in s.pages:
            await s.goto("train")
            await s.rerun(tr_iters=20)
            dt, _ = await s.rerun(tr_start=True)
            timings["train (20 it.)"].append(dt)
            await s.goto("")
            s.query = "a=13&b=7&t=2"
            await s.rerun()
        end = time.perf_counter() + seconds
        next_change = time.perf_counter() + rng.uniform(5, 10)
        while time.perf_counter() < end:
            if time.perf_counter() >= next_change and "add_a_text" in s.ids:
                dt, _ = await s.rerun(add_a_text=str(rng.getrandbits(64)))
                timings["change example"].append(dt)
                next_change = time.perf_counter() + 10
            # between changes the student steps: in the browser, so nothing reaches the server
            await asyncio.sleep(rng.uniform(0.5, 1.5))
    finally:
        await s.close()


async def level(url: str, sessions: int, seconds: float) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"open link": [], "change example": [], "train (20 it.)": []}
    await asyncio.gather(*(student(url, seconds, seed, timings) for seed in range(sessions)))
    return timings


def run(levels=(1, 10, 30, 60), seconds: float = 20.0, replicas: int = 1) -> list[dict]:
    """The levels against one app process, or ``replicas`` processes behind nginx (deploy/serve.py:
    each simulated session is one websocket, which the balancer pins to one process)."""
    from conftest import ROOT as APP_ROOT
    from conftest import start_server

    if replicas > 1:
        sys.path.insert(0, str(APP_ROOT / "deploy"))
        import serve

        cluster = serve.start(replicas=replicas)
        url, pids, stop = cluster.url, [p.pid for p in cluster.processes[:-1]], cluster.stop
    else:
        proc, url = start_server(APP_ROOT / "app" / "streamlit_app.py")
        pids, stop = [proc.pid], proc.terminate

    def stats() -> tuple[float, int]:
        both = [proc_stats(pid) for pid in pids]
        return sum(c for c, _ in both), sum(r for _, r in both)

    rows = []
    try:
        where = "one server process" if replicas == 1 else f"{replicas} processes behind nginx"
        print(f"\n== Load: simulated sessions over Streamlit's websocket ({where}) ==")
        print(f"   {'sessions':>8} {'action':<16} {'count':>6} {'p50 s':>7} {'p95 s':>7} {'per s':>6} "
              f"{'CPU s/action':>12} {'RSS MB':>7} {'MB/session':>10}")
        _, rss_start = stats()
        for n in levels:
            cpu0, rss0 = stats()
            t0 = time.perf_counter()
            timings = asyncio.run(level(url, n, seconds))
            wall = time.perf_counter() - t0
            cpu1, rss = stats()
            actions = sum(len(v) for v in timings.values())
            for action, values in timings.items():
                if not values:
                    continue
                q = statistics.quantiles(values, n=20) if len(values) > 1 else [values[0]] * 19
                row = {"sessions": n, "replicas": replicas, "action": action, "count": len(values),
                       "p50": statistics.median(values), "p95": q[18], "throughput": actions / wall,
                       "cpu_per_action": (cpu1 - cpu0) / actions, "rss_mb": rss / 1024,
                       "mb_per_session": (rss - rss0) / 1024 / n}
                rows.append(row)
                print(f"   {n:>8} {action:<16} {len(values):>6} {row['p50']:>7.3f} {row['p95']:>7.3f} "
                      f"{row['throughput']:>6.1f} {row['cpu_per_action']:>12.3f} {row['rss_mb']:>7.0f} "
                      f"{row['mb_per_session']:>10.1f}")
        time.sleep(2)
        _, rss_end = stats()
        print(f"   server RSS: {rss_start / 1024:.0f} MB at start, {rss_end / 1024:.0f} MB after the sessions closed")
    finally:
        stop()
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 30, 60])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--replicas", type=int, default=1, help="app processes behind nginx (1: no nginx)")
    args = parser.parse_args()
    run(tuple(args.sessions), args.seconds, args.replicas)
