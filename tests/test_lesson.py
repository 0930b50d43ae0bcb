"""The lesson's texts and questions (app/lesson.py) as pure functions: every answer recomputed here from the
models, by hand where the numbers are small, and every convention-dependent sentence read in each convention."""

from __future__ import annotations

import numpy as np
import pytest

from app import lesson as L
from app import presets, query
from gru_core import CONVENTIONS, GRU, gradients, registry
from gru_core.tasks import bit_addition as ba
from gru_core.tasks.adding import sequences

CONV = list(CONVENTIONS)


@pytest.mark.parametrize("name", CONV)
def test_which_bit_the_adder_writes_is_read_from_its_run(name):
    run = ba.run_addition(registry.shipped_adder(name), 45, 27)
    q = L.bit_question(run)
    # 45 = 101101, 27 = 011011, least significant first: columns 0..2 each carry 1; column 3 is 1 + 1 + 1
    assert q.focus == (3, 0)
    assert "a = 1 and b = 1, and a carry of 1" in q.prompt
    assert q.right == {int(run.output[3])} and q.check(int(run.output[3])) and not q.check(1 - int(run.output[3]))
    assert "1 + 1 + 1 = 3: write 1, carry 1" in q.why


def test_a_wrong_network_is_called_wrong():
    run = ba.run_addition(registry.shipped_adder("pytorch"), 45, 27)
    wrong = type(run)(**{**run.__dict__, "output": 1 - run.output})   # the same run, every bit flipped
    q = L.bit_question(wrong)
    assert q.right == {int(1 - run.output[3])} and "gets this column wrong" in q.why


@pytest.mark.parametrize("name", CONV)
def test_the_flag_question_is_the_changed_runs_blend(name):
    c = CONVENTIONS[name]
    p = presets.PRESETS["Remember the first input"]
    xs = np.array([[float(v) for v in line.split(",")] for line in p.inputs.splitlines()])
    gru = GRU.from_arrays([p.params(c)], c)
    lt = gru.run(xs).last
    flagged_xs = xs.copy()
    flagged_xs[5, 1] = 1.0
    flagged = gru.run(flagged_xs).last
    q = L.flag_question(lt, flagged, c, 5)
    assert abs(lt.h[5, 0] - lt.h_prev[5, 0]) < abs(lt.h[5, 0] - lt.h_tilde[5, 0])   # as shown: the gate keeps
    old, cand, new = flagged.h_prev[5, 0], flagged.h_tilde[5, 0], flagged.h[5, 0]
    assert abs(new - cand) < abs(new - old)            # with the flag: it takes the candidate
    assert q.right == {1} and q.focus == (0, 0)
    w = flagged.z[5, 0] if c.z_keeps_old else 1 - flagged.z[5, 0]
    assert np.isclose(w * old + (1 - w) * cand, new)     # the why's arithmetic is the changed run's
    assert f"{new:.3f}" in q.why and f"{flagged.z[5, 0]:.3f}" in q.why
    assert f"{lt.h_prev[5, 0]:.3f}" in q.prompt and f"{lt.h_tilde[5, 0]:.3f}" in q.prompt


@pytest.mark.parametrize("name", CONV)
def test_update_text_says_which_z_keeps_in_each_convention(name):
    c = CONVENTIONS[name]
    text = L.update_text(c, 0.919)
    assert f"z near {'1' if c.z_keeps_old else '0'} keeps the old state" in text and "(0.919 here)" in text
    assert ("(1 − z)" in text) == c.z_keeps_old


@pytest.mark.parametrize("name", CONV)
def test_reset_text_says_where_r_acts(name):
    c = CONVENTIONS[name]
    text = L.reset_text(c)
    assert ("W_hn h_{t-1} + b_hn" in text) == c.reset_after_matmul
    assert ("before W_hn" in text) == (not c.reset_after_matmul)


@pytest.mark.parametrize("name", CONV)
def test_the_carry_question_accepts_every_unit_the_core_finds(name):
    model = registry.shipped_adder(name)
    finding = ba.carry_finding(model)
    q = L.carry_question(finding, model.cell.hidden_size)
    assert len(q.options) == model.cell.hidden_size
    corr = np.abs(finding.correlation)
    assert q.right == {j for j in range(model.cell.hidden_size) if corr[j] >= corr.max() - L.CARRY_CLOSE}
    assert {u.unit for u in finding.units} <= q.right     # every unit the core finds counts
    assert q.focus == (0, int(np.argmax(corr)))            # the reveal marks the best one


def test_gradient_question_is_the_least_gradient_recomputed():
    length = 50
    xs, _ = sequences(np.random.default_rng(2024 + length), 1, length)
    xs = xs[0].astype(np.float64)
    distance = length - 1 - int(np.flatnonzero(xs[:, 1])[0])
    left, reach = {}, {}
    from app import gradient_figures as gf
    for cell in registry.ADDING_CELLS:
        m = registry.load(f"adding_{cell}_{length}")
        flow = gradients.gradient_flow(m.cell, m.cell.run(xs), m.readout.weight[0])
        reach[cell] = gf.reach(flow, 0.0)
        left[cell] = reach[cell].state[distance]
    q = L.gradient_question(reach, gf.NAMES, distance)
    assert q.right == {list(reach).index(min(left, key=left.get))}
    assert f"{distance} steps before" in q.prompt


def test_stacking_question_measures_each_layers_movement():
    model = registry.load("forecast_stocks")
    xs = np.random.default_rng(0).normal(0, 0.05, size=(20, 1))
    trace = model.cell.run(xs)
    by_hand = [np.mean([abs(lt.h[t, j] - lt.h[t - 1, j]) for t in range(1, 20) for j in range(50)])
               for lt in trace.layers]       # week to week: not step 0's jump from the zero start
    np.testing.assert_allclose(L.movement(trace), by_hand)
    ratio = by_hand[1] / by_hand[0]
    expected = 0 if ratio < L.SAME_WITHIN else 2 if ratio > 1 / L.SAME_WITHIN else 1
    assert L.stacking_question(trace).right == {expected}


def test_the_flip_question_reads_both_recorded_runs():
    cho = ba.run_addition(registry.shipped_adder("cho2014"), 45, 27).trace.last
    chung = ba.run_addition(registry.shipped_adder("chung2014"), 45, 27).trace.last
    q = L.flip_question(cho, chung, 3, 2, "cho2014", "chung2014")
    np.testing.assert_allclose(chung.z, 1 - cho.z, atol=1e-12)
    assert q.right == {1} and q.options[1] == f"{1 - cho.z[3, 2]:.3f}".replace("-", "−")
    different = ba.run_addition(registry.shipped_adder("pytorch"), 45, 27).trace.last   # another network
    assert L.flip_question(cho, different, 3, 2, "cho2014", "pytorch").right == {2}


def test_the_flip_is_asked_of_a_gate_that_clearly_keeps_or_takes():
    z = np.array([[0.01, 0.99], [0.3, 0.97], [0.88, 0.45]])
    assert L.telling(z) == (2, 0)              # 0.88: clearly one way, not saturated, nearest ½ of those
    assert L.telling(np.array([[0.5, 0.999]])) == (0, 1)   # none in the band: the one furthest from ½


def test_conventions_text_follows_the_flags():
    text = L.conventions_text()
    keeps = " and ".join(c.name for c in CONVENTIONS.values() if c.z_keeps_old)
    assert f"In {keeps}, z near 1 keeps the old state" in text


def test_long_carry_question_is_the_runs_verdict():
    model = registry.shipped_adder("pytorch")
    run = ba.run_addition(model, (1 << 32) - 1, 1)
    q = L.long_carry_question(run, "the shipped adder")
    assert q.right == {0 if run.a + run.b == run.result else 1}
    assert "all 32 columns" in q.prompt
    broken = type(run)(**{**run.__dict__, "output": np.zeros_like(run.output)})   # writes 0 everywhere
    why = L.long_carry_question(broken, "a broken adder").why
    assert "It first writes a wrong bit at step 0: 0 where the sum bit is 0" not in why   # step 0 is right
    first = int(np.flatnonzero(broken.output != broken.target)[0])
    assert f"at step {first}: 0 where the sum bit is 1 (carry in {int(run.carry_in[first])})" in why


def test_every_chapter_text_is_short():
    finding = ba.carry_finding(registry.shipped_adder("pytorch"))
    texts = [L.adds_text(16), L.carry_text(finding), L.gradient_text([977, 1051]), L.conventions_text(), L.TRAIN_TEXT]
    texts += [L.update_text(c, 0.9) for c in CONVENTIONS.values()] + [L.reset_text(c) for c in CONVENTIONS.values()]
    for text in texts:
        assert L.words(text) <= L.MAX_CHAPTER_WORDS, text[:60]
    assert L.words("h_{t-1} is **0.25**, not $z_t$") == 5


def test_chapter_numbers_and_the_links_agree():
    assert [c.number for c in L.CHAPTERS] == list(range(1, query.LESSON_CHAPTERS + 1))
    messages: list[str] = []
    assert query.parse_lesson("3", messages, {}) == 3 and not messages
    assert query.parse_lesson("99", messages, {}) == query.LESSON_CHAPTERS and messages


def test_answers_round_trip_through_a_link_and_bad_pairs_are_said():
    answers = {1: 1, 4: 11, 7: 0}
    messages: list[str] = []
    assert query.parse_answers(query.format_answers(answers), messages, {}) == answers and not messages
    assert query.parse_answers("1.1-x.2-9.0-2.", messages, {}) == {1: 1}
    assert len(messages) == 1 and "`x.2`" in messages[0]
    assert query.parse_answers("1.1" * 200, messages, {}) == {}


def test_reset_question_is_read_from_the_trained_models_pass():
    from gru_core.tasks import last_part
    ex = last_part.example(registry.load("last_part"))
    q = L.reset_question(ex)
    m, u = ex.last_marker, ex.finding.unit
    before, at = ex.trace.last.r[m - 1, u], ex.trace.last.r[m, u]
    expected = 0 if at < 0.8 * before else 2 if at > 1.25 * before else 1
    assert q.right == {expected} and q.focus == (m, u)
    assert f"{at:.3f}" in q.why and f"{ex.finding.r_at_markers[u]:.3f}" in q.why
    past = ex.finding.past_at_markers[u] / ex.finding.past_elsewhere[u]
    assert f"{past:.2f} times as large" in q.why        # a number, not a word such as "barely"
