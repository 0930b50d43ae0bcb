"""Live training: watch the bit adder learn, curves and gates updating as it trains."""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from app import cell_views, figures, labels, limits, services, session, theme, ui
from gru_core import registry
from gru_core.models import RecurrentModel
from gru_core.tasks import bit_addition as ba
from gru_core.train import Progress, TrainConfig, plan, train

EXAMPLE = (173, 91)           # 8-bit operands: a carry out of all eight columns
UPDATE_EVERY_S = 0.3          # redraw at most this often: drawing costs far more than one iteration


def harden_note(convention: str) -> str:
    """What the harden stage costs, read from the shipped adder trained in that convention (its file's
    metrics); nothing for a convention whose shipped adder is another one re-expressed."""
    if convention not in registry.conventions_with_own_adder():
        return ""
    adder = services.bit_adder(convention)   # cached: not read from its file on every rerun
    stages = adder.metrics.get("stages", {})
    harden = stages.get("harden", {})
    if not harden.get("seconds"):
        return ""
    return (f" The shipped {convention} adder ({adder.cell.hidden_size} units) spent {harden['seconds']:.0f} s "
            "on this stage on the machine that trained it.")


def training_controls() -> tuple[ba.BitAddition, TrainConfig]:
    defaults = TrainConfig()
    c1, c2, c3, c4, c5 = st.columns(5)
    hidden = c1.number_input("Hidden units", *limits.TRAIN_HIDDEN_RANGE, key=session.widget("tr_hidden"))
    lr = c2.select_slider("Learning rate", list(limits.TRAIN_LEARNING_RATES), key=session.widget("tr_lr"))
    bits = int(c3.number_input("Operand bits", *limits.TRAIN_BITS_RANGE, key=session.widget("tr_bits")))
    seed = c4.number_input("Seed", 0, limits.MAX_SEED, key=session.widget("tr_seed"))
    checked = min(bits, ba.CHECKED_BITS)
    iterations = c5.number_input(
        "Iterations (at most)", *limits.TRAIN_ITERATIONS_RANGE, step=limits.TRAIN_ITERATION_STEP,
        key=session.widget("tr_iters"),
        help=f"Training stops early once every sum of two {checked}-bit numbers is exact (all "
             f"{4 ** checked:,} of them are checked every {ba.BitAddition().check_every} iterations).")
    c6, c7 = st.columns([1, 2])
    # the conventions with a shipped adder trained in them: what the harden note quotes is from such a file
    conv = c6.selectbox("Convention", registry.conventions_with_own_adder(), key=session.widget("tr_conv"),
                        help=labels.TRAIN_CONVENTIONS)
    harden = c7.checkbox(
        f"Then harden on long carry chains ({ba.HARDEN_ITERATIONS:,} more iterations of "
        f"{ba.HARDEN_BITS}-bit sums), which aims to keep it exact at hundreds of bits, not just at the "
        "training length.",
        key=session.widget("tr_harden"), help=harden_note(conv) or None)
    task = ba.BitAddition(bits=bits, harden=bool(harden))
    config = TrainConfig(hidden_size=int(hidden), lr=float(lr), seed=int(seed), convention=conv,
                         batch_size=defaults.batch_size, stage_iterations={"learn": int(iterations)})
    return task, config


def draw(curves, snapshot, history: list[tuple[int, float, float]], model: RecurrentModel | None,
         at: int, stage: str) -> None:
    """The curves of ``history``, and ``model`` (the network after ``at`` iterations, in ``stage``) on the
    example."""
    fs = ui.font_size()
    arr = np.asarray(history, dtype=np.float64).reshape(-1, 3)
    if arr.size:
        # no key: a live run redraws these placeholders many times in one script run
        curves.plotly_chart(figures.training_curves(arr, font_size=fs), width="stretch", config=theme.PLOTLY_CONFIG)
    if model is not None:
        run = ba.run_addition(model, *EXAMPLE)
        verdict = "right" if run.correct else f"wrong (it says {run.result})"
        with snapshot.container():
            st.markdown(f"**{EXAMPLE[0]} + {EXAMPLE[1]}** after {at} iterations ({stage}): {verdict}")
            view = cell_views.gru_view(run.trace.last, model.cell.convention)
            st.plotly_chart(figures.heatmaps(view.panels, len(run.target) - 1, font_size=fs), width="stretch",
                            config=theme.PLOTLY_CONFIG)


def run_training(task: ba.BitAddition, config: TrainConfig, status, bar, curves, snapshot) -> None:
    """Train with live redraws; the result (or, on Stop, the last snapshot) is kept for this tab."""
    history: list[tuple[int, float, float]] = []
    total = sum(s.iterations for s in plan(task, config))
    clock = {"last_draw": 0.0}
    # the snapshot is stored with the iteration and stage it was taken at: on Stop it is what is kept
    session.put("tr_partial", {"history": history, "model": None, "at": 0, "stage": ""})
    session.drop("tr_done")

    def on_progress(p: Progress) -> None:
        history.append((p.iteration, p.loss, p.accuracy))
        now = time.monotonic()
        if now - clock["last_draw"] >= UPDATE_EVERY_S:
            clock["last_draw"] = now
            model = p.snapshot()
            session.get("tr_partial").update(model=model, at=p.iteration, stage=p.stage)  # kept on Stop
            status.markdown(f"Iteration **{p.iteration}** ({p.stage}) · loss {p.loss:.4f} · "
                            f"batch exact {100 * p.accuracy:.0f} %")
            bar.progress(min(1.0, p.iteration / total))
            draw(curves, snapshot, history, model, p.iteration, p.stage)

    def waiting(place: int) -> None:
        status.info(f"Live trainings are limited to {limits.MAX_LIVE_TRAININGS} at a time on this server, so "
                    f"that everyone's pages stay quick. You are number {place} in the queue; training starts "
                    "by itself when a slot frees up.", icon=":material/hourglass_top:")

    def still_waiting() -> bool:
        # redrawing the bar is also what lets a Stop (or a closed tab) end the wait: Streamlit stops a
        # run at its next page call
        bar.progress(0.0)
        return False

    with services.training_slots().slot(on_wait=waiting, gave_up=still_waiting):
        t0 = time.perf_counter()
        model = train(task, config, progress=on_progress)
    session.put("app_trained", model)
    session.put("tr_done", {"history": history, "model": model, "seconds": time.perf_counter() - t0,
                            "stopped": False, "at": len(history), "stage": "final"})
    session.drop("tr_partial")


def render_result(done: dict, status, bar, curves, snapshot) -> None:
    model, history = done["model"], done["history"]
    n = len(history)
    if done["stopped"]:
        status.warning(f"Stopped after {n} iterations. Kept for this tab: the model as last drawn, after "
                       f"iteration {done['at']} ({done['stage']}).", icon=":material/stop_circle:")
    else:
        learn = model.metrics.get("stages", {}).get("learn", {})
        goal = learn.get("stop_check", "the learn stage's goal")
        when = (f"{goal} after {learn['passed_at']} iterations" if learn.get("passed_at")
                else f"not yet: {goal}")
        status.success(f"Done: {n} iterations in {done['seconds']:.1f} s ({n / done['seconds']:.0f} per second); "
                       f"{when}.", icon=":material/check_circle:")
    bar.progress(1.0)
    draw(curves, snapshot, history, model, done["at"], done["stage"])
    if "accuracy" not in done:  # once per trained model, not on every rerun
        done["accuracy"] = {b: ba.exact_sum_accuracy(model, ba.AdditionSample(b, 200, seed=b)) for b in (8, 32, 64)}
    st.markdown("Exact-sum accuracy of this model on 200 random additions: "
                + ", ".join(f"**{100 * v:.1f} %** at {b} bits" for b, v in done["accuracy"].items()) + ".")
    st.caption(f"{model.cell!r}. Open *Bit addition* or *Your sequence* and pick "
               "“trained in this tab” to step through it. The readout is not part of torch.nn.GRU.")
    services.export_buttons(model.cell, "bit_adder_gru", session.element("tr_export"),
                            session.element("tr_export_keras"))


# -- the page: controls → core → renderers ---------------------------------------------------------
st.title("Train a GRU to add")
ui.intro(
    "Train the bit adder from scratch, right here. The loss should fall and the exact-sum accuracy "
    "climb; the gate heatmaps below show the network on one fixed addition as it learns to carry. "
    "Same settings and seed, same result. The model you train is then offered on the other pages "
    "(in this browser tab).")
with ui.controls_container():
    task, config = training_controls()
b1, b2, _ = st.columns([1, 1, 3])
start = b1.button("Train", type="primary", icon=":material/play_arrow:", key=session.element("tr_start"),
                  width="stretch")
stop = b2.button("Stop", icon=":material/stop:", key=session.element("tr_stop"), width="stretch")
status, bar, curves, snapshot = st.empty(), st.empty(), st.empty(), st.empty()

if start:
    run_training(task, config, status, bar, curves, snapshot)
elif stop and (session.get("tr_partial") or {}).get("model") is not None:
    partial = session.get("tr_partial")
    session.drop("tr_partial")
    session.put("app_trained", partial["model"])
    session.put("tr_done", {"history": partial["history"], "model": partial["model"], "seconds": None,
                            "stopped": True, "at": partial["at"], "stage": partial["stage"]})

done = session.get("tr_done")
if done:
    render_result(done, status, bar, curves, snapshot)
elif not start:
    status.info("Press Train to start.", icon=":material/model_training:")
