"""Seed 001's journey in Chromium: a held-out window of real prices through the stacked forecaster,
both layers, and a Keras model uploaded from a file."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from conftest import open_app, shot, wait_idle

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import keras_files  # noqa: E402 (tests/ on the path above: it builds real Keras models)

pytestmark = pytest.mark.browser


def test_real_prices_both_layers_and_a_keras_upload(page, app_url, tmp_path):
    open_app(page, f"{app_url}/sequence")
    page.get_by_role("button", name=re.compile("held-out window of real stock prices")).click()
    wait_idle(page)
    page.get_by_text(re.compile(r"the forecaster says [+-]\d")).first.wait_for()
    page.get_by_text(re.compile("This GRU stacks 2 layers of 50 units")).first.wait_for()
    page.get_by_label("Layer to show").click()
    page.get_by_role("option", name="layer 0").click()
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    shot(page, "seed001_layer0", full_page=True)
    # a Keras model of the reader's own: GRU → GRU → Dense, saved with model.save
    model = keras_files.gru_stack(units=5, inputs=1, layers=2, outputs=1, reset_after=True)
    path = tmp_path / "mine.keras"
    model.save(path)
    page.get_by_label("GRU", exact=True).click()
    page.get_by_role("option", name=re.compile("Upload a torch.nn.GRU or a Keras model")).click()
    wait_idle(page)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").last.set_input_files(str(path))
    page.get_by_text(re.compile("This Keras model computes the pytorch convention")).wait_for(timeout=30_000)
    page.get_by_text(re.compile(r"GRU\(1 → 5 → 5")).first.wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    assert not page.errors
