"""Trainable torch twins of the core's models: a cell plus a linear readout, and the cho2014 GRU.

:class:`RecurrentNet` is what :func:`gru_core.train.train` optimises: a recurrent cell and a
``torch.nn.Linear`` readout, per step or per sequence, converted to a
:class:`gru_core.models.RecurrentModel` when training ends.

torch.nn.GRU only computes the pytorch convention. :class:`ResetBeforeGRU` computes
    h̃ = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn),  h = (1 − z) ⊙ h̃ + z ⊙ h_{t-1}
with torch.nn.GRU's parameter names, layout and initialisation, so its state_dict converts with
``GRU.from_arrays(..., "cho2014")`` exactly as a torch.nn.GRU's does.
"""

from __future__ import annotations

import math

import torch


class ResetBeforeGRU(torch.nn.Module):
    """Single-direction, batch_first GRU in the cho2014 convention (one or more layers)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        for k in range(num_layers):
            I = input_size if k == 0 else hidden_size
            self.register_parameter(f"weight_ih_l{k}", torch.nn.Parameter(torch.empty(3 * hidden_size, I)))
            self.register_parameter(f"weight_hh_l{k}", torch.nn.Parameter(torch.empty(3 * hidden_size, hidden_size)))
            self.register_parameter(f"bias_ih_l{k}", torch.nn.Parameter(torch.empty(3 * hidden_size)))
            self.register_parameter(f"bias_hh_l{k}", torch.nn.Parameter(torch.empty(3 * hidden_size)))
        bound = 1.0 / math.sqrt(hidden_size)  # torch.nn.GRU's initialisation
        for p in self.parameters():
            torch.nn.init.uniform_(p, -bound, bound)

    def forward(self, xs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """xs (B, T, I) -> outputs (B, T, H) of the last layer, final states (num_layers, B, H)."""
        H = self.hidden_size
        finals = []
        inp = xs
        for k in range(self.num_layers):
            w_ih, w_hh = getattr(self, f"weight_ih_l{k}"), getattr(self, f"weight_hh_l{k}")
            b_ih, b_hh = getattr(self, f"bias_ih_l{k}"), getattr(self, f"bias_hh_l{k}")
            gi = inp @ w_ih.T + b_ih                                  # (B, T, 3H) all steps at once
            h = xs.new_zeros(xs.shape[0], H)                          # (B, H)
            outs = []
            for t in range(inp.shape[1]):
                gh_rz = h @ w_hh[: 2 * H].T + b_hh[: 2 * H]           # (B, 2H)
                rz = torch.sigmoid(gi[:, t, : 2 * H] + gh_rz)
                r, z = rz[:, :H], rz[:, H:]
                n = torch.tanh(gi[:, t, 2 * H:] + (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:])
                h = (1 - z) * n + z * h
                outs.append(h)
            inp = torch.stack(outs, dim=1)                            # (B, T, H)
            finals.append(h)
        return inp, torch.stack(finals)


def gru_module(input_size: int, hidden_size: int, num_layers: int, reset_after_matmul: bool) -> torch.nn.Module:
    """A batch_first GRU whose candidate applies the reset gate after the recurrent matrix (torch.nn.GRU,
    the pytorch convention) or before it (:class:`ResetBeforeGRU`, cho2014); same parameter names."""
    if reset_after_matmul:
        return torch.nn.GRU(input_size, hidden_size, num_layers, batch_first=True)
    return ResetBeforeGRU(input_size, hidden_size, num_layers)


class RecurrentNet(torch.nn.Module):
    """A recurrent cell and a linear readout, batch first: xs (B, T, I) -> (B, T, O) or (B, O).

    Built cell first, readout second, so that a seed gives the same initial weights as it always has.
    """

    def __init__(self, cell: torch.nn.Module, output_size: int, per_step: bool) -> None:
        super().__init__()
        self.cell = cell
        self.readout = torch.nn.Linear(cell.hidden_size, output_size)
        self.per_step = per_step

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        out = self.cell(xs)[0]                                     # (B, T, H) last layer
        return self.readout(out if self.per_step else out[:, -1])  # (B, T, O) or (B, O)
