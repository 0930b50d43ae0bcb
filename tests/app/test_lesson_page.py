"""The lesson through AppTest: each chapter's text, its live view (the real model's recorded numbers), its
question answered right and wrong with the answer recomputed here, progress kept in the link, teacher links,
presentation mode's steps, and the reading check (the whole lesson read aloud in at most 15 minutes)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import app, decode, figure_alone, step_figure, step_view, step_views, texts

from app import lesson as L
from app import presets
from gru_core import CONVENTIONS, GRU, registry
from gru_core.tasks import bit_addition as ba
from gru_core.tasks.adding import sequences

EXAMPLE = (45, 27)


def lesson(**query):
    at = app(**query)
    at.switch_page("views/lesson.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]     # a view that failed would say so in the page
    return at


def words_on(at) -> str:
    return " ".join(texts(at.markdown) + texts(at.caption) + texts(at.info) + texts(at.success)
                    + texts(at.warning) + texts(at.header))


def question_radio(at, n: int):
    return at.radio(key=f"les_q{n}")


def check(at, n: int, option: int):
    question_radio(at, n).set_value(option)
    at.run()
    at.button(key="les_check").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def the_right_and_a_wrong(q_right: set[int], options: int) -> tuple[int, int]:
    right = min(q_right)
    wrong = next(k for k in range(options) if k not in q_right)
    return right, wrong


def wrong_then_right(at, n: int, right: int) -> str:
    """Answer chapter ``n`` with another option (told it is not right), then with ``right`` (told it is);
    returns the reveal's text."""
    options = len(question_radio(at, n).options)
    check(at, n, next(k for k in range(options) if k != right))
    assert at.warning and "Not quite" in at.warning[0].value
    at.button(key="les_retry").click()
    at.run()
    check(at, n, right)
    assert at.success and "Right." in at.success[0].value
    return at.success[0].value


# -- chapter by chapter: the view is the model's, the answer is recomputed --------------------------------
@pytest.mark.parametrize("name", ["pytorch", "chung2014"])
def test_chapter_1_shows_the_adders_bits_and_asks_for_one(name):
    at = lesson(lesson="1")
    at.segmented_control(key="les_conv").set_value(name)
    at.run()
    model = registry.shipped_adder(name)
    run = ba.run_addition(model, *EXAMPLE)
    assert L.adds_text(model.cell.hidden_size)[:60] in words_on(at)
    head, arrays = step_view(at, "les1")
    assert [f["id"] for f in head["figures"]] == ["top"] and head["equations"] is None and not head["clicker"]
    top = step_figure(at, "les1", "top")      # what the network writes is hidden until the reader predicts it
    np.testing.assert_array_equal(decode(top["data"][0]["z"]),
                                  np.stack([run.xs[:, 0], run.xs[:, 1], run.target]).astype(np.float32))
    assert "writes" not in head["sentence"]
    wrote = int(run.output[3])
    check(at, 1, 1 - wrote)
    np.testing.assert_array_equal(decode(step_figure(at, "les1", "top")["data"][0]["z"])[3],
                                  run.output.astype(np.float32))   # revealed: the network's row is drawn
    assert at.warning and "Not quite" in at.warning[0].value and f"It writes **{wrote}**" in at.warning[0].value
    assert step_view(at, "les1")[0]["start"] == {"t": 3, "unit": 0}     # the reveal turns the view to step 3
    at.button(key="les_retry").click()
    at.run()
    check(at, 1, wrote)
    assert at.success and "Right." in at.success[0].value


@pytest.mark.parametrize("name", list(CONVENTIONS))
def test_chapter_2_blends_the_presets_state_in_every_convention(name):
    at = lesson(lesson="2")
    at.segmented_control(key="les_conv").set_value(name)
    at.run()
    c = CONVENTIONS[name]
    p = presets.PRESETS["Remember the first input"]
    xs = np.array([[float(v) for v in line.split(",")] for line in p.inputs.splitlines()])
    lt = GRU.from_arrays([p.params(c)], c).run(xs).last
    text = words_on(at)
    assert f"z near {'1' if c.z_keeps_old else '0'} keeps the old state" in text
    head, arrays = step_view(at, "les2")
    assert [f["id"] for f in head["figures"]] == ["heatmaps", "blend"]
    np.testing.assert_array_equal(arrays["z"], lt.z.T.astype(np.float32))
    np.testing.assert_array_equal(arrays["h"], lt.h.T.astype(np.float32))
    flagged_xs = xs.copy()
    flagged_xs[5, 1] = 1.0                           # the question: the start flag at step 5 as well
    flagged = GRU.from_arrays([p.params(c)], c).run(flagged_xs).last
    stays = abs(flagged.h[5, 0] - flagged.h_prev[5, 0]) <= abs(flagged.h[5, 0] - flagged.h_tilde[5, 0])
    assert f"{flagged.h[5, 0]:.3f}" in wrong_then_right(at, 2, 0 if stays else 1)


def test_chapter_3_shows_the_trained_models_reset_gate_at_the_markers():
    from gru_core.tasks import last_part
    at = lesson(lesson="3")
    model = registry.load("last_part")
    ex = last_part.example(model)
    head, arrays = step_view(at, "les3")
    np.testing.assert_array_equal(arrays["r"], ex.trace.last.r.T.astype(np.float32))
    np.testing.assert_array_equal(decode(step_figure(at, "les3", "top")["data"][0]["z"]), ex.xs.T.astype(np.float32))
    q = L.reset_question(ex)
    right, wrong = the_right_and_a_wrong(set(q.right), len(q.options))
    check(at, 3, wrong)
    assert at.warning and f"**{ex.trace.last.r[ex.last_marker, ex.finding.unit]:.3f}**" in at.warning[0].value
    assert step_view(at, "les3")[0]["start"] == {"t": ex.last_marker, "unit": ex.finding.unit}
    at.button(key="les_retry").click()
    at.run()
    check(at, 3, right)
    assert at.success


@pytest.mark.parametrize("name", ["pytorch", "cho2014"])
def test_chapter_4_checks_the_students_unit_against_the_carry_finding(name):
    at = lesson(lesson="4")
    at.segmented_control(key="les_conv").set_value(name)
    at.run()
    model = registry.shipped_adder(name)
    corr = np.abs(ba.carry_finding(model).correlation)
    close = {j for j in range(model.cell.hidden_size) if corr[j] >= corr.max() - L.CARRY_CLOSE}
    best = int(np.argmax(corr))
    right, wrong = the_right_and_a_wrong(close, model.cell.hidden_size)
    check(at, 4, wrong)
    assert at.warning and f"unit {best} (" in at.warning[0].value
    at.button(key="les_retry").click()
    at.run()
    check(at, 4, right)
    assert at.success
    head, arrays = step_view(at, "les4")
    assert head["start"]["unit"] == best       # the reveal turns to the unit that follows the carry best
    np.testing.assert_array_equal(arrays["h"], ba.run_addition(model, 44, 45).trace.last.h.T.astype(np.float32))


def test_chapter_5_draws_the_three_cells_gradients_and_asks_which_is_least():
    at = lesson(lesson="5")
    fig = figure_alone(at, "les_gradients")
    shown = {tr["name"]: decode(tr["y"]) for tr in fig["data"]}
    radio = question_radio(at, 5)
    options = list(radio.options)
    xs, _ = sequences(np.random.default_rng(2024 + 50), 1, 50)     # the page's example, from its seed
    distance = 50 - 1 - int(np.flatnonzero(xs[0, :, 1])[0])
    left = {}
    for name, values in shown.items():
        for k, option in enumerate(options):
            if name.startswith(option):
                left[k] = values[distance]
    assert len(left) == 3
    counts = [m.cell.parameter_count + m.readout.weight.size + m.readout.bias.size
              for m in (registry.load(f"adding_{c}_50") for c in registry.ADDING_CELLS)]
    assert f"of {min(counts):,} to {max(counts):,} parameters" in words_on(at)   # read from the models
    wrong_then_right(at, 5, min(left, key=left.get))


def test_chapter_6_shows_both_layers_of_seed_001s_forecaster():
    at = lesson(lesson="6")
    model = registry.load("forecast_stocks")
    head, arrays = step_view(at, "les6")
    assert set(arrays) >= {"h_layer0", "h_layer1"}
    trace = model.cell.run(arrays["x"].T.astype(np.float64)) if "x" in arrays else None
    text = words_on(at)
    assert "stacks 2 layers of 50 units" in text
    if trace is not None:
        np.testing.assert_allclose(arrays["h_layer1"], trace.layers[1].h.T, atol=1e-6)
    moved = [float(np.mean(np.abs(np.diff(arrays[k], axis=1)))) for k in ("h_layer0", "h_layer1")]   # week to week
    ratio = moved[1] / moved[0]
    wrong_then_right(at, 6, 0 if ratio < L.SAME_WITHIN else 2 if ratio > 1 / L.SAME_WITHIN else 1)


def test_chapter_7_flips_z_and_keeps_h():
    at = lesson(lesson="7")
    cho = ba.run_addition(registry.shipped_adder("cho2014"), *EXAMPLE).trace.last
    head, arrays = step_view(at, "les7")
    np.testing.assert_allclose(arrays["z"], cho.z.T, atol=1e-6)           # it opens in cho2014
    at.segmented_control(key="les_conv").set_value("chung2014").run()
    head, arrays = step_view(at, "les7")
    np.testing.assert_allclose(arrays["z"], (1 - cho.z).T, atol=1e-6)     # chung2014's z is cho2014's 1 − z
    np.testing.assert_allclose(arrays["h"], cho.h.T, atol=1e-6)
    edge = np.minimum(cho.z, 1 - cho.z)
    band = np.where((edge >= 0.05) & (edge <= 0.2), edge, -1)             # clearly one way, not saturated
    t, unit = np.unravel_index(np.argmax(band), cho.z.shape)
    assert f"unit {unit}'s z at step {t} is {cho.z[t, unit]:.3f}" in words_on(at)
    assert f"**{1 - cho.z[t, unit]:.3f}**" in wrong_then_right(at, 7, 1)


def test_chapter_8_asks_the_shipped_adder_until_a_model_is_trained():
    at = lesson(lesson="8")
    run = ba.run_addition(registry.shipped_adder("pytorch"), (1 << 32) - 1, 1)
    assert any("shipped adder" in c for c in texts(at.caption))
    assert f"{run.result:,}" in wrong_then_right(at, 8, 0 if run.correct else 1)


def test_chapter_8_asks_the_model_trained_in_the_tab():
    """Trained on the Train page, then back to the lesson: the question is the new model's, answered from it."""
    from gru_core.train import TrainConfig, train
    at = app()
    at.switch_page("views/train.py")
    at.run()
    at.number_input(key="tr_hidden").set_value(4).run()
    at.number_input(key="tr_iters").set_value(10).run()
    at.button(key="tr_start").click().run()
    assert at.session_state["app_trained"] is not None
    at.switch_page("views/lesson.py")
    at.run()
    at.selectbox(key="les_chapter").set_value(8).run()
    assert not at.exception and not at.error
    assert any("the model you trained (4 units" in c for c in texts(at.caption))
    offline = train(ba.BitAddition(bits=8, harden=False), TrainConfig(hidden_size=4, seed=0,
                                                                      stage_iterations={"learn": 10}))
    run = ba.run_addition(offline, (1 << 32) - 1, 1)
    assert f"{run.result:,}" in wrong_then_right(at, 8, 0 if run.correct else 1)
    head, arrays = step_view(at, "les8")
    top = step_figure(at, "les8", "top")
    np.testing.assert_array_equal(decode(top["data"][0]["z"])[3], run.output.astype(np.float32))


# -- progress, links, presentation --------------------------------------------------------------------
def test_progress_is_kept_in_the_link_and_judged_again_when_opened():
    at = lesson(lesson="1")
    wrote = int(ba.run_addition(registry.shipped_adder("pytorch"), *EXAMPLE).output[3])
    check(at, 1, wrote)
    at.button(key="les_next").click()
    at.run()
    link = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    assert link["lesson"] == "2" and link["answers"] == f"1.{wrote}"
    again = lesson(lesson="3", answers=f"1.{wrote}-7.0")     # chapter 7's option 0 is the unflipped z: wrong
    assert "2 of 8 chapters answered, 1 right" in " ".join(el.proto.text for el in again.get("progress"))


def test_a_nonsense_link_gets_a_message_and_a_chapter():
    at = lesson(lesson="42", answers="1.1-banana")
    said = " ".join(texts(at.warning))
    assert "lesson=42" in said and "banana" in said
    assert "8 · Train your own" in texts(at.header)[0]


def test_presentation_mode_moves_through_a_chapters_steps():
    at = lesson(lesson="1", present="1")
    assert texts(at.header)[0].startswith("1 ·")
    seen = []
    for _ in range(len(L.STAGES)):
        seen.append((bool(step_view_names(at)), bool(at.get("radio")), bool(at.info or at.success)))
        at.button(key="les_next").click()
        at.run()
        assert not at.exception
    # read: text only; do: the view; predict: the question; reveal: the answer on the view; then chapter 2
    assert seen == [(False, False, False), (True, False, False), (False, True, False), (True, False, True)]
    assert texts(at.header)[0].startswith("2 ·")
    at.button(key="les_back").click()
    at.run()
    assert texts(at.header)[0].startswith("1 ·")


def test_every_step_of_every_chapter_draws_while_presenting():
    """The compact views (heatmaps, bit rows, inputs) of all eight chapters, step by step, with no error."""
    at = lesson(lesson="1", present="1")
    for c in L.CHAPTERS:
        for stage in L.STAGES:
            assert texts(at.header)[0].startswith(f"{c.number} ·"), (c.number, stage)
            assert not at.error and not at.exception, (c.number, stage, [e.value for e in at.error])
            if stage in ("do", "reveal") and c.number != 5:
                head, _ = step_view(at, f"les{c.number}")
                assert head["present"] and not head["clicker"]
            if at.button(key="les_next").disabled:          # the lesson's very last step
                assert (c.number, stage) == (len(L.CHAPTERS), L.STAGES[-1])
                return
            at.button(key="les_next").click()
            at.run()


def step_view_names(at) -> list[str]:
    return list(step_views(at))


def test_the_first_page_offers_the_lesson_once():
    at = app()
    at.run()
    assert any(el.proto.page == "views/lesson.py" or "lesson" in el.proto.page for el in at.get("page_link"))
    at.button(key="app_explore").click()
    at.run()
    assert not at.get("page_link")


def test_the_whole_lesson_reads_aloud_in_fifteen_minutes():
    """Every word the eight chapters show — texts, what to do, notes, questions and answers."""
    total = 0
    for c in L.CHAPTERS:
        at = lesson(lesson=str(c.number))
        check(at, c.number, 0)
        shown = words_on(at)
        total += L.words(shown)
        assert L.words(shown) <= 450, c.title
    minutes = total / L.WORDS_PER_MINUTE
    print(f"the lesson: {total} words, {minutes:.1f} minutes at {L.WORDS_PER_MINUTE} words a minute")
    assert minutes <= 15


def test_an_answer_stays_with_the_network_it_was_about():
    """Answered in pytorch, chapter 4 comes back in pytorch after chapter 7 picked cho2014; picking
    another convention there is another network, so the question is asked again."""
    at = lesson(lesson="4")
    check(at, 4, 0)
    answered = bool(at.success or at.warning)
    at.selectbox(key="les_chapter").set_value(7).run()
    assert at.segmented_control(key="les_conv").value == "cho2014"
    at.selectbox(key="les_chapter").set_value(4).run()
    assert answered and at.segmented_control(key="les_conv").value == "pytorch"
    assert (at.success or at.warning) and not at.get("radio")
    at.segmented_control(key="les_conv").set_value("chung2014").run()
    assert not at.exception and not (at.success or at.warning) and question_radio(at, 4).value is None
