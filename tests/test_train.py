"""Training: reproducible from a seed, reports progress, stops when asked, speaks every convention."""

from __future__ import annotations

import numpy as np
import pytest

from gru_core import bit_addition as ba
from gru_core.train import TrainConfig, all_pairs, make_batch, sum_bits, train

SMALL = dict(hidden_size=6, max_learn_iterations=12, harden_iterations=4, harden_bits=12, eval_every=4)


def weights(model):
    return np.concatenate([a.ravel() for a in model.gru.layers[0].params().values()])


def test_same_seed_same_weights_other_seed_other_weights():
    a = train(TrainConfig(seed=3, **SMALL))
    b = train(TrainConfig(seed=3, **SMALL))
    c = train(TrainConfig(seed=4, **SMALL))
    np.testing.assert_array_equal(weights(a), weights(b))
    assert not np.array_equal(weights(a), weights(c))


def test_progress_reports_every_iteration_and_snapshots_a_usable_model():
    seen = []
    model = train(TrainConfig(seed=0, **SMALL), progress=lambda p: seen.append(p) and None)
    assert [p.iteration for p in seen] == list(range(1, model.metrics["iterations"] + 1))
    assert {p.phase for p in seen} <= {"learn", "harden"}
    assert all(np.isfinite(p.loss) and 0 <= p.accuracy <= 1 for p in seen)
    snap = seen[-1].snapshot()
    np.testing.assert_array_equal(weights(snap), weights(model))  # the last snapshot is the result
    assert isinstance(ba.add(snap, 5, 9), int)


def test_returning_true_stops_training():
    model = train(TrainConfig(seed=0, **SMALL), progress=lambda p: p.iteration >= 5)
    assert model.metrics["iterations"] == 5


@pytest.mark.parametrize("convention", ["cho2014", "chung2014"])
def test_reset_before_conventions_train(convention):
    model = train(TrainConfig(seed=1, convention=convention, **SMALL))
    assert model.gru.convention.name == convention
    assert isinstance(ba.add(model, 3, 4), int)


def test_batches_use_the_core_encoding():
    rng = np.random.default_rng(0)
    xs, ys = make_batch(rng, 32, 10, propagate=(0.9,), flip=(0.5,))
    for x, y in zip(xs, ys):
        a = ba.from_bits(x[:-1, 0].astype(np.uint8))
        b = ba.from_bits(x[:-1, 1].astype(np.uint8))
        exp_x, exp_y = ba.encode(a, b, steps=11)
        np.testing.assert_array_equal(x, exp_x)
        np.testing.assert_array_equal(y, exp_y)


def test_all_pairs_is_exhaustive():
    xs, ys = all_pairs(3)
    assert xs.shape == (64, 4, 2)
    sums = {ba.from_bits(y.astype(np.uint8)) for y in ys}
    assert sums == set(range(15))
    assert sum_bits(np.array([[1, 1]], np.uint8), np.array([[1, 0]], np.uint8)).tolist() == [[0, 0, 1]]
