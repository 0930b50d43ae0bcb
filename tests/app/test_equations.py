"""The equations name the recorded numbers, in the chosen convention's form.

The browser fills each slot with the chosen unit's value at the step shown (tests/browser read the
numbers back from the page); here: which recorded array each slot is, in order, per convention.
"""

from __future__ import annotations

import numpy as np
import pytest

from app import equations
from gru_core import CONVENTIONS, GRU


def trace(name: str):
    return GRU.random(2, 4, seed=3, scale=2.0, convention=CONVENTIONS[name]).run(
        np.random.default_rng(1).normal(size=(6, 2))).last


def array_slots(eqs: equations.Equations, line) -> list[str]:
    return [s for s in eqs.slots(line) if s not in ("t", "unit")]


@pytest.mark.parametrize("name", ["pytorch", "cho2014", "chung2014"])
def test_slots_are_the_recorded_numbers_in_the_conventions_order(name):
    conv = CONVENTIONS[name]
    lt = trace(name)
    eqs = equations.gru(lt, conv)
    x_line, r_eq, z_eq, n_eq, h_eq = eqs.lines
    assert array_slots(eqs, x_line) == ["x"]
    assert array_slots(eqs, r_eq) == ["ip_r", "hp_r", "pre_r", "r"]
    assert array_slots(eqs, z_eq) == ["ip_z", "hp_z", "pre_z", "z"]
    if conv.reset_after_matmul:
        assert "<i>r</i><sub>t</sub> ⊙ (<i>W</i><sub>hn</sub> <i>h</i><sub>t−1</sub>" in n_eq.symbolic
        assert array_slots(eqs, n_eq) == ["ip_n", "r", "hp_n", "pre_n", "h_tilde"]
    else:
        assert "<i>W</i><sub>hn</sub> (<i>r</i><sub>t</sub> ⊙ <i>h</i><sub>t−1</sub>)" in n_eq.symbolic
        assert array_slots(eqs, n_eq) == ["ip_n", "hp_n", "pre_n", "h_tilde"]
    if conv.z_keeps_old:
        assert array_slots(eqs, h_eq) == ["z", "h_tilde", "z", "h_prev", "h"]
        assert h_eq.caption == "new state (z weighs the old state)"
    else:
        assert array_slots(eqs, h_eq) == ["z", "h_prev", "z", "h_tilde", "h"]
        assert h_eq.caption == "new state (z weighs the candidate)"
    # every slot is a recorded array of the trace, not a recomputed one
    for g, k in zip("rzn", range(3)):
        H = lt.hidden_size
        assert np.shares_memory(eqs.arrays[f"pre_{g}"], lt.pre)
        np.testing.assert_array_equal(eqs.arrays[f"ip_{g}"], lt.input_part[:, k * H:(k + 1) * H])
        np.testing.assert_array_equal(eqs.arrays[f"hp_{g}"], lt.hidden_part[:, k * H:(k + 1) * H])
    for name_ in ("x", "h_prev", "r", "z", "h_tilde", "h"):
        np.testing.assert_array_equal(eqs.arrays[name_], getattr(lt, name_))


@pytest.mark.parametrize("name", ["pytorch", "cho2014", "chung2014"])
def test_the_numbers_a_line_shows_are_consistent(name):
    """What the lines claim holds for the recorded numbers: σ(ip + hp) = gate, the blend gives h."""
    conv = CONVENTIONS[name]
    lt = trace(name)
    a = equations.gru(lt, conv).arrays
    sig = 1 / (1 + np.exp(-(a["ip_z"] + a["hp_z"])))
    np.testing.assert_allclose(sig, a["z"], atol=1e-12)
    np.testing.assert_allclose(a["ip_r"] + a["hp_r"], a["pre_r"], atol=1e-12)
    n_pre = a["ip_n"] + (a["r"] * a["hp_n"] if conv.reset_after_matmul else a["hp_n"])
    np.testing.assert_allclose(np.tanh(n_pre), a["h_tilde"], atol=1e-12)
    keep = a["z"] if conv.z_keeps_old else 1 - a["z"]
    np.testing.assert_allclose(keep * a["h_prev"] + (1 - keep) * a["h_tilde"], a["h"], atol=1e-12)


def test_rnn_and_lstm_lines_name_their_recorded_numbers_and_hold():
    from gru_core.cells.lstm import LSTM
    from gru_core.cells.rnn import RNN

    xs = np.random.default_rng(2).normal(size=(5, 2))
    lt = RNN.random(2, 3, seed=1).run(xs).last
    eqs = equations.rnn(lt)
    assert array_slots(eqs, eqs.lines[1]) == ["ip", "hp", "pre", "h"]
    np.testing.assert_allclose(np.tanh(eqs.arrays["ip"] + eqs.arrays["hp"]), eqs.arrays["h"], atol=1e-12)
    lt = LSTM.random(2, 3, seed=1).run(xs).last
    eqs = equations.lstm(lt)
    a = eqs.arrays
    *gates, c_line, h_line = eqs.lines[1:]
    for line, g in zip(gates, "ifgo", strict=True):
        assert array_slots(eqs, line) == [f"ip_{g}", f"hp_{g}", f"pre_{g}", g]
        act = np.tanh if g == "g" else (lambda v: 1 / (1 + np.exp(-v)))
        np.testing.assert_allclose(act(a[f"ip_{g}"] + a[f"hp_{g}"]), a[g], atol=1e-12)
    assert array_slots(eqs, c_line) == ["f", "c_prev", "i", "g", "c"]
    np.testing.assert_allclose(a["f"] * a["c_prev"] + a["i"] * a["g"], a["c"], atol=1e-12)
    assert array_slots(eqs, h_line) == ["o", "c", "h"]
    np.testing.assert_allclose(a["o"] * np.tanh(a["c"]), a["h"], atol=1e-12)
