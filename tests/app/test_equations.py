"""The equations shown for a unit carry the recorded numbers, in the chosen convention's form."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import numbers_in

from app.equations import DIGITS, step_equations
from gru_core import CONVENTIONS, GRU


def recorded(lt, t, j):
    def b(g, w):
        return lt.block(g, w)[t, j]

    return dict(ir=b("r", "input_part"), hr=b("r", "hidden_part"), pr=b("r", "pre"), r=lt.r[t, j],
                iz=b("z", "input_part"), hz=b("z", "hidden_part"), pz=b("z", "pre"), z=lt.z[t, j],
                i_n=b("n", "input_part"), hn=b("n", "hidden_part"), pn=b("n", "pre"), n=lt.h_tilde[t, j],
                hp=lt.h_prev[t, j], h=lt.h[t, j])


@pytest.mark.parametrize("name", ["pytorch", "cho2014", "chung2014"])
def test_numbers_are_the_recorded_ones(name):
    conv = CONVENTIONS[name]
    lt = GRU.random(2, 4, seed=3, scale=2.0, convention=conv).run(
        np.random.default_rng(1).normal(size=(6, 2))).last
    t, j = 3, 2
    v = recorded(lt, t, j)
    r_eq, z_eq, n_eq, h_eq = step_equations(lt, t, j, conv)
    tol = 10 ** -DIGITS
    np.testing.assert_allclose(numbers_in(r_eq.numeric), [v["ir"], v["hr"], v["pr"], v["r"]], atol=tol)
    np.testing.assert_allclose(numbers_in(z_eq.numeric), [v["iz"], v["hz"], v["pz"], v["z"]], atol=tol)
    if conv.reset_after_matmul:
        assert r"r_t \odot (W_{hn} h_{t-1} + b_{hn})" in n_eq.symbolic
        np.testing.assert_allclose(numbers_in(n_eq.numeric), [v["i_n"], v["r"], v["hn"], v["pn"], v["n"]], atol=tol)
    else:
        assert r"W_{hn} (r_t \odot h_{t-1})" in n_eq.symbolic
        np.testing.assert_allclose(numbers_in(n_eq.numeric), [v["i_n"], v["hn"], v["pn"], v["n"]], atol=tol)
    if conv.z_keeps_old:
        assert h_eq.symbolic.endswith(r"(1 - z_t) \odot \tilde h_t + z_t \odot h_{t-1}")
        np.testing.assert_allclose(numbers_in(h_eq.numeric), [v["z"], v["n"], v["z"], v["hp"], v["h"]], atol=tol)
    else:
        assert h_eq.symbolic.endswith(r"(1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t")
        np.testing.assert_allclose(numbers_in(h_eq.numeric), [v["z"], v["hp"], v["z"], v["n"], v["h"]], atol=tol)


def test_out_of_range_is_an_error():
    lt = GRU.random(1, 2, seed=0).run(np.zeros((3, 1))).last
    with pytest.raises(ValueError):
        step_equations(lt, 3, 0, CONVENTIONS["pytorch"])


def test_block_holds_every_equation_once():
    from app.equations import as_block

    lt = GRU.random(2, 3, seed=0).run(np.ones((2, 2))).last
    block = as_block(lt, 1, 2, CONVENTIONS["pytorch"])
    lines = [line.strip() for line in block.removeprefix(r"\begin{aligned}").split(r"\\")]
    for head in ("x_{1} &=", "r_{1,2} &=", "z_{1,2} &=", r"\tilde h_{1,2} &=", "h_{1,2} &="):
        assert sum(line.startswith(head) for line in lines) == 1, head
