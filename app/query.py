"""Reading query parameters: strings anyone can type, each parsed here or refused with a message.

A value that does not parse or is out of range falls back to a sensible one and appends a message
the page shows. Every parser has the signature ``parse(raw, messages, ctx) -> value | None`` used by
app/session.py's table (``None``: keep the key's default; ``ctx``: values parsed before it on the
same page, and facts such as the model's hidden size). Nothing here imports streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gru_core import CONVENTIONS
from gru_core.tasks.bit_addition import n_steps

from . import limits

SEQUENCE_MODES = ("numbers", "text", "csv")
LINK_MODELS = ("random", "adder")   # the sequence page's models that a link can name


def first(params: Mapping[str, object], key: str) -> str | None:
    """One query parameter as a string (the first, if it was given several times)."""
    v = params.get(key)
    if isinstance(v, (list, tuple)):
        return str(v[0]) if v else None
    return None if v is None else str(v)


def format_value(value: Any) -> str:
    """How a value is written into a link (the inverse of the parsers below)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Mapping):   # the lesson's answers, the one mapping a link carries
        return format_answers(value)
    return str(value)


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 30 else f"{text[:12]}…{text[-6:]} ({len(text)} digits)"


def parse_int(raw: str | None, name: str, default: int, lo: int, hi: int, messages: list[str],
              what: str = "a whole number", clamp: bool = False) -> int:
    """``raw`` as an int in [lo, hi]; on failure a message and ``default`` (or the nearest bound
    when ``clamp``)."""
    if raw is None or raw == "":
        return default
    text = str(raw).strip().replace("_", "")
    if len(text) > limits.MAX_OPERAND_CHARS:
        messages.append(f"`{name}` is {len(text)} characters long — too large; showing {default}.")
        return default
    try:
        value = int(text, 0) if text.lower().startswith(("0x", "0b")) else int(text)
    except ValueError:
        shown = text if len(text) <= 30 else text[:27] + "…"
        messages.append(f"`{name}={shown}` is not {what}; showing {default}.")
        return default
    if value < lo:
        fallback = lo if clamp else max(default, lo)
        messages.append(f"`{name}={_short(value)}` is below {lo}; showing {fallback}.")
        return fallback
    if value > hi:
        fallback = hi if clamp else default
        limit = f"{hi.bit_length()} bits" if hi > 10**12 else str(hi)
        messages.append(f"`{name}={_short(value)}` is too large: the largest allowed is {limit}; "
                        f"showing {fallback}.")
        return fallback
    return value


def parse_operand(raw: str | None, name: str, default: int, messages: list[str]) -> int:
    """A non-negative integer of at most MAX_OPERAND_BITS bits (decimal, or 0b…/0x…)."""
    return parse_int(raw, name, default, 0, (1 << limits.MAX_OPERAND_BITS) - 1, messages,
                     what="a non-negative whole number")


def parse_choice(raw: str | None, name: str, default: str, choices: tuple[str, ...],
                 messages: list[str]) -> str:
    if raw is None or raw == "":
        return default
    if raw in choices:
        return raw
    messages.append(f"`{name}={str(raw)[:30]}` is not one of {', '.join(choices)}; showing {default}.")
    return default


# -- the parsers of app/session.py's table ------------------------------------------------------------
def _operands(ctx: dict[str, Any]) -> tuple[int, int]:
    """The operands parsed so far on the bit-addition page (the defaults where the link had none)."""
    ignored: list[str] = []
    return (parse_operand(ctx.get("add_a_text"), "a", limits.DEFAULT_A, ignored),
            parse_operand(ctx.get("add_b_text"), "b", limits.DEFAULT_B, ignored))


def parse_operand_text(name: str):
    def parse(raw: str, messages: list[str], ctx: dict[str, Any]) -> str | None:
        before = len(messages)
        default = limits.DEFAULT_A if name == "a" else limits.DEFAULT_B
        value = parse_operand(raw, name, default, messages)
        return None if len(messages) > before else str(value)
    return parse


def parse_add_step(raw: str, messages: list[str], ctx: dict[str, Any]) -> int:
    """A step of the addition the link opens: 0 … (steps of a + b) − 1, clamped."""
    return parse_int(raw, "t", 0, 0, n_steps(*_operands(ctx)) - 1, messages, what="a step number",
                     clamp=True)


def parse_step(raw: str, messages: list[str], ctx: dict[str, Any]) -> int:
    return parse_int(raw, "t", 0, 0, limits.MAX_STEPS - 1, messages, what="a step number", clamp=True)


def parse_unit(raw: str, messages: list[str], ctx: dict[str, Any]) -> int:
    hidden = int(ctx.get("hidden_size", limits.MAX_HIDDEN))
    return parse_int(raw, "unit", 0, 0, hidden - 1, messages, what="a unit number", clamp=True)


def parse_convention(raw: str, messages: list[str], ctx: dict[str, Any]) -> str:
    return parse_choice(raw, "conv", "pytorch", tuple(CONVENTIONS), messages)


def parse_present(raw: str, messages: list[str], ctx: dict[str, Any]) -> bool:
    """``?present=1`` opens presentation mode (for a link a teacher puts on a slide)."""
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    messages.append(f"`present={str(raw)[:20]}` should be 1 or 0; presentation mode stays off.")
    return False


def parse_mode(raw: str, messages: list[str], ctx: dict[str, Any]) -> str:
    return parse_choice(raw, "mode", "numbers", SEQUENCE_MODES, messages)


def parse_sequence_text(raw: str, messages: list[str], ctx: dict[str, Any]) -> str | None:
    if len(raw) > limits.MAX_LINK_SEQUENCE_CHARS:
        messages.append(f"`seq` is longer than {limits.MAX_LINK_SEQUENCE_CHARS:,} characters; "
                        "showing the default sequence.")
        return None
    return raw


def parse_model(raw: str, messages: list[str], ctx: dict[str, Any]) -> str:
    return parse_choice(raw, "model", "random", LINK_MODELS, messages)


def parse_hidden(raw: str, messages: list[str], ctx: dict[str, Any]) -> int:
    return parse_int(raw, "hidden", limits.DEFAULT_HIDDEN, 1, limits.MAX_HIDDEN, messages)


def parse_seed(raw: str, messages: list[str], ctx: dict[str, Any]) -> int:
    return parse_int(raw, "seed", 0, 0, limits.MAX_SEED, messages)


def parse_init_scale(raw: str, messages: list[str], ctx: dict[str, Any]) -> float | None:
    if raw == "":
        return None
    try:
        scale = float(raw)
        if not 0 <= scale <= limits.MAX_INIT_SCALE:
            raise ValueError
    except ValueError:
        messages.append(f"`scale={raw[:30]}` is not a number from 0 to {limits.MAX_INIT_SCALE:g}; "
                        "showing 1.0.")
        return 1.0
    return scale


def parse_why_length(raw: str, messages: list[str], ctx: dict[str, Any]) -> int:
    """A length the "Why gates?" page has shipped models for (gru_core.registry.ADDING_LENGTHS)."""
    from gru_core.registry import ADDING_LENGTHS

    value = parse_choice(raw, "length", str(ADDING_LENGTHS[1]), tuple(str(n) for n in ADDING_LENGTHS), messages)
    return int(value)


def parse_why_cell(raw: str, messages: list[str], ctx: dict[str, Any]) -> str:
    from gru_core.registry import ADDING_CELLS

    return parse_choice(raw, "cell", "gru", tuple(ADDING_CELLS), messages)



# -- the lesson ---------------------------------------------------------------------------------------
LESSON_CHAPTERS = 8          # app/lesson.py's CHAPTERS (a test checks the two agree)
MAX_ANSWER_CHARS = 200       # ?answers= longer than this is not a lesson's progress


def parse_lesson(raw: str, messages: list[str], ctx: dict[str, Any]) -> int:
    """The chapter a teacher's link opens (1-based)."""
    return parse_int(raw, "lesson", 1, 1, LESSON_CHAPTERS, messages, what="a chapter number", clamp=True)


def format_answers(answers: Mapping[int, int]) -> str:
    """The reader's answers as a link writes them: ``chapter.option`` pairs joined by ``-``, e.g. 1.0-4.11."""
    return "-".join(f"{c}.{o}" for c, o in sorted(answers.items()))


def parse_answers(raw: str, messages: list[str], ctx: dict[str, Any]) -> dict[int, int]:
    """The answers a link carries back (progress resumed); pairs that do not read are left out, said once.
    Whether each is right is the page's to compute, from the model: a link only says what was chosen."""
    if len(raw) > MAX_ANSWER_CHARS:
        messages.append(f"`answers` is {len(raw)} characters long, more than a lesson's answers; starting afresh.")
        return {}
    answers, bad = {}, []
    for pair in filter(None, raw.split("-")):
        chapter, _, option = pair.partition(".")
        if chapter.isdigit() and option.isdigit() and 1 <= int(chapter) <= LESSON_CHAPTERS and int(option) < 1000:
            answers[int(chapter)] = int(option)
        else:
            bad.append(pair[:20])
    if bad:
        messages.append(f"`answers` holds {', '.join(f'`{b}`' for b in bad[:3])}, which is not a chapter's answer "
                        "(chapter.option, e.g. 1.0); the rest of the progress is kept.")
    return answers
