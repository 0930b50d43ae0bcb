"""Bit addition: the encoding, the operand checks, the task's protocol, and the shipped model's exactness."""

from __future__ import annotations

import numpy as np
import pytest

from gru_core import registry
from gru_core.models import RecurrentModel
from gru_core.tasks import Task
from gru_core.tasks import bit_addition as ba


@pytest.mark.parametrize("n", [0, 1, 2, 3, 255, 256, 2**63, 2**64 - 1, 2**1000 + 12345])
def test_bits_round_trip(n):
    width = max(n.bit_length(), 1) + 3
    bits = ba.to_bits(n, width)
    assert bits.dtype == np.uint8 and bits.shape == (width,)
    assert ba.from_bits(bits) == n
    if n:
        assert bits[n.bit_length() - 1] == 1 and not bits[n.bit_length():].any()  # MSB where expected


def test_least_significant_bit_first():
    # seed 000's example: 3 + 1 -> a = [1, 1, 0], b = [1, 0, 0], sum 4 = [0, 0, 1]
    xs, target = ba.encode(3, 1)
    assert xs[:, 0].tolist() == [1, 1, 0] and xs[:, 1].tolist() == [1, 0, 0]
    assert target.tolist() == [0, 0, 1]


@pytest.mark.parametrize("a, b", [(0, 0), (1, 0), (0, 1), (2**10, 1), (1, 2**40), (2**64 - 1, 1),
                                  (7, 2**200), (2**1023, 2**1023)])
def test_encode_shapes_and_targets(a, b):
    xs, target = ba.encode(a, b)
    T = max(a.bit_length(), b.bit_length(), 1) + 1  # one extra step for the final carry
    assert xs.shape == (T, 2) and target.shape == (T,) and ba.n_steps(a, b) == T
    assert ba.from_bits(xs[:, 0].astype(np.uint8)) == a and ba.from_bits(xs[:, 1].astype(np.uint8)) == b
    assert ba.decode(target) == a + b
    assert xs[-1].tolist() == [0, 0]


def test_carries_are_the_true_carries():
    assert ba.carries(3, 1).tolist() == [1, 1, 0]          # 1+1 -> carry, 1+0+1 -> carry, 0+0+1 -> none
    assert ba.carries(2**8 - 1, 1).tolist() == [1] * 8 + [0]


@pytest.fixture(scope="module")
def adder():
    return registry.shipped_adder()


@pytest.mark.parametrize("bad", [-1, 1.5, 3.0, "7", None, True, [1]])
def test_bad_operands(bad, adder):
    with pytest.raises(ValueError, match="non-negative"):
        ba.add(adder, bad, 1)
    with pytest.raises(ValueError, match="non-negative"):
        ba.add(adder, 1, bad)


def test_numpy_integers_are_accepted(adder):
    assert ba.add(adder, np.int64(13), np.uint8(7)) == 20


def test_a_model_that_is_not_an_adder_is_refused():
    from gru_core import GRU
    from gru_core.models import Readout

    wide = RecurrentModel(GRU.random(3, 4), Readout(np.ones((1, 4)), np.zeros(1)), task="other")
    with pytest.raises(ValueError, match="2 inputs"):
        ba.run_addition(wide, 1, 2)


def test_pretrained_is_small_and_self_describing(adder):
    assert adder.cell.hidden_size <= 16 and adder.cell.input_size == 2
    assert adder.gru is adder.cell  # the alias the app used before other cells existed
    assert registry.entry("bit_adder").path.stat().st_size < 50_000
    assert adder.config["hidden_size"] == adder.cell.hidden_size and "seed" in adder.config["training"]
    assert adder.config["task"] == ba.BitAddition.name and adder.config["readout"] == "per_step"
    assert adder.metrics["exact_256bit"] == 1.0 and adder.metrics["stages"]["learn"]["passed_at"] is not None


def test_exact_on_10000_random_64_bit_sums(adder):
    assert ba.exact_sum_accuracy(adder, ba.AdditionSample(64, 10_000, seed=2024)) == 1.0


def test_exact_on_1000_random_256_bit_sums(adder):
    assert ba.exact_sum_accuracy(adder, ba.AdditionSample(256, 1_000, seed=2025)) == 1.0


@pytest.mark.parametrize("convention", ["pytorch", "cho2014", "chung2014"])
def test_exact_on_long_carry_chains(convention):
    model = registry.shipped_adder(convention)
    wrong = [(a.bit_length(), b.bit_length()) for a, b in ba.adversarial_pairs() if ba.add(model, a, b) != a + b]
    assert wrong == []


@pytest.mark.parametrize("convention", ["pytorch", "cho2014", "chung2014"])
def test_exact_on_the_sample_the_app_quotes(convention):
    assert ba.EXACT_SUM_CHECK.describe() == "300 random 16-bit additions"
    assert ba.exact_sum_accuracy(registry.shipped_adder(convention)) == 1.0  # the default sample is that one


def test_cho2014_adder_is_exact_on_random_sums():
    assert ba.exact_sum_accuracy(registry.shipped_adder("cho2014"), ba.AdditionSample(64, 2_000, seed=7)) == 1.0


def test_chung2014_is_cho2014_flipped():
    cho, chung = registry.shipped_adder("cho2014"), registry.shipped_adder("chung2014")
    assert chung.cell.convention.name == "chung2014" and chung.config["convention"] == "chung2014"
    a, b = 2**70 + 12345, 3**40
    tc, tg = ba.run_addition(cho, a, b).trace, ba.run_addition(chung, a, b).trace
    np.testing.assert_allclose(tg.h, tc.h, atol=1e-12)
    np.testing.assert_allclose(tg.z, 1 - tc.z, atol=1e-12)


def test_checkpoint_refuses_code(tmp_path):
    """Loading goes through torch.load(weights_only=True): a pickle that would run code is refused."""
    import os
    import pickle

    class Evil:
        def __reduce__(self):
            return (exec, ("open('/tmp/gru_gate_lab_pwned', 'w').write('x')",))

    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"state_dict": Evil()}, f)
    with pytest.raises(pickle.UnpicklingError):
        RecurrentModel.load(path)
    assert not os.path.exists("/tmp/gru_gate_lab_pwned")


def test_carry_correlation_finds_a_carry_unit(adder):
    corr = ba.carry_finding(adder, ba.AdditionSample(12, 100, seed=1)).correlation
    assert corr.shape == (adder.cell.hidden_size,)
    assert np.abs(corr).max() > 0.9  # some unit tracks the carry almost perfectly


def test_batched_accuracy_agrees_with_add_sum_by_sum(adder):
    """exact_sum_accuracy runs additions as a batch; add runs one recorded trace: same verdicts."""
    tweaked = adder.with_cell(adder.cell.ablated(update_bias_shift=1.0))  # a model that makes mistakes
    sample = ba.AdditionSample(12, 150, seed=3)
    acc = ba.exact_sum_accuracy(tweaked, sample)
    by_add = sum(ba.add(tweaked, a, b) == a + b for a, b in sample.pairs()) / 150
    assert 0 < acc < 1 and acc == by_add


def test_run_addition_is_read_only_and_uses_the_one_readout(adder):
    run = ba.run_addition(adder, 173, 91)
    np.testing.assert_array_equal(run.logits, adder.readout.logits(run.trace.h)[:, 0])
    assert run.correct and run.result == 264 and run.carries.tolist() == ba.carries(173, 91).tolist()
    for arr in (run.xs, run.target, run.logits, run.carries, run.output):
        assert not arr.flags.writeable


# -- the task ------------------------------------------------------------------------------------------
def test_bit_addition_is_a_task_with_the_shipped_recipe_as_its_curriculum():
    task = ba.BitAddition()
    assert isinstance(task, Task)
    assert (task.input_size, task.output_size, task.readout, task.loss) == (2, 1, "per_step", "bce")
    learn, harden = task.curriculum()
    assert (learn.name, learn.iterations, dict(learn.batch), learn.lr, learn.clip) == ("learn", 1000, {"bits": 8},
                                                                                        None, None)
    assert learn.stop.every == 10 and "65,536" in learn.stop.description
    assert (harden.name, harden.iterations, harden.batch["bits"], harden.lr, harden.schedule, harden.clip) == \
        ("harden", 1300, 128, 3e-3, "cosine", 0.1)
    assert [s.name for s in ba.BitAddition(harden=False).curriculum()] == ["learn"]
    assert ba.BitAddition(bits=12).curriculum()[0].stop.description.startswith("all 65,536 sums of two 8-bit")


def test_task_batches_have_the_protocol_shapes():
    task = ba.BitAddition()
    for stage in task.curriculum():
        xs, ys = task.batch(np.random.default_rng(0), 5, stage)
        T = stage.batch["bits"] + 1
        assert xs.shape == (5, T, 2) and ys.shape == (5, T, 1) and xs.dtype == ys.dtype == np.float32
    xs, ys = task.curriculum()[0].stop.data()
    assert xs.shape == (65_536, 9, 2) and ys.shape == (65_536, 9, 1)
    assert task.curriculum()[0].stop.passed(np.where(ys > 0.5, 3.0, -3.0), ys)
    wrong = np.where(ys > 0.5, 3.0, -3.0)
    wrong[7, 2, 0] *= -1
    assert not task.curriculum()[0].stop.passed(wrong, ys)
    assert task.batch_accuracy(wrong, ys) == 1 - 1 / 65_536


def test_evaluate_reports_each_width(adder, monkeypatch):
    monkeypatch.setattr(ba, "EVALUATION", (ba.AdditionSample(8, 50, seed=8), ba.AdditionSample(40, 20, seed=40)))
    assert ba.BitAddition().evaluate(adder) == {"exact_8bit": 1.0, "exact_40bit": 1.0}
