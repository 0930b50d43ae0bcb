"""Is the training recipe robust? Train several seeds and check each model on what matters.

    python bench/train_seeds.py 0-9                   # the shipped pytorch adder's recipe, seeds 0…9
    python bench/train_seeds.py 0-4 bit_adder_cho2014 # another registry entry's recipe

Per seed: iterations until every 8-bit sum is exact, training time (learn and harden stages), wrong
answers on the adversarial carry chains (gru_core.tasks.bit_addition.adversarial_pairs, up to
2,048-bit numbers), and exact-sum accuracy on 2,000 random 64-bit and 300 random 256-bit additions.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gru_core import registry  # noqa: E402 (needs the path above)
from gru_core.tasks import bit_addition as ba  # noqa: E402 (needs the path above)
from gru_core.train import train  # noqa: E402 (needs the path above)


def main(spec: str, name: str = "bit_adder") -> None:
    lo, _, hi = spec.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1)
    entry = registry.entry(name)
    print(f"{name} ({entry.convention}): {entry.command} with other seeds")
    print(f"{'seed':>4} {'exact 8-bit at':>14} {'learn s':>8} {'harden s':>9} {'chains wrong':>12} "
          f"{'64-bit':>7} {'256-bit':>8}")
    for seed in seeds:
        model = train(entry.task, replace(entry.config, seed=seed))
        wrong = sum(ba.add(model, a, b) != a + b for a, b in ba.adversarial_pairs())
        stages = model.metrics["stages"]
        harden_s = stages["harden"]["seconds"] if "harden" in stages else 0.0
        print(f"{seed:>4} {stages['learn']['passed_at']!s:>14} {stages['learn']['seconds']:>8.1f} {harden_s:>9.1f} "
              f"{wrong:>12} {100 * ba.exact_sum_accuracy(model, ba.AdditionSample(64, 2000, seed=64)):>6.2f}% "
              f"{100 * ba.exact_sum_accuracy(model, ba.AdditionSample(256, 300, seed=256)):>7.2f}%", flush=True)


if __name__ == "__main__":
    main(*(sys.argv[1:] or ["0-4"]))
