"""What the pages export loads straight into torch.nn.GRU and computes the same states."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from app.services import state_dict_bytes
from gru_core import GRU
from gru_core import bit_addition as ba


@pytest.mark.parametrize("gru", [
    ba.pretrained().gru.ablated(update_bias_shift=1.5, recurrent_scale=0.7),   # a tweaked adder
    GRU.random(2, 3, seed=0),                                                  # a lab GRU
], ids=["tweaked adder", "lab gru"])
def test_export_loads_into_torch_nn_gru(gru):
    module = torch.nn.GRU(gru.input_size, gru.hidden_size, dtype=torch.float64)
    module.load_state_dict(torch.load(io.BytesIO(state_dict_bytes(gru)), weights_only=True))
    xs = np.random.default_rng(0).integers(0, 2, size=(20, gru.input_size)).astype(np.float64)
    with torch.no_grad():
        out = module(torch.from_numpy(xs)[:, None])[0][:, 0].numpy()
    np.testing.assert_allclose(out, gru.run(xs).h, atol=1e-12)
