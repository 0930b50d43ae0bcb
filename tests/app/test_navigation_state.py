"""Going to another page (or another lab mode) and back loses nothing and raises nothing."""

from __future__ import annotations

from helpers import app, step_heatmaps, texts


def go(at, page):
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_lab_modes_and_pages_round_trip():
    at = go(app(), "lab")
    at.selectbox(key="lab_preset").set_value("Forget at a separator").run()
    at.number_input(key="lab_hidden").set_value(2).run()
    at.segmented_control(key="lab_mode").set_value("ablate").run()
    at.slider(key="abl_dz").set_value(1.0).run()
    at.segmented_control(key="lab_mode").set_value("tiny").run()
    assert not at.exception, [e.value for e in at.exception]
    go(at, "bit_addition")
    go(at, "lab")
    assert at.selectbox(key="lab_preset").value == "Forget at a separator"
    assert at.number_input(key="lab_hidden").value == 2
    assert step_heatmaps(at, "lab")[0].shape[0] == 2
    at.segmented_control(key="lab_mode").set_value("ablate").run()
    assert at.slider(key="abl_dz").value == 1.0


def test_sequence_inputs_survive_a_visit_elsewhere():
    at = go(app(), "sequence")
    at.text_area(key="seq_text").set_value("3, 1, 4, 1, 5").run()
    at.number_input(key="seq_hidden").set_value(12).run()
    at.number_input(key="seq_scale").set_value(3.0).run()
    at.segmented_control(key="seq_conv").set_value("cho2014").run()
    go(at, "bit_addition")
    go(at, "sequence")
    assert at.text_area(key="seq_text").value == "3, 1, 4, 1, 5"
    assert (at.number_input(key="seq_hidden").value, at.number_input(key="seq_scale").value) == (12, 3.0)
    assert at.segmented_control(key="seq_conv").value == "cho2014"
    assert not texts(at.error)


def test_addition_inputs_survive_a_visit_elsewhere():
    at = app(a="13", b="7")
    at.run()
    at.segmented_control(key="add_conv").set_value("cho2014").run()
    go(at, "lab")
    go(at, "bit_addition")
    assert (at.text_input(key="add_a_text").value, at.text_input(key="add_b_text").value) == ("13", "7")
    assert at.segmented_control(key="add_conv").value == "cho2014"


def test_training_settings_survive_a_visit_elsewhere():
    at = go(app(), "train")
    at.number_input(key="tr_hidden").set_value(7).run()
    go(at, "sequence")
    go(at, "train")
    assert at.number_input(key="tr_hidden").value == 7
    assert not at.warning  # no "set via Session State API" warning from re-asserted keys
