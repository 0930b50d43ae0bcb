"""Your sequence: numbers, text or a CSV through the trained adder or a seeded random GRU."""

from __future__ import annotations

import streamlit as st

from app import components, figures, services
from gru_core import checkpoints
from app.sequences import MAX_ABS_VALUE, MAX_UPLOAD_BYTES, SequenceError, parse_csv, parse_numbers, parse_text
from app.state import MAX_FEATURES, MAX_HIDDEN, MAX_STEPS, SequenceView

st.title("Your own sequence")
components.intro(
    "Feed the GRU anything: a list of numbers (think daily sales), a sentence (each character becomes "
    "a one-hot vector), or a CSV file with one row per step. Then step through it exactly as on the "
    "addition page. "
    f"Limits: at most **{MAX_STEPS:,} steps**, **{MAX_FEATURES} features** per step, values up to "
    f"**{MAX_ABS_VALUE:,.0f}** in size, **{MAX_HIDDEN} hidden units** (uploaded GRUs too), CSV files up to "
    f"**{MAX_UPLOAD_BYTES / 1e6:.0f} MB**.")

ss = st.session_state
if "seq_view" not in ss:
    view, messages = SequenceView.from_query(st.query_params)
    ss.seq_view, ss.seq_messages = view, messages
    ss.seq_mode, ss.seq_text, ss.seq_model = view.mode, view.seq, view.model
    ss.seq_hidden, ss.seq_seed, ss.seq_scale, ss.seq_conv = view.hidden, view.seed, view.scale, view.conv
view: SequenceView = ss.seq_view
for m in ss.seq_messages:
    st.warning(m, icon=":material/warning:")

MODE_LABELS = {"numbers": "Numbers", "text": "Text (characters one-hot)", "csv": "CSV upload"}
controls = components.controls_container()
with controls:
    mode = st.radio("Input", list(MODE_LABELS), format_func=MODE_LABELS.get, key="seq_mode", horizontal=True)

# -- parse the input; a bad one is explained and nothing below runs on it ----------------------
sequence = None
with controls:
    try:
        if mode == "csv":
            upload = st.file_uploader("CSV: one row per time step, one column per feature (header optional)",
                                      type=["csv", "txt"], key="seq_upload")
            if upload is None:
                st.info("Upload a CSV file to run it. Example: three columns of numbers, one row per day.")
            else:
                sequence = parse_csv(upload.getvalue())
        else:
            placeholder = "0.5, 1, -0.25, 2" if mode == "numbers" else "type a sentence"
            st.text_area("Numbers, separated by commas or spaces" if mode == "numbers" else "Text",
                         key="seq_text", placeholder=placeholder, height=90)
            sequence = (parse_numbers if mode == "numbers" else parse_text)(ss.seq_text)
    except SequenceError as err:
        st.error(str(err), icon=":material/error:")
if sequence is None:
    st.stop()

T, I = sequence.xs.shape
trained = ss.get("trained_adder")
MODEL_LABELS = {"random": "Seeded random GRU", "adder": "Shipped bit adder (2 inputs)",
                "trained": "Adder trained in this tab (2 inputs)", "upload": "Upload a torch.nn.GRU"}
model_options = ["random"] + (["adder"] if I == 2 else []) + (["trained"] if I == 2 and trained else []) + ["upload"]
if ss.get("seq_model") not in model_options:
    if ss.get("seq_model") in ("adder", "trained"):
        st.info(f"The bit adders read 2 features per step and this sequence has {I}, so a seeded random "
                "GRU runs it instead.", icon=":material/info:")
    ss.seq_model = "random"
with controls:
    c1, c2, c3, c4 = st.columns(4)
    c1.selectbox("GRU", model_options, key="seq_model", format_func=MODEL_LABELS.get,
                 help="The bit adders read 2 features per step, so they are offered for 2-feature input.")
    random_model = ss.seq_model == "random"
    c2.number_input("Hidden units", 1, MAX_HIDDEN, key="seq_hidden", disabled=not random_model)
    c3.number_input("Seed", 0, 2**32 - 1, key="seq_seed", disabled=not random_model)
    c4.number_input("Initial weight scale", 0.0, 10.0, key="seq_scale", step=0.5, disabled=not random_model,
                    help="Weights are drawn from U(−s/√H, s/√H); 1 is torch.nn.GRU's own initialisation. "
                         "Larger scales push the gates towards 0 and 1.")
    convention = components.convention_controls("seq_conv", view.conv)

layer = -1
if random_model:
    gru = services.random_gru(I, int(ss.seq_hidden), int(ss.seq_seed), float(ss.seq_scale), convention.name)
elif ss.seq_model == "adder":
    gru = services.bit_adder(convention.name).gru
elif ss.seq_model == "trained":
    gru = trained.gru if convention.name == trained.gru.convention.name else None
    if gru is None:
        st.error(f"The adder trained in this tab uses the {trained.gru.convention.name} convention; pick that "
                 "convention to run it (other equations would be another network).", icon=":material/error:")
        st.stop()
else:
    with controls:
        upload = st.file_uploader(
            f"A torch.nn.GRU state_dict (.pt / .pth, at most {checkpoints.MAX_CHECKPOINT_BYTES / 1e6:.0f} MB), saved with "
            "torch.save(gru.state_dict(), path). It is read with weights_only=True: no code in it runs.",
            type=["pt", "pth"], key="seq_model_file")
    if upload is None:
        st.info("Upload a state_dict to run your own GRU.", icon=":material/upload:")
        st.stop()
    try:
        loaded = services.uploaded_gru(upload.getvalue(), convention.name)
    except ValueError as err:
        st.error(str(err), icon=":material/error:")
        st.stop()
    gru = loaded.gru
    if gru.hidden_size > MAX_HIDDEN:
        st.error(f"This GRU has {gru.hidden_size} hidden units; the page shows at most {MAX_HIDDEN}.",
                 icon=":material/error:")
        st.stop()
    if loaded.note:
        st.caption(loaded.note)
    if gru.input_size != I:
        st.error(f"This GRU reads {gru.input_size} feature(s) per step but the sequence has {I}. "
                 "Change the input (e.g. a CSV with that many columns).", icon=":material/error:")
        st.stop()
    if gru.num_layers > 1:
        with controls:
            layer = st.selectbox("Layer to show", list(range(gru.num_layers)), index=gru.num_layers - 1,
                                 key="seq_layer", format_func=lambda k: f"layer {k}")
trace = services.run_sequence(gru, sequence.xs)
lt = trace.layers[layer]
st.caption(f"{T} steps × {I} feature(s) through {gru!r}"
           + (f"; showing layer {layer % gru.num_layers}." if gru.num_layers > 1 else "."))

view = ss.seq_view = SequenceView(mode=mode, seq=ss.get("seq_text", view.seq), model=ss.seq_model,
                                  hidden=int(ss.seq_hidden), seed=int(ss.seq_seed),
                                  scale=float(ss.seq_scale), t=view.t, unit=view.unit, conv=convention.name)


def inputs_at_step(t: int) -> None:
    components.chart(figures.inputs(lt.x, t, feature_labels=sequence.feature_labels,
                                    step_labels=sequence.step_labels, font_size=components.font_size()),
                     key="seq_inputs")


def query(t: int, unit: int) -> dict[str, str]:
    q = SequenceView(**{**view.__dict__, "t": t, "unit": unit}).to_query()
    if len(q.get("seq", "")) > 1500:  # keep links short enough to share; long input stays out
        q.pop("seq")
    return q


if not components.presenting():
    st.subheader("Step through time")
components.render_step_view(lt, convention, prefix="seq", initial_t=min(view.t, T - 1),
                            initial_unit=min(view.unit, lt.hidden_size - 1), query=query,
                            above=inputs_at_step)

st.download_button("Download the recorded trace (CSV)", icon=":material/download:", data=trace.to_csv, file_name="gru_trace.csv",
                   mime="text/csv", on_click="ignore",
                   help="Every recorded value, one row per (layer, step, unit).")
