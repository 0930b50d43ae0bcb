"""Parameter lab: edit every weight of a tiny GRU, or turn the knobs of the trained adder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import components, figures, presets, services
from app.sequences import SequenceError, parse_csv
from gru_core import GRU
from gru_core import bit_addition as ba

st.title("Parameter lab")
ss = st.session_state
MODES = {"tiny": "Build a tiny GRU", "ablate": "Turn the knobs of the trained adder"}
ss.setdefault("lab_mode", "tiny")
mode = st.segmented_control("What to do", list(MODES), format_func=MODES.get, key="lab_mode",
                            label_visibility="collapsed") or "tiny"


def export_button(gru: GRU, name: str) -> None:
    if gru.convention.name == "pytorch":
        st.download_button("Download as a torch.nn.GRU state_dict", data=lambda: services.state_dict_bytes(gru),
                           file_name=name, mime="application/octet-stream", icon=":material/download:",
                           on_click="ignore",
                           help=f"torch.nn.GRU({gru.input_size}, {gru.hidden_size}).load_state_dict(torch.load(f))")
    else:
        st.caption("Export is offered in the pytorch convention only: torch.nn.GRU computes no other.")


# -- a tiny GRU whose every number is editable ------------------------------------------------------
def load_preset() -> None:
    p = presets.PRESETS[ss.lab_preset]
    r, z, n = p.r, p.z, p.n
    ss.lab_tables = {"r": r, "z": z, "n": n}
    ss.pop("lab_edited", None)
    ss.lab_features = list(p.features)
    ss.lab_inputs = p.inputs
    ss.lab_hidden, ss.lab_input_size = r.shape[0], len(p.features)
    ss.lab_version = ss.get("lab_version", 0) + 1


def resize() -> None:
    """New sizes keep every number (as edited) that still has a place; new ones start at 0."""
    H, I = int(ss.lab_hidden), int(ss.lab_input_size)
    old_I = len(ss.lab_features)
    tables = {}
    for g, table in ss.get("lab_edited", ss.lab_tables).items():
        old_H = table.shape[0]
        new = np.zeros((H, I + H + 2))
        h, i = min(H, old_H), min(I, old_I)
        new[:h, :i] = table[:h, :i]                                   # W_i
        new[:h, I:I + h] = table[:h, old_I:old_I + h]                 # W_h
        new[:h, I + H:] = table[:h, old_I + old_H:]                   # biases
        tables[g] = new
    ss.lab_tables = tables
    ss.pop("lab_edited", None)
    ss.lab_features = (ss.lab_features + [f"x[{k}]" for k in range(old_I, I)])[:I]
    rows = [line.split(",") for line in ss.lab_inputs.strip().splitlines() if line.strip()]
    ss.lab_inputs = "\n".join(",".join((r + ["0"] * I)[:I]) for r in rows)
    ss.lab_version = ss.get("lab_version", 0) + 1


@st.fragment  # an edit reruns this section only, not the whole page
def tiny_gru() -> None:
    if "lab_tables" not in ss:
        ss.lab_preset = next(iter(presets.PRESETS))
        load_preset()
    with components.controls_container():
        c1, c2, c3 = st.columns([2.2, 1, 1])
        c1.selectbox("Preset", list(presets.PRESETS), key="lab_preset", on_change=load_preset)
        c2.number_input("Hidden units", 1, 4, key="lab_hidden", on_change=resize)
        c3.number_input("Inputs per step", 1, 2, key="lab_input_size", on_change=resize)
        st.info(presets.PRESETS[ss.lab_preset].text, icon=":material/lightbulb:")
        convention = components.convention_controls("lab_conv", "pytorch")
        st.caption("Presets are written in the pytorch convention; another convention runs the same "
                   "numbers through its own equations.")
        st.text_area("Input sequence: one step per line, one number per input, comma separated",
                     key="lab_inputs", height=120)
        # the tables are the truth for the sizes (the size widgets only ask for a resize)
        H, I = ss.lab_tables["r"].shape[0], len(ss.lab_features)
        st.markdown("**Every weight and bias** — one row per hidden unit; edit any cell.")
        edited = {}
        for g, title in (("r", "reset gate r"), ("z", "update gate z"), ("n", "candidate h̃")):
            cols = presets.column_names(I, H, g)
            frame = pd.DataFrame(ss.lab_tables[g], columns=cols, index=[f"unit {j}" for j in range(H)])
            st.caption(title)
            out = st.data_editor(frame, key=f"lab_{g}_{ss.lab_version}", width="stretch",
                                 column_config={c: st.column_config.NumberColumn(c, format="%.3f", step=0.1)
                                                for c in cols})
            edited[g] = out.to_numpy(dtype=np.float64, na_value=0.0)
        ss.lab_edited = edited  # what resize() starts from
    try:
        xs = parse_csv(ss.lab_inputs.encode()).xs
        if xs.shape[1] != I:
            raise SequenceError(f"Each line needs {I} number(s), one per input; the first line has {xs.shape[1]}.")
        gru = GRU.from_arrays([presets.blocks_to_params(edited["r"], edited["z"], edited["n"], I)], convention)
    except (SequenceError, ValueError) as err:
        st.error(str(err), icon=":material/error:")
        return
    lt = gru.run(xs).last
    components.render_step_view(
        lt, convention, prefix="lab",
        above=lambda t: components.chart(figures.inputs(lt.x, t, feature_labels=ss.lab_features,
                                                        font_size=components.font_size()), key="lab_inputs_fig"))
    export_button(gru, "tiny_gru.pt")


# -- knobs on the trained adder ---------------------------------------------------------------------
EXAMPLE = (46955, 27509)  # 16-bit operands with a long run of carries in the middle


def reset_knobs() -> None:
    ss.abl_dz, ss.abl_dr, ss.abl_scale = 0.0, 0.0, 1.0


@st.fragment  # a knob reruns this section only; the step view inside is a fragment of its own
def ablate() -> None:
    ss.setdefault("abl_dz", 0.0)
    ss.setdefault("abl_dr", 0.0)
    ss.setdefault("abl_scale", 1.0)
    st.markdown("Change the trained adder and watch what breaks. The shipped model is not touched: "
                "each change makes a copy for this browser tab only.")
    with components.controls_container():
        c1, c2, c3, c4 = st.columns([1, 1, 1, 0.6], vertical_alignment="bottom")
        c1.slider("Shift the update-gate bias", -6.0, 6.0, key="abl_dz", step=0.25,
                  help="Added to b_iz of every unit. Positive: z closer to 1 (keep the old state).")
        c2.slider("Shift the reset-gate bias", -6.0, 6.0, key="abl_dr", step=0.25,
                  help="Added to b_ir. Negative: r closer to 0 (the candidate ignores h_{t-1}).")
        c3.slider("Scale the recurrent weights", 0.0, 2.0, key="abl_scale", step=0.05,
                  help="Multiplies W_hh. 0 cuts the memory: every step sees only its own input.")
        c4.button("Reset", on_click=reset_knobs, icon=":material/restart_alt:", width="stretch")
    dz, dr, scale = float(ss.abl_dz), float(ss.abl_dr), float(ss.abl_scale)
    adder = services.bit_adder("pytorch")
    tweaked = adder.with_gru(adder.gru.ablated(update_bias_shift=dz, reset_bias_shift=dr, recurrent_scale=scale))
    accuracy = services.ablation_accuracy(dz, dr, scale)
    baseline = services.ablation_accuracy(0.0, 0.0, 1.0)
    run = ba.run_addition(tweaked, *EXAMPLE)
    m1, m2 = st.columns(2)
    m1.metric("Exact sums, 300 random 16-bit additions", f"{100 * accuracy:.1f} %",
              delta=f"{100 * (accuracy - baseline):+.1f} points" if (dz, dr, scale) != (0, 0, 1) else None)
    m2.metric(f"{EXAMPLE[0]:,} + {EXAMPLE[1]:,}", f"{run.result:,}",
              delta="right" if run.correct else f"wrong (true {sum(EXAMPLE):,})",
              delta_color="normal" if run.correct else "inverse")
    lt = run.trace.last
    components.render_step_view(
        lt, tweaked.gru.convention, prefix="abl",
        above=lambda t: components.chart(figures.bit_rows(run.xs, run.target, run.output, t,
                                                          font_size=components.font_size()), key="abl_bits"))
    export_button(tweaked.gru, "bit_adder_tweaked_gru.pt")


tiny_gru() if mode == "tiny" else ablate()
