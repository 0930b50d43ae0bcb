"""The "Why gates?" page through AppTest: every curve, sentence and table cell is the core's number for the
models shown, its links open where they say (or say why not), and live training trains the three cells."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from helpers import app, decode, figure, figure_alone, step_view, texts

from app import gradient_figures as gf
from app import theme
from gru_core import gradients, registry
from gru_core.tasks.adding import sequences
from gru_core.train import train

CELLS = ("rnn", "gru", "lstm")


def why(**query):
    at = app(**query)
    at.switch_page("views/why_gates.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def the_example(length: int) -> np.ndarray:
    """The page's sequence, rebuilt here from its seed (not read from the page)."""
    xs, _ = sequences(np.random.default_rng(2024 + length), 1, length)
    return xs[0].astype(np.float64)


def model(cell: str, length: int, trained: bool = True):
    e = registry.entry(f"adding_{cell}_{length}")
    return e.load() if trained else train(e.task, dataclasses.replace(e.config, stage_iterations={"learn": 0}))


def flow(m, length: int) -> gradients.GradientFlow:
    """The core's exact BPTT from the model's output y (∂y/∂h_T is the readout's row)."""
    return gradients.gradient_flow(m.cell, m.cell.run(the_example(length)), m.readout.weight[0])


def curves(fig: dict) -> dict[str, np.ndarray]:
    return {tr["name"]: decode(tr["y"]) for tr in fig["data"]}


def words(at) -> str:
    return " ".join(texts(at.markdown))


@pytest.mark.parametrize("length", [10, 200])
def test_the_curves_are_the_cores_gradient_flow_trained_and_at_initialisation(length):
    at = why(length=str(length))
    fig = figure_alone(at, "why_gradients")
    shown = curves(fig)
    assert fig["layout"]["yaxis"]["type"] == "log"
    for cell in CELLS:
        for trained, label in ((True, "trained"), (False, "at initialisation")):
            expected = flow(model(cell, length, trained), length).state_norms()[::-1]   # by distance back
            np.testing.assert_allclose(shown[f"{gf.NAMES[cell]}, {label}"], np.where(expected > 0, expected, np.nan),
                                       rtol=1e-12)
    assert all("steps back: %{y:.3e}" in tr["hovertemplate"] for tr in fig["data"])   # the numbers on hover
    distance = length - 1 - int(np.flatnonzero(the_example(length)[:, 1])[0])
    assert [s["x0"] for s in fig["layout"]["shapes"] if s.get("name") == "marker"] == [distance]


def test_the_sentences_read_the_cores_numbers():
    length = 50
    at = why(length=str(length))
    text = words(at)
    xs = the_example(length)
    first = int(np.flatnonzero(xs[:, 1])[0])
    d = length - 1 - first
    assert f"the first marked number is read {d} steps before the output" in text
    trained = {c: flow(model(c, length), length) for c in CELLS}
    at_d = {c: trained[c].state_norms()[::-1][d] for c in CELLS}
    for cell in CELLS:
        assert f"{gf.NAMES[cell]} {gf.num(at_d[cell])}" in text
        assert f"{gf.num(trained[cell].inputs[first, 0])} ε" in text   # ∂y/∂(first marked number)
    assert f"the GRU's is {gf.times(at_d['gru'] / at_d['rnn'])} times the plain RNN's" in text
    assert f"the LSTM's is {gf.times(at_d['lstm'] / at_d['rnn'])} times the plain RNN's" in text
    untrained_gru = flow(model("gru", length, False), length).state_norms()[::-1]
    assert f"by the first marked number {gf.num(untrained_gru[d])} was left of it" in text


def test_the_gru_paths_are_the_cores_split_and_add_up_to_its_gradient():
    length = 50
    at = why(length=str(length))
    shown = curves(figure_alone(at, "why_paths"))
    m = model("gru", length)
    trace = m.cell.run(the_example(length))
    g = gradients.gradient_flow(m.cell, trace, m.readout.weight[0]).state[-1]
    parts = gradients.gru_jacobian_parts(m.cell, trace)
    T = length
    for name, label in (("keep", "keep path"), ("candidate", "through the candidate"), ("gate", "update gate")):
        [key] = [k for k in shown if label in k]
        expected = [np.nan] + [np.linalg.norm(g[T - d] @ getattr(parts[T - d], name)) for d in range(1, T)]
        np.testing.assert_allclose(shown[key], expected, rtol=1e-12)
    for t in range(1, T):   # the three paths are the whole step: they add up to the gradient one step back
        np.testing.assert_allclose(sum(g[t] @ getattr(parts[t], k) for k in ("keep", "candidate", "gate")), g[t - 1],
                                   rtol=1e-10, atol=1e-15)
    d = length - 1 - int(np.flatnonzero(the_example(length)[:, 1])[0])
    keep = np.array([np.linalg.norm(g[T - k] @ parts[T - k].keep) for k in range(1, d + 1)])
    cand = np.array([np.linalg.norm(g[T - k] @ parts[T - k].candidate) for k in range(1, d + 1)])
    text = words(at)
    assert f"at the median step {gf.times(float(np.median(keep / cand)))} times as much" in text
    larger = int(np.sum(keep > cand))
    assert (f"at every one of those {d} steps" if larger == d else f"at {larger} of those {d} steps") in text
    # the shipped GRUs are pytorch: z near 1 keeps the old state, and the page says so (labels.py's words)
    assert "with the weight z (in the pytorch convention z near 1 keeps the old state)" in text
    assert "z near 0 keeps" not in text and "1 = take the new candidate" not in text


@pytest.mark.parametrize("cell", CELLS)
def test_a_teacher_link_opens_the_length_and_the_cell(cell):
    at = why(length="10", cell=cell, t="4")
    assert at.segmented_control(key="why_length").value == 10
    assert at.segmented_control(key="why_cell").value == cell
    wide = {tr["name"] for tr in figure_alone(at, "why_gradients")["data"] if tr["line"]["width"] == 4}
    assert wide == {f"{gf.NAMES[cell]}, trained", f"{gf.NAMES[cell]}, at initialisation"}
    head, arrays = step_view(at, "why")
    m = model(cell, 10)
    lt = m.cell.run(the_example(10)).last
    assert head["start"]["t"] == 4 and (head["steps"], head["units"]) == lt.h.shape
    np.testing.assert_array_equal(arrays["h"], lt.h.T.astype(np.float32))
    answer = float(m.readout.logits(lt.h[-1])[0])
    assert f"answers **{answer:.3f}**" in words(at)
    at.segmented_control(key="why_length").set_value(100).run()   # the link follows the page
    assert not at.exception
    assert at.query_params["length"] == "100" and at.query_params["cell"] == cell


@pytest.mark.parametrize("query, said", [
    ({"length": "7", "cell": "transformer"}, ("length=7", "cell=transformer")),
    ({"length": "fifty", "cell": "GRU"}, ("length=fifty", "cell=GRU")),
    ({"length": "1e999", "cell": "<b>lstm</b>", "t": "-5"}, ("length=1e999", "cell=<b>lstm</b>", "t=-5")),
    ({"length": "50" * 40, "t": "abc"}, ("length=", "t=abc")),
])
def test_a_nonsense_link_says_so_and_falls_back(query, said):
    at = why(**query)
    warnings = " ".join(texts(at.warning))
    for part in said:
        assert part in warnings
    assert not at.error
    assert at.segmented_control(key="why_length").value == 50
    assert at.segmented_control(key="why_cell").value == "gru"
    assert step_view(at, "why")[0]["steps"] == 50


def test_the_table_quotes_each_models_file_and_names_the_command():
    at = why(length="10")
    table = at.dataframe[0].value
    assert len(table) == len(registry.ADDING_LENGTHS) * len(CELLS)
    for cell in CELLS:
        m = registry.load(f"adding_{cell}_200")
        row = table[(table["cell"] == gf.NAMES[cell]) & (table["length"] == 200)].iloc[0]
        metrics = m.metrics
        assert row["held-out MSE"] == f"{metrics['mse']:.4f}"
        assert row["baseline MSE"] == f"{metrics['baseline_mse']:.4f}"
        assert row["iterations"] == metrics["iterations"]
        assert row["training s (file)"] == f"{metrics['train_seconds']:.1f}"
        assert row["parameters"] == m.cell.parameter_count + m.readout.weight.size + m.readout.bias.size
        assert float(row["recorded forward µs / step (this server)"]) > 0
    captions = " ".join(texts(at.caption))
    assert "python -m gru_core.train --task adding" in captions and "measured on this server" in captions


def test_presentation_mode_has_fewer_words_and_larger_type():
    normal, present = why(length="50"), why(length="50", present="1")
    assert figure_alone(present, "why_gradients")["layout"]["font"]["size"] == theme.PRESENT_FONT_SIZE
    assert figure_alone(normal, "why_gradients")["layout"]["font"]["size"] == theme.FONT_SIZE
    n_words = lambda at: len(" ".join(texts(at.markdown) + texts(at.caption)).split())  # noqa: E731
    assert n_words(present) < n_words(normal) / 2
    assert "the GRU's is" in words(present)     # the computed comparison stays


def test_live_training_trains_the_three_side_by_side_through_the_queue():
    length, iterations = 10, 50
    at = why(length=str(length))
    at.number_input(key="why_live_iters").set_value(iterations).run()
    at.button(key="why_train").click().run(timeout=300)
    assert not at.exception, [e.value for e in at.exception]
    live = at.session_state["why_live"]
    assert live["length"] == length and live["state"] == "done" and set(live["cells"]) == set(CELLS)
    d = length - 1 - int(np.flatnonzero(the_example(length)[:, 1])[0])
    for cell, result in live["cells"].items():
        e = registry.entry(f"adding_{cell}_{length}")
        alone = train(e.task, dataclasses.replace(e.config, stage_iterations={"learn": iterations}))
        trained_here = result["model"]
        assert trained_here.metrics["iterations"] == iterations == len(result["history"])
        for name, values in alone.cell.layers[0].params().items():   # in turns = exactly as if alone
            np.testing.assert_array_equal(trained_here.cell.layers[0].params()[name], values, err_msg=name)
        assert result["mse"] == pytest.approx(e.task.evaluate(alone)["mse"], rel=1e-12)
        # the gradient reaching the first marked number, from iteration 0 (the same seed's initialisation)
        iters = [i for i, _ in result["marks"]]
        assert iters == [0, 25, 50]
        assert result["marks"][0][1] == pytest.approx(flow(model(cell, length, False), length).state_norms()[::-1][d],
                                                      rel=1e-12)
        assert result["marks"][-1][1] == pytest.approx(flow(alone, length).state_norms()[::-1][d], rel=1e-12)
    live_grads = curves(figure(at, "why_live_gradients"))
    np.testing.assert_allclose(live_grads["GRU, trained here"],
                               flow(live["cells"]["gru"]["model"], length).state_norms()[::-1], rtol=1e-12)
    panels = figure(at, "why_live_curves")
    marks = [decode(tr["y"]) for tr in panels["data"] if tr.get("yaxis") == "y2"]
    assert len(marks) == 3
    assert re.search(r"\*\*Done\*\*: plain RNN 50 iterations, held-out MSE \d\.\d{4}; GRU 50", words(at))

    # a run that ended before finishing (what Stop leaves) is reported as stopped; its models kept
    at.session_state["why_live"] = {**live, "state": "training"}
    at.run()
    assert not at.exception
    assert "**Stopped**" in words(at)
