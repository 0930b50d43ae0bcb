"""The URL state of each page, in one place: typed view state <-> st.query_params.

Query parameters are strings anyone can type. Each is parsed here; a value that does not parse or
is out of range falls back to a sensible one and yields a message the page shows. Nothing in this
module imports streamlit: pages pass ``st.query_params`` in (a Mapping) and write ``to_query()`` back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

from gru_core import CONVENTIONS
from gru_core.bit_addition import n_steps

# Widget values that must outlive their widget. Streamlit forgets a widget's value in any run that
# does not draw it (another page, a folded section, presentation mode); the entry script re-asserts
# these keys on every run so coming back finds everything as it was. Buttons, uploads and data
# editors cannot be set this way and are not listed.
_STEP_KEYS = ("t", "unit", "speed")
PERSISTENT_KEYS = (
    "add_a_text", "add_b_text", "add_random_bits", "add_conv", "add_source",
    *(f"add_{k}" for k in _STEP_KEYS),
    "seq_mode", "seq_text", "seq_model", "seq_hidden", "seq_seed", "seq_scale", "seq_conv", "seq_layer",
    *(f"seq_{k}" for k in _STEP_KEYS),
    "lab_mode", "lab_preset", "lab_hidden", "lab_input_size", "lab_conv", "lab_inputs",
    *(f"lab_{k}" for k in _STEP_KEYS),
    "abl_dz", "abl_dr", "abl_scale", *(f"abl_{k}" for k in _STEP_KEYS),
    "tr_hidden", "tr_lr", "tr_bits", "tr_seed", "tr_iters", "tr_conv", "tr_harden",
)

MAX_OPERAND_BITS = 1024    # the bit-addition page accepts operands up to this many bits
MAX_OPERAND_CHARS = 1100   # a 1024-bit number written as 0b…; anything longer is refused unparsed
DEFAULT_A, DEFAULT_B = 45, 27   # 101101 + 011011: a carry at five of the six columns


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 30 else f"{text[:12]}…{text[-6:]} ({len(text)} digits)"


def parse_int(raw: str | None, name: str, default: int, lo: int, hi: int,
              messages: list[str], what: str = "a whole number") -> int:
    """Parse ``raw`` as an int in [lo, hi]; on failure append a message and return the fallback."""
    if raw is None or raw == "":
        return default
    text = str(raw).strip().replace("_", "")
    if len(text) > MAX_OPERAND_CHARS:
        messages.append(f"`{name}` is {len(text)} characters long — too large; showing {default}.")
        return default
    try:
        value = int(text, 0) if text.lower().startswith(("0x", "0b")) else int(text)
    except ValueError:
        shown = text if len(text) <= 30 else text[:27] + "…"
        messages.append(f"`{name}={shown}` is not {what}; showing {default}.")
        return default
    if value < lo:
        messages.append(f"`{name}={_short(value)}` is below {lo}; showing {max(default, lo)}.")
        return max(default, lo)
    if value > hi:
        clamp = hi if name in ("t", "unit") else default
        limit = f"{hi.bit_length()} bits" if hi > 10**12 else str(hi)
        messages.append(f"`{name}={_short(value)}` is too large: the largest allowed is {limit}; "
                        f"showing {clamp}.")
        return clamp
    return value


def parse_operand(raw: str | None, name: str, default: int, messages: list[str]) -> int:
    """A non-negative integer of at most MAX_OPERAND_BITS bits (decimal, or 0b…/0x…)."""
    value = parse_int(raw, name, default, 0, (1 << MAX_OPERAND_BITS) - 1, messages,
                      what="a non-negative whole number")
    return value


def parse_choice(raw: str | None, name: str, default: str, choices: tuple[str, ...],
                 messages: list[str]) -> str:
    if raw is None or raw == "":
        return default
    if raw in choices:
        return raw
    messages.append(f"`{name}={str(raw)[:30]}` is not one of {', '.join(choices)}; showing {default}.")
    return default


def parse_present(params: Mapping[str, object]) -> tuple[bool, list[str]]:
    """``?present=1`` opens presentation mode (for a link a teacher puts on a slide)."""
    raw = _first(params, "present")
    if raw is None or raw in ("", "0", "false", "no"):
        return False, []
    if raw in ("1", "true", "yes"):
        return True, []
    return False, [f"`present={str(raw)[:20]}` should be 1 or 0; presentation mode stays off."]


def _first(params: Mapping[str, object], key: str) -> str | None:
    v = params.get(key)
    if isinstance(v, (list, tuple)):
        return str(v[0]) if v else None
    return None if v is None else str(v)


@dataclass(frozen=True)
class AdditionView:
    """Everything the bit-addition page needs to reopen exactly: ?a=13&b=7&t=2&unit=0&conv=pytorch"""

    a: int = DEFAULT_A
    b: int = DEFAULT_B
    t: int = 0          # time step, 0-based
    unit: int = 0       # hidden unit whose equations are written out
    conv: str = "pytorch"

    @classmethod
    def from_query(cls, params: Mapping[str, object], hidden_size: int) -> tuple[AdditionView, list[str]]:
        msgs: list[str] = []
        a = parse_operand(_first(params, "a"), "a", DEFAULT_A, msgs)
        b = parse_operand(_first(params, "b"), "b", DEFAULT_B, msgs)
        T = n_steps(a, b)
        t = parse_int(_first(params, "t"), "t", 0, 0, T - 1, msgs, what="a step number")
        unit = parse_int(_first(params, "unit"), "unit", 0, 0, hidden_size - 1, msgs, what="a unit number")
        conv = parse_choice(_first(params, "conv"), "conv", "pytorch", tuple(CONVENTIONS), msgs)
        return cls(a=a, b=b, t=t, unit=unit, conv=conv), msgs

    def to_query(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}

    def with_operands(self, a: int, b: int) -> AdditionView:
        """New operands keep the step if it still exists, else go to the last step."""
        return replace(self, a=a, b=b, t=min(self.t, n_steps(a, b) - 1))


SEQUENCE_MODES = ("numbers", "text", "csv")
MAX_STEPS = 2048
MAX_HIDDEN = 256
MAX_FEATURES = 64
DEFAULT_NUMBERS = "0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1"
DEFAULT_TEXT = "this is a fantasy book ... i didn't quite enjoy it"


@dataclass(frozen=True)
class SequenceView:
    """The sequence page's shareable state (an uploaded CSV cannot travel in a link)."""

    mode: str = "numbers"
    seq: str = DEFAULT_NUMBERS     # the numbers or the text typed in
    model: str = "random"          # "random" or "adder" (2 features only)
    hidden: int = 8
    seed: int = 0
    scale: float = 1.0             # weights ~ U(−scale/√H, scale/√H)
    t: int = 0
    unit: int = 0
    conv: str = "pytorch"

    @classmethod
    def from_query(cls, params: Mapping[str, object]) -> tuple[SequenceView, list[str]]:
        msgs: list[str] = []
        d = cls()
        mode = parse_choice(_first(params, "mode"), "mode", d.mode, SEQUENCE_MODES, msgs)
        seq = _first(params, "seq")
        if seq is None:
            seq = DEFAULT_TEXT if mode == "text" else d.seq
        if len(seq) > 20_000:
            msgs.append("`seq` is longer than 20,000 characters; showing the default sequence.")
            seq = d.seq
        model = parse_choice(_first(params, "model"), "model", d.model, ("random", "adder"), msgs)
        hidden = parse_int(_first(params, "hidden"), "hidden", d.hidden, 1, MAX_HIDDEN, msgs)
        seed = parse_int(_first(params, "seed"), "seed", d.seed, 0, 2**32 - 1, msgs)
        scale = d.scale
        raw_scale = _first(params, "scale")
        if raw_scale:
            try:
                scale = float(raw_scale)
                if not 0 <= scale <= 10:
                    raise ValueError
            except ValueError:
                msgs.append(f"`scale={raw_scale[:30]}` is not a number from 0 to 10; showing {d.scale}.")
                scale = d.scale
        t = parse_int(_first(params, "t"), "t", 0, 0, MAX_STEPS - 1, msgs, what="a step number")
        unit = parse_int(_first(params, "unit"), "unit", 0, 0, MAX_HIDDEN - 1, msgs, what="a unit number")
        conv = parse_choice(_first(params, "conv"), "conv", d.conv, tuple(CONVENTIONS), msgs)
        return cls(mode=mode, seq=seq, model=model, hidden=hidden, seed=seed, scale=scale, t=t,
                   unit=unit, conv=conv), msgs

    def to_query(self) -> dict[str, str]:
        q = {k: str(v) for k, v in asdict(self).items()}
        if self.mode == "csv":
            q.pop("seq")
        return q
