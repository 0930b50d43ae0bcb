"""What one server process takes on: a bound on the tabs it serves at once, and bounded caches.

A tab beyond the bound gets a page that says so and what to do, at once, instead of a page that
hangs while the process is saturated. A tab already in keeps its place when others arrive.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from . import limits

V = TypeVar("V")


def active_sessions() -> int | None:
    """Tabs connected to this process now (None outside a running server, e.g. in AppTest)."""
    try:
        from streamlit import runtime

        if not runtime.exists():
            return None
        # Streamlit has no public call for this count; its session manager keeps it.
        return int(runtime.get_instance()._session_mgr.num_active_sessions())
    except Exception:  # noqa: BLE001 — a count we cannot read must not stop anyone's lesson
        return None


def admits(sessions: int | None, already_in: bool) -> bool:
    """Whether a tab is served: always once it is in; a new one while the process has room."""
    return already_in or sessions is None or sessions <= limits.MAX_SESSIONS_PER_PROCESS


class ByteCache(Generic[V]):
    """Least recently used values up to a total size in bytes, shared by every session of the process
    and safe across their threads. ``size(value)`` says what a value weighs."""

    def __init__(self, max_bytes: int, size: Callable[[V], int]):
        self.max_bytes, self.size = max_bytes, size
        self.items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self.bytes = 0
        self.lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key][0]
        value = build()   # outside the lock: another session's view need not wait for this one
        with self.lock:
            if key not in self.items:
                weight = self.size(value)
                self.items[key] = (value, weight)
                self.bytes += weight
                while self.bytes > self.max_bytes and len(self.items) > 1:
                    _, (_, old) = self.items.popitem(last=False)
                    self.bytes -= old
        return value
