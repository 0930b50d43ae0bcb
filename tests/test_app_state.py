"""URL state: every query parameter parses, or falls back with a message."""

from __future__ import annotations

from app.state import MAX_OPERAND_BITS, AdditionView, SequenceView


def parse(**q):
    return AdditionView.from_query(q, hidden_size=16)


def test_a_shared_link_opens_exactly():
    view, msgs = parse(a="13", b="7", t="2")
    assert (view.a, view.b, view.t, msgs) == (13, 7, 2, [])


def test_round_trip():
    view = AdditionView(a=2**200 + 5, b=3, t=7, unit=11, conv="chung2014")
    back, msgs = parse(**view.to_query())
    assert back == view and msgs == []


def test_banana_falls_back_with_a_message():
    view, msgs = parse(a="banana", b="7")
    assert view.a == AdditionView().a and view.b == 7
    assert len(msgs) == 1 and "a=banana" in msgs[0] and "not a non-negative whole number" in msgs[0]


def test_step_past_the_end_is_clamped():
    view, msgs = parse(a="13", b="7", t="999999")
    assert view.t == 4  # 13 + 7 takes 5 steps: t = 0..4
    assert "t=999999" in msgs[0]


def test_negative_operand():
    view, msgs = parse(a="-5")
    assert view.a == AdditionView().a and "below 0" in msgs[0]


def test_operand_too_large():
    view, msgs = parse(b=str(2 ** (MAX_OPERAND_BITS + 1)))
    assert view.b == AdditionView().b and "too large" in msgs[0] and "1024 bits" in msgs[0]
    assert len(msgs[0]) < 120


def test_absurdly_long_string_is_refused_before_parsing():
    view, msgs = parse(a="9" * 100_000)  # never handed to int()
    assert view.a == AdditionView().a and "too large" in msgs[0]


def test_unknown_convention_and_unit():
    view, msgs = parse(conv="keras", unit="99")
    assert view.conv == "pytorch" and view.unit == 15 and len(msgs) == 2


def test_binary_and_hex_operands():
    view, _ = parse(a="0b1011", b="0xff")
    assert (view.a, view.b) == (11, 255)


def test_sequence_view_round_trip_and_fallbacks():
    v = SequenceView(mode="text", seq="hello", hidden=12, seed=3, scale=2.5, t=2, unit=1, conv="cho2014")
    back, msgs = SequenceView.from_query(v.to_query())
    assert back == v and msgs == []
    bad, msgs = SequenceView.from_query({"mode": "video", "hidden": "100000", "scale": "big"})
    assert bad.mode == "numbers" and bad.hidden == SequenceView().hidden and len(msgs) == 3
