"""What one server process takes on: a bound on the tabs it serves at once, and bounded caches that
give their memory back when the tabs that used them are gone.

A tab beyond the bound gets a page that says so and what to do, at once, instead of a page that
hangs while the process is saturated. A tab already in keeps its place when others arrive.

Memory comes back when tabs close. Every ByteCache entry remembers which tabs asked for it. A watcher
thread (``watch``, started by the first page run in a running server) looks every WATCH_SECONDS: when
tabs have closed, it drops the entries no open tab uses, collects garbage and hands the freed heap
back to the system (``release``; glibc's ``malloc_trim``, as Python and glibc otherwise keep freed
memory for reuse); when a closed tab's reconnect window has passed, it makes Streamlit drop that
tab's state (``forget``) and releases again.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from . import limits

V = TypeVar("V")

# The environment a server process starts with (deploy/serve.py, `make run`, bench/load.py): glibc
# makes up to 8 malloc arenas per core, one per thread that allocates at once (sessions' script
# runs, trainings), and free memory scattered over them is hard to give back. Two arenas: peak RSS
# with 60 sessions 472 MB instead of 509 MB (with release), 466 instead of 569 (without), one
# process, bench/load.py, 2026-12-07 (a shared machine: differences of ±20 MB are noise).
SERVER_ENV = {"MALLOC_ARENA_MAX": "2"}

WATCH_SECONDS = 1.0          # how often the watcher looks for closed tabs (a set of ids: microseconds)
RELEASE_EVERY_SECONDS = 3.0  # at most one release (a full garbage collection, ~0.1 s) this often


def _session_manager():
    """Streamlit's session manager, or None outside a running server (e.g. in AppTest). Streamlit
    has no public call for the tabs it serves; its session manager keeps them."""
    try:
        from streamlit import runtime

        return runtime.get_instance()._session_mgr if runtime.exists() else None
    except Exception:  # noqa: BLE001 — a count we cannot read must not stop anyone's lesson
        return None


def active_sessions() -> int | None:
    """Tabs connected to this process now (None outside a running server, e.g. in AppTest)."""
    manager = _session_manager()
    if manager is not None:
        watch()
    try:
        return None if manager is None else int(manager.num_active_sessions())
    except Exception:  # noqa: BLE001
        return None


def open_session_ids() -> set[str] | None:
    """Ids of the tabs connected to this process now (None outside a running server). A tab whose
    websocket dropped is not among them: Streamlit keeps its state a while for a reconnect, and a
    reconnected tab rebuilds any cache entry it needs."""
    manager = _session_manager()
    try:
        return None if manager is None else {info.session.id for info in manager.list_active_sessions()}
    except Exception:  # noqa: BLE001
        return None


def _this_session_id() -> str | None:
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx(suppress_warning=True)
        return ctx.session_id if ctx is not None else None
    except Exception:  # noqa: BLE001
        return None


def admits(sessions: int | None, already_in: bool) -> bool:
    """Whether a tab is served: always once it is in; a new one while the process has room."""
    return already_in or sessions is None or sessions <= limits.MAX_SESSIONS_PER_PROCESS


_CACHES: weakref.WeakSet[ByteCache] = weakref.WeakSet()


class ByteCache(Generic[V]):
    """Least recently used values up to a total size in bytes, shared by every session of the process
    and safe across their threads. ``size(value)`` says what a value weighs. Each entry keeps the ids
    of the sessions that asked for it (``users``), so ``release`` can drop what only closed tabs used."""

    def __init__(self, max_bytes: int, size: Callable[[V], int]):
        self.max_bytes, self.size = max_bytes, size
        self.items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self.users: dict[Hashable, set[str]] = {}
        self.bytes = 0
        self.lock = threading.Lock()
        _CACHES.add(self)

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        user = _this_session_id()
        if user is not None:
            watch()
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                self._used_by(key, user)
                return self.items[key][0]
        value = build()   # outside the lock: another session's view need not wait for this one
        with self.lock:
            if key not in self.items:
                weight = self.size(value)
                self.items[key] = (value, weight)
                self.bytes += weight
                while self.bytes > self.max_bytes and len(self.items) > 1:
                    self._drop(next(iter(self.items)))
            self._used_by(key, user)
        return value

    def _used_by(self, key: Hashable, user: str | None) -> None:
        if user is not None and key in self.items:
            self.users.setdefault(key, set()).add(user)

    def _drop(self, key: Hashable) -> None:
        _, weight = self.items.pop(key)
        self.users.pop(key, None)
        self.bytes -= weight

    def drop_unused(self, open_ids: Iterable[str]) -> int:
        """Drop every entry that sessions asked for and none of ``open_ids`` did; returns the bytes
        dropped. An entry built outside any session (no users) stays, bounded by the budget."""
        open_ids = set(open_ids)
        with self.lock:
            before = self.bytes
            for key in list(self.items):
                users = self.users.get(key)
                if users:
                    users &= open_ids
                    if not users:
                        self._drop(key)
            return before - self.bytes


def _malloc_trim() -> None:
    """Give the heap's free pages back to the system (glibc; elsewhere nothing to do)."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):
        pass


def release(open_ids: Iterable[str]) -> int:
    """Drop the cache entries only closed tabs used, collect the garbage closed tabs left (their
    script runs make reference cycles, and the full collection after every run is off:
    .streamlit/config.toml), and return the freed heap to the system. Returns the bytes dropped."""
    open_ids = set(open_ids)
    dropped = sum(cache.drop_unused(open_ids) for cache in list(_CACHES))
    gc.collect()
    _malloc_trim()
    return dropped


_watcher: threading.Thread | None = None
_watcher_lock = threading.Lock()


def watch() -> None:
    """Start the watcher thread once per process (it runs while the server does)."""
    global _watcher
    if _watcher is not None:
        return
    with _watcher_lock:
        if _watcher is None:
            _watcher = threading.Thread(target=_watch, name="gru-lab-release", daemon=True)
            _watcher.start()


def _reconnect_window() -> float:
    """Seconds Streamlit keeps a closed tab's state for a reconnect (server.disconnectedSessionTTL)."""
    from streamlit import config

    return float(config.get_option("server.disconnectedSessionTTL"))


def forget(session_ids: Iterable[str]) -> None:
    """Drop closed tabs whose reconnect window has passed from Streamlit's store of closed tabs.
    Streamlit stops offering them when the window ends but removes them only at its next write (the
    next tab to close): until then their state (widgets, uploads, a trained model) stays in memory."""
    manager = _session_manager()
    # no public call for this: Streamlit's session manager keeps the store, and writes it under its lock
    storage = getattr(manager, "_session_storage", None)
    with getattr(manager, "_storage_lock", None) or contextlib.nullcontext():
        for session_id in session_ids:
            try:
                storage.delete(session_id)
            except Exception:  # noqa: BLE001 — already gone (reaped, or reconnected and taken out)
                pass


def _watch() -> None:
    """Every WATCH_SECONDS: a tab that closed since the last look makes a ``release``; a closed tab
    whose reconnect window has passed is forgotten, then released too."""
    open_before: set[str] = open_session_ids() or set()
    closed_at: dict[str, float] = {}
    due, last = False, 0.0
    while True:
        time.sleep(WATCH_SECONDS)
        now_open, now = open_session_ids(), time.monotonic()
        if now_open is None:
            continue
        for session_id in open_before - now_open:
            closed_at[session_id], due = now, True
        for session_id in now_open & closed_at.keys():   # reconnected
            del closed_at[session_id]
        window = _reconnect_window()
        expired = [session_id for session_id, t in closed_at.items() if now - t > window]
        if expired:
            forget(expired)
            for session_id in expired:
                del closed_at[session_id]
            due = True
        if due and now - last >= RELEASE_EVERY_SECONDS:
            release(now_open)
            due, last = False, now
        open_before = now_open
