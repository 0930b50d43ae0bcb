"""Your sequence: numbers, text or a CSV through a seeded random GRU, the adder, or your own GRU."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from app import cell_views, figures, labels, limits, services, session, step_view, ui
from app.sequences import Sequence, SequenceError, parse_csv, parse_numbers, parse_text
from gru_core import GRU, checkpoints
from gru_core.models import Readout
from gru_core.tasks.forecast import HELD_OUT, Forecast

PAGE = "seq"
MODE_LABELS = {"numbers": "Numbers", "text": "Text (characters one-hot)", "csv": "CSV upload"}
MODEL_LABELS = {"random": "Seeded random GRU", "adder": "Shipped bit adder (2 inputs)",
                "trained": "Adder trained in this tab (2 inputs)",
                "forecast": "Seed 001's stacked GRU, trained on stock prices (1 input)",
                "upload": "Upload a torch.nn.GRU or a Keras model"}
# what labelled_split holds out: every window whose target (the week after it) falls in the last
# HELD_OUT of the weeks; training targets and inputs all come before those weeks
REAL_WINDOW_HELP = (
    f"{Forecast().window} consecutive weeks of one stock's price, each relative to the last of them. The week "
    f"after them, whose price the forecaster predicts, lies in the last {HELD_OUT:.0%} of the weeks, which were "
    "held out of training: no price from those weeks was a training input or target. The page then shows the "
    "forecast beside what happened.")


class NoModel(Exception):
    """The chosen model cannot run this sequence; the reason has been shown on the page."""


def sequence_controls() -> Sequence | None:
    """The input box (or CSV upload) → the parsed sequence, or None with the reason on the page."""
    def switch_mode() -> None:
        # the box holds numbers or text: a switch starts from that mode's example, not the other's
        mode = session.get("seq_mode")
        session.put("seq_text", limits.DEFAULT_TEXT if mode == "text" else limits.DEFAULT_NUMBERS)
        session.clear_link_messages(PAGE)

    mode = st.radio("Input", list(MODE_LABELS), format_func=MODE_LABELS.get, key=session.widget("seq_mode"),
                    horizontal=True, on_change=switch_mode)
    if mode == "numbers":
        st.button("A held-out window of real stock prices, for seed 001's forecaster", icon=":material/show_chart:",
                  key=session.element("seq_real_week"), on_click=load_real_window,
                  help=REAL_WINDOW_HELP)
    try:
        if mode == "csv":
            upload = st.file_uploader("CSV: one row per time step, one column per feature (header optional)",
                                      type=["csv", "txt"], key=session.element("seq_upload"))
            if upload is None:
                st.info("Upload a CSV file to run it. Example: three columns of numbers, one row per day.")
                return None
            return parse_csv(upload.getvalue())
        st.text_area("Numbers, separated by commas or spaces" if mode == "numbers" else "Text",
                     key=session.widget("seq_text"), height=90,
                     placeholder="0.5, 1, -0.25, 2" if mode == "numbers" else "type a sentence")
        return (parse_numbers if mode == "numbers" else parse_text)(session.get("seq_text"))
    except SequenceError as err:
        ui.error(str(err))
        return None


@dataclass(frozen=True)
class Chosen:
    """The model the page runs: a cell, and the readout on its last layer when the model has one."""

    gru: GRU
    described: str                   # one line for the caption under the figures
    readout: Readout | None = None


def load_real_window() -> None:
    """Put a random held-out window in the box and pick the forecaster; remember what really happened."""
    xs, ys, labels_ = Forecast().labelled_split()["held_out"]
    k = int(np.random.default_rng().integers(len(labels_)))
    text = ", ".join(f"{v:.4f}" for v in xs[k, :, 0])
    session.put("seq_text", text)
    session.put("seq_model", "forecast")
    session.put("seq_real", (text, *labels_[k], float(ys[k, 0])))


def render_real_forecast(forecast: float) -> None:
    """The forecast of a loaded real window beside what happened and the naive forecast."""
    real = session.get("seq_real")
    if real is None or real[0] != session.get("seq_text"):
        return
    _, ticker, week, truth = real
    st.markdown(f"**{ticker}, the week of {week}**: the forecaster says **{forecast:+.2%}** against the last "
                f"price; the price really moved **{truth:+.2%}**; the naive forecast (no change) says +0.00%.")


def model_controls(features: int) -> Chosen:
    """The model to run a sequence of ``features`` per step. Raises NoModel (after saying why on the
    page) when the choice cannot run this sequence."""
    trained = session.get("app_trained")
    options = (["random"] + (["adder"] if features == 2 else [])
               + (["trained"] if features == 2 and trained is not None else [])
               + (["forecast"] if features == 1 else []) + ["upload"])
    if session.get("seq_model") not in options:
        if session.get("seq_model") in ("adder", "trained", "forecast"):
            st.info(f"{MODEL_LABELS[session.get('seq_model')]} reads a different number of features per step "
                    f"than this sequence's {features}, so a seeded random GRU runs it instead.", icon=":material/info:")
        session.put("seq_model", "random")
    c1, c2, c3, c4 = st.columns(4)
    choice = c1.selectbox("GRU", options, key=session.widget("seq_model"), format_func=MODEL_LABELS.get,
                          help="The bit adders read 2 features per step, the stock forecaster 1: each is offered "
                               "for input of its width.")
    random_model = choice == "random"
    c2.number_input("Hidden units", 1, limits.MAX_HIDDEN, key=session.widget("seq_hidden"), disabled=not random_model)
    c3.number_input("Seed", 0, limits.MAX_SEED, key=session.widget("seq_seed"), disabled=not random_model)
    c4.number_input("Initial weight scale", 0.0, limits.MAX_INIT_SCALE, key=session.widget("seq_scale"), step=0.5,
                    disabled=not random_model,
                    help="A multiple of torch.nn.GRU's own initialisation: weights are drawn from "
                         "U(−s/√H, s/√H), so 1 is torch's default. Larger values push the gates towards 0 and 1.")
    if choice in ("trained", "forecast"):
        # a trained model is shown in its own convention: other equations would be another network
        model = trained if choice == "trained" else services.shipped_model("forecast_stocks")
        st.caption(f"This model was trained in the {model.cell.convention.name} convention, so that is how it "
                   "is shown.")
        return Chosen(model.cell, f"{MODEL_LABELS[choice].lower()} ({model.cell!r})", model.readout)
    if choice == "upload":
        return uploaded_model(features)
    convention = ui.convention_picker("seq_conv")
    if random_model:
        gru = services.random_gru(features, int(session.get("seq_hidden")), int(session.get("seq_seed")),
                                  float(session.get("seq_scale")), convention.name)
        return Chosen(gru, f"{gru!r}")
    adder = services.bit_adder(convention.name)
    return Chosen(adder.cell, f"the shipped bit adder ({adder.cell!r})", adder.readout)


TORCH_SUFFIXES = (".pt", ".pth")
MODEL_SUFFIXES = (*TORCH_SUFFIXES, ".keras", ".h5", ".hdf5")


def torch_upload_in_pytorch() -> None:
    """A newly uploaded torch file starts in the pytorch convention: its weights are torch.nn.GRU's.
    (A Keras file says its own convention; another one can still be picked for a torch file.)"""
    models = [u for u in session.get("seq_model_file") or [] if u.name.lower().endswith(MODEL_SUFFIXES)]
    if models and models[-1].name.lower().endswith(TORCH_SUFFIXES):
        session.put("seq_conv", "pytorch")


def uploaded_model(features: int) -> Chosen:
    """A torch.nn.GRU state_dict, or a Keras 3 model (.keras, or .weights.h5 with its config), read in
    the sandbox. A torch file starts in the pytorch convention (another can be picked, with a caption
    saying what that means); a Keras file says its own."""
    checkpoints.prewarm()  # the sandbox imports torch once (~2 s): start it before the file arrives
    uploads = st.file_uploader(
        f"A torch.nn.GRU state_dict (.pt / .pth, saved with torch.save(gru.state_dict(), path)), or a Keras 3 "
        f"model (.keras, or .weights.h5 together with its config .json); at most "
        f"{checkpoints.MAX_CHECKPOINT_BYTES / 1e6:.0f} MB. Files are read in a separate, locked-down process "
        "and nothing in them runs.", type=["pt", "pth", "keras", "h5", "json"], accept_multiple_files=True,
        key=session.element("seq_model_file"), on_change=torch_upload_in_pytorch)
    # the newest model file counts (the box keeps earlier ones until they are removed), with the newest config
    models = [u for u in uploads or [] if u.name.lower().endswith(MODEL_SUFFIXES)]
    configs = [u for u in uploads or [] if u.name.lower().endswith(".json")]
    if not models:
        st.info("Upload a model file to run your own GRU." + (" A .json config needs its .weights.h5 beside it."
                                                               if configs else ""), icon=":material/upload:")
        raise NoModel
    main, config = models[-1], (configs[-1].getvalue() if configs else None)
    is_torch = main.name.lower().endswith(TORCH_SUFFIXES)
    convention = ui.convention_picker("seq_conv").name if is_torch else "pytorch"  # a Keras file says its own
    try:
        loaded = services.uploaded_model(main.getvalue(), main.name, config, convention)
    except ValueError as err:
        ui.error(str(err))
        raise NoModel from None
    gru = loaded.gru
    if is_torch and convention != "pytorch":
        st.caption(f"A torch.nn.GRU file holds weights that compute the pytorch convention. Shown in {convention}, "
                   "the same numbers run through other equations: a different network from the one that was "
                   "saved. Pick pytorch to see the saved network.")
    if not is_torch:
        st.caption(f"This Keras model computes the {gru.convention.name} convention (reset_after="
                   f"{gru.convention.reset_after_matmul}), so that is how it is shown.")
    if loaded.note:
        st.caption(loaded.note)
    if gru.input_size != features:
        ui.error(f"This GRU reads {gru.input_size} feature(s) per step but the sequence has {features}. "
                 "Change the input (e.g. a CSV with that many columns).")
        raise NoModel
    return Chosen(gru, f"your uploaded GRU ({gru!r})", loaded.readout)


def layer_controls(gru: GRU) -> int:
    if gru.num_layers == 1:
        return 0
    if not 0 <= session.get("seq_layer") < gru.num_layers:
        session.put("seq_layer", gru.num_layers - 1)
    return st.selectbox("Layer to show", list(range(gru.num_layers)), key=session.widget("seq_layer"),
                        format_func=lambda k: f"layer {k}")


# -- the page: controls → core → renderers ---------------------------------------------------------
st.title("Your own sequence")
ui.show_messages(session.read_link(PAGE))
ui.intro(
    "Feed the GRU anything: a list of numbers (think daily sales), a sentence (each character becomes "
    "a one-hot vector), or a CSV file with one row per step. Then step through it exactly as on the "
    "addition page. "
    f"Limits: at most **{limits.MAX_STEPS:,} steps**, **{limits.MAX_FEATURES} features** per step, values up to "
    f"**{limits.MAX_ABS_VALUE:,.0f}** in size, **{limits.MAX_HIDDEN} hidden units** (uploaded GRUs too), CSV files "
    f"up to **{limits.MAX_CSV_BYTES / 1e6:.0f} MB**.")

with ui.controls_container():
    sequence = sequence_controls()
if sequence is None:
    st.stop()
T, I = sequence.xs.shape
try:
    with ui.controls_container():
        chosen = model_controls(I)
        layer = layer_controls(chosen.gru)
except NoModel:
    st.stop()
gru = chosen.gru

trace = services.run_sequence(gru, sequence.xs)
lt = trace.layers[layer]
view = cell_views.gru_view(lt, gru.convention)
st.caption(f"{T} steps × {I} feature(s) through {chosen.described}"
           + (f"; showing layer {layer} of {gru.num_layers}." if gru.num_layers > 1 else "."))
if gru.num_layers > 1 and not ui.presenting():
    st.markdown(labels.md(labels.stacking_text(
        gru, layer, None if chosen.readout is None else chosen.readout.per_step)))
if chosen.readout is not None:
    values = services.readout_values(chosen.readout, trace)
    if not ui.presenting():
        st.markdown(labels.md(labels.readout_text(chosen.readout, values)))
    if session.get("seq_model") == "forecast":
        render_real_forecast(float(values[0]))
if not ui.presenting():
    st.subheader("Step through time")


step_view.show(PAGE, step_view.fingerprint(gru, sequence.xs, layer, tuple(sequence.feature_labels),
                                          tuple(sequence.step_labels or ())), view, link=True,
               top=lambda: figures.inputs(lt.x, None, feature_labels=sequence.feature_labels if layer == 0 else None,
                                          step_labels=sequence.step_labels, font_size=ui.font_size()))
values = session.link_values(PAGE, seq_conv=gru.convention.name)
long_text = session.get("seq_mode") == "csv" or len(values["seq"]) > limits.LINK_SEQUENCE_CHARS
if long_text:  # a file cannot travel in a link, and a long text would make it unshareable
    values.pop("seq")
session.write_link(values, drop_params=("seq",) if long_text else ())
st.download_button("Download the recorded trace (CSV)", icon=":material/download:", data=trace.to_csv,
                   file_name="gru_trace.csv", mime="text/csv", on_click="ignore", key=session.element("seq_download"),
                   help="Every recorded value, one row per (layer, step, unit).")
