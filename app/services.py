"""Cached access to the core. What is cached with ``st.cache_resource`` is shared by every session,
so it is immutable all the way down (gru_core's arrays are read-only; a test tries to write each):
a tweak anywhere only ever works on a copy."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import streamlit as st

from gru_core import GRU, Trace, gradients, registry
from gru_core.models import RecurrentModel
from gru_core.tasks import bit_addition as ba
from gru_core.tasks import last_part
from gru_core.tasks.adding import sequences
from gru_core.tasks.forecast import Forecast
from gru_core.train import train

from . import gradient_figures, limits, session
from .capacity import ByteCache
from .training_slots import TrainingSlots


@st.cache_resource(show_spinner=False)
def bit_adder(convention: str = "pytorch") -> RecurrentModel:
    return registry.shipped_adder(convention)


def addition(convention: str, a: int, b: int) -> ba.AdditionRun:
    """The shipped adder's recorded run of a + b, kept for every tab while a tab that asked for it is
    open (app/capacity.py), up to 32 MB in all (a 64-bit run weighs about 120 KB)."""
    return ADDITIONS.get((convention, a, b), lambda: ba.run_addition(bit_adder(convention), a, b))


def _addition_bytes(run: ba.AdditionRun) -> int:
    arrays = (v for v in vars(run).values() if isinstance(v, np.ndarray))
    return sum(v.nbytes for v in arrays) + _trace_bytes(run.trace)


ADDITIONS: ByteCache[ba.AdditionRun] = ByteCache(32 * 2**20, size=_addition_bytes)


@st.cache_resource(show_spinner="Measuring which units carry the carry…")
def carry_finding(convention: str) -> ba.CarryFinding:
    return ba.carry_finding(bit_adder(convention))


@st.cache_resource(show_spinner=False)
def training_slots() -> TrainingSlots:
    """The server's one queue for live training (shared by every session, on purpose)."""
    return TrainingSlots(limits.MAX_LIVE_TRAININGS)


def trained_carry_finding(model: RecurrentModel) -> ba.CarryFinding:
    """The finding for the model trained in this tab, computed once and kept with it."""
    kept = session.get("app_trained_finding")
    if kept is None or kept[0] is not model:
        kept = (model, ba.carry_finding(model))
        session.put("app_trained_finding", kept)
    return kept[1]


@st.cache_resource(show_spinner=False, max_entries=64)
def random_gru(input_size: int, hidden_size: int, seed: int, init_scale: float, convention: str) -> GRU:
    """Weights ~ U(−s, s) with s = init_scale/√H: init_scale 1 is torch.nn.GRU's own initialisation."""
    return GRU.random(input_size, hidden_size, seed=seed, scale=init_scale / np.sqrt(hidden_size),
                      convention=convention)


def uploaded_model(data: bytes, filename: str, config: bytes | None, convention: str):
    """A user's model file (torch state_dict, Keras archive or weights + config), read in a sandboxed
    process (gru_core.checkpoints); raises ValueError with a message for the page. Kept on a digest of
    the bytes while a tab that uploaded it is open (app/capacity.py), so stepping does not re-read it."""
    from gru_core import checkpoints

    def read():
        with st.spinner("Reading the file safely…"):
            return checkpoints.load_upload(data, filename, config=config, convention=convention)

    digest = hashlib.blake2b(data + b"\0" + (config or b""), digest_size=16).hexdigest()
    return UPLOADS.get((digest, filename, config is None, convention), read)


def _upload_bytes(loaded) -> int:
    """What a read upload weighs: its parameters (the file's bytes are not kept)."""
    readout = loaded.readout
    return loaded.gru.parameter_count * loaded.gru.dtype.itemsize + (
        0 if readout is None else readout.weight.nbytes + readout.bias.nbytes)


UPLOADS = ByteCache(limits.UPLOAD_CACHE_BYTES, size=_upload_bytes)


@st.cache_resource(show_spinner=False)
def shipped_model(name: str) -> RecurrentModel:
    return registry.load(name)


def readout_values(readout, trace: Trace) -> np.ndarray:
    """The readout's (O,) outputs after the last step of ``trace`` (per step or per sequence alike:
    gru_core.models.Readout.outputs). Not cached: one (O, H) product on h_T costs less than hashing
    the trace would, and the trace itself is cached (run_sequence)."""
    return readout.outputs(trace, last_step=True)


def run_sequence(cell, xs: np.ndarray) -> Trace:
    """The trace of ``xs`` (T, I) through ``cell`` (any recorded cell), kept on the model's and the
    input's content for every tab, up to limits.TRACE_CACHE_BYTES in all (a 2,048 × 256 GRU trace
    with every intermediate weighs about 60 MB)."""
    xs = np.ascontiguousarray(xs, dtype=np.float64)
    return TRACES.get((cell.fingerprint(), xs.tobytes(), xs.shape), lambda: cell.run(xs))


def _trace_bytes(trace: Trace) -> int:
    return sum(v.nbytes for layer in trace.layers for v in vars(layer).values() if isinstance(v, np.ndarray))


TRACES: ByteCache[Trace] = ByteCache(limits.TRACE_CACHE_BYTES, size=_trace_bytes)


@st.cache_resource(show_spinner=False, max_entries=512)
def knob_accuracy(update_bias_shift: float, reset_bias_shift: float, recurrent_scale: float) -> float:
    """Exact-sum accuracy (ba.EXACT_SUM_CHECK) of the shipped adder with the knobs applied (a copy:
    the cached model is read-only and is never changed)."""
    adder = bit_adder("pytorch")
    tweaked = adder.with_cell(adder.cell.ablated(update_bias_shift=update_bias_shift,
                                                 reset_bias_shift=reset_bias_shift,
                                                 recurrent_scale=recurrent_scale))
    return ba.exact_sum_accuracy(tweaked)


def state_dict_bytes(gru: GRU) -> bytes:
    """The GRU as a torch.nn.GRU state_dict file: ``torch.nn.GRU(...).load_state_dict(torch.load(f))``."""
    import io

    import torch

    buf = io.BytesIO()
    torch.save(gru.to_torch().state_dict(), buf)
    return buf.getvalue()


def export_buttons(gru: GRU, stem: str, torch_key: str, keras_key: str) -> None:
    """The export buttons: a torch.nn.GRU state_dict where torch.nn.GRU computes the convention shown
    (only the pytorch one; elsewhere a sentence says why not), and a Keras 3 model in every convention
    (reset_after=True for pytorch, False for the others; chung2014 written with its update gate flipped)."""
    from gru_core import checkpoints

    c1, c2 = st.columns(2)
    if gru.convention.reset_after_matmul and gru.convention.z_keeps_old:
        c1.download_button("Download as a torch.nn.GRU state_dict", data=lambda: state_dict_bytes(gru),
                           file_name=f"{stem}.pt", mime="application/octet-stream", icon=":material/download:",
                           on_click="ignore", key=torch_key,
                           help=f"torch.nn.GRU({gru.input_size}, {gru.hidden_size}).load_state_dict(torch.load(f))")
    else:
        c1.caption(f"The torch.nn.GRU export is offered in the pytorch convention only: torch.nn.GRU computes "
                   f"no other, and this GRU uses {gru.convention.name}.")
    flipped = ("" if gru.convention.z_keeps_old
               else " (written with its update gate flipped: Keras's z keeps the old state)")
    c2.download_button("Download as a Keras 3 model (.keras)", data=lambda: checkpoints.write_keras_archive(gru),
                       file_name=f"{stem}.keras", mime="application/octet-stream", icon=":material/download:",
                       on_click="ignore", key=keras_key,
                       help=f"keras.saving.load_model(path): GRU layers with reset_after="
                            f"{gru.convention.reset_after_matmul}{flipped}; the same numbers as here.")


# -- "Why gates?": the adding problem's shipped models, one example per length, their gradients ---------
@st.cache_resource(show_spinner=False, max_entries=8)
def adding_example(length: int) -> np.ndarray:
    """One adding-problem sequence (length, 2) float64, the same for every cell (its own seed)."""
    xs, _ = sequences(np.random.default_rng(2024 + length), 1, length)
    xs = xs[0].astype(np.float64)
    xs.flags.writeable = False
    return xs


def adding_model(cell: str, length: int) -> RecurrentModel:
    return shipped_model(f"adding_{cell}_{length}")


@st.cache_resource(show_spinner="Building the models at initialisation…", max_entries=16)
def adding_untrained(cell: str, length: int) -> RecurrentModel:
    """The shipped model's architecture with the trainer's own seeded initialisation (0 iterations)."""
    e = registry.entry(f"adding_{cell}_{length}")
    return train(e.task, dataclasses.replace(e.config, stage_iterations={"learn": 0}))


def gradient_reach(model: RecurrentModel, xs: np.ndarray) -> gradient_figures.Reach:
    """The gradient of the model's one output y (after the last step) sent back through the recorded pass."""
    trace = model.cell.run(xs)
    flow = gradients.gradient_flow(model.cell, trace, model.readout.weight[0])   # ∂y/∂h_T = the readout's row
    parts = gradients.gru_jacobian_parts(model.cell, trace) if isinstance(model.cell, GRU) else None
    return gradient_figures.reach(flow, float(model.readout.outputs(trace, last_step=True)[0]), parts)


@st.cache_resource(show_spinner=False, max_entries=32)
def adding_reach(cell: str, length: int, trained: bool) -> gradient_figures.Reach:
    return gradient_reach(adding_model(cell, length) if trained else adding_untrained(cell, length),
                          adding_example(length))


# -- the lesson's other examples ---------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def last_part_example() -> last_part.ResetExample:
    """Chapter 3's review, run through the shipped reset-gate model (gru_core.tasks.last_part)."""
    return last_part.example(shipped_model(registry.LAST_PART.name))


@st.cache_resource(show_spinner=False, max_entries=4)
def held_out_window(k: int = 0) -> tuple[np.ndarray, str]:
    """Held-out window ``k`` of real weekly prices (window, 1) float64, read-only, and what it is."""
    xs, _, labels = Forecast().labelled_split()["held_out"]
    window = xs[k].astype(np.float64)
    window.flags.writeable = False
    ticker, week = labels[k]
    return window, f"{ticker}'s {len(window)} weeks before the week of {week} (held out from training)"
