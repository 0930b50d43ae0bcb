"""Training: one generic loop — reproducible from a seed, reports progress, stops when asked, walks a task's
curriculum, speaks every convention, trains stacked cells and per-sequence readouts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
import torch

from gru_core.models import RecurrentModel
from gru_core.tasks import Stage, Task
from gru_core.tasks import bit_addition as ba
from gru_core.train import TrainConfig, _build_net, plan, to_model, train

TASK = ba.BitAddition(harden_bits=12, check_every=4)
SMALL = dict(hidden_size=6, stage_iterations={"learn": 12, "harden": 4})


def weights(model):
    return np.concatenate([a.ravel() for layer in model.cell.layers for a in layer.params().values()]
                          + [model.readout.weight.ravel(), model.readout.bias])


def test_same_seed_same_weights_other_seed_other_weights():
    a = train(TASK, TrainConfig(seed=3, **SMALL))
    b = train(TASK, TrainConfig(seed=3, **SMALL))
    c = train(TASK, TrainConfig(seed=4, **SMALL))
    np.testing.assert_array_equal(weights(a), weights(b))
    assert not np.array_equal(weights(a), weights(c))


def test_progress_reports_every_iteration_and_snapshots_a_usable_model():
    seen = []
    model = train(TASK, TrainConfig(seed=0, **SMALL), progress=lambda p: seen.append(p) and None)
    assert [p.iteration for p in seen] == list(range(1, model.metrics["iterations"] + 1))
    assert [p.stage for p in seen] == ["learn"] * 12 + ["harden"] * 4
    assert all(np.isfinite(p.loss) and 0 <= p.accuracy <= 1 for p in seen)
    snap = seen[-1].snapshot()
    np.testing.assert_array_equal(weights(snap), weights(model))  # the last snapshot is the result
    assert isinstance(ba.add(snap, 5, 9), int)


def test_returning_true_stops_training():
    model = train(TASK, TrainConfig(seed=0, **SMALL), progress=lambda p: p.iteration >= 5)
    assert model.metrics["iterations"] == 5 and model.metrics["stopped"]
    assert list(model.metrics["stages"]) == ["learn"]  # the harden stage never started


def test_metrics_record_each_stage_and_when_its_check_passed():
    """2-bit operands: all 16 sums of two 2-bit numbers are exact within a few dozen iterations."""
    task = ba.BitAddition(bits=2, harden_bits=12, check_every=5)
    model = train(task, TrainConfig(seed=0, hidden_size=6, stage_iterations={"learn": 400, "harden": 3}))
    learn, harden = model.metrics["stages"]["learn"], model.metrics["stages"]["harden"]
    assert learn["stop_check"] == "all 16 sums of two 2-bit numbers exact"
    assert learn["passed_at"] is not None and learn["passed_at"] % 5 == 0
    assert learn["iterations"] == learn["passed_at"] < 400  # the check ended the stage
    assert harden["iterations"] == 3 and "passed_at" not in harden
    assert model.metrics["iterations"] == learn["iterations"] + 3
    assert all(s["seconds"] > 0 for s in (learn, harden))
    assert ba.exact_sum_accuracy(model, ba.AdditionSample(2, 50, seed=0)) == 1.0  # and the NumPy model agrees


@pytest.mark.parametrize("convention", ["cho2014", "chung2014"])
def test_reset_before_conventions_train(convention):
    model = train(TASK, TrainConfig(seed=1, convention=convention, **SMALL))
    assert model.cell.convention.name == convention == model.config["convention"]
    assert isinstance(ba.add(model, 3, 4), int)


def test_chung2014_is_trained_as_cho2014_and_flipped():
    cho = train(TASK, TrainConfig(seed=1, convention="cho2014", **SMALL))
    chung = train(TASK, TrainConfig(seed=1, convention="chung2014", **SMALL))
    np.testing.assert_array_equal(weights(chung.with_cell(chung.cell.flip_update_gate())), weights(cho))


@pytest.mark.parametrize("convention", ["pytorch", "cho2014", "chung2014"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_the_numpy_model_computes_what_the_torch_net_computed(convention, num_layers):
    config = TrainConfig(seed=2, convention=convention, num_layers=num_layers, hidden_size=5)
    torch.manual_seed(2)
    net = _build_net(TASK, config)
    model = to_model(net, TASK, config, {})
    xs, _ = TASK.batch(np.random.default_rng(0), 8, TASK.curriculum()[0])
    with torch.no_grad():
        expected = net(torch.from_numpy(xs)).double().numpy()               # (B, T, 1)
    assert model.cell.num_layers == num_layers
    np.testing.assert_allclose(model.logits_batch(xs), expected, atol=2e-6)


def test_stacked_training_round_trips_through_save_and_load(tmp_path):
    model = train(TASK, TrainConfig(seed=0, num_layers=2, **SMALL))
    assert model.cell.num_layers == 2 and model.config["num_layers"] == 2
    model.save(tmp_path / "stacked.pt")
    back = RecurrentModel.load(tmp_path / "stacked.pt")
    np.testing.assert_array_equal(weights(back), weights(model))
    assert back.config == model.config and back.metrics == model.metrics
    np.testing.assert_array_equal(ba.run_addition(back, 45, 27).logits, ba.run_addition(model, 45, 27).logits)


def test_the_cosine_stage_decays_as_torch_lambda_lr_did():
    """The harden stage's learning rate, computed by the stage, equals LambdaLR's to the last bit —
    the recipe the shipped adders were trained with (so a retrain reproduces them)."""
    harden = ba.BitAddition().curriculum()[1]
    base, n = 1e-2, harden.iterations
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=base)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: (3e-3 / base) * 0.5 * (1 + math.cos(math.pi * min(i, n) / n)))
    for i in range(n):
        assert harden.lr_at(base, i) == opt.param_groups[0]["lr"], i
        opt.step()
        sched.step()
    assert ba.BitAddition().curriculum()[0].lr_at(base, 7) == base


def test_stage_budgets_are_checked():
    assert [s.iterations for s in plan(TASK, TrainConfig(stage_iterations={"harden": 9}))] == [1000, 9]
    with pytest.raises(ValueError, match="harden"):
        plan(ba.BitAddition(harden=False), TrainConfig(stage_iterations={"harden": 9}))


def test_batches_use_the_core_encoding():
    rng = np.random.default_rng(0)
    xs, ys = ba.make_batch(rng, 32, 10, propagate=(0.9,), flip=(0.5,))
    for x, y in zip(xs, ys, strict=True):
        a = ba.from_bits(x[:-1, 0].astype(np.uint8))
        b = ba.from_bits(x[:-1, 1].astype(np.uint8))
        exp_x, exp_y = ba.encode(a, b, steps=11)
        np.testing.assert_array_equal(x, exp_x)
        np.testing.assert_array_equal(y, exp_y)


def test_all_pairs_is_exhaustive():
    xs, ys = ba.all_pairs(3)
    assert xs.shape == (64, 4, 2)
    sums = {ba.from_bits(y.astype(np.uint8)) for y in ys}
    assert sums == set(range(15))
    assert ba.sum_bits(np.array([[1, 1]], np.uint8), np.array([[1, 0]], np.uint8)).tolist() == [[0, 0, 1]]


# -- a per-sequence task: one output from the last state (seed 001's GRU → Dense shape) ----------------
@dataclass(frozen=True)
class MeanAndLast:
    """Tiny synthetic regression: from a sequence of numbers, predict its mean and its last value."""

    name: ClassVar[str] = "mean_and_last"
    input_size: ClassVar[int] = 1
    output_size: ClassVar[int] = 2
    readout: ClassVar[str] = "per_sequence"
    loss: ClassVar[str] = "mse"
    steps: int = 7

    def settings(self):
        return {"steps": self.steps}

    def curriculum(self):
        return (Stage("fit", 15, batch={"steps": self.steps}),)

    def batch(self, rng, size, stage):
        xs = rng.normal(size=(size, stage.batch["steps"], 1)).astype(np.float32)   # (B, T, 1)
        return xs, np.concatenate([xs.mean(axis=1), xs[:, -1]], axis=1)            # (B, 2)

    def batch_accuracy(self, outputs, ys):
        return float((np.abs(outputs - ys) < 0.1).all(axis=1).mean())

    def evaluate(self, model):
        xs, ys = self.batch(np.random.default_rng(99), 50, self.curriculum()[0])
        return {"mse": float(((model.logits_batch(xs) - ys) ** 2).mean())}


@pytest.mark.parametrize("convention", ["pytorch", "chung2014"])
def test_a_per_sequence_task_trains_end_to_end(tmp_path, convention):
    task = MeanAndLast()
    assert isinstance(task, Task)
    seen = []
    model = train(task, TrainConfig(seed=0, hidden_size=4, num_layers=2, lr=3e-2, convention=convention),
                  progress=lambda p: seen.append(p.loss) and None)
    assert len(seen) == 15 and model.metrics["stages"]["fit"]["iterations"] == 15
    assert seen[-1] < seen[0]  # it learns something
    assert model.config["readout"] == "per_sequence" and model.config["task"] == "mean_and_last"
    xs, _ = task.batch(np.random.default_rng(1), 6, task.curriculum()[0])
    out = model.logits(model.run(xs[0]))
    assert out.shape == (2,)                                     # one output vector per sequence
    batch = model.logits_batch(xs)
    assert batch.shape == (6, 2)
    np.testing.assert_allclose(batch[0], out, atol=1e-12)
    model.save(tmp_path / "seq.pt")
    back = RecurrentModel.load(tmp_path / "seq.pt")
    np.testing.assert_array_equal(back.logits_batch(xs), batch)
    assert np.isfinite(task.evaluate(back)["mse"])
