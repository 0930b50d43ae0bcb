"""Small UI pieces every page uses: presentation mode, the convention picker, charts, messages."""

from __future__ import annotations

import functools
import logging
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException

from gru_core import CONVENTIONS, Convention

from . import labels, session, theme

log = logging.getLogger("gru_gate_lab")


def presenting() -> bool:
    return bool(session.get("app_present"))


def intro(text: str) -> None:
    """A page's opening paragraph; left out while presenting (the teacher is the narration)."""
    if not presenting():
        st.markdown(text)


def welcome() -> None:
    """The first page's choice for someone new: take the lesson, or explore freely (asked once a tab)."""
    if presenting() or session.get("app_welcomed"):
        return
    with st.container(border=True):
        st.markdown("**New here?** The lesson walks through this app in eight short chapters, each with a "
                    "live model and a question to predict before the app shows the answer. Or explore freely: "
                    "every page is in the sidebar.")
        c1, c2, _ = st.columns([1, 1, 2])
        c1.page_link("views/lesson.py", label="Take the lesson", icon=":material/school:")
        c2.button("Explore freely", key=session.element("app_explore"), icon=":material/explore:",
                  on_click=session.put, args=("app_welcomed", True))


def controls_container():
    """Where a page's input controls go: inline normally, folded away while presenting (kept
    rendered, so nothing typed is lost)."""
    if presenting():
        return st.expander("Change the example", expanded=False, icon=":material/tune:")
    return st.container()


def font_size() -> int:
    return theme.PRESENT_FONT_SIZE if presenting() else theme.FONT_SIZE


def chart(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, width="stretch", config=theme.PLOTLY_CONFIG)


def convention_picker(name: str, options: tuple[str, ...] = tuple(CONVENTIONS), on_change=None,
                      args: tuple = ()) -> Convention:
    """The convention picker with its one-line explanation; returns the chosen Convention.

    A segmented control can be clicked off (None): the last choice then stays. ``on_change(*args)``
    runs when the reader picks another one.
    """
    key = session.widget(name)
    if session.get(name) not in options:
        session.put(name, options[0])
    st.segmented_control("Convention", options=list(options), key=key, on_change=on_change, args=args,
                         help="Which way of writing the GRU equations the page uses.")
    convention = CONVENTIONS[session.get(name) or options[0]]
    st.caption(labels.md(labels.explain(convention)))
    return convention


def show_messages(messages: list[str]) -> None:
    for m in messages:
        st.warning(m, icon=":material/warning:")


def error(text: str) -> None:
    st.error(text, icon=":material/error:")


@contextmanager
def guarded(what: str):
    """Any unexpected exception in a user-input path becomes a message in the page (the detail
    goes to the server log), never a traceback: the page keeps everything else it shows."""
    try:
        yield
    except (StopException, RerunException):  # st.stop() and st.rerun() are not errors
        raise
    except Exception:  # noqa: BLE001 — the point of this guard: nothing reaches the user raw
        log.exception("unexpected error while %s", what)
        error(f"Something went wrong while {what}. Nothing you entered is lost: change the input "
              "and try again. (The details are in the server's log.)")


def guard(what: str):
    """Decorator form of :func:`guarded`, for fragments (their reruns run outside the page's guard)."""
    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            with guarded(what):
                return fn(*args, **kwargs)
        return run
    return wrap
