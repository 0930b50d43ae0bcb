"""The live-training queue: at most K at once, first come first served, places told, giving up works."""

from __future__ import annotations

import os
import threading
import time

import pytest

from app.training_slots import TRAINING_NICENESS, GaveUp, TrainingSlots


def test_at_most_k_run_at_once_and_the_rest_wait_in_order():
    slots = TrainingSlots(2)
    running, peak, order, places, niceness = [0], [0], [], {}, []
    lock = threading.Lock()

    def trainee(name: str) -> None:
        with slots.slot(on_wait=lambda place: places.setdefault(name, []).append(place), poll=0.01):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
                order.append(name)
                niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            time.sleep(0.15)
            with lock:
                running[0] -= 1

    threads = []
    for i in range(5):
        threads.append(threading.Thread(target=trainee, args=(f"s{i}",)))
        threads[-1].start()
        time.sleep(0.02)                                    # arrive in order
    for t in threads:
        t.join(5)
    assert peak[0] == 2 and sorted(order) == [f"s{i}" for i in range(5)]
    assert order[2:] == ["s2", "s3", "s4"]                  # the queue is first come, first served
    assert places["s4"][0] == 3 and places["s4"][-1] == 1  # told its place, then moved up
    assert slots.running == 0 and slots.waiting == 0
    assert min(niceness) >= TRAINING_NICENESS               # training yields to page views


def test_a_waiting_session_can_give_up():
    slots = TrainingSlots(1)
    release = threading.Event()

    def holder() -> None:
        with slots.slot():
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    time.sleep(0.05)
    with pytest.raises(GaveUp):
        with slots.slot(gave_up=lambda: True, poll=0.01):
            pass
    assert slots.waiting == 0
    release.set()
    t.join(5)
    with slots.slot():                                      # the slot is free again
        assert slots.running == 1


def test_at_least_one_slot():
    with pytest.raises(ValueError):
        TrainingSlots(0)
