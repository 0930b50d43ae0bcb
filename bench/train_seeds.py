"""Is the training recipe robust? Train several seeds and check each model on what matters.

    python bench/train_seeds.py 0-9        # about 25 s per seed here

Per seed: iterations until every 8-bit sum is exact, training time, wrong answers on the
adversarial carry chains (gru_core.bit_addition.adversarial_pairs, up to 2,048-bit numbers), and
exact-sum accuracy on 2,000 random 64-bit and 300 random 256-bit additions.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gru_core import bit_addition as ba  # noqa: E402
from gru_core.train import TrainConfig, train  # noqa: E402


def main(spec: str) -> None:
    lo, _, hi = spec.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1)
    print(f"{'seed':>4} {'exact 8-bit at':>14} {'train s':>8} {'chains wrong':>12} {'64-bit':>7} {'256-bit':>8}")
    for seed in seeds:
        model = train(TrainConfig(seed=seed))
        wrong = sum(ba.add(model, a, b) != a + b for a, b in ba.adversarial_pairs())
        m = model.metrics
        print(f"{seed:>4} {m['learned_8bit_at']!s:>14} {m['train_seconds']:>8.1f} {wrong:>12} "
              f"{100 * ba.exact_sum_accuracy(model, 64, 2000, seed=64):>6.2f}% "
              f"{100 * ba.exact_sum_accuracy(model, 256, 300, seed=256):>7.2f}%", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "0-4")
