from __future__ import annotations

import pytest

from app import step_view as steps


@pytest.mark.parametrize("action, t, expected", [
    ("first", 3, 0), ("last", 3, 9), ("next", 3, 4), ("prev", 3, 2), ("prev", 0, 0), ("next", 9, 9)])
def test_apply(action, t, expected):
    assert steps.apply(action, t, 10) == expected


def test_tick_stops_on_the_last_step():
    assert steps.tick(7, 10) == (8, True)
    assert steps.tick(8, 10) == (9, False)
    assert steps.tick(9, 10) == (9, False)


def test_unknown_action():
    with pytest.raises(ValueError):
        steps.apply("sideways", 0, 3)
