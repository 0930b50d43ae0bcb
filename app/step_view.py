"""The step view: controls that return (t, unit), and a renderer that draws a CellView at step t.

A page owns the fragment that holds its per-step rows, so a step change reruns only that part:

    @step_view.fragment("add")
    def stepping():
        t, unit = step_view.controls("add", T, H)
        ...the page's own rows at step t...
        step_view.render("add", view, t, unit)

Nothing here calls back into page code. Stepping itself is pure functions (:func:`apply`,
:func:`tick`), tested directly: AppTest cannot tick a fragment.
"""

from __future__ import annotations

import time

import streamlit as st

from . import figures, labels, session, ui
from .cell_views import CellView

ACTIONS = ("first", "prev", "next", "last")
SPEEDS = {"slow": 1.2, "normal": 0.6, "fast": 0.25}  # seconds per step while playing
_NAV = (("first", "First", ":material/first_page:", "Home", "first step"),
        ("prev", "Prev", ":material/chevron_left:", "Left", "previous step"),
        ("next", "Next", ":material/chevron_right:", "Right", "next step"),
        ("last", "Last", ":material/last_page:", "End", "last step"))


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


def fragment(prefix: str):
    """Decorator: the page's per-step body as a fragment that ticks on its own while playing.

    A fragment's timer is fixed when it is defined, so starting, stopping or changing speed
    reruns the whole page once to redefine it.
    """
    playing = bool(session.get(f"{prefix}_playing"))
    interval = SPEEDS[session.get(f"{prefix}_speed")]

    def wrap(body):
        @st.fragment(run_every=interval if playing else None)
        def run() -> None:
            now_playing = bool(session.get(f"{prefix}_playing"))
            if now_playing != playing or (playing and SPEEDS[session.get(f"{prefix}_speed")] != interval):
                st.rerun()
            with ui.guarded("showing this step"):  # a fragment rerun runs outside the page's guard
                body()
        return run
    return wrap


def controls(prefix: str, steps: int, hidden_size: int) -> tuple[int, int]:
    """Step buttons, play, speed, the time slider and the unit picker; returns (t, unit)."""
    kt, ku, kplay, kspeed, ktick = (f"{prefix}_{n}" for n in ("t", "unit", "playing", "speed", "tick"))
    session.put(kt, clamp(session.get(kt), steps))
    session.put(ku, min(max(int(session.get(ku)), 0), hidden_size - 1))
    playing = bool(session.get(kplay)) and steps > 1
    interval = SPEEDS[session.get(kspeed)]
    if playing and time.monotonic() - session.get(ktick) >= 0.8 * interval:
        t_next, keep = tick(session.get(kt), steps)
        session.put(kt, t_next)
        session.put(ktick, time.monotonic())
        if not keep:
            session.put(kplay, False)
            st.rerun()

    def press(action: str) -> None:
        session.put(kplay, False)
        session.put(kt, apply(action, session.get(kt), steps))

    def toggle_play() -> None:
        if not session.get(kplay) and session.get(kt) >= steps - 1:
            session.put(kt, 0)  # play from the start when already at the end
        session.put(kplay, not session.get(kplay))
        session.put(ktick, time.monotonic())

    present = ui.presenting()
    cols = st.columns([1, 1, 1, 1, 1.4, 1.6] if not present else [1, 1, 1, 1, 1.4, 0.01])
    for col, (action, label, icon, shortcut, what) in zip(cols, _NAV):
        col.button(label, key=session.element(f"{prefix}_{action}"), icon=icon, on_click=press,
                   args=(action,), shortcut=shortcut, width="stretch",
                   help=f"Go to the {what} (key: {shortcut})")
    cols[4].button("Pause" if playing else "Play", key=session.element(f"{prefix}_play"),
                   on_click=toggle_play, icon=":material/pause:" if playing else ":material/play_arrow:",
                   shortcut="Space", width="stretch", type="primary",
                   help="Advance one step at a time on its own (key: Space)")
    if not present:
        cols[5].select_slider("Speed", options=list(SPEEDS), key=session.widget(kspeed),
                              label_visibility="collapsed")
    if steps > 1:
        st.slider("Time step t", 0, steps - 1, key=session.widget(kt), disabled=playing)
    if not present and hidden_size > 1:
        st.number_input(f"Unit whose equations are written out (0–{hidden_size - 1})", 0, hidden_size - 1,
                        key=session.widget(ku), step=1)
    else:
        session.widget(ku)  # not drawn: keep its value for when it is
    return int(session.get(kt)), int(session.get(ku))


def render(prefix: str, view: CellView, t: int, unit: int) -> None:
    """The heatmaps with step t outlined, the blend for every unit, and one unit's equations."""
    fs = ui.font_size()
    ui.chart(figures.heatmaps(view.panels, t, unit=unit, font_size=fs), key=session.element(f"{prefix}_heatmaps"))
    if view.blend is not None:
        ui.chart(figures.interpolation(view.blend, t, unit=unit, font_size=fs),
                 key=session.element(f"{prefix}_interp"))
    st.markdown(f"**Unit {unit} at step {t}**: {view.equations_title}, with this step's numbers.")
    if t == 0:
        st.caption(labels.md(view.start_note))
    st.latex(view.equations(t, unit))
