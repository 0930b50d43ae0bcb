"""UI pieces shared by the pages: ``*_controls()`` return values, ``render_*()`` draw data."""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st

from gru_core import CONVENTIONS, Convention, LayerTrace

from . import equations, figures, labels, steps, theme


def presenting() -> bool:
    return bool(st.session_state.get("present", False))


def intro(text: str) -> None:
    """A page's opening paragraph; left out while presenting (the teacher is the narration)."""
    if not presenting():
        st.markdown(text)


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


def sync_query(values: dict[str, str]) -> None:
    """Write the view state into the URL, touching only what changed (keeps history quiet)."""
    for k, v in values.items():
        if st.query_params.get(k) != v:
            st.query_params[k] = v


def convention_controls(key: str, default: str) -> Convention:
    """The convention picker with its one-line explanation; returns the chosen Convention."""
    if st.session_state.get(key) is None:  # first visit, or the choice was clicked off
        st.session_state[key] = st.session_state.get(f"{key}_last", default)
    name = st.segmented_control("Convention", options=list(CONVENTIONS), key=key,
                                help="Which way of writing the GRU equations the page uses.")
    st.session_state[f"{key}_last"] = name
    convention = CONVENTIONS[name]
    st.caption(labels.md(labels.explain(convention)))
    return convention


def _init(key: str, value) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def render_step_view(lt: LayerTrace, convention: Convention, *, prefix: str, initial_t: int = 0,
                     initial_unit: int = 0, query: Callable[[int, int], dict[str, str]] | None = None,
                     above: Callable[[int], None] | None = None) -> None:
    """Stepping controls plus every per-step view, inside one fragment so a step change reruns
    only this part of the page. ``above(t)`` draws page-specific rows (e.g. the bits) first."""
    T, H = lt.steps, lt.hidden_size
    ss = st.session_state
    kt, ku, kplay, kspeed, ktick = (f"{prefix}_{n}" for n in ("t", "unit", "playing", "speed", "tick"))
    _init(kt, initial_t)      # kept across hidden runs by state.PERSISTENT_KEYS
    _init(ku, initial_unit)
    _init(kplay, False)
    _init(kspeed, "normal")
    ss[kt] = steps.clamp(ss[kt], T)
    ss[ku] = min(max(int(ss[ku]), 0), H - 1)
    playing = bool(ss[kplay]) and T > 1
    interval = steps.SPEEDS[ss[kspeed]]

    def press(action: str) -> None:
        ss[kplay] = False
        ss[kt] = steps.apply(action, ss[kt], T)

    def toggle_play() -> None:
        if not ss[kplay] and ss[kt] >= T - 1:
            ss[kt] = 0  # play from the start when already at the end
        ss[kplay] = not ss[kplay]
        ss[ktick] = time.monotonic()

    @st.fragment(run_every=interval if playing else None)
    def step_fragment() -> None:
        if bool(ss[kplay]) != playing:
            st.rerun()  # play/pause changes run_every, which only a full run can set
        if playing and time.monotonic() - ss.get(ktick, 0.0) >= 0.8 * interval:
            ss[kt], keep = steps.tick(ss[kt], T)
            ss[ktick] = time.monotonic()
            if not keep:
                ss[kplay] = False
                st.rerun()
        present = presenting()
        cols = st.columns([1, 1, 1, 1, 1.4, 1.6] if not present else [1, 1, 1, 1, 1.4, 0.01])
        nav = (("first", "First", ":material/first_page:", "Home", "first step"),
               ("prev", "Prev", ":material/chevron_left:", "Left", "previous step"),
               ("next", "Next", ":material/chevron_right:", "Right", "next step"),
               ("last", "Last", ":material/last_page:", "End", "last step"))
        for col, (action, label, icon, key, what) in zip(cols, nav):
            col.button(label, key=f"{prefix}_{action}", icon=icon, on_click=press, args=(action,),
                       shortcut=key, width="stretch", help=f"Go to the {what} (key: {key})")
        cols[4].button("Pause" if playing else "Play", key=f"{prefix}_play", on_click=toggle_play,
                       icon=":material/pause:" if playing else ":material/play_arrow:",
                       shortcut="Space", width="stretch", type="primary",
                       help="Advance one step at a time on its own (key: Space)")
        if not present:
            cols[5].select_slider("Speed", options=list(steps.SPEEDS), key=kspeed,
                                  label_visibility="collapsed")
        if T > 1:
            st.slider("Time step t", 0, T - 1, key=kt, disabled=playing)
        t = int(ss[kt])
        if not present and H > 1:
            st.number_input(f"Unit whose equations are written out (0–{H - 1})", 0, H - 1,
                            key=ku, step=1)
        unit = int(ss[ku])
        if query is not None:
            sync_query(query(t, unit))
        fs = font_size()
        if above is not None:
            above(t)
        chart(figures.gate_heatmaps(lt, t, convention, unit=unit, font_size=fs), key=f"{prefix}_heatmaps")
        chart(figures.interpolation(lt, t, convention, unit=unit, font_size=fs), key=f"{prefix}_interp")
        render_equations(lt, t, unit, convention)

    step_fragment()


def render_equations(lt: LayerTrace, t: int, unit: int, convention: Convention) -> None:
    st.markdown(f"**Unit {unit} at step {t}** — the equations with this step's numbers "
                f"({convention.name} convention)")
    st.latex(equations.as_block(lt, t, unit, convention))
