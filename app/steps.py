"""Stepping through time, as pure functions (AppTest cannot tick a fragment, so these are tested
directly; the browser tests watch play advance for real)."""

from __future__ import annotations

ACTIONS = ("first", "prev", "next", "last")
SPEEDS = {"slow": 1.2, "normal": 0.6, "fast": 0.25}  # seconds per step while playing


def clamp(t: int, steps: int) -> int:
    return max(0, min(int(t), steps - 1))


def apply(action: str, t: int, steps: int) -> int:
    """The step after pressing first / prev / next / last at step ``t`` of ``steps``."""
    if action == "first":
        return 0
    if action == "last":
        return steps - 1
    if action == "prev":
        return clamp(t - 1, steps)
    if action == "next":
        return clamp(t + 1, steps)
    raise ValueError(f"unknown step action {action!r}")


def tick(t: int, steps: int) -> tuple[int, bool]:
    """One auto-play tick: the next step, and whether to keep playing (stops on the last step)."""
    nxt = clamp(t + 1, steps)
    return nxt, nxt < steps - 1
