"""Live training: watch the bit adder learn, curves and gates updating as it trains."""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from app import components, figures, labels, services, theme
from gru_core import bit_addition as ba
from gru_core.train import Progress, TrainConfig, train

st.title("Train a GRU to add")
components.intro(
    "Train the bit adder from scratch, right here. The loss should fall and the exact-sum accuracy "
    "climb; the gate heatmaps below show the network on one fixed addition as it learns to carry. "
    "Same settings and seed, same result. The model you train is then offered on the other pages "
    "(in this browser tab).")
ss = st.session_state
EXAMPLE = (173, 91)           # 8-bit operands, five carries
UPDATE_EVERY_S = 0.3          # redraw at most this often: drawing costs far more than one iteration

DEFAULTS = TrainConfig()
for key, value in (("tr_hidden", DEFAULTS.hidden_size), ("tr_lr", DEFAULTS.lr), ("tr_bits", DEFAULTS.bits),
                   ("tr_seed", DEFAULTS.seed), ("tr_iters", 600), ("tr_conv", "pytorch"), ("tr_harden", False)):
    ss.setdefault(key, value)
with components.controls_container():
    c1, c2, c3, c4, c5 = st.columns(5)
    hidden = c1.number_input("Hidden units", 2, 32, key="tr_hidden")
    lr = c2.select_slider("Learning rate", [1e-3, 3e-3, 1e-2, 3e-2], key="tr_lr")
    bits = c3.number_input("Operand bits", 2, 16, key="tr_bits")
    seed = c4.number_input("Seed", 0, 2**31 - 1, key="tr_seed")
    iterations = c5.number_input("Iterations (at most)", 10, 5000, step=50, key="tr_iters",
                                 help="Training stops early once every sum of up to 8 bits is exact "
                                      "(all 65,536 of them are checked every 10 iterations).")
    c6, c7 = st.columns([1, 2])
    conv = c6.selectbox("Convention", ["pytorch", "cho2014"], key="tr_conv", help=labels.TRAIN_CONVENTIONS)
    harden = c7.checkbox("Then harden on long carry chains (1,300 more iterations of 128-bit sums, "
                         "about 25 s): exact at hundreds of bits, not just at the training length",
                         key="tr_harden")

config = TrainConfig(hidden_size=int(hidden), lr=float(lr), bits=int(bits), seed=int(seed),
                     max_learn_iterations=int(iterations), convention=conv,
                     harden_iterations=TrainConfig.harden_iterations if harden else 0)
b1, b2, _ = st.columns([1, 1, 3])
start = b1.button("Train", type="primary", icon=":material/play_arrow:", key="tr_start", width="stretch")
stop = b2.button("Stop", icon=":material/stop:", key="tr_stop", width="stretch")

status = st.empty()
bar = st.empty()
curves = st.empty()
snapshot = st.empty()


def draw(history: list[tuple[int, float, float]], model: ba.BitAdder | None, phase: str) -> None:
    fs = components.font_size()
    arr = np.asarray(history, dtype=np.float64).reshape(-1, 3)
    if arr.size:
        curves.plotly_chart(figures.training_curves(arr, font_size=fs), width="stretch", config=theme.PLOTLY_CONFIG)
    if model is not None:
        run = ba.run_addition(model, *EXAMPLE)
        verdict = "right" if run.correct else f"wrong (it says {run.result})"
        with snapshot.container():
            st.markdown(f"**{EXAMPLE[0]} + {EXAMPLE[1]}** after {len(history)} iterations ({phase}): {verdict}")
            st.plotly_chart(figures.gate_heatmaps(run.trace.last, len(run.target) - 1, model.gru.convention,
                                                  font_size=fs), width="stretch", config=theme.PLOTLY_CONFIG)


if start:
    history: list[tuple[int, float, float]] = []
    total = config.max_learn_iterations + config.harden_iterations
    clock = {"last_draw": 0.0}
    ss.tr_partial = {"history": history, "model": None, "config": config}
    ss.pop("tr_done", None)

    def on_progress(p: Progress) -> None:
        history.append((p.iteration, p.loss, p.accuracy))
        now = time.monotonic()
        if now - clock["last_draw"] >= UPDATE_EVERY_S:
            clock["last_draw"] = now
            model = p.snapshot()
            ss.tr_partial["model"] = model  # kept if Stop interrupts this run
            status.markdown(f"Iteration **{p.iteration}** ({p.phase}) · loss {p.loss:.4f} · "
                            f"batch exact {100 * p.accuracy:.0f} %")
            bar.progress(min(1.0, p.iteration / total))
            draw(history, model, p.phase)

    t0 = time.perf_counter()
    model = train(config, progress=on_progress)
    seconds = time.perf_counter() - t0
    ss.trained_adder = model
    ss.tr_done = {"history": history, "model": model, "seconds": seconds, "stopped": False}
    ss.pop("tr_partial", None)
elif stop and ss.get("tr_partial", {}).get("model") is not None:
    partial = ss.pop("tr_partial")
    ss.trained_adder = partial["model"]
    ss.tr_done = {"history": partial["history"], "model": partial["model"], "seconds": None, "stopped": True}

done = ss.get("tr_done")
if done:
    model, history = done["model"], done["history"]
    n = len(history)
    if done["stopped"]:
        status.warning(f"Stopped after {n} iterations. The model as it was then is kept for this tab.",
                       icon=":material/stop_circle:")
    else:
        learned = model.metrics.get("learned_8bit_at")
        checked = min(int(model.config["bits"]), 8)  # the settings it was trained with, not today's widgets
        when = (f"every {checked}-bit sum exact after {learned} iterations" if learned
                else f"not yet exact on every {checked}-bit sum")
        status.success(f"Done: {n} iterations in {done['seconds']:.1f} s ({n / done['seconds']:.0f} per second); "
                       f"{when}.", icon=":material/check_circle:")
    bar.progress(1.0)
    draw(history, model, "final")
    if "accuracy" not in done:  # once per trained model, not on every rerun
        done["accuracy"] = {b: ba.exact_sum_accuracy(model, b, 200, seed=b) for b in (8, 32, 64)}
    acc = done["accuracy"]
    st.markdown("Exact-sum accuracy of this model on 200 random additions: "
                + ", ".join(f"**{100 * v:.1f} %** at {b} bits" for b, v in acc.items()) + ".")
    st.caption(f"{model.gru!r}. Open *Bit addition* or *Your sequence* and pick "
               "“trained in this tab” to step through it.")
    if model.gru.convention.name == "pytorch":
        st.download_button("Download the GRU as a torch.nn.GRU state_dict", icon=":material/download:",
                           data=lambda: services.state_dict_bytes(model.gru), file_name="bit_adder_gru.pt",
                           mime="application/octet-stream", on_click="ignore", key="tr_export",
                           help=f"torch.nn.GRU(2, {model.gru.hidden_size}).load_state_dict(torch.load(f)); "
                                "the readout is not part of torch.nn.GRU.")
    else:
        st.caption("Export is offered in the pytorch convention only: torch.nn.GRU computes no other.")
elif not start:
    status.info("Press Train to start.", icon=":material/model_training:")
