"""Why gates? A plain RNN, a GRU and an LSTM on the adding problem: how much gradient reaches the past,
what each learned, and each one's steps — every number from gru_core, measured on the models shown."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import streamlit as st

from app import cell_views, figures, labels, services, session, step_view, theme, ui
from app.step_payload import StepText
from gru_core import gradients, registry
from gru_core.models import RecurrentModel
from gru_core.tasks.adding import BASELINE_MSE, SOLVED_MSE, sequences
from gru_core.train import Progress, train

PAGE = "why"
NAMES = {"rnn": "plain RNN", "gru": "GRU", "lstm": "LSTM"}
LIVE_LENGTHS = (10, 50)      # live training is offered where a few hundred iterations can show something
LIVE_MAX_ITERS = 600


# -- the numbers (cached: every session sees the same shipped models) ---------------------------------
@st.cache_resource(show_spinner=False, max_entries=8)
def example(length: int) -> np.ndarray:
    """One adding-problem sequence (length, 2) float64, the same for every cell (its own seed)."""
    xs, _ = sequences(np.random.default_rng(2024 + length), 1, length)
    return xs[0].astype(np.float64)


@st.cache_resource(show_spinner="Building the untrained models…", max_entries=16)
def untrained(cell: str, length: int) -> RecurrentModel:
    """The shipped model's architecture with the trainer's own seeded initialisation (0 iterations)."""
    e = registry.entry(f"adding_{cell}_{length}")
    return train(e.task, dataclasses.replace(e.config, stage_iterations={"learn": 0}))


def gradient_norms(model: RecurrentModel, xs: np.ndarray) -> np.ndarray:
    """‖∂y/∂s_t‖ for the model's one output y after the last step, by distance back (0 = last step)."""
    trace = services.run_sequence(model.cell, xs)
    flow = gradients.gradient_flow(model.cell, trace, model.readout.weight[0])
    return flow.state_norms()[::-1]


@st.cache_resource(show_spinner=False, max_entries=64)
def shipped_norms(cell: str, length: int, trained: bool) -> np.ndarray:
    model = registry.load(f"adding_{cell}_{length}") if trained else untrained(cell, length)
    return gradient_norms(model, example(length))


@st.cache_resource(show_spinner=False, max_entries=16)
def measured_row(cell: str, length: int) -> dict:
    """One row of the table: the file's own metrics, and recording time per step measured now."""
    model = registry.load(f"adding_{cell}_{length}")
    m = model.metrics
    xs = example(length)
    t0 = time.perf_counter()
    for _ in range(5):
        model.cell.run(xs)
    per_step = (time.perf_counter() - t0) / 5 / length
    params = model.cell.parameter_count + model.readout.weight.size + model.readout.bias.size
    return {"cell": NAMES[cell], "length": length, "mse": m["mse"], "solved": bool(m["solved"]),
            "iterations": m["iterations"], "train_s": m["train_seconds"], "params": params,
            "us_per_step": 1e6 * per_step}


# -- the page's parts -----------------------------------------------------------------------------
def first_mark_distance(xs: np.ndarray) -> int:
    """How many steps before the end the first marked number sits (the one the output must reach)."""
    return int(xs.shape[0] - 1 - np.flatnonzero(xs[:, 1])[0])


def gradient_sentence(norms: dict[str, np.ndarray], distance: int, length: int) -> str:
    """What the curves show at the first marked number, in numbers computed here."""
    at = {c: float(n[distance]) for c, n in norms.items()}
    parts = ", ".join(f"{NAMES[c]} {v:.1e}" for c, v in at.items())
    cells, values = list(at), np.array(list(at.values()))
    weakest, strongest = cells[int(np.argmin(values))], cells[int(np.argmax(values))]
    ratio = at[strongest] / at[weakest] if at[weakest] > 0 else float("inf")
    return (f"In this sequence of {length} steps the first number to add sits {distance} steps before the "
            f"output. The gradient that reaches it from the output is, for the trained models: {parts}. "
            f"The {NAMES[strongest]}'s is {ratio:.1e} times the {NAMES[weakest]}'s.")


def keep_sentence(length: int) -> str:
    """Where the trained GRU's gradient travels: the update gate's direct keep path or the candidate."""
    model = registry.load(f"adding_gru_{length}")
    trace = services.run_sequence(model.cell, example(length))
    parts = gradients.gru_jacobian_parts(model.cell, trace)
    keep = np.array([np.linalg.norm(p.keep, 2) for p in parts[1:]])
    cand = np.array([np.linalg.norm(p.candidate, 2) for p in parts[1:]])
    share = float(np.mean(keep > cand))
    return labels.md(
        f"Step by step, the trained GRU's Jacobian ∂h_t/∂h_{{t-1}} splits into the **keep path** "
        f"(the diagonal the update gate sets: h_{{t-1}} copied into h_t) and the path **through the "
        f"candidate**. Its keep path has a median size of {np.median(keep):.3f} per step, the candidate "
        f"path {np.median(cand):.3f}; the keep path is the larger at {100 * share:.0f} % of the steps. "
        "The plain RNN has only the second kind of path: every step multiplies the gradient by "
        "diag(1 − h_t²) W_hh.")


def render_table(length: int) -> None:
    rows = [measured_row(c, n) for n in registry.ADDING_LENGTHS for c in registry.ADDING_CELLS]
    st.dataframe(
        {"cell": [r["cell"] for r in rows], "length": [r["length"] for r in rows],
         "held-out MSE": [f"{r['mse']:.4f}" for r in rows],
         "solved": ["yes" if r["solved"] else "no" for r in rows],
         "iterations": [r["iterations"] for r in rows], "training (s)": [f"{r['train_s']:.0f}" for r in rows],
         "parameters": [r["params"] for r in rows],
         "recording µs/step (now)": [f"{r['us_per_step']:.0f}" for r in rows]},
        hide_index=True, width="stretch")
    st.caption(f"Held-out MSE on 512 sequences (always answering 1 scores {BASELINE_MSE:.3f}; solved means below "
               f"{SOLVED_MSE}), iterations and training seconds as written in each model's file by the machine "
               "that trained it: `python -m gru_core.train --task adding` retrains all twelve and prints the "
               "table. Recording time per step is measured now, on this server, for the example above.")


def live_training(length: int) -> None:
    """Train the three cells here, one after the other, the gradient curves redrawn as they learn."""
    if length not in LIVE_LENGTHS:
        st.caption(f"Live training is offered at lengths {' and '.join(map(str, LIVE_LENGTHS))}, where a few hundred "
                   "iterations show the difference; the shipped models above took up to thousands.")
        return
    c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    c1.number_input("Iterations per cell", 50, LIVE_MAX_ITERS, step=50, key=session.widget("why_live_iters"))
    start = c2.button("Train the three", type="primary", key=session.element("why_train"), width="stretch",
                      icon=":material/play_arrow:")
    c3.button("Stop", key=session.element("why_stop"), width="stretch", icon=":material/stop:")
    status, chart = st.empty(), st.empty()
    xs = example(length)
    if start:
        results: dict[str, dict] = {}
        session.put("why_live", {"length": length, "cells": results})
        with services.training_slots().slot(on_wait=lambda place: status.info(
                f"Live trainings are limited on this server; you are number {place} in the queue."),
                gave_up=lambda: False):
            for cell in registry.ADDING_CELLS:
                e = registry.entry(f"adding_{cell}_{length}")
                history: list[tuple[int, float]] = []
                clock = {"t": 0.0}

                def progress(p: Progress, cell=cell, history=history, clock=clock) -> None:
                    history.append((p.iteration, p.loss))
                    if time.monotonic() - clock["t"] > 0.5:
                        clock["t"] = time.monotonic()
                        status.markdown(f"Training the **{NAMES[cell]}**: iteration {p.iteration}, "
                                        f"loss {p.loss:.4f}")
                        results[cell] = {"history": history, "model": p.snapshot(), "mse": None}
                        draw_live(chart, results, xs)

                config = dataclasses.replace(e.config, stage_iterations={"learn": int(session.get("why_live_iters"))})
                model = train(e.task, config, progress=progress)
                results[cell] = {"history": history, "model": model, "mse": e.task.evaluate(model)["mse"]}
    live = session.get("why_live")
    if live and live["length"] == length and live["cells"]:
        draw_live(chart, live["cells"], xs)
        status.markdown(
            "Trained here (the shipped models' recipe and seed, fewer iterations); held-out MSE, where "
            f"always answering 1 scores {BASELINE_MSE:.3f}: "
            + "; ".join(f"{NAMES[c]} {len(r['history'])} iterations, held-out MSE {r['mse']:.4f}"
                        if r["mse"] is not None else f"{NAMES[c]} stopped after {len(r['history'])} iterations"
                        for c, r in live["cells"].items()))
    elif not start:
        status.caption("Press *Train the three* to train a plain RNN, a GRU and an LSTM here, one after "
                       "the other, and watch their gradient curves change as they learn.")


def draw_live(chart, results: dict, xs: np.ndarray) -> None:
    curves = [(f"{NAMES[c]}, trained here", gradient_norms(r["model"], xs), theme.CELL_COLOURS[c], False)
              for c, r in results.items()]
    if curves:
        chart.plotly_chart(figures.gradient_curves(curves, marker=first_mark_distance(xs), font_size=ui.font_size()),
                           width="stretch", config=theme.PLOTLY_CONFIG)


def step_sentence(xs: np.ndarray) -> StepText:
    return StepText("<b>Step {t}</b>: the number read is {value}, marked {mark:i} "
                    "(the output is the sum of the two marked numbers).",
                    {"value": xs[:, 0], "mark": xs[:, 1]})


# -- the page: controls → core → renderers ---------------------------------------------------------
st.title("Why gates?")
ui.show_messages(session.read_link(PAGE))
ui.intro(
    "A GRU has gates because a plain recurrent network forgets: the signal that tells it how to change "
    "what it did many steps ago has to pass through every step in between, and at each step it is "
    "multiplied again. Here three networks of about the same size learned the **adding problem** "
    "(Hochreiter & Schmidhuber, 1997): a sequence of random numbers, two of them marked, and after the "
    "last step the network must give the sum of the two marked ones — the first sits near the start.")
with ui.controls_container():
    c1, c2 = st.columns(2)
    c1.segmented_control("Sequence length", list(registry.ADDING_LENGTHS), key=session.widget("why_length"))
    c2.segmented_control("Cell to step through", list(registry.ADDING_CELLS), format_func=NAMES.get,
                         key=session.widget("why_cell"))
length = int(session.get("why_length") or registry.ADDING_LENGTHS[1])
cell = session.get("why_cell") or "gru"
xs = example(length)
distance = first_mark_distance(xs)

norms = {c: shipped_norms(c, length, True) for c in registry.ADDING_CELLS}
curves = [(f"{NAMES[c]}, trained", norms[c], theme.CELL_COLOURS[c], False) for c in registry.ADDING_CELLS]
curves += [(f"{NAMES[c]}, untrained", shipped_norms(c, length, False), theme.CELL_COLOURS[c], True)
           for c in registry.ADDING_CELLS]
st.subheader("How much gradient reaches the past")
ui.chart(figures.gradient_curves(curves, marker=distance, font_size=ui.font_size()),
         key=session.element("why_gradients"))
st.markdown(gradient_sentence(norms, distance, length))
if not ui.presenting():
    st.caption("Each curve is ‖∂y/∂s_t‖, the size of the gradient of the network's output y with respect to its "
               "state s_t (h, and for the LSTM also its cell state c), computed exactly from the recorded "
               "forward pass; the dashed line marks the first marked number.")
    st.markdown(keep_sentence(length))

st.subheader(f"Step through the {NAMES[cell]}")
model = registry.load(f"adding_{cell}_{length}")
trace = services.run_sequence(model.cell, xs)
view = {"rnn": cell_views.rnn_view, "gru": lambda lt: cell_views.gru_view(lt, model.cell.convention),
        "lstm": cell_views.lstm_view}[cell](trace.last)
step_view.show(PAGE, step_view.fingerprint(model.cell, xs, length), view, link=True,
               top=figures.inputs(xs, None, feature_labels=["number", "marked"], font_size=ui.font_size()),
               sentence=step_sentence(xs))
session.write_link(session.link_values(PAGE))
value = float(model.readout.logits(trace.h[-1])[0])   # one output, read from the last state
truth = float(xs[xs[:, 1] == 1, 0].sum())
st.markdown(f"After the last step the {NAMES[cell]} answers **{value:.3f}**; the sum of the marked numbers "
            f"is **{truth:.3f}**.")

if not ui.presenting():
    st.subheader("What each learned, measured")
    render_table(length)
    st.subheader("Train the three yourself")
    live_training(length)
