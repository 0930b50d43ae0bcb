"""What the pages export loads straight into torch.nn.GRU and computes the same states."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from app.services import state_dict_bytes
from gru_core import GRU, registry


@pytest.mark.parametrize("gru", [
    registry.shipped_adder().cell.ablated(update_bias_shift=1.5, recurrent_scale=0.7),  # a tweaked adder
    GRU.random(2, 3, seed=0),                                                  # a lab GRU
], ids=["tweaked adder", "lab gru"])
def test_export_loads_into_torch_nn_gru(gru):
    module = torch.nn.GRU(gru.input_size, gru.hidden_size, dtype=torch.float64)
    module.load_state_dict(torch.load(io.BytesIO(state_dict_bytes(gru)), weights_only=True))
    xs = np.random.default_rng(0).integers(0, 2, size=(20, gru.input_size)).astype(np.float64)
    with torch.no_grad():
        out = module(torch.from_numpy(xs)[:, None])[0][:, 0].numpy()
    np.testing.assert_allclose(out, gru.run(xs).h, atol=1e-12)


def test_a_pytorch_checkpoint_is_a_torch_gru_and_linear_state_dict():
    """A shipped file's ``cell.*`` tensors load into torch.nn.GRU and its ``readout.*`` into torch.nn.Linear,
    and together they compute the model's outputs."""
    entry = registry.entry("bit_adder")
    blob = torch.load(entry.path, weights_only=True)
    c = blob["config"]
    gru = torch.nn.GRU(c["input_size"], c["hidden_size"], c["num_layers"], dtype=torch.float64)
    gru.load_state_dict({k.removeprefix("cell."): v for k, v in blob["state_dict"].items() if k.startswith("cell.")})
    linear = torch.nn.Linear(c["hidden_size"], c["output_size"], dtype=torch.float64)
    linear.load_state_dict({k.removeprefix("readout."): v for k, v in blob["state_dict"].items()
                            if k.startswith("readout.")})
    model = registry.load("bit_adder")
    xs = np.random.default_rng(1).integers(0, 2, size=(40, 2)).astype(np.float64)
    with torch.no_grad():
        out = linear(gru(torch.from_numpy(xs)[:, None])[0][:, 0]).numpy()   # (T, O)
    np.testing.assert_allclose(out, model.logits(model.run(xs)), atol=1e-12)
