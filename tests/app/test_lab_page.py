"""Parameter lab through AppTest: presets, sizes, conventions, and the adder's knobs."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import app, decode, step_figure, step_heatmaps, step_view, texts

from app import labels, presets
from app.sequences import parse_csv
from gru_core import CONVENTIONS, GRU, registry
from gru_core.tasks import bit_addition as ba


def lab(**q):
    at = app(**q)
    at.switch_page("views/lab.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def expected_preset_trace(name, convention="pytorch"):
    p, c = presets.PRESETS[name], CONVENTIONS[convention]
    return GRU.from_arrays([p.params(c)], c).run(parse_csv(p.inputs.encode()).xs).last


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_each_preset_shows_its_gru_and_explains_itself(name):
    at = lab()
    at.selectbox(key="lab_preset").set_value(name).run()
    lt = expected_preset_trace(name)
    for shown, recorded in zip(step_heatmaps(at, "lab"), (lt.z, lt.r, lt.h_tilde, lt.h)):
        np.testing.assert_array_equal(shown, recorded.T.astype(np.float32))
    assert labels.md(presets.PRESETS[name].describe(CONVENTIONS["pytorch"])) in texts(at.info)


@pytest.mark.parametrize("conv", ["cho2014", "chung2014"])
def test_a_convention_switch_shows_the_preset_written_for_it(conv):
    at = lab()
    at.segmented_control(key="lab_conv").set_value(conv).run()
    name = next(iter(presets.PRESETS))
    lt = expected_preset_trace(name, conv)
    z, _, _, h = step_heatmaps(at, "lab")
    np.testing.assert_array_equal(z, lt.z.T.astype(np.float32))
    # the same behaviour as in pytorch: the same h, whatever way z is read
    np.testing.assert_allclose(h, expected_preset_trace(name).h.T.astype(np.float32), atol=1e-6)
    one_means = "take the new candidate" if conv == "chung2014" else "keep the old state"
    assert f"1 = {one_means}" in step_figure(at, "lab", "heatmaps")["layout"]["annotations"][0]["text"]
    assert labels.md(presets.PRESETS[name].describe(CONVENTIONS[conv])) in texts(at.info)


def test_resizing_keeps_numbers_and_pads_with_zeros():
    at = lab()
    at.number_input(key="lab_hidden").set_value(3).run()
    assert not at.exception
    z = step_heatmaps(at, "lab")[0]
    assert z.shape[0] == 3
    p = presets.PRESETS[next(iter(presets.PRESETS))]
    # unit 0 keeps the preset's numbers; units 1-2 are all-zero, so their z is σ(0) = 0.5
    np.testing.assert_array_equal(z[0], expected_preset_trace(p.name).z[:, 0].astype(np.float32))
    np.testing.assert_allclose(z[1:], 0.5)


def test_bad_input_sequence_is_explained():
    at = lab()
    at.text_area(key="lab_inputs").set_value("1, 0\n2").run()
    assert not at.exception and any("line 2 has 1 number(s); each line needs 2" in e for e in texts(at.error))
    at.text_area(key="lab_inputs").set_value("1\n2").run()
    assert any("line 1 has 1 number(s)" in e for e in texts(at.error))
    # a first line that is not numbers is a mistake to point at, not a header to drop silently
    at.text_area(key="lab_inputs").set_value("a, b\n1, 0").run()
    assert any("line 1, number 1 is 'a', which is not a number" in e for e in texts(at.error))
    at.text_area(key="lab_inputs").set_value("1 0\n0;1\n1,\t1").run()   # the sequence page's separators
    assert not texts(at.error)
    np.testing.assert_array_equal(decode_inputs(at), [[1, 0, 1], [0, 1, 1]])


def decode_inputs(at):
    return decode(step_figure(at, "lab", "top")["data"][0]["z"])


def test_changing_the_inputs_per_step_rewrites_the_typed_rows_and_keeps_bad_text():
    at = lab()
    at.text_area(key="lab_inputs").set_value("0.5 1\n-2;3e-1\n\n7,\t0").run()
    at.number_input(key="lab_input_size").set_value(1).run()
    assert not at.exception and not texts(at.error)
    assert at.text_area(key="lab_inputs").value == "0.5\n-2\n7"
    at.number_input(key="lab_input_size").set_value(2).run()
    assert at.text_area(key="lab_inputs").value == "0.5, 0\n-2, 0\n7, 0"
    np.testing.assert_array_equal(decode_inputs(at), [[0.5, -2, 7], [0, 0, 0]])
    # text that does not parse is kept as typed, and the page says what is wrong
    at.text_area(key="lab_inputs").set_value("0.5, 1\nx, 2").run()
    at.number_input(key="lab_input_size").set_value(1).run()
    assert not at.exception
    assert at.text_area(key="lab_inputs").value == "0.5, 1\nx, 2"
    assert texts(at.error)
    # a header line is not dropped: it is pointed at
    at.text_area(key="lab_inputs").set_value("price\n1\n2").run()
    assert any("line 1, number 1 is 'price'" in e for e in texts(at.error))


def ablate(at, dz=0.0, dr=0.0, scale=1.0):
    at.segmented_control(key="lab_mode").set_value("ablate").run()
    at.slider(key="abl_dz").set_value(dz).run()
    at.slider(key="abl_dr").set_value(dr).run()
    at.slider(key="abl_scale").set_value(scale).run()
    assert not at.exception
    return at


def test_knobs_change_accuracy_and_heatmaps_as_the_core_says():
    at = ablate(lab(), dz=2.0, scale=0.8)
    adder = registry.shipped_adder()
    tweaked = adder.with_cell(adder.cell.ablated(update_bias_shift=2.0, recurrent_scale=0.8))
    acc = ba.exact_sum_accuracy(tweaked, ba.EXACT_SUM_CHECK)
    assert at.metric[0].value == f"{100 * acc:.1f} %"
    lt = ba.run_addition(tweaked, 46955, 27509).trace.last
    z = step_heatmaps(at, "abl")[0]
    np.testing.assert_array_equal(z, lt.z.T.astype(np.float32))
    _, arrays = step_view(at, "abl")
    np.testing.assert_array_equal(arrays["z"], lt.z.T.astype(np.float32))   # what the equations show


def test_untouched_knobs_are_the_shipped_model():
    at = ablate(lab())
    assert at.metric[0].value == "100.0 %"


def test_a_tweak_stays_in_its_session():
    """Two sessions share the cached model; one's tweak must not reach the other."""
    first = ablate(lab(), dz=4.0, dr=-3.0, scale=0.3)
    assert first.metric[0].value != "100.0 %"
    second = ablate(lab())
    assert second.metric[0].value == "100.0 %"
    lt = ba.run_addition(registry.shipped_adder(), 46955, 27509).trace.last
    np.testing.assert_array_equal(step_heatmaps(second, "abl")[0], lt.z.T.astype(np.float32))
    shipped = registry.shipped_adder().cell.layers[0]
    cached_fresh = registry.load("bit_adder").cell.layers[0]
    np.testing.assert_array_equal(shipped.bias_ih, cached_fresh.bias_ih)


def test_torch_export_in_pytorch_only_and_keras_export_in_every_convention():
    def offered(at):
        return [b.proto.label for b in at.get("download_button")]

    at = lab()
    assert offered(at) == ["Download as a torch.nn.GRU state_dict", "Download as a Keras 3 model (.keras)"]
    for conv in ("cho2014", "chung2014"):
        at.segmented_control(key="lab_conv").set_value(conv).run()
        assert offered(at) == ["Download as a Keras 3 model (.keras)"]
        assert any("pytorch convention only" in c for c in texts(at.caption))
