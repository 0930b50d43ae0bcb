"""Stacked models on the sequence page: seed 001's forecaster and a real Keras model, every layer
reachable, stacking explained from the model shown, and the readout the core computes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from helpers import app, step_heatmaps, texts

from app.sequences import parse_numbers
from gru_core import checkpoints, registry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import keras_files  # noqa: E402 (tests/ on the path above: it builds real Keras models)

SEQ = "0.1, -0.05, 0.02, 0.0, 0.03, -0.01, 0.04, 0.02"


def sequence_page(**q):
    at = app(**q)
    at.switch_page("views/sequence.py").run()
    return at


def test_seed_001s_forecaster_every_layer_and_its_forecast():
    at = sequence_page(seq=SEQ)
    at.selectbox(key="seq_model").set_value("forecast").run()
    assert not at.exception, [e.value for e in at.exception]
    model = registry.load("forecast_stocks")
    trace = model.run(parse_numbers(SEQ).xs)
    words = " ".join(texts(at.markdown))
    assert "This GRU stacks 2 layers of 50 units" in words and "return_sequences=True" in words
    np.testing.assert_allclose(step_heatmaps(at, "seq")[3], trace.layers[1].h.T, atol=1e-6)
    at.selectbox(key="seq_layer").set_value(0).run()
    np.testing.assert_allclose(step_heatmaps(at, "seq")[3], trace.layers[0].h.T, atol=1e-6)
    assert "the numbers the two layers share" not in " ".join(texts(at.markdown))
    at.selectbox(key="seq_layer").set_value(1).run()
    assert "layer 0's $h_{t}$, the numbers the two layers share" in " ".join(texts(at.markdown))
    forecast = float(model.logits(trace)[0])
    assert f"**{forecast:+.4f}** on this sequence" in " ".join(texts(at.markdown))


def test_a_keras_model_uploaded_runs_in_the_convention_its_file_says(tmp_path):
    model = keras_files.gru_stack(units=6, inputs=1, layers=2, outputs=1, reset_after=False)
    path = tmp_path / "seed001.keras"
    model.save(path)
    at = sequence_page(seq=SEQ)
    at.selectbox(key="seq_model").set_value("upload").run()
    at.file_uploader(key="seq_model_file").set_value([("seed001.keras", path.read_bytes(),
                                                       "application/octet-stream")]).run()
    assert not at.exception, [e.value for e in at.exception]
    loaded = checkpoints.load_upload(path.read_bytes(), "seed001.keras")
    assert loaded.gru.convention.name == "cho2014"
    assert any("computes the cho2014 convention" in c for c in texts(at.caption))
    trace = loaded.gru.run(parse_numbers(SEQ).xs)
    np.testing.assert_allclose(step_heatmaps(at, "seq")[3], trace.layers[1].h.T, atol=1e-6)
    keras_out = float(model.predict(parse_numbers(SEQ).xs[None].astype("float32"), verbose=0)[0, 0])
    shown = float(next(m for m in texts(at.markdown) if "linear readout" in m).split("**")[1])
    assert abs(shown - keras_out) < 1e-4          # the page's forecast is Keras's own


def test_a_held_out_week_of_real_prices_shows_the_forecast_beside_what_happened():
    from gru_core.tasks.forecast import Forecast

    at = sequence_page()
    at.button(key="seq_real_week").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="seq_model").value == "forecast"
    text = at.text_area(key="seq_text").value
    xs, ys, labels = Forecast().labelled_split()["held_out"]
    k = next(i for i in range(len(labels)) if ", ".join(f"{v:.4f}" for v in xs[i, :, 0]) == text)
    ticker, week = labels[k]
    model = registry.load("forecast_stocks")
    forecast = float(model.logits(model.run(parse_numbers(text).xs))[0])
    line = next(m for m in texts(at.markdown) if m.startswith(f"**{ticker}, the week of {week}**"))
    assert f"**{forecast:+.2%}**" in line and f"**{float(ys[k, 0]):+.2%}**" in line
