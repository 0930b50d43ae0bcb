"""The "Why gates?" page through AppTest: its curves, sentences and step view are the core's numbers."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import app, decode, figure, step_view, texts

from gru_core import gradients, registry
from gru_core.tasks.adding import sequences


def why(**query):
    at = app(**query)
    at.switch_page("views/why_gates.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def the_example(length: int) -> np.ndarray:
    xs, _ = sequences(np.random.default_rng(2024 + length), 1, length)
    return xs[0].astype(np.float64)


def norms(cell: str, length: int) -> np.ndarray:
    model = registry.load(f"adding_{cell}_{length}")
    trace = model.cell.run(the_example(length))
    return gradients.gradient_flow(model.cell, trace, model.readout.weight[0]).state_norms()[::-1]


@pytest.mark.parametrize("length", [10, 100])
def test_curves_and_sentence_are_the_cores_gradients(length):
    at = why(length=str(length))
    fig = figure(at, "why_gradients")
    by_name = {tr["name"]: decode(tr["y"]) for tr in fig["data"]}
    for cell, name in (("rnn", "plain RNN"), ("gru", "GRU"), ("lstm", "LSTM")):
        expected = norms(cell, length)
        shown = by_name[f"{name}, trained"]
        np.testing.assert_allclose(shown, np.where(expected > 0, expected, np.nan), rtol=1e-12)
        assert f"{name}, untrained" in by_name
    words = " ".join(texts(at.markdown))
    xs = the_example(length)
    distance = length - 1 - int(np.flatnonzero(xs[:, 1])[0])
    assert f"sits {distance} steps before the output" in words
    for cell, name in (("rnn", "plain RNN"), ("gru", "GRU"), ("lstm", "LSTM")):
        assert f"{name} {norms(cell, length)[distance]:.1e}" in words


def test_the_keep_path_sentence_is_measured_on_the_gru_shown():
    at = why(length="50")
    model = registry.load("adding_gru_50")
    parts = gradients.gru_jacobian_parts(model.cell, model.cell.run(the_example(50)))
    keep = np.median([np.linalg.norm(p.keep, 2) for p in parts[1:]])
    words = " ".join(texts(at.markdown))
    assert f"keep path has a median size of {keep:.3f}" in words


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_a_teacher_link_opens_the_cell_and_length_in_the_step_view(cell):
    at = why(length="10", cell=cell, t="4")
    head, arrays = step_view(at, "why")
    model = registry.load(f"adding_{cell}_10")
    lt = model.cell.run(the_example(10)).last
    assert head["start"]["t"] == 4 and (head["steps"], head["units"]) == lt.h.shape
    np.testing.assert_array_equal(arrays["h"], lt.h.T.astype(np.float32))
    if cell == "lstm":
        np.testing.assert_array_equal(arrays["c"], lt.c.T.astype(np.float32))
        np.testing.assert_array_equal(arrays["f"], lt.f.T.astype(np.float32))
    answer = float(model.readout.logits(lt.h[-1])[0])
    assert f"answers **{answer:.3f}**" in " ".join(texts(at.markdown))


def test_a_bad_link_says_so_and_falls_back():
    at = why(length="7", cell="transformer")
    warnings = " ".join(texts(at.warning))
    assert "length=7" in warnings and "cell=transformer" in warnings
    head, _ = step_view(at, "why")
    assert head["steps"] == 50


def test_the_table_quotes_each_models_file():
    at = why(length="10")
    table = at.dataframe[0].value
    row = table[(table["cell"] == "GRU") & (table["length"] == 200)].iloc[0]
    metrics = registry.load("adding_gru_200").metrics
    assert row["held-out MSE"] == f"{metrics['mse']:.4f}" and row["iterations"] == metrics["iterations"]
    assert set(table["solved"]) <= {"yes", "no"}


def test_live_training_trains_the_three_through_the_queue():
    at = why(length="10")
    at.number_input(key="why_live_iters").set_value(50).run()
    at.button(key="why_train").click().run(timeout=300)
    assert not at.exception
    live = at.session_state["why_live"]
    assert live["length"] == 10 and set(live["cells"]) == {"rnn", "gru", "lstm"}
    for result in live["cells"].values():
        assert result["model"].metrics["iterations"] <= 50
        assert result["mse"] == pytest.approx(result["model"].metrics.get("mse", result["mse"]))
    assert re.search(r"GRU \d+ iterations, held-out MSE \d", " ".join(texts(at.markdown)))
