"""Why gates? A plain RNN, a GRU and an LSTM on the adding problem: how much gradient reaches the past,
which path carries the GRU's, what each learned, each one's steps, and training the three here.

Every number comes from gru_core on the models shown: the curves from gru_core.gradients on the
recorded pass (app/gradient_figures.py reads and draws them), the table from each model file's metrics
and a timing made on this server.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import datetime, timezone

import numpy as np
import streamlit as st

from app import cell_views, figures, services, session, step_texts, step_view, theme, ui
from app import gradient_figures as gf
from gru_core import registry
from gru_core.models import RecurrentModel
from gru_core.tasks.adding import SOLVED_MSE
from gru_core.train import Progress, train

PAGE = "why"
NAMES = gf.NAMES
LIVE_MIN_ITERS, LIVE_MAX_ITERS = 50, 600
SNAPSHOT_EVERY = 25           # the live gradient curves are measured on a snapshot this often (iterations)
UPDATE_EVERY_S = 0.3          # and redrawn at most this often
TIMING_REPEATS = 5            # the recorded forward is timed this many times per model; the fastest counts


# -- the numbers (the shipped models, the example and their gradients: cached in app/services.py) ----
@st.cache_resource(show_spinner="Timing the recorded forward of the twelve models…", max_entries=1)
def measured_table() -> tuple[dict, str]:
    """The table's columns (each model file's metrics, and the recorded forward timed here) and when."""
    rows = []
    for length in registry.ADDING_LENGTHS:
        xs = services.adding_example(length)
        for cell in registry.ADDING_CELLS:
            model = services.adding_model(cell, length)
            model.cell.run(xs)   # once untimed: the first run of a model pays for its caches
            best = float("inf")
            for _ in range(TIMING_REPEATS):
                t0 = time.perf_counter()
                model.cell.run(xs)
                best = min(best, time.perf_counter() - t0)
            rows.append({"cell": cell, "length": length, "metrics": model.metrics, "recording_s": best / length,
                         "params": model.cell.parameter_count + model.readout.weight.size + model.readout.bias.size})
    return gf.table_columns(rows), datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# -- training the three in turns ------------------------------------------------------------------------
class Lockstep:
    """Train several models side by side: each in its own thread, but one iteration at a time in turn, so
    together they use one core (one slot of the server's queue) and each learns exactly what it would
    learn alone (its own seed; one torch thread, as gru_core.train uses). No streamlit here: the page
    reads ``records`` and ``results`` between turns."""

    def __init__(self, jobs: dict, every: int) -> None:
        self.jobs, self.every = jobs, every
        self.order = list(jobs)
        self.records = {c: {"history": [], "snapshot": None} for c in jobs}   # snapshot: (iteration, model)
        self.results: dict[str, RecurrentModel] = {}
        self.errors: dict[str, BaseException] = {}
        self._cond = threading.Condition()
        self._alive = set(jobs)
        self._turn: str | None = self.order[0] if self.order else None
        self._stop = False
        self._threads = [threading.Thread(target=self._run, args=(c,), name=f"why-gates-{c}", daemon=True)
                         for c in self.order]

    def start(self) -> None:
        for t in self._threads:   # created by the caller's thread: they inherit its (lowered) priority
            t.start()

    @property
    def running(self) -> bool:
        with self._cond:
            return bool(self._alive)

    def wait(self, timeout: float) -> None:
        with self._cond:
            self._cond.wait(timeout)

    def stop(self, timeout: float = 60.0) -> None:
        """Ask every model to stop after its current iteration; wait for their threads."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        for cell, t in zip(self.order, self._threads):
            if t.ident is not None:   # started
                t.join(timeout)
            else:
                with self._cond:
                    self._alive.discard(cell)

    def _next(self, after: str) -> str | None:
        k = self.order.index(after)
        for c in self.order[k + 1:] + self.order[:k + 1]:
            if c in self._alive:
                return c
        return None

    def _wait_turn(self, cell: str) -> bool:
        """Hold until it is ``cell``'s turn; True if told to stop instead."""
        while not (self._turn == cell or self._stop):
            self._cond.wait()
        return self._stop

    def _progress(self, cell: str, p: Progress) -> bool:
        record = self.records[cell]
        record["history"].append((p.iteration, p.loss))
        if p.iteration % self.every == 0:
            record["snapshot"] = (p.iteration, p.snapshot())
        with self._cond:
            self._turn = self._next(cell)
            self._cond.notify_all()
            return self._wait_turn(cell)

    def _run(self, cell: str) -> None:
        import torch

        task, config = self.jobs[cell]
        try:
            with self._cond:
                if self._wait_turn(cell):
                    return
            self.results[cell] = train(task, config, progress=lambda p: self._progress(cell, p))
        except BaseException as exc:  # noqa: BLE001 — handed to the page, which says so
            self.errors[cell] = exc
        finally:
            torch.set_num_threads(1)   # train() restores what it found: the others keep training on one
            with self._cond:
                self._alive.discard(cell)
                if self._turn == cell:
                    self._turn = self._next(cell)
                self._cond.notify_all()


def estimated_seconds(length: int, iterations: int) -> float:
    """What the shipped models' training took per iteration (their files), times the iterations asked."""
    total = 0.0
    for cell in registry.ADDING_CELLS:
        m = services.adding_model(cell, length).metrics
        total += m["train_seconds"] / max(1, m["iterations"]) * iterations
    return total


def live_run(record: dict) -> gf.LiveRun:
    hist = np.asarray(record["history"], dtype=np.float64).reshape(-1, 2)
    marks = np.asarray(record["marks"], dtype=np.float64).reshape(-1, 2)
    return gf.LiveRun(iterations=hist[:, 0], losses=hist[:, 1], checked=marks[:, 0], at_mark=marks[:, 1])


def draw_live(live: dict, distance: int, curves_box, grads_box, draw: int | None = None) -> None:
    """The live figures. While training (``draw``: the how-manyth redraw in this run) they carry no key
    but a redraw number (two charts with the same content and no key would clash); then once, keyed."""
    fs = ui.font_size()
    keyed = draw is None
    cells = {c: r for c, r in live["cells"].items() if r["history"]}
    if not cells:
        return
    baseline = services.adding_model("gru", live["length"]).metrics["baseline_mse"]
    fig = gf.live_figure({c: live_run(r) for c, r in cells.items()}, baseline, distance, font_size=fs)
    reached = {c: r["reach"] for c, r in cells.items() if r["reach"] is not None}
    grads = gf.reach_figure(gf.cell_curves(reached, None, None, trained_label="trained here"), marker=distance,
                            font_size=fs, height=380) if reached else None
    if not keyed:
        for figure in (fig, grads):
            if figure is not None:
                figure.update_layout(meta={"redraw": draw})
    with curves_box.container():
        st.plotly_chart(fig, width="stretch", config=theme.PLOTLY_CONFIG,
                        **({"key": session.element("why_live_curves")} if keyed else {}))
    if grads is not None:
        with grads_box.container():
            st.plotly_chart(grads, width="stretch", config=theme.PLOTLY_CONFIG,
                            **({"key": session.element("why_live_gradients")} if keyed else {}))


def measure(record: dict, iteration: int, model: RecurrentModel, xs: np.ndarray, distance: int) -> None:
    """The gradient curve of a snapshot (gru_core.gradients on its recorded pass), kept with its iteration."""
    reached = services.gradient_reach(model, xs)
    record["reach"] = reached
    record["marks"].append((iteration, float(reached.state[distance])))


def train_three(length: int, iterations: int, status, bar, curves_box, grads_box) -> None:
    """Train the three cells here, side by side, through the server's queue; kept in the tab as they learn."""
    xs, distance = services.adding_example(length), gf.first_mark_distance(services.adding_example(length))
    session.drop("why_live")

    def waiting(place: int) -> None:
        status.info(f"Live trainings are limited to {services.training_slots().slots} at a time on this server, "
                    f"so that everyone's pages stay quick. You are number {place} in the queue; training starts "
                    "by itself when a slot frees up.", icon=":material/hourglass_top:")

    def still_waiting() -> bool:
        bar.progress(0.0)   # a page call: where a Stop (or a closed tab) ends the wait
        return False

    with services.training_slots().slot(on_wait=waiting, gave_up=still_waiting):
        live = {"length": length, "iterations": iterations, "state": "training", "errors": {},
                "cells": {c: {"history": [], "marks": [], "reach": None, "model": None, "model_at": 0, "mse": None}
                          for c in registry.ADDING_CELLS}}
        session.put("why_live", live)
        jobs = {}
        for c in registry.ADDING_CELLS:
            e = registry.entry(f"adding_{c}_{length}")
            jobs[c] = (e.task, dataclasses.replace(e.config, stage_iterations={"learn": iterations}))
        import torch

        threads = torch.get_num_threads()
        turns = Lockstep(jobs, SNAPSHOT_EVERY)
        for c, record in turns.records.items():
            live["cells"][c]["history"] = record["history"]   # the same list: the tab keeps what is done
            start = services.adding_reach(c, length, False)            # iteration 0: the same seed, the same weights
            live["cells"][c].update(reach=start, marks=[(0, float(start.state[distance]))])
        turns.start()
        seen = {c: 0 for c in jobs}
        last_draw, draws, drawn = 0.0, 0, None
        try:
            while turns.running:
                turns.wait(0.1)
                for c, record in turns.records.items():
                    snap = record["snapshot"]
                    if snap is not None and snap[0] > seen[c]:
                        seen[c] = snap[0]
                        measure(live["cells"][c], snap[0], snap[1], xs, distance)
                        live["cells"][c].update(model=snap[1], model_at=snap[0])
                done = {c: len(r["history"]) for c, r in turns.records.items()}
                if time.monotonic() - last_draw >= UPDATE_EVERY_S and done != drawn:
                    last_draw, draws, drawn = time.monotonic(), draws + 1, done
                    losses = ", ".join(f"{NAMES[c]} {r['history'][-1][1]:.4f}"
                                       + (f" (finished at iteration {done[c]})" if c in turns.results else "")
                                       for c, r in turns.records.items() if r["history"])
                    status.markdown(f"Iteration **{max(done.values())}** of {iterations} · batch loss: {losses}")
                    bar.progress(min(1.0, sum(done.values()) / (len(done) * iterations)))
                    draw_live(live, distance, curves_box, grads_box, draw=draws)
        finally:
            stopped = turns.running
            turns.stop()
            torch.set_num_threads(threads)
            for c, model in turns.results.items():
                live["cells"][c].update(model=model, model_at=model.metrics["iterations"])
            live["errors"] = {c: f"{type(e).__name__}: {e}" for c, e in turns.errors.items()}
            for c, e in turns.errors.items():
                ui.log.error("live training of the %s failed", c, exc_info=e)
            live["state"] = "stopped" if stopped else "done"
    for c, model in turns.results.items():   # the final models' curves and held-out errors
        if seen[c] < model.metrics["iterations"]:
            measure(live["cells"][c], model.metrics["iterations"], model, xs, distance)
        live["cells"][c]["mse"] = jobs[c][0].evaluate(model)["mse"]


def live_section(length: int, distance: int) -> None:
    """Train the three here: controls, then the run (or what this tab trained before)."""
    c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    iterations = int(c1.number_input("Iterations per cell", LIVE_MIN_ITERS, LIVE_MAX_ITERS, step=50,
                                     key=session.widget("why_live_iters")))
    start = c2.button("Train the three", type="primary", key=session.element("why_train"), width="stretch",
                      icon=":material/play_arrow:")
    c3.button("Stop", key=session.element("why_stop"), width="stretch", icon=":material/stop:")
    if not ui.presenting():
        st.caption(f"The shipped models' recipe and seed ({', '.join(NAMES.values())} side by side, one iteration "
                   f"each in turn, one core) at length {length}. At the speed the shipped models trained on the "
                   f"machine that trained them, {iterations} iterations of the three take about "
                   f"{estimated_seconds(length, iterations):.0f} s; the gradient curves are measured every "
                   f"{SNAPSHOT_EVERY} iterations.")
    status, bar, curves_box, grads_box = st.empty(), st.empty(), st.empty(), st.empty()
    if start:
        train_three(length, iterations, status, bar, curves_box, grads_box)
    live = session.get("why_live")
    if not live:
        if not start:
            status.caption("Press *Train the three* to train a plain RNN, a GRU and an LSTM here and watch how "
                           "much gradient reaches the first marked number as they learn.")
        return
    if live["state"] == "training" and not start:   # a run that ended without finishing (a Stop)
        live["state"] = "stopped"
    shown_distance = gf.first_mark_distance(services.adding_example(live["length"]))
    xs = services.adding_example(live["length"])
    for c, r in live["cells"].items():         # a model kept by a Stop: its curve and held-out error, once
        if r["model"] is not None and r["mse"] is None:
            if r["marks"][-1][0] < r["model_at"]:
                measure(r, r["model_at"], r["model"], xs, shown_distance)
            e = registry.entry(f"adding_{c}_{live['length']}")
            r["mse"] = e.task.evaluate(r["model"])["mse"]
    bar.progress(1.0)
    draw_live(live, shown_distance, curves_box, grads_box)
    words = "; ".join(result_words(c, r) for c, r in live["cells"].items())
    baseline = services.adding_model("gru", live["length"]).metrics["baseline_mse"]
    head = "Stopped" if live["state"] == "stopped" else "Done"
    where = "" if live["length"] == length else f" (at length {live['length']})"
    status.markdown(f"**{head}**{where}: {words}. Always answering 1 scores {baseline:.4f}; solved means below "
                    f"{SOLVED_MSE}.")
    for c, message in live.get("errors", {}).items():
        ui.error(f"The {NAMES[c]}'s training failed ({message}); the other cells' results stand.")


def result_words(cell: str, r: dict) -> str:
    """One cell's result: its iterations and held-out error, and whether its stop check passed."""
    if r["model"] is None or r["mse"] is None:
        return f"{NAMES[cell]} not started"
    passed = r["model"].metrics.get("stages", {}).get("learn", {}).get("passed_at")
    solved = f" (below {SOLVED_MSE} on the held-out check at iteration {passed}: it stopped there)" if passed else ""
    return f"{NAMES[cell]} {r['model_at']} iterations, held-out MSE {r['mse']:.4f}{solved}"


# -- the page: controls → core → renderers ---------------------------------------------------------
st.title("Why gates?")
ui.show_messages(session.read_link(PAGE))
ui.intro(
    "A GRU has gates because a plain recurrent network forgets. The gradient that tells a network how its "
    "answer depends on something it read many steps ago is, by the chain rule, a product of one Jacobian "
    "per step in between; in a plain RNN every factor is diag(1 − h_t²) W_hh, and the product can shrink "
    "towards zero. Here three networks of about 1,000 parameters each learned the **adding problem** "
    "(Hochreiter & Schmidhuber, 1997): a sequence of random numbers, two of them marked, and after the "
    "last step the network must answer the sum of the two marked ones; the first sits in the first tenth "
    "of the sequence.")
with ui.controls_container():
    c1, c2 = st.columns(2)
    c1.segmented_control("Sequence length", list(registry.ADDING_LENGTHS), key=session.widget("why_length"),
                         help="The shipped models were trained at these lengths, one model per cell and length.")
    c2.segmented_control("Cell in focus", list(registry.ADDING_CELLS), format_func=NAMES.get,
                         key=session.widget("why_cell"), help="Drawn wider in the figures, and stepped through below.")
length = session.get("why_length")
length = length if length in registry.ADDING_LENGTHS else registry.ADDING_LENGTHS[1]
cell = session.get("why_cell")
cell = cell if cell in registry.ADDING_CELLS else "gru"
xs = services.adding_example(length)
distance = gf.first_mark_distance(xs)
first = int(gf.marked_steps(xs)[0])
short = ui.presenting()
fs = ui.font_size()

st.subheader("How much gradient reaches the past")
trained = {c: services.adding_reach(c, length, True) for c in registry.ADDING_CELLS}
initial = {c: services.adding_reach(c, length, False) for c in registry.ADDING_CELLS}
# drawn by the step view's plotly.js (step_view.figure): the page then loads one copy, not two
step_view.figure("why_gradients", gf.reach_figure(gf.cell_curves(trained, initial, cell), marker=distance,
                                                  font_size=fs))
st.markdown(gf.reach_sentence(trained, initial, distance, short=short))
st.markdown(gf.value_sentence(trained, first, short=short))
if not short:
    st.caption("Each curve is ‖∂y/∂s_t‖: the size of the gradient of the network's answer y with respect to its "
               "state s_t (h; for the LSTM h and its cell state c), computed exactly from the recorded forward "
               "pass on the sequence stepped through below. The squared-error loss's gradient is 2 (y − target) "
               "times it: the same curve, shifted on the log scale. Hover for the numbers.")

st.subheader("Which path carries the GRU's gradient")
gru_convention = services.adding_model("gru", length).cell.convention
step_view.figure("why_paths", gf.paths_figure(trained["gru"], initial["gru"], gru_convention, marker=distance,
                                              font_size=fs))
st.markdown(gf.paths_sentence(trained["gru"], initial["gru"], distance, gru_convention, short=short))
if not short:
    st.caption("Each step back, the GRU's Jacobian ∂h_t/∂h_{t-1} is the sum of three paths (the keep path, the "
               "path through the candidate, the path through the update gate's value); each coloured line is "
               "the size of the gradient times one of them, and the three vectors add up to the black line's. "
               f"The shipped GRUs compute the {gru_convention.name} convention.")

st.subheader(f"Step through the {NAMES[cell]}")
model = services.adding_model(cell, length)
trace = services.run_sequence(model.cell, xs)
view = {"rnn": cell_views.rnn_view, "gru": lambda lt: cell_views.gru_view(lt, model.cell.convention),
        "lstm": cell_views.lstm_view}[cell](trace.last)
step_view.show(PAGE, step_view.fingerprint(model.cell, xs, length), view, link=True,
               top=lambda: figures.inputs(xs, None, feature_labels=["number", "marked"], font_size=fs),
               sentence=lambda: step_texts.adding_problem(xs))
session.write_link(session.link_values(PAGE))
value = float(model.readout.outputs(trace, last_step=True)[0])   # one output, read from the last state
truth = float(xs[xs[:, 1] == 1, 0].sum())
st.markdown(f"After the last step the {NAMES[cell]} answers **{value:.3f}**; the sum of the marked numbers "
            f"is **{truth:.3f}**.")

st.subheader("What each learned, measured")
columns, when = measured_table()
st.dataframe(columns, hide_index=True, width="stretch")
if not short:
    st.caption(f"Held-out MSE on the same 512 held-out sequences per length, against always answering 1 (the "
               f"baseline); solved means below {SOLVED_MSE}. Parameters count the cell and its readout. Iterations "
               "and training seconds are what each model's file records from the machine that trained it (a "
               "batch of 64 sequences per iteration; the seconds include its held-out checks). The recorded "
               "forward (every intermediate of every step, one sequence: the example above) was measured "
               f"on this server, at {when} (its first view since the server started), the fastest of "
               f"{TIMING_REPEATS} runs; per step is its time over the length, so at length 10 the run's fixed cost "
               "shows. "
               "`python -m gru_core.train --task adding` retrains all twelve and prints the table.")

st.subheader("Train the three yourself")
live_section(length, distance)
