"""Bit addition: the encoding, the operand checks, and the shipped model's exactness."""

from __future__ import annotations

import numpy as np
import pytest

from gru_core import bit_addition as ba


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
    assert xs.shape == (T, 2) and target.shape == (T,)
    assert ba.from_bits(xs[:, 0].astype(np.uint8)) == a and ba.from_bits(xs[:, 1].astype(np.uint8)) == b
    assert ba.decode(target) == a + b
    assert xs[-1].tolist() == [0, 0]


def test_carries_are_the_true_carries():
    assert ba.carries(3, 1).tolist() == [1, 1, 0]          # 1+1 -> carry, 1+0+1 -> carry, 0+0+1 -> none
    assert ba.carries(2**8 - 1, 1).tolist() == [1] * 8 + [0]


@pytest.mark.parametrize("bad", [-1, 1.5, 3.0, "7", None, True, [1]])
def test_bad_operands(bad):
    model = ba.pretrained()
    with pytest.raises(ValueError, match="non-negative"):
        ba.add(model, bad, 1)
    with pytest.raises(ValueError, match="non-negative"):
        ba.add(model, 1, bad)


def test_numpy_integers_are_accepted():
    assert ba.add(ba.pretrained(), np.int64(13), np.uint8(7)) == 20


@pytest.fixture(scope="module")
def adder():
    return ba.pretrained()


def test_pretrained_is_small_and_self_describing(adder):
    assert adder.gru.hidden_size <= 16 and adder.gru.input_size == 2
    assert ba.ASSETS["pytorch"].stat().st_size < 50_000
    assert adder.config["hidden_size"] == adder.gru.hidden_size and "seed" in adder.config
    assert adder.metrics["exact_256bit"] == 1.0 and adder.metrics["learned_8bit_at"] is not None


def test_exact_on_10000_random_64_bit_sums(adder):
    assert ba.exact_sum_accuracy(adder, 64, 10_000, seed=2024) == 1.0


def test_exact_on_1000_random_256_bit_sums(adder):
    assert ba.exact_sum_accuracy(adder, 256, 1_000, seed=2025) == 1.0


@pytest.mark.parametrize("convention", ["pytorch", "cho2014", "chung2014"])
def test_exact_on_long_carry_chains(convention):
    model = ba.pretrained(convention)
    wrong = [(a.bit_length(), b.bit_length()) for a, b in ba.adversarial_pairs() if ba.add(model, a, b) != a + b]
    assert wrong == []


def test_cho2014_adder_is_exact_on_random_sums():
    assert ba.exact_sum_accuracy(ba.pretrained("cho2014"), 64, 2_000, seed=7) == 1.0


def test_chung2014_is_cho2014_flipped():
    cho, chung = ba.pretrained("cho2014"), ba.pretrained("chung2014")
    assert chung.gru.convention.name == "chung2014"
    a, b = 2**70 + 12345, 3**40
    tc, tg = ba.run_addition(cho, a, b).trace, ba.run_addition(chung, a, b).trace
    np.testing.assert_allclose(tg.h, tc.h, atol=1e-12)
    np.testing.assert_allclose(tg.z, 1 - tc.z, atol=1e-12)


def test_checkpoint_refuses_code(tmp_path):
    """Loading goes through torch.load(weights_only=True): a pickle that would run code is refused."""
    import pickle

    class Evil:
        def __reduce__(self):
            return (exec, ("open('/tmp/gru_gate_lab_pwned', 'w').write('x')",))

    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"state_dict": Evil()}, f)
    with pytest.raises(Exception):
        ba.BitAdder.load(path)
    import os

    assert not os.path.exists("/tmp/gru_gate_lab_pwned")


def test_carry_correlation_finds_a_carry_unit(adder):
    corr = ba.carry_correlation(adder, additions=100, bits=12, seed=1)
    assert corr.shape == (adder.gru.hidden_size,)
    assert np.abs(corr).max() > 0.9  # some unit tracks the carry almost perfectly


def test_batched_accuracy_agrees_with_add_sum_by_sum():
    """exact_sum_accuracy runs additions as a batch; add runs one recorded trace: same verdicts."""
    model = ba.pretrained()
    tweaked = model.with_gru(model.gru.ablated(update_bias_shift=1.0))  # a model that makes mistakes
    acc = ba.exact_sum_accuracy(tweaked, 12, 150, seed=3)
    pairs = ba.random_operands(np.random.default_rng(3), 12, 150)
    by_add = sum(ba.add(tweaked, a, b) == a + b for a, b in pairs) / 150
    assert 0 < acc < 1 and acc == by_add
