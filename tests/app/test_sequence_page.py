"""The sequence page through AppTest: numbers, text and CSV in; recorded arrays out."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import app, assert_step_view_shows, decode, step_figure, texts

from app.limits import DEFAULT_NUMBERS
from app.sequences import parse_numbers, parse_text
from gru_core import GRU, registry
from gru_core.tasks import bit_addition as ba

PAGE = "sequence"


def seq_app(**query):
    at = app(**query)
    at.switch_page("views/sequence.py")
    return at


def random_gru(I, H=8, seed=0, scale=1.0, conv="pytorch"):
    return GRU.random(I, H, seed=seed, scale=scale / np.sqrt(H), convention=conv)


def assert_views_match(at, lt, t):
    assert not at.exception, [e.value for e in at.exception]
    assert_step_view_shows(at, "seq", lt, t)
    shown_inputs = decode(step_figure(at, "seq", "top")["data"][0]["z"])
    np.testing.assert_array_equal(shown_inputs, lt.x.T.astype(np.float32))


def test_default_numbers_through_a_seeded_random_gru():
    at = seq_app()
    at.run()
    xs = parse_numbers(DEFAULT_NUMBERS).xs
    assert_views_match(at, random_gru(1).run(xs).last, 0)


def test_hidden_size_seed_scale_and_stepping():
    at = seq_app()
    at.run()
    at.number_input(key="seq_hidden").set_value(12).run()
    at.number_input(key="seq_seed").set_value(4).run()
    at.number_input(key="seq_scale").set_value(3.0).run()
    xs = parse_numbers(DEFAULT_NUMBERS).xs
    assert_views_match(at, random_gru(1, 12, 4, 3.0).run(xs).last, 0)


def test_a_link_opens_at_its_step():
    at = seq_app(t="5", unit="2")
    at.run()
    xs = parse_numbers(DEFAULT_NUMBERS).xs
    assert_step_view_shows(at, "seq", random_gru(1).run(xs).last, 5, 2)


def test_text_one_hot_and_convention():
    at = seq_app(mode="text", seq="good book, bad end")
    at.run()
    at.segmented_control(key="seq_conv").set_value("chung2014").run()
    xs = parse_text("good book, bad end").xs
    assert_views_match(at, random_gru(xs.shape[1], conv="chung2014").run(xs).last, 0)


def test_csv_upload_with_two_features_runs_the_adder():
    xs, _ = ba.encode(45, 27)
    csv = "a,b\n" + "\n".join(f"{int(p)},{int(q)}" for p, q in xs)
    at = seq_app(mode="csv")
    at.run()
    at.file_uploader(key="seq_upload").set_value(("sum.csv", csv.encode(), "text/csv")).run()
    at.selectbox(key="seq_model").set_value("adder").run()
    lt = registry.shipped_adder().cell.run(xs).last
    assert_views_match(at, lt, 0)
    assert any("GRU(2 → 16" in c for c in texts(at.caption))


@pytest.mark.parametrize("query, fragment", [
    ({"seq": "1, 2, banana"}, "Step 2 is 'banana'"),
    ({"seq": ""}, "empty"),
    ({"seq": ",".join(["1"] * 3000)}, "at most 2,048"),
    ({"seq": "1, nan"}, "not a finite number"),
])
def test_bad_sequences_explain_and_do_not_crash(query, fragment):
    at = seq_app(**query)
    at.run()
    assert not at.exception
    assert any(fragment in e for e in texts(at.error)), texts(at.error)


def test_broken_upload_is_explained():
    at = seq_app(mode="csv")
    at.run()
    at.file_uploader(key="seq_upload").set_value(("x.csv", b"1,2\n3\n", "text/csv")).run()
    assert not at.exception
    assert any("Row 2 has 1 column" in e for e in texts(at.error))


def test_bad_link_parameters_warn():
    at = seq_app(mode="video", hidden="-3", conv="nope")
    at.run()
    assert not at.exception
    assert len(at.warning) == 3


def test_trace_download_is_offered():
    at = seq_app()
    at.run()
    assert [b for b in at.get("download_button")]
