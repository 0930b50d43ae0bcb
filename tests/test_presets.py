"""Each parameter-lab preset does what its text says, in every convention (its numbers and its words
are given per convention: the z rows flip where z weighs the candidate)."""

from __future__ import annotations

import numpy as np
import pytest

from app.presets import PRESETS
from app.sequences import parse_csv
from gru_core import CONVENTIONS, GRU

ALL = pytest.mark.parametrize("conv", list(CONVENTIONS))


def run(name, conv):
    p, c = PRESETS[name], CONVENTIONS[conv]
    xs = parse_csv(p.inputs.encode()).xs
    lt = GRU.from_arrays([p.params(c)], c).run(xs).last
    keep = lt.z if c.z_keeps_old else 1 - lt.z   # the weight h_t gives h_{t-1}, by the equations
    return xs, lt, keep, p.describe(c)


def z_value_in_text(text, what):
    """The z value the text promises for ``what`` ('keep' or 'take'): e.g. 'keeps the old state (z ≈ 1)'."""
    import re

    m = re.search(rf"{what}\w* the (?:old state|candidate)[^(]*\(z ≈ ([01])\)", text)
    assert m, text
    return float(m.group(1))


@ALL
def test_remember_the_first_input(conv):
    xs, lt, keep, text = run("Remember the first input", conv)
    assert keep[0, 0] < 0.01 and (keep[1:, 0] > 0.99).all()
    np.testing.assert_allclose(lt.h[:, 0], np.tanh(2 * xs[0, 0]), atol=0.05)  # held to the end
    # the z values the text names are the ones on screen
    assert abs(lt.z[1, 0] - z_value_in_text(text, "keep")) < 0.01
    assert abs(lt.z[0, 0] - z_value_in_text(text, "take")) < 0.01


@ALL
def test_forget_at_a_separator(conv):
    xs, lt, keep, text = run("Forget at a separator", conv)
    sep = int(np.flatnonzero(xs[:, 1])[0])
    assert lt.r[sep, 0] < 0.01 and (np.delete(lt.r[:, 0], sep) > 0.99).all()
    assert (keep[:, 0] < 0.01).all() and (abs(lt.z[:, 0] - z_value_in_text(text, "take")) < 0.01).all()
    assert lt.h[sep - 1, 0] > 0.8                                  # a running total built up
    np.testing.assert_allclose(lt.h[sep, 0], np.tanh(xs[sep, 0]), atol=0.01)  # the past is gone


@ALL
def test_follow_the_input(conv):
    xs, lt, keep, text = run("Follow the input", conv)
    np.testing.assert_allclose(lt.h[:, 0], np.tanh(2 * xs[:, 0]), atol=0.01)
    assert (abs(lt.z[:, 0] - z_value_in_text(text, "take")) < 0.01).all()


@ALL
def test_average_slowly(conv):
    xs, lt, keep, text = run("Average slowly", conv)
    np.testing.assert_allclose(keep[:, 0], 0.8, atol=1e-12)
    np.testing.assert_allclose(lt.h[:, 0], 0.8 * lt.h_prev[:, 0] + 0.2 * lt.h_tilde[:, 0], atol=1e-12)
    assert f"z = {lt.z[0, 0]:.1f}" in text


@ALL
def test_every_text_is_filled_in(conv):
    for p in PRESETS.values():
        text = p.describe(CONVENTIONS[conv])
        bare = text.replace("h_{t-1}", "")
        assert "{" not in bare and "}" not in bare
