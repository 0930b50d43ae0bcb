"""Sentences that were once false (issue "every sentence true"), each checked where it is shown."""

from __future__ import annotations

from helpers import app, step_view, texts

from app import limits


def page(name, **q):
    at = app(**q)
    at.switch_page(f"views/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_recurrent_scale_help_says_what_zero_does():
    at = page("lab")
    at.segmented_control(key="lab_mode").set_value("ablate").run()
    help_text = at.slider(key="abl_scale").help
    assert "cuts the memory" not in help_text and "still blends in $h_{t-1}$" in help_text
    assert "bias included" in at.slider(key="abl_dr").help   # pytorch: r scales b_hn too


def test_training_help_names_the_sums_it_checks():
    at = page("train")
    at.number_input(key="tr_bits").set_value(4).run()
    assert "every sum of two 4-bit numbers is exact (all 256 of them" in at.number_input(key="tr_iters").help
    at.number_input(key="tr_bits").set_value(12).run()
    assert "two 8-bit numbers is exact (all 65,536 of them" in at.number_input(key="tr_iters").help


def test_switching_to_text_starts_from_the_text_example():
    at = page("sequence")
    at.radio(key="seq_mode").set_value("text").run()
    assert at.text_area(key="seq_text").value == limits.DEFAULT_TEXT
    assert not texts(at.error)


def test_step_zero_says_where_the_state_starts():
    """The note the browser shows at step 0 (and only there: tests/browser) says what h_{t-1} is."""
    at = app(a="13", b="7")
    at.run()
    head, _ = step_view(at, "add")
    assert "initial state, which is all zeros" in head["equations"]["startNote"]


def test_an_unexpected_fault_is_a_message_not_a_traceback(monkeypatch):
    from app import services

    def broken(*args, **kwargs):
        raise RuntimeError("/secret/server/path.py exploded")

    monkeypatch.setattr(services, "addition", broken)
    at = app(a="13", b="7")
    at.run()
    assert not at.exception
    shown = " ".join(texts(at.error))
    assert "Something went wrong" in shown and "/secret" not in shown


def test_stacking_sentence_follows_the_readout_of_the_model_shown():
    from app import labels
    from gru_core import GRU

    gru = GRU.random(3, 5, num_layers=2, seed=0)
    assert "the last one included" in labels.stacking_text(gru, 1, per_step_readout=True)
    assert "but the last, whose final state alone" in labels.stacking_text(gru, 1, per_step_readout=False)
    no_readout = labels.stacking_text(gru, 0)
    assert "but the last needs return_sequences=True" in no_readout and "readout" not in no_readout
    assert "layer 1 are layer 0's h_t" in labels.stacking_text(gru, 1)


def test_real_window_help_says_what_was_held_out_and_it_is_so():
    from gru_core.tasks.forecast import HELD_OUT, Forecast

    help_text = page("sequence").button(key="seq_real_week").help
    assert "never trained on" not in help_text
    assert f"{Forecast().window} consecutive weeks" in help_text
    assert f"lies in the last {HELD_OUT:.0%} of the weeks, which were held out of training" in help_text
    # what the help says: every held-out window forecasts a week after every week any training window
    # used (as input or as target), for each stock
    split = Forecast().labelled_split()
    last_trained = {}
    for ticker, week in split["train"][2]:
        last_trained[ticker] = max(week, last_trained.get(ticker, week))
    assert all(week > last_trained[ticker] for ticker, week in split["held_out"][2])
