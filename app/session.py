"""Every session key of the app, declared once — as TensorFlow Playground's ``State.PROPS`` does.

One row per key: its name, its default, what kind of key it is, and the query parameter that
carries it in a link (if any). Everything else is derived from the table:

* **kept values**: Streamlit forgets a widget's value in any run that does not draw it (another
  page, a folded section, a partial rerun of a fragment). Every ``widget`` key therefore has a
  shadow copy that :func:`widget` refreshes each time the widget is drawn and restores when the
  widget comes back, so what a person typed survives page switches, partial reruns and
  presentation mode. That is a property of the table, not a per-page fix.
* **links**: :func:`read_link` parses a page's query parameters once per session (each key's own
  parser, with a message for anything that does not parse); :func:`write_link` writes the page's
  current values back. One way: widgets → values → URL.
* **checks**: reading or writing a name that is not in the table is a ``KeyError``, and a test
  reads every page's source to make sure no page touches ``st.session_state`` directly.

Pages use :func:`get`, :func:`put` and :func:`widget` (which returns the key to hand to the widget).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from gru_core import CONVENTIONS

from . import limits, query

WIDGET, VALUE, ELEMENT = "widget", "value", "element"

# A parser turns the raw query string into a value, appending a message when it falls back.
# ``ctx`` holds the values parsed before it on the same page (e.g. the operands, to bound t).
Parser = Callable[[str, list[str], dict[str, Any]], Any]


@dataclass(frozen=True)
class Key:
    name: str
    default: Any = None
    kind: str = VALUE   # WIDGET: drawn by a widget, kept while hidden; VALUE: held by the app;
    #                     ELEMENT: identifies a button or chart, nothing to keep
    url: str | None = None          # the query parameter that carries it in a link
    parse: Parser | None = None     # how that parameter is read (required when ``url`` is set)
    doc: str = ""


def _w(name: str, default: Any = None, url: str | None = None, parse: Parser | None = None,
       doc: str = "") -> Key:
    return Key(name, default, WIDGET, url, parse, doc)


def _v(name: str, default: Any = None, doc: str = "") -> Key:
    return Key(name, default, VALUE, doc=doc)


def _e(*names: str) -> list[Key]:
    return [Key(n, kind=ELEMENT) for n in names]


CONVENTION_NAMES = tuple(CONVENTIONS)
BROWSER_PARAMS = ("t", "unit")   # kept up to date by the browser's step view, read here from a link once
STEP_ELEMENTS = ("steps",)


def _step_keys(prefix: str, step_parser: Parser | None = None) -> list[Key]:
    """The keys of one step view (app/step_view.py): where it opens. Stepping itself happens in the
    browser, which keeps the step and the unit in the tab and in the link (?t=, ?unit=); the server
    reads them from a link once and never hears of them again."""
    link = dict(url="t", parse=step_parser) if step_parser else {}
    unit_link = dict(url="unit", parse=query.parse_unit) if step_parser else {}
    return [Key(f"{prefix}_t", 0, VALUE, doc="the step the view opens at", **link),
            Key(f"{prefix}_unit", 0, VALUE, doc="the unit whose equations it opens with", **unit_link),
            *_e(*(f"{prefix}_{n}" for n in STEP_ELEMENTS))]


TABLE: tuple[Key, ...] = (
    # -- the whole app ------------------------------------------------------------------------
    _w("app_present", False, url="present", parse=query.parse_present, doc="presentation mode"),
    _v("app_trained", doc="the model trained on the Train page, offered on the other pages"),
    _v("app_trained_finding", doc="(model, carry finding) for that model, computed once"),
    _v("app_link_read", frozenset(), doc="pages whose link has been read this session"),
    _v("app_link_messages", dict, doc="per page: what in the link could not be used"),
    _v("app_admitted", False, doc="this tab was let in (app/capacity.py); it keeps its place"),
    _v("app_welcomed", False, doc="the first page offered the lesson, and the reader chose"),
    *_e("app_preload", "app_explore"),
    # -- bit addition -------------------------------------------------------------------------
    _w("add_a_text", str(limits.DEFAULT_A), url="a", parse=query.parse_operand_text("a"), doc="operand a as typed"),
    _w("add_b_text", str(limits.DEFAULT_B), url="b", parse=query.parse_operand_text("b"), doc="operand b as typed"),
    _v("add_operands", (limits.DEFAULT_A, limits.DEFAULT_B), doc="the last operands that parsed"),
    _w("add_random_bits", 16), _w("add_source", "shipped"),
    _w("add_conv", "pytorch", url="conv", parse=query.parse_convention),
    *_step_keys("add", query.parse_add_step),
    *_e("add_random", "add_carry"),
    # -- your sequence ------------------------------------------------------------------------
    _w("seq_mode", "numbers", url="mode", parse=query.parse_mode),
    _w("seq_text", limits.DEFAULT_NUMBERS, url="seq", parse=query.parse_sequence_text),
    _w("seq_model", "random", url="model", parse=query.parse_model),
    _w("seq_hidden", limits.DEFAULT_HIDDEN, url="hidden", parse=query.parse_hidden),
    _w("seq_seed", 0, url="seed", parse=query.parse_seed),
    _w("seq_scale", 1.0, url="scale", parse=query.parse_init_scale,
       doc="initial weights ~ U(−scale/√H, scale/√H): a multiple of torch's own 1/√H"),
    _w("seq_conv", "pytorch", url="conv", parse=query.parse_convention),
    _w("seq_layer", -1),
    _v("seq_real", doc="(text, stock, week, true change) of the held-out window of real prices loaded"),
    *_step_keys("seq", query.parse_step),
    *_e("seq_upload", "seq_model_file", "seq_download", "seq_real_week"),
    # -- parameter lab ------------------------------------------------------------------------
    _w("lab_mode", "tiny"), _w("lab_preset"), _w("lab_hidden", 1), _w("lab_input_size", 2),
    _w("lab_conv", "pytorch"), _w("lab_inputs", ""),
    _v("lab_tables", doc="the tiny GRU's r, z, n tables (H, I + H + 2) as last edited"),
    _v("lab_features", doc="input names (I,)"),
    _v("lab_version", 0, doc="bumped when the tables are replaced, so the editors start afresh"),
    *_step_keys("lab"),
    *_e("lab_r", "lab_z", "lab_n", "lab_export", "lab_export_keras"),
    _w("abl_dz", 0.0), _w("abl_dr", 0.0), _w("abl_scale", 1.0),
    *_step_keys("abl"),
    *_e("abl_reset", "abl_export", "abl_export_keras"),
    # -- why gates ----------------------------------------------------------------------------
    _w("why_length", 50, url="length", parse=query.parse_why_length, doc="the adding problem's length"),
    _w("why_cell", "gru", url="cell", parse=query.parse_why_cell, doc="the cell whose steps are shown"),
    _w("why_live_iters", 300),
    _v("why_live", doc="the three cells trained in this tab: length, and cell -> history, model, held-out MSE"),
    *_step_keys("why", query.parse_step),
    *_e("why_train", "why_stop", "why_gradients", "why_live_curves"),
    *_e("why_paths", "why_live_gradients"),
    # -- the lesson -------------------------------------------------------------------------------
    _w("les_chapter", 1, url="lesson", parse=query.parse_lesson, doc="the chapter shown (1-based)"),
    _v("les_stage", 0, doc="while presenting: the chapter's step shown (app/lesson.py STAGES)"),
    Key("les_answers", dict, VALUE, url="answers", parse=query.parse_answers,
        doc="chapter -> the option the reader chose (checked against the model when shown)"),
    _v("les_about", dict, doc="chapter -> (convention, model) the answer was given about"),
    _w("les_conv", "pytorch", url="conv", parse=query.parse_convention),
    *(_w(f"les_q{n}") for n in range(1, query.LESSON_CHAPTERS + 1)),
    *(k for n in range(1, query.LESSON_CHAPTERS + 1) for k in _step_keys(f"les{n}")),
    *_e("les_back", "les_next", "les_check", "les_retry", "les_gradients"),
    # -- train it yourself --------------------------------------------------------------------
    _w("tr_hidden", limits.TRAIN_DEFAULT_HIDDEN), _w("tr_lr", limits.TRAIN_DEFAULT_LR),
    _w("tr_bits", limits.TRAIN_DEFAULT_BITS), _w("tr_seed", 0), _w("tr_iters", limits.TRAIN_DEFAULT_ITERATIONS),
    _w("tr_conv", "pytorch"), _w("tr_harden", False),
    _v("tr_partial", doc="the run in progress: history and the latest snapshot (kept on Stop)"),
    _v("tr_done", doc="the finished run: history, model, seconds, whether it was stopped"),
    *_e("tr_start", "tr_stop", "tr_export", "tr_export_keras"),
)

KEYS: dict[str, Key] = {k.name: k for k in TABLE}
assert len(KEYS) == len(TABLE), "a key is declared twice"
_KEPT = "_kept"   # the shadow copies of widget values (not a page's key: no page reads it)


def link_keys(page: str) -> list[Key]:
    """The keys of ``page`` (its name prefix) that a link carries, in the table's order."""
    return [k for k in TABLE if k.url and k.name.startswith(page + "_")]


def _key(name: str) -> Key:
    try:
        return KEYS[name]
    except KeyError:
        raise KeyError(f"{name!r} is not declared in app/session.py's TABLE") from None


def _default(key: Key) -> Any:
    return key.default() if callable(key.default) else key.default


# -- reading and writing ------------------------------------------------------------------------
def get(name: str) -> Any:
    """The current value of a declared key (its default if it was never set)."""
    key = _key(name)
    ss = st.session_state
    if name in ss:
        return ss[name]
    if key.kind == WIDGET:
        return ss.get(_KEPT, {}).get(name, _default(key))
    return _default(key)


def put(name: str, value: Any) -> None:
    """Set a declared key. For a widget key this sets what the widget shows next (call it before
    the widget is drawn in this run, or from a callback)."""
    key = _key(name)
    st.session_state[name] = value
    if key.kind == WIDGET:
        st.session_state.setdefault(_KEPT, {})[name] = value


def drop(name: str) -> None:
    """Forget a declared key (a value goes back to its default)."""
    _key(name)
    st.session_state.pop(name, None)
    st.session_state.get(_KEPT, {}).pop(name, None)


def widget(name: str) -> str:
    """The key to give the widget that draws ``name``; keeps the value across hidden runs.

    Call it right where the widget is drawn: the widget's current value is copied to the shadow,
    or, if Streamlit forgot the widget while it was not drawn, the shadow is put back first.
    """
    key = _key(name)
    if key.kind != WIDGET:
        raise KeyError(f"{name!r} is declared as {key.kind}, not as a widget")
    ss = st.session_state
    kept = ss.setdefault(_KEPT, {})
    if name in ss:
        kept[name] = ss[name]
    else:
        ss[name] = kept.get(name, _default(key))
    return name


def element(name: str) -> str:
    """The key of a button, chart or other element (declared, so no page invents one)."""
    if _key(name).kind != ELEMENT:
        raise KeyError(f"{name!r} is not declared as an element")
    return name


# -- links ------------------------------------------------------------------------------------------
def parse_link(page: str, params: Mapping[str, object], ctx: dict[str, Any] | None = None
               ) -> tuple[dict[str, Any], list[str]]:
    """The values a link gives ``page``'s keys (only those present), and messages for the rest.

    Pure: no session state. ``ctx`` passes facts the parsers need (e.g. the model's hidden size).
    """
    ctx = dict(ctx or {})
    values: dict[str, Any] = {}
    messages: list[str] = []
    for key in link_keys(page):
        raw = query.first(params, key.url)
        if raw is None:  # an empty value is the parser's to judge (an empty sequence is a message)
            continue
        value = key.parse(raw, messages, ctx)
        if value is not None:
            values[key.name] = ctx[key.name] = value
    return values, messages


def read_link(page: str, ctx: dict[str, Any] | None = None) -> list[str]:
    """Once per session and page: put the link's values into the page's keys; returns the messages
    (kept, so the page can show them until the person changes something)."""
    read = get("app_link_read")
    if page not in read:
        values, messages = parse_link(page, st.query_params, ctx)
        for name, value in values.items():
            put(name, value)
        put("app_link_read", read | {page})
        put("app_link_messages", {**get("app_link_messages"), page: messages})
    return get("app_link_messages").get(page, [])


def clear_link_messages(page: str) -> None:
    put("app_link_messages", {**get("app_link_messages"), page: []})


def link_values(page: str, **overrides: Any) -> dict[str, str]:
    """The query parameters of ``page``'s current view (what :func:`write_link` writes)."""
    out = {}
    for key in link_keys(page):
        if key.url in BROWSER_PARAMS:
            continue
        value = overrides.get(key.name, get(key.name))
        out[key.url] = query.format_value(value)
    return out


def write_link(values: dict[str, str], drop_params: tuple[str, ...] = ()) -> None:
    """Write ``values`` into the URL, touching only what changed (keeps the history quiet)."""
    for k, v in values.items():
        if st.query_params.get(k) != v:
            st.query_params[k] = v
    for k in drop_params:
        if k in st.query_params:
            del st.query_params[k]
