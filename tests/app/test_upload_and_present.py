"""Bring your own GRU (safely), and presentation mode."""

from __future__ import annotations

import io
import pickle

import numpy as np
import torch
from helpers import app, step_figure, step_heatmaps, step_view, texts

from gru_core import GRU


def saved(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def upload_page(data: bytes, seq="1,2,3,4,5,6"):
    at = app(seq=seq)
    at.switch_page("views/sequence.py")
    at.run()
    at.selectbox(key="seq_model").set_value("upload").run()
    at.file_uploader(key="seq_model_file").set_value(("gru.pt", data, "application/octet-stream")).run()
    return at


def test_uploaded_two_layer_gru_runs_and_a_layer_can_be_picked():
    torch.manual_seed(0)
    m = torch.nn.GRU(1, 5, num_layers=2)
    at = upload_page(saved(m.state_dict()))
    assert not at.exception, [e.value for e in at.exception]
    trace = GRU.from_torch(m).run(np.arange(1, 7, dtype=np.float64)[:, None])
    np.testing.assert_allclose(step_heatmaps(at, "seq")[3], trace.layers[1].h.T, atol=1e-6)
    at.selectbox(key="seq_layer").set_value(0).run()
    np.testing.assert_allclose(step_heatmaps(at, "seq")[3], trace.layers[0].h.T, atol=1e-6)


class RunsCode:
    def __reduce__(self):
        return (exec, ("open('/tmp/gru_gate_lab_upload_pwned', 'w').write('x')",))


def test_a_pickle_that_would_run_code_is_refused():
    import os

    at = upload_page(saved({"weight_ih_l0": RunsCode()}))  # what an attacker's torch.save would write
    assert not at.exception
    assert any("could run code" in e for e in texts(at.error)), texts(at.error)
    # a plain pickle (protocol 5) never gets as far as its code either
    at = upload_page(pickle.dumps({"weight_ih_l0": RunsCode()}, protocol=5))
    assert not at.exception
    assert any("could not be read as a PyTorch file" in e for e in texts(at.error)), texts(at.error)
    assert not os.path.exists("/tmp/gru_gate_lab_upload_pwned")


def test_an_lstm_is_explained():
    at = upload_page(saved(torch.nn.LSTM(1, 4).state_dict()))
    assert not at.exception and any("LSTM" in e for e in texts(at.error))


def test_input_width_mismatch_is_explained():
    at = upload_page(saved(torch.nn.GRU(3, 4).state_dict()))
    assert any("reads 3 feature(s) per step but the sequence has 1" in e for e in texts(at.error))


def test_present_link_reduces_controls_to_stepping():
    at = app(present="1", a="13", b="7")
    at.run()
    assert not at.exception
    assert at.session_state["app_present"] is True
    assert at.toggle(key="app_present").value is True
    labels = [e.label for e in at.expander]
    assert "Change the example" in labels                      # inputs folded away
    head, _ = step_view(at, "add")
    assert head["present"] is True   # the browser leaves out the unit picker (tests/browser)
    heat = step_figure(at, "add", "heatmaps")
    assert heat["layout"]["font"]["size"] == 20
    at.toggle(key="app_present").set_value(False).run()
    assert "present" not in at.query_params


def test_bad_present_value_warns():
    at = app(present="maybe")
    at.run()
    assert any("present=maybe" in w for w in texts(at.warning))


def test_a_torch_file_starts_in_pytorch_and_another_convention_says_what_it_means():
    torch.manual_seed(0)
    m = torch.nn.GRU(1, 5)
    at = app(seq="1,2,3,4,5,6", conv="cho2014")   # a convention picked for the random GRU first
    at.switch_page("views/sequence.py")
    at.run()
    assert at.segmented_control(key="seq_conv").value == "cho2014"
    at.selectbox(key="seq_model").set_value("upload").run()
    at.file_uploader(key="seq_model_file").set_value(("gru.pt", saved(m.state_dict()),
                                                      "application/octet-stream")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.segmented_control(key="seq_conv").value == "pytorch"
    xs = np.arange(1, 7, dtype=np.float64)[:, None]
    np.testing.assert_allclose(step_heatmaps(at, "seq")[3], GRU.from_torch(m).run(xs).last.h.T, atol=1e-6)
    assert not any("a different network" in c for c in texts(at.caption))
    at.segmented_control(key="seq_conv").set_value("chung2014").run()
    assert not at.exception
    assert any("Shown in chung2014, the same numbers run through other equations" in c for c in texts(at.caption))
