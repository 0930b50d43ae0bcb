"""Parameter lab: edit every weight of a tiny GRU, or turn the knobs of the trained adder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import cell_views, figures, labels, limits, presets, services, session, step_view, ui
from app.sequences import SequenceError, format_rows, parse_rows
from gru_core import CONVENTIONS, GRU
from gru_core.tasks import bit_addition as ba

MODES = {"tiny": "Build a tiny GRU", "ablate": "Turn the knobs of the trained adder"}
GATE_TABLES = (("r", "reset gate r"), ("z", "update gate z"), ("n", "candidate h̃"))
KNOB_EXAMPLE = (46955, 27509)  # 16-bit operands: carries out of 15 of the 16 columns, in runs of 7 and 8


# -- a tiny GRU whose every number is editable ------------------------------------------------------
def load_preset() -> None:
    """The chosen preset, written for the convention shown (see app/presets.py)."""
    p = presets.PRESETS[session.get("lab_preset")]
    convention = CONVENTIONS[session.get("lab_conv") or "pytorch"]
    _replace_tables(p.tables(convention), list(p.features))
    session.put("lab_inputs", p.inputs)
    session.put("lab_hidden", p.r.shape[0])
    session.put("lab_input_size", len(p.features))


def _replace_tables(tables: dict[str, np.ndarray], features: list[str]) -> None:
    session.put("lab_tables", tables)
    session.put("lab_features", features)
    for g, _ in GATE_TABLES:  # the editors start afresh from the new tables
        session.drop(f"lab_{g}")


def fit_preset_to(convention) -> None:
    """After a convention switch, untouched preset tables are swapped for that preset written for
    the new convention, so its text stays true; numbers a person edited are kept as they are."""
    p = presets.PRESETS[session.get("lab_preset")]
    tables = session.get("lab_tables")
    for other in CONVENTIONS.values():
        theirs = p.tables(other)
        if other.z_keeps_old != convention.z_keeps_old and all(
                theirs[g].shape == tables[g].shape and np.array_equal(theirs[g], tables[g]) for g, _ in GATE_TABLES):
            _replace_tables(p.tables(convention), list(p.features))
            return


def resize() -> None:
    """New sizes keep every number (as edited) that still has a place; new ones start at 0. The typed
    inputs, after a change of inputs per step, are read as the page reads them and written back with
    that many numbers per line."""
    H, I = int(session.get("lab_hidden")), int(session.get("lab_input_size"))
    old_I = len(session.get("lab_features"))
    tables = {}
    for g, table in session.get("lab_tables").items():
        old_H = table.shape[0]
        new = np.zeros((H, I + H + 2))
        h, i = min(H, old_H), min(I, old_I)
        new[:h, :i] = table[:h, :i]                                   # W_i
        new[:h, I:I + h] = table[:h, old_I:old_I + h]                 # W_h
        new[:h, I + H:] = table[:h, old_I + old_H:]                   # biases
        tables[g] = new
    _replace_tables(tables, (session.get("lab_features") + [f"x[{k}]" for k in range(old_I, I)])[:I])
    if I == old_I:
        return
    try:
        xs = parse_rows(session.get("lab_inputs"), old_I).xs
    except SequenceError:
        return  # text that does not parse is kept as typed; the page says what is wrong with it
    padded = np.zeros((xs.shape[0], I))
    padded[:, :min(I, old_I)] = xs[:, :I]
    session.put("lab_inputs", format_rows(padded))


def tiny_controls() -> tuple[GRU | None, np.ndarray | None]:
    """Preset, sizes, convention, inputs and the three tables; returns the GRU and inputs (T, I),
    or (None, None) with the reason on the page."""
    if session.get("lab_tables") is None:
        session.put("lab_preset", next(iter(presets.PRESETS)))
        load_preset()
    c1, c2, c3 = st.columns([2.2, 1, 1])
    c1.selectbox("Preset", list(presets.PRESETS), key=session.widget("lab_preset"), on_change=load_preset)
    c2.number_input("Hidden units", 1, limits.LAB_MAX_HIDDEN, key=session.widget("lab_hidden"), on_change=resize)
    c3.number_input("Inputs per step", 1, limits.LAB_MAX_INPUTS, key=session.widget("lab_input_size"),
                    on_change=resize)
    convention = ui.convention_picker("lab_conv")
    fit_preset_to(convention)
    st.info(labels.md(presets.PRESETS[session.get("lab_preset")].describe(convention)), icon=":material/lightbulb:")
    st.caption("Each preset is written for the convention shown. Numbers you edit stay as they are when "
               "you switch: another convention runs them through its own equations.")
    st.text_area("Input sequence: one step per line, one number per input, comma separated",
                 key=session.widget("lab_inputs"), height=120)
    tables = session.get("lab_tables")
    H, I = tables["r"].shape[0], len(session.get("lab_features"))
    st.markdown("**Every weight and bias**: one row per hidden unit; edit any cell.")
    edited = {}
    for g, title in GATE_TABLES:
        cols = presets.column_names(I, H, g)
        frame = pd.DataFrame(tables[g], columns=cols, index=[f"unit {j}" for j in range(H)])
        st.caption(title)
        out = st.data_editor(frame, key=session.element(f"lab_{g}"), width="stretch",
                             column_config={c: st.column_config.NumberColumn(c, format="%.3f", step=0.1)
                                            for c in cols})
        edited[g] = out.to_numpy(dtype=np.float64, na_value=0.0)
    # the edited tables are the new truth: they outlive the editors (another page, a resize)
    session.put("lab_tables", edited)
    try:
        xs = parse_rows(session.get("lab_inputs"), I).xs
        gru = GRU.from_arrays([presets.blocks_to_params(edited["r"], edited["z"], edited["n"], I)], convention)
    except (SequenceError, ValueError) as err:
        ui.error(str(err))
        return None, None
    return gru, xs


@st.fragment  # an edit reruns this section only, not the whole page
@ui.guard("running the tiny GRU")
def tiny_gru() -> None:
    with ui.controls_container():
        gru, xs = tiny_controls()
    if gru is None:
        return
    lt = gru.run(xs).last
    view = cell_views.gru_view(lt, gru.convention)

    features = session.get("lab_features")
    step_view.show("lab", step_view.fingerprint(gru, xs, tuple(features or ())), view,
                   top=lambda: figures.inputs(lt.x, None, feature_labels=features, font_size=ui.font_size()))
    services.export_buttons(gru, "tiny_gru", session.element("lab_export"), session.element("lab_export_keras"))


# -- knobs on the trained adder ---------------------------------------------------------------------
def reset_knobs() -> None:
    for name in ("abl_dz", "abl_dr", "abl_scale"):
        session.put(name, session.KEYS[name].default)


def knob_controls(convention) -> tuple[float, float, float]:
    c1, c2, c3, c4 = st.columns([1, 1, 1, 0.6], vertical_alignment="bottom")
    c1.slider("Shift the update-gate bias", -6.0, 6.0, key=session.widget("abl_dz"), step=0.25,
              help=f"Added to b_iz of every unit. Positive pushes z towards 1, which means: "
                   f"{convention.z_one_means}.")
    c2.slider("Shift the reset-gate bias", -6.0, 6.0, key=session.widget("abl_dr"), step=0.25,
              help=f"Added to b_ir. Negative pushes r towards 0; r {labels.reset_effect(convention)}.")
    c3.slider("Scale the recurrent weights", 0.0, 2.0, key=session.widget("abl_scale"), step=0.05,
              help=labels.md("Multiplies W_hh, all three blocks. At 0 the gates and the candidate see only "
                                 "this step's input; h_t still blends in h_{t-1} through the update gate."))
    c4.button("Reset", key=session.element("abl_reset"), on_click=reset_knobs, icon=":material/restart_alt:",
              width="stretch")
    return float(session.get("abl_dz")), float(session.get("abl_dr")), float(session.get("abl_scale"))


@st.fragment  # a knob reruns this section only; the step view inside is a fragment of its own
@ui.guard("turning the knobs")
def ablate() -> None:
    adder = services.bit_adder("pytorch")
    convention = adder.cell.convention
    st.markdown("Change the trained adder and watch what breaks. The shipped model is not touched: "
                f"each change makes a copy for this browser tab only. The adder shown here uses the "
                f"{convention.name} convention.")
    with ui.controls_container():
        dz, dr, scale = knob_controls(convention)
    tweaked = adder.with_cell(adder.cell.ablated(update_bias_shift=dz, reset_bias_shift=dr, recurrent_scale=scale))
    accuracy = services.knob_accuracy(dz, dr, scale)
    baseline = services.knob_accuracy(0.0, 0.0, 1.0)
    run = ba.run_addition(tweaked, *KNOB_EXAMPLE)
    m1, m2 = st.columns(2)
    m1.metric(f"Exact sums, {ba.EXACT_SUM_CHECK.describe()}", f"{100 * accuracy:.1f} %",
              delta=f"{100 * (accuracy - baseline):+.1f} points" if (dz, dr, scale) != (0, 0, 1) else None)
    m2.metric(f"{KNOB_EXAMPLE[0]:,} + {KNOB_EXAMPLE[1]:,}", f"{run.result:,}",
              delta="right" if run.correct else f"wrong (true {sum(KNOB_EXAMPLE):,})",
              delta_color="normal" if run.correct else "inverse")
    view = cell_views.gru_view(run.trace.last, convention)

    step_view.show("abl", step_view.fingerprint(tweaked.cell, run.xs), view,
                   top=lambda: figures.bit_rows(run.xs, run.target, run.output, None, font_size=ui.font_size()))
    services.export_buttons(tweaked.cell, "bit_adder_tweaked_gru", session.element("abl_export"),
                            session.element("abl_export_keras"))


# -- the page ---------------------------------------------------------------------------------------
st.title("Parameter lab")
mode = st.segmented_control("What to do", list(MODES), format_func=MODES.get, key=session.widget("lab_mode"),
                            label_visibility="collapsed") or "tiny"
if mode == "tiny":
    tiny_gru()
else:
    ablate()
