"""Fair limits on live training: at most K trainings at once per server, the others queue in order.

A training holds a core for a minute; a class pressing Train together would otherwise slow every page
view on the server. :class:`TrainingSlots` is a first-come, first-served queue with K slots; a waiting
session is told its place (so the page can show it) and can give up (a closed tab, a Stop). While it
trains, its thread runs at a lower scheduling priority (Linux ``nice``), so the threads serving other
people's page views are scheduled first. No streamlit here: the page passes callbacks in.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

TRAINING_NICENESS = 10   # Linux nice value for a training thread: page views (0) come first


class GaveUp(Exception):
    """A queued training was cancelled before its turn (the tab closed, or the person pressed Stop)."""


class TrainingSlots:
    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots}")
        self.slots = slots
        self._lock = threading.Condition()
        self._tickets = itertools.count()
        self._queue: list[int] = []       # tickets waiting, first come first
        self._running = 0

    def place(self, ticket: int) -> int:
        """1 for the next in line."""
        return self._queue.index(ticket) + 1

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return len(self._queue)

    @contextmanager
    def slot(self, on_wait: Callable[[int], None] = lambda place: None,
             gave_up: Callable[[], bool] = lambda: False, poll: float = 0.5) -> Iterator[None]:
        """Wait for a slot (calling ``on_wait(place)`` when the place changes, and checking ``gave_up``
        every ``poll`` seconds), then hold it for the body, at a lower priority."""
        with self._lock:
            ticket = next(self._tickets)
            self._queue.append(ticket)
            told = None
            try:
                while not (self._queue[0] == ticket and self._running < self.slots):
                    if gave_up():
                        raise GaveUp
                    if self.place(ticket) != told:
                        told = self.place(ticket)
                        on_wait(told)
                    self._lock.wait(poll)
            finally:
                self._queue.remove(ticket)
                self._lock.notify_all()
            self._running += 1
        niced = _lower_priority()
        try:
            yield
        finally:
            _restore_priority(niced)
            with self._lock:
                self._running -= 1
                self._lock.notify_all()


def _lower_priority() -> int | None:
    """Nice this thread (Linux schedules threads as tasks); returns the old value, or None if not done."""
    try:
        tid = threading.get_native_id()
        old = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, max(old, TRAINING_NICENESS))
        return old
    except (AttributeError, OSError):  # not Linux, or not allowed: train at the usual priority
        return None


def _restore_priority(old: int | None) -> None:
    if old is None:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), old)
    except OSError:  # lowering niceness again needs privileges; Streamlit runs each rerun in a new thread
        pass
