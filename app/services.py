"""Cached access to the core. The cached objects are shared by every session and immutable
(gru_core arrays are read-only), so a tweak elsewhere can only ever work on a copy."""

from __future__ import annotations

import numpy as np
import streamlit as st

from gru_core import GRU, Trace
from gru_core import bit_addition as ba


@st.cache_resource(show_spinner=False)
def bit_adder(convention: str = "pytorch") -> ba.BitAdder:
    return ba.pretrained(convention)


@st.cache_resource(show_spinner=False, max_entries=256)
def addition(convention: str, a: int, b: int) -> ba.AdditionRun:
    return ba.run_addition(bit_adder(convention), a, b)


@st.cache_resource(show_spinner="Measuring which unit carries the carry…")
def carry_correlation(convention: str) -> np.ndarray:
    corr = ba.carry_correlation(bit_adder(convention), additions=300, bits=16, seed=0)
    corr.flags.writeable = False
    return corr


@st.cache_resource(show_spinner=False, max_entries=64)
def random_gru(input_size: int, hidden_size: int, seed: int, scale: float, convention: str) -> GRU:
    """Weights ~ U(−scale/√H, scale/√H): scale 1 is torch.nn.GRU's own initialisation."""
    return GRU.random(input_size, hidden_size, seed=seed, scale=scale / np.sqrt(hidden_size),
                      convention=convention)


@st.cache_resource(show_spinner=False, max_entries=16)
def uploaded_gru(data: bytes, convention: str):
    """A user's state_dict, loaded safely (torch.load weights_only=True); raises ValueError with a
    message for the page. Cached on the file's bytes so stepping does not re-read it."""
    from gru_core import checkpoints

    return checkpoints.load_gru(data, convention)


def run_sequence(gru: GRU, xs: np.ndarray) -> Trace:
    """The trace of ``xs`` (T, I) through ``gru``, cached on the model's and the input's content."""
    xs = np.ascontiguousarray(xs, dtype=np.float64)
    return _run_sequence(gru, gru.fingerprint(), xs.tobytes(), xs.shape)


@st.cache_resource(show_spinner=False, max_entries=32)
def _run_sequence(_gru: GRU, fingerprint: str, xs_bytes: bytes, shape: tuple[int, int]) -> Trace:
    return _gru.run(np.frombuffer(xs_bytes, dtype=np.float64).reshape(shape))


@st.cache_resource(show_spinner=False, max_entries=512)
def ablation_accuracy(update_bias_shift: float, reset_bias_shift: float, recurrent_scale: float,
                      bits: int = 16, count: int = 300) -> float:
    """Exact-sum accuracy of the shipped adder with the knobs applied (a copy: the cached model is
    read-only and is never changed)."""
    adder = bit_adder("pytorch")
    tweaked = adder.with_gru(adder.gru.ablated(update_bias_shift=update_bias_shift,
                                               reset_bias_shift=reset_bias_shift,
                                               recurrent_scale=recurrent_scale))
    return ba.exact_sum_accuracy(tweaked, bits, count, seed=0)


def state_dict_bytes(gru: GRU) -> bytes:
    """The GRU as a torch.nn.GRU state_dict file: ``torch.nn.GRU(...).load_state_dict(torch.load(f))``."""
    import io

    import torch

    buf = io.BytesIO()
    torch.save(gru.to_torch().state_dict(), buf)
    return buf.getvalue()
