"""Train the bit adder with torch autograd — reproducible from a seed, with a progress callback.

    python -m gru_core.train --seed 0                        # rewrites assets/bit_adder.pt
    python -m gru_core.train --seed 0 --convention cho2014   # rewrites assets/bit_adder_cho2014.pt

Two phases. *Learn*: 8-bit operands, Adam, until every one of the 65,536 8-bit sums is exact
(the iteration count is the figure the README quotes). *Harden*: longer operands and a decaying
learning rate push the gates towards saturation, so the carry becomes a stable state that does not
drift over hundreds of steps — what makes the model exact at 256 and 1024 bits, not just at 8.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from .bit_addition import ASSETS, BitAdder, exact_sum_accuracy
from .cells.gru import GRU, PARAM_NAMES


@dataclass(frozen=True)
class TrainConfig:
    hidden_size: int = 16          # a class can read every unit
    bits: int = 8                  # operand width while learning
    batch_size: int = 64
    lr: float = 1e-2               # Adam
    max_learn_iterations: int = 1000
    harden_iterations: int = 1300  # 0 skips hardening
    harden_bits: int = 128         # chains longer than 64 steps, so the carry must hold, not just last
    harden_propagate: tuple[float, ...] = (0.5, 0.9, 0.97, 0.99)  # see make_batch
    harden_flip: tuple[float, ...] = (0.5, 0.02, 0.98)            # see make_batch
    harden_lr: float = 3e-3
    harden_clip: float = 0.1       # max gradient norm while hardening
    eval_every: int = 10           # iterations between exhaustive 8-bit checks while learning
    seed: int = 0
    convention: str = "pytorch"    # pytorch: torch.nn.GRU; cho2014/chung2014: torch_cells.ResetBeforeGRU


@dataclass(frozen=True)
class Progress:
    iteration: int
    phase: str        # "learn" or "harden"
    loss: float       # mean BCE over the batch
    accuracy: float   # exact-sum fraction on the batch
    snapshot: Callable[[], BitAdder]  # the model as it is now (a copy: costs a conversion, call sparingly)


ProgressFn = Callable[[Progress], "bool | None"]  # return True to stop early


def sum_bits(a_bits: np.ndarray, b_bits: np.ndarray) -> np.ndarray:
    """Bits of a + b for (B, n) operand bits (least significant first) → (B, n + 1), vectorised."""
    B, n = a_bits.shape
    out = np.zeros((B, n + 1), np.uint8)
    carry = np.zeros(B, np.uint8)
    for t in range(n):
        s = a_bits[:, t] + b_bits[:, t] + carry
        out[:, t] = s & 1
        carry = s >> 1
    out[:, n] = carry
    return out


def make_batch(rng: np.random.Generator, batch_size: int, bits: int, propagate: tuple[float, ...] = (),
               flip: tuple[float, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (B, bits+1, 2) float32 and targets (B, bits+1) float32 — same encoding as
    :func:`gru_core.bit_addition.encode`, for many pairs at once.

    With ``propagate`` empty the operands are uniform. Otherwise each pair draws a probability p
    from it and makes each position a carry-*propagating* one (a_t ≠ b_t) with probability p, else
    a generate or kill (a_t = b_t). Uniform operands almost never hold a run of k propagating
    positions (chance 2^-k), yet 2^k − 1 + 1 is the first sum a teacher tries; these runs are what
    make the carry last.

    With ``flip`` empty the first operand's bits are independent. Otherwise each pair draws a
    probability f from it and each bit of the first operand differs from the previous one with
    probability f. Inside a propagate run, independent bits make a random mix of (1, 0) and (0, 1)
    inputs, whereas the sums people try hold one pattern for the whole run: constant (2^k − 1 + 1,
    2^k − 1 + 0) or alternating (1010… + 0101… + 1). The carry must hold under each, so both are
    drawn often; f near but not at 0 or 1 keeps every input kind on both sides of a carry.
    """
    ops = rng.integers(0, 2, size=(batch_size, 2, bits), dtype=np.uint8)
    if flip:
        f = rng.choice(np.asarray(flip), size=(batch_size, 1))
        ops[:, 0] = ops[:, 0, :1] ^ (np.cumsum(rng.random((batch_size, bits)) < f, axis=1) & 1)
    if propagate:
        p = rng.choice(np.asarray(propagate), size=(batch_size, 1))
        differ = (rng.random((batch_size, bits)) < p).astype(np.uint8)
        ops[:, 1] = ops[:, 0] ^ differ
    xs = np.zeros((batch_size, bits + 1, 2), np.float32)
    xs[:, :bits, 0], xs[:, :bits, 1] = ops[:, 0], ops[:, 1]
    return xs, sum_bits(ops[:, 0], ops[:, 1]).astype(np.float32)


def all_pairs(bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of ``bits``-bit operands (4^bits of them), encoded as :func:`make_batch` does."""
    n = 1 << bits
    a, b = np.divmod(np.arange(n * n), n)
    shifts = np.arange(bits)
    a_bits = ((a[:, None] >> shifts) & 1).astype(np.uint8)
    b_bits = ((b[:, None] >> shifts) & 1).astype(np.uint8)
    xs = np.zeros((n * n, bits + 1, 2), np.float32)
    xs[:, :bits, 0], xs[:, :bits, 1] = a_bits, b_bits
    return xs, sum_bits(a_bits, b_bits).astype(np.float32)


class _Net:
    """A GRU + Linear readout, built lazily so importing this module does not import torch.

    The pytorch convention trains torch.nn.GRU; the reset-before-the-matrix conventions train
    :class:`gru_core.torch_cells.ResetBeforeGRU` (same parameter names and layout).
    """

    def __new__(cls, hidden_size: int, convention: str = "pytorch"):
        import torch

        from .conventions import get_convention
        from .torch_cells import ResetBeforeGRU

        reset_after = get_convention(convention).reset_after_matmul

        class BitAdderNet(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.gru = (torch.nn.GRU(2, hidden_size, batch_first=True) if reset_after
                            else ResetBeforeGRU(2, hidden_size))
                self.readout = torch.nn.Linear(hidden_size, 1)

            def forward(self, xs):  # (B, T, 2) -> logits (B, T)
                return self.readout(self.gru(xs)[0]).squeeze(-1)

        return BitAdderNet()


def _exact_fraction(logits, targets) -> float:
    return float(((logits > 0).float() == targets).all(dim=1).float().mean())


def to_bit_adder(net, config: TrainConfig, metrics: dict) -> BitAdder:
    """The trained net as a float64 NumPy BitAdder in ``config.convention``.

    chung2014 is trained as cho2014 (the same model up to the update gate's sign) and flipped here.
    """
    sd = net.gru.state_dict()
    layers = [{n: sd[f"{n}_l0"].detach().double().numpy() for n in PARAM_NAMES}]
    trained_as = "pytorch" if config.convention == "pytorch" else "cho2014"
    gru = GRU.from_arrays(layers, trained_as)
    if config.convention == "chung2014":
        gru = gru.flip_update_gate()
    return BitAdder(gru=gru,
                    readout_weight=net.readout.weight.detach().double().numpy().reshape(-1),
                    readout_bias=float(net.readout.bias.detach()[0]),
                    config=asdict(config), metrics=metrics)


def train(config: TrainConfig = TrainConfig(), progress: ProgressFn | None = None) -> BitAdder:
    """Train from ``config.seed``; the same seed gives the same weights (single-threaded torch)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # reductions in one fixed order: same seed, same bits
    try:
        torch.manual_seed(config.seed)
        rng = np.random.default_rng(config.seed)
        net = _Net(config.hidden_size, config.convention)
        opt = torch.optim.Adam(net.parameters(), lr=config.lr)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        eval_x, eval_y = (torch.from_numpy(a) for a in all_pairs(min(config.bits, 8)))
        start = time.perf_counter()
        learned_at = None
        iteration = 0
        stopped = False

        def step(bits: int, phase: str, propagate: tuple[float, ...] = (), flip: tuple[float, ...] = ()) -> bool:
            nonlocal iteration
            xs, ys = (torch.from_numpy(a) for a in make_batch(rng, config.batch_size, bits, propagate, flip))
            logits = net(xs)
            loss = loss_fn(logits, ys)
            opt.zero_grad()
            loss.backward()
            if phase == "harden":
                # Long sequences give rare gradient spikes that knock a nearly exact net off its
                # saturated gates; clipping makes every step the same small size instead.
                torch.nn.utils.clip_grad_norm_(net.parameters(), config.harden_clip)
            opt.step()
            iteration += 1
            if progress is not None:
                return bool(progress(Progress(iteration, phase, loss.item(), _exact_fraction(logits, ys),
                                              snapshot=lambda: to_bit_adder(net, config, {}))))
            return False

        while iteration < config.max_learn_iterations and not stopped:
            stopped = step(config.bits, "learn")
            if iteration % config.eval_every == 0:
                with torch.no_grad():
                    if _exact_fraction(net(eval_x), eval_y) == 1.0:
                        learned_at = iteration
                        break
        learn_seconds = time.perf_counter() - start
        if config.harden_iterations and not stopped:
            sched = torch.optim.lr_scheduler.LambdaLR(
                opt, lambda i: (config.harden_lr / config.lr)
                * 0.5 * (1 + math.cos(math.pi * min(i, config.harden_iterations) / config.harden_iterations)))
            for _ in range(config.harden_iterations):
                if step(config.harden_bits, "harden", config.harden_propagate, config.harden_flip):
                    break
                sched.step()
        metrics = {"iterations": iteration, "learned_8bit_at": learned_at,
                   "learn_seconds": round(learn_seconds, 3),
                   "train_seconds": round(time.perf_counter() - start, 3)}
        return to_bit_adder(net, config, metrics)
    finally:
        torch.set_num_threads(threads)


def evaluate(model: BitAdder, counts: dict[int, int]) -> dict[str, float]:
    """Exact-sum accuracy at each width, through the NumPy core (the path `add` uses)."""
    return {f"exact_{bits}bit": exact_sum_accuracy(model, bits, n, seed=bits) for bits, n in counts.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=TrainConfig.seed)
    parser.add_argument("--hidden-size", type=int, default=TrainConfig.hidden_size)
    parser.add_argument("--convention", choices=list(ASSETS), default="pytorch",
                        help="pytorch trains torch.nn.GRU; cho2014 the reset-before-the-matrix GRU")
    parser.add_argument("--out", help="where to write the checkpoint (default: the shipped asset)")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    config = TrainConfig(seed=args.seed, hidden_size=args.hidden_size, convention=args.convention)
    model = train(config)
    m = model.metrics
    print(f"{config.convention}, seed {config.seed}: {m['iterations']} iterations, {m['train_seconds']:.1f} s "
          f"(100% on all 8-bit sums after {m['learned_8bit_at']} iterations, {m['learn_seconds']:.2f} s)")
    scores = evaluate(model, {8: 10_000, 64: 10_000, 256: 1_000, 1024: 200})
    for k, v in scores.items():
        print(f"  {k}: {100 * v:.2f} %")
    model.metrics.update(scores)
    if not args.no_save:
        out = args.out or ASSETS[config.convention]
        model.save(out)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
