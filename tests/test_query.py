"""Links: every query parameter parses through the session table, or falls back with a message."""

from __future__ import annotations

from app import limits, session


def parse(page="add", **q):
    values, messages = session.parse_link(page, q, {"hidden_size": 16})
    return values, messages


def test_a_shared_link_opens_exactly():
    values, msgs = parse(a="13", b="7", t="2")
    assert values == {"add_a_text": "13", "add_b_text": "7", "add_t": 2} and msgs == []


def test_banana_falls_back_with_a_message():
    values, msgs = parse(a="banana", b="7")
    assert "add_a_text" not in values and values["add_b_text"] == "7"   # a keeps its default
    assert len(msgs) == 1 and "a=banana" in msgs[0] and "not a non-negative whole number" in msgs[0]


def test_step_past_the_end_is_clamped():
    values, msgs = parse(a="13", b="7", t="999999")
    assert values["add_t"] == 4  # 13 + 7 takes 5 steps: t = 0..4
    assert "t=999999" in msgs[0]


def test_step_is_bounded_by_the_default_operands_when_the_link_has_none():
    values, _ = parse(t="999")
    assert values["add_t"] == 6   # 45 + 27: 6 bits + the carry step = 7 steps, t = 0..6


def test_negative_operand():
    values, msgs = parse(a="-5")
    assert "add_a_text" not in values and "below 0" in msgs[0]


def test_operand_too_large():
    values, msgs = parse(b=str(2 ** (limits.MAX_OPERAND_BITS + 1)))
    assert "add_b_text" not in values and "too large" in msgs[0] and "1024 bits" in msgs[0]
    assert len(msgs[0]) < 120


def test_absurdly_long_string_is_refused_before_parsing():
    values, msgs = parse(a="9" * 100_000)  # never handed to int()
    assert "add_a_text" not in values and "too large" in msgs[0]


def test_unknown_convention_and_unit():
    values, msgs = parse(conv="keras", unit="99")
    assert values["add_conv"] == "pytorch" and values["add_unit"] == 15 and len(msgs) == 2


def test_binary_and_hex_operands():
    values, _ = parse(a="0b1011", b="0xff")
    assert (values["add_a_text"], values["add_b_text"]) == ("11", "255")


def test_sequence_link_and_fallbacks():
    values, msgs = parse("seq", mode="text", seq="hello", hidden="12", seed="3", scale="2.5", t="2", unit="1",
                         conv="cho2014")
    assert msgs == [] and values == {"seq_mode": "text", "seq_text": "hello", "seq_hidden": 12, "seq_seed": 3,
                                     "seq_scale": 2.5, "seq_t": 2, "seq_unit": 1, "seq_conv": "cho2014"}
    bad, msgs = parse("seq", mode="video", hidden="100000", scale="big")
    assert bad["seq_mode"] == "numbers" and bad["seq_hidden"] == 8 and len(msgs) == 3


def test_present():
    assert parse("app", present="1") == ({"app_present": True}, [])
    values, msgs = parse("app", present="maybe")
    assert values == {"app_present": False} and "present=maybe" in msgs[0]
