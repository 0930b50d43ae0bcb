"""Each parameter-lab preset does what its text says."""

from __future__ import annotations

import numpy as np

from app.presets import PRESETS, blocks_to_params, params_to_blocks
from app.sequences import parse_csv
from gru_core import GRU


def run(name):
    p = PRESETS[name]
    xs = parse_csv(p.inputs.encode()).xs
    return xs, GRU.from_arrays([p.params()]).run(xs).last


def test_remember_the_first_input():
    xs, lt = run("Remember the first input")
    assert lt.z[0, 0] < 0.01 and (lt.z[1:, 0] > 0.99).all()
    np.testing.assert_allclose(lt.h[:, 0], np.tanh(2 * xs[0, 0]), atol=0.05)  # held to the end


def test_forget_at_a_separator():
    xs, lt = run("Forget at a separator")
    sep = int(np.flatnonzero(xs[:, 1])[0])
    assert lt.r[sep, 0] < 0.01 and (np.delete(lt.r[:, 0], sep) > 0.99).all()
    assert lt.h[sep - 1, 0] > 0.8                                  # a running total built up
    np.testing.assert_allclose(lt.h[sep, 0], np.tanh(xs[sep, 0]), atol=0.01)  # the past is gone


def test_follow_the_input():
    xs, lt = run("Follow the input")
    np.testing.assert_allclose(lt.h[:, 0], np.tanh(2 * xs[:, 0]), atol=0.01)


def test_average_slowly():
    xs, lt = run("Average slowly")
    np.testing.assert_allclose(lt.z[:, 0], 0.8, atol=1e-12)
    np.testing.assert_allclose(lt.h[:, 0], 0.8 * lt.h_prev[:, 0] + 0.2 * lt.h_tilde[:, 0], atol=1e-12)


def test_tables_round_trip():
    p = GRU.random(2, 3, seed=0).layers[0].params()
    back = blocks_to_params(*params_to_blocks(p), input_size=2)
    for k in p:
        np.testing.assert_array_equal(back[k], p[k])
