"""Parameter-lab presets: tiny hand-set GRUs that each make one behaviour visible.

Each preset is weights + an input sequence + a text saying what to look for, written once and
given for each convention by :meth:`Preset.tables` and :meth:`Preset.describe`: the update gate's
rows are negated where z weighs the candidate (chung2014), which gives the same h at every step
with z read as 1 − z, and the text names the gate values of that convention. The reset gate acts
on a single unit with no b_hn, so where it acts (before or after W_hn) changes nothing here.
Pure data and functions: the tests check every preset's text in every convention.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gru_core import Convention

BIG = 6.0  # σ(±6) = 0.9975 / 0.0025: a gate that is, for teaching purposes, shut or open


@dataclass(frozen=True)
class Preset:
    name: str
    text: str            # what to look for; {keep}/{take}/{avg} become this convention's z values
    features: list[str]  # (I,) input names
    inputs: str          # CSV text: one row per step, one column per feature
    r: np.ndarray        # (H, I + H + 2): per unit, W_ir | W_hr | b_ir | b_hr
    z: np.ndarray        # (H, I + H + 2): same columns for the update gate
    n: np.ndarray        # (H, I + H + 2): same columns for the candidate

    def tables(self, convention: Convention) -> dict[str, np.ndarray]:
        """The r, z and n tables (H, I + H + 2) that behave as the text says in ``convention``."""
        z = self.z if convention.z_keeps_old else -self.z   # σ(−a) = 1 − σ(a): same h, z ↔ 1 − z
        return {"r": self.r, "z": z, "n": self.n}

    def params(self, convention: Convention) -> dict[str, np.ndarray]:
        t = self.tables(convention)
        return blocks_to_params(t["r"], t["z"], t["n"], len(self.features))

    def describe(self, convention: Convention) -> str:
        keep, take = ("1", "0") if convention.z_keeps_old else ("0", "1")
        avg = "0.8" if convention.z_keeps_old else "0.2"
        return self.text.format(keep=f"z ≈ {keep}", take=f"z ≈ {take}", avg=f"z = {avg}")


def blocks_to_params(r: np.ndarray, z: np.ndarray, n: np.ndarray, input_size: int) -> dict[str, np.ndarray]:
    """Per-gate tables (H, I + H + 2) → torch-layout weight_ih (3H, I), weight_hh (3H, H), biases (3H,)."""
    I = input_size
    H = r.shape[0]
    stacked = np.concatenate([np.asarray(b, np.float64) for b in (r, z, n)])  # (3H, I + H + 2)
    if stacked.shape[1] != I + H + 2:
        raise ValueError(f"each gate table needs {I + H + 2} columns, got {stacked.shape[1]}")
    return {"weight_ih": stacked[:, :I], "weight_hh": stacked[:, I:I + H],
            "bias_ih": stacked[:, I + H], "bias_hh": stacked[:, I + H + 1]}


def column_names(input_size: int, hidden_size: int, gate: str) -> list[str]:
    g = {"r": "r", "z": "z", "n": "n"}[gate]
    return ([f"W_i{g}·x[{i}]" for i in range(input_size)] + [f"W_h{g}·h[{j}]" for j in range(hidden_size)]
            + [f"b_i{g}", f"b_h{g}"])


def _row(w_i, w_h, b_i, b_h=0.0) -> np.ndarray:
    return np.array([*w_i, *w_h, b_i, b_h], dtype=np.float64)[None, :]


VALUES = [0.8, -0.6, 0.3, 0.9, -0.2, 0.5, -0.7, 0.1, 0.6, -0.4]

PRESETS = {p.name: p for p in (
    Preset(
        name="Remember the first input",
        text="The update gate keeps the old state ({keep}) at every step except the one that carries "
             "the start flag, where it takes the candidate ({take}) and lets the first value in. After "
             "that the state keeps that value, whatever arrives next: watch z stay at {keep} and h stay flat.",
        features=["value", "start flag"],
        inputs="\n".join(f"{v},{int(i == 0)}" for i, v in enumerate(VALUES)),
        r=_row([0, 0], [0], 0.0),
        z=_row([0, -2 * BIG], [0], BIG),
        n=_row([2, 0], [0], 0.0),
    ),
    Preset(
        name="Forget at a separator",
        text="The update gate takes the candidate at every step ({take}). The reset gate is near 1, "
             "so each candidate adds the new input to the old state and h keeps a running (squashed) "
             "total. At the separator the reset gate drops to 0: the candidate ignores the past and "
             "the total starts again from the new input.",
        features=["value", "separator"],
        inputs="\n".join(f"{v},{s}" for v, s in zip([0.4, 0.4, 0.4, 0.4, 0.3, 0.4, 0.4, 0.4],
                                                      [0, 0, 0, 0, 1, 0, 0, 0])),
        r=_row([0, -2 * BIG], [0], BIG),
        z=_row([0, 0], [0], -BIG),
        n=_row([1, 0], [1], 0.0),
    ),
    Preset(
        name="Follow the input",
        text="The update gate takes the candidate at every step ({take}), so the state is simply "
             "replaced by it, and the candidate only looks at the current input. No memory at all: "
             "h follows x, squashed by tanh.",
        features=["x"],
        inputs="\n".join(str(v) for v in VALUES),
        r=_row([0], [0], 0.0),
        z=_row([0], [0], -BIG),
        n=_row([2], [0], 0.0),
    ),
    Preset(
        name="Average slowly",
        text="The update gate is fixed at {avg}: each step keeps 80 % of the old state and takes "
             "20 % of the candidate. The interpolation view shows h_t a fifth of the way from h_{{t-1}} "
             "to h̃_t: a moving average that smooths the input.",
        features=["x"],
        inputs="\n".join(str(v) for v in VALUES),
        r=_row([0], [0], 0.0),
        z=_row([0], [0], float(np.log(0.8 / 0.2))),  # σ(ln 4) = 0.8 exactly
        n=_row([2], [0], 0.0),
    ),
)}
