"""The readout's outputs on a recorded pass (Readout.outputs, what RecurrentModel.logits and the app's
sequence page show) equal torch: the cell's own torch module followed by torch.nn.Linear."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gru_core import GRU
from gru_core.cells import LSTM, RNN
from gru_core.models import Readout, RecurrentModel

CELLS = {"GRU": GRU, "LSTM": LSTM, "RNN": RNN}


def torch_readout(cell, readout: Readout, xs: np.ndarray) -> np.ndarray:
    """torch's answer: the cell's torch module, then a Linear holding the readout, on every step."""
    linear = torch.nn.Linear(readout.hidden_size, readout.output_size, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(readout.weight.copy()))
        linear.bias.copy_(torch.from_numpy(readout.bias.copy()))
        out = cell.to_torch()(torch.from_numpy(xs))[0]          # (T, H) the last layer at every step
        return linear(out).numpy()                               # (T, O)


@pytest.mark.parametrize("per_step", [True, False])
@pytest.mark.parametrize("kind", list(CELLS))
def test_the_readouts_outputs_equal_torch(kind, per_step):
    cell = CELLS[kind].random(3, 5, 2, seed=1)
    rng = np.random.default_rng(2)
    readout = Readout(rng.normal(size=(4, 5)), rng.normal(size=4), per_step=per_step)
    xs = rng.normal(size=(9, 3))
    trace = cell.run(xs)
    expected = torch_readout(cell, readout, xs)                  # (T, O)

    outputs = readout.outputs(trace)
    if per_step:
        assert outputs.shape == (9, 4)
        np.testing.assert_allclose(outputs, expected, atol=1e-12, rtol=0)
    else:
        assert outputs.shape == (4,)
        np.testing.assert_allclose(outputs, expected[-1], atol=1e-12, rtol=0)
    last = readout.outputs(trace, last_step=True)              # what the sequence page shows
    assert last.shape == (4,)
    np.testing.assert_allclose(last, expected[-1], atol=1e-12, rtol=0)
    model = RecurrentModel(cell, readout, task="other")
    np.testing.assert_array_equal(model.logits(trace), outputs)


def test_the_app_shows_the_cores_last_step_outputs():
    from app import services

    cell = GRU.random(2, 3, seed=0)
    for per_step in (True, False):
        readout = Readout(np.ones((2, 3)), np.array([0.5, -0.5]), per_step=per_step)
        trace = cell.run(np.ones((4, 2)))
        np.testing.assert_array_equal(services.readout_values(readout, trace),
                                      readout.outputs(trace, last_step=True))
