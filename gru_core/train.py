"""Train any task's model with torch autograd: one loop, seeded, with a progress callback.

    python -m gru_core.train bit_adder        # retrain a shipped model (gru_core.registry) and rewrite its file
    python -m gru_core.train --all            # every shipped model (what `make train` runs)
    python -m gru_core.train --list           # the registry: names, files, the commands that retrain them

The loop knows nothing about any task: it draws batches from ``task.batch``, minimises the task's
loss, and walks the task's curriculum (:class:`gru_core.tasks.Stage`: iterations, batch settings,
learning rate and its schedule, gradient clipping, an optional early stop). One Adam optimizer runs
through every stage, so what a stage learned carries into the next.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from .cells.gru import GRU, PARAM_NAMES
from .conventions import get_convention
from .models import CELLS, Readout, RecurrentModel, build_cell
from .tasks import Stage, Task


@dataclass(frozen=True)
class TrainConfig:
    """What the loop needs besides the task; the task's own knobs live in the task (e.g. BitAddition(bits=8))."""

    hidden_size: int = 16          # a class can read every unit
    num_layers: int = 1            # stacked cells, each hidden_size wide
    cell: str = "gru"              # the recurrent cell: "gru", "rnn" (tanh) or "lstm"
    convention: str = "pytorch"    # pytorch: torch.nn.GRU; cho2014/chung2014: torch_cells.ResetBeforeGRU
    lr: float = 1e-2               # Adam; a stage may set its own (e.g. the adder's harden stage)
    batch_size: int = 64           # sequences per iteration; a stage may set its own
    seed: int = 0                  # the initial weights and every batch: same seed, same weights
    stage_iterations: Mapping[str, int] = field(default_factory=dict)  # e.g. {"learn": 600}: a stage's budget


@dataclass(frozen=True)
class Progress:
    iteration: int    # 1, 2, … over the whole run
    stage: str        # the curriculum stage it belongs to, e.g. "learn" or "harden"
    loss: float       # the task's loss on this iteration's batch
    accuracy: float   # the task's exact metric on that batch (task.batch_accuracy)
    snapshot: Callable[[], RecurrentModel]  # the model as it is now (a copy: costs a conversion, call sparingly)


ProgressFn = Callable[[Progress], "bool | None"]  # return True to stop early


def plan(task: Task, config: TrainConfig = TrainConfig()) -> tuple[Stage, ...]:
    """The task's curriculum with the config's per-stage iteration budgets applied (what train runs)."""
    stages = task.curriculum()
    unknown = set(config.stage_iterations) - {s.name for s in stages}
    if unknown:
        raise ValueError(f"stage_iterations names no stage of {task.name}: {', '.join(sorted(unknown))} "
                         f"(its stages: {', '.join(s.name for s in stages)})")
    return tuple(replace(s, iterations=int(config.stage_iterations.get(s.name, s.iterations))) for s in stages)


def _trained_as(convention: str) -> str:
    """The convention the torch net computes: chung2014 is trained as cho2014 (the same model up to the
    update gate's sign: ResetBeforeGRU's z keeps the old state) and flipped when converted."""
    c = get_convention(convention)
    return "pytorch" if c.reset_after_matmul else "cho2014"


def to_model(net, task: Task, config: TrainConfig, metrics: dict) -> RecurrentModel:
    """The torch net as a float64 NumPy :class:`RecurrentModel` in ``config.convention``."""
    sd = net.cell.state_dict()
    layers = [{n: sd[f"{n}_l{k}"].detach().double().numpy() for n in PARAM_NAMES} for k in range(config.num_layers)]
    cell = build_cell(config.cell, layers, _trained_as(config.convention))
    if isinstance(cell, GRU) and get_convention(config.convention).z_keeps_old != cell.convention.z_keeps_old:
        cell = cell.flip_update_gate()
    readout = Readout(net.readout.weight.detach().double().numpy(),               # (O, H)
                      net.readout.bias.detach().double().numpy(), per_step=task.readout == "per_step")
    return RecurrentModel(cell=cell, readout=readout, task=task.name,
                          config={"task_settings": task.settings(), "training": asdict(config)}, metrics=metrics)


def _build_net(task: Task, config: TrainConfig):
    import torch

    from .torch_cells import RecurrentNet, gru_module

    if config.cell == "gru":
        reset_after = get_convention(config.convention).reset_after_matmul
        module = gru_module(task.input_size, config.hidden_size, config.num_layers, reset_after)
    elif config.cell in ("rnn", "lstm"):
        module = getattr(torch.nn, config.cell.upper())(task.input_size, config.hidden_size, config.num_layers,
                                                         batch_first=True)
    else:
        raise ValueError(f"unknown cell {config.cell!r}: expected one of {', '.join(CELLS)}")
    return RecurrentNet(module, task.output_size, per_step=task.readout == "per_step")


def train(task: Task, config: TrainConfig = TrainConfig(), progress: ProgressFn | None = None) -> RecurrentModel:
    """Train a model for ``task`` from ``config.seed``; the same seed gives the same weights.

    Metrics: ``iterations``, ``train_seconds``, ``stopped`` (by the progress callback), and per stage
    (``metrics["stages"][name]``) its ``iterations``, wall ``seconds`` and, where it has a stop check,
    that check's ``stop_check`` description and ``passed_at``: the iteration at which it passed (None
    if it never did).
    """
    import torch

    stages = plan(task, config)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # reductions in one fixed order: same seed, same bits
    try:
        torch.manual_seed(config.seed)
        rng = np.random.default_rng(config.seed)
        net = _build_net(task, config)
        opt = torch.optim.Adam(net.parameters(), lr=config.lr)
        loss_fn = {"bce": torch.nn.BCEWithLogitsLoss, "mse": torch.nn.MSELoss}[task.loss]()
        start = time.perf_counter()
        iteration, stopped, stage_metrics = 0, False, {}
        for stage in stages:
            if stopped:
                break
            stage_start = time.perf_counter()
            stage_metrics[stage.name] = record = {"iterations": 0}
            if stage.stop is not None:
                check_x, check_y = stage.stop.data()
                check_x = torch.from_numpy(check_x)
                record.update(stop_check=stage.stop.description, passed_at=None)
            for i in range(stage.iterations):
                for group in opt.param_groups:
                    group["lr"] = stage.lr_at(config.lr, i)
                xs, ys = (torch.from_numpy(a) for a in task.batch(rng, stage.batch_size or config.batch_size, stage))
                outputs = net(xs)                                  # (B, T, O) or (B, O)
                loss = loss_fn(outputs, ys)
                opt.zero_grad()
                loss.backward()
                if stage.clip is not None:
                    torch.nn.utils.clip_grad_norm_(net.parameters(), stage.clip)
                opt.step()
                iteration += 1
                record["iterations"] += 1
                if progress is not None:
                    report = Progress(iteration, stage.name, loss.item(),
                                      task.batch_accuracy(outputs.detach().numpy(), ys.numpy()),
                                      snapshot=lambda: to_model(net, task, config, {}))
                    stopped = bool(progress(report))
                if stage.stop is not None and (i + 1) % stage.stop.every == 0:
                    with torch.no_grad():
                        if stage.stop.passed(net(check_x).numpy(), check_y):
                            record["passed_at"] = iteration
                            break
                if stopped:
                    break
            record["seconds"] = round(time.perf_counter() - stage_start, 3)
        metrics = {"iterations": iteration, "train_seconds": round(time.perf_counter() - start, 3),
                   "stopped": stopped, "stages": stage_metrics}
        return to_model(net, task, config, metrics)
    finally:
        torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> None:
    from . import registry

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="shipped models to retrain (see --list)")
    parser.add_argument("--all", action="store_true", help="retrain every shipped model")
    parser.add_argument("--task", help="retrain every shipped model of this task (e.g. adding)")
    parser.add_argument("--list", action="store_true", help="print the registry and exit")
    parser.add_argument("--seed", type=int, help="train from another seed (needs --out or --no-save)")
    parser.add_argument("--out", help="write the checkpoint here instead of the shipped file")
    parser.add_argument("--no-save", action="store_true", help="train and evaluate, write nothing")
    args = parser.parse_args(argv)
    if args.list:
        for e in registry.ENTRIES:
            print(f"{e.name:<20} {e.task.name:<14} {e.cell:<5} {e.convention or '':<10} "
                  f"assets/{e.file:<24} {e.command}")
        return
    names = ([e.name for e in registry.ENTRIES] if args.all else
             [e.name for e in registry.ENTRIES if e.task.name == args.task] if args.task else args.names)
    if not names:
        parser.error("name a shipped model, or pass --all (see --list)")
    if args.seed is not None and not (args.out or args.no_save):
        parser.error("--seed trains another model than the shipped one: pass --out or --no-save")
    if args.out and len(names) > 1:
        parser.error("--out takes one model")
    summary = []
    for name in names:
        entry = registry.entry(name)
        config = entry.config if args.seed is None else replace(entry.config, seed=args.seed)
        model = train(entry.task, config)
        m = model.metrics
        what = f"{entry.cell}, {entry.convention}" if entry.convention else entry.cell
        print(f"{name} ({what}, {model.cell.parameter_count + model.readout.weight.size + model.readout.bias.size:,} "
              f"parameters, seed {config.seed}): {m['iterations']} iterations, {m['train_seconds']:.1f} s")
        for stage, s in m["stages"].items():
            check = f"; {s['stop_check']}: at iteration {s['passed_at']}" if "stop_check" in s else ""
            print(f"  {stage}: {s['iterations']} iterations, {s['seconds']:.1f} s{check}")
        scores = entry.task.evaluate(model)
        for k, v in scores.items():
            print(f"  {k}: {v:.4g}")
        summary.append((name, m["iterations"], m["train_seconds"], scores))
        model = model.with_metrics(**scores)
        if not args.no_save:
            out = args.out or entry.path
            model.save(out)
            print(f"  wrote {out}")
    if len(summary) > 1:
        keys = list(summary[0][3])
        print(f"\n{'model':<20} {'iterations':>10} {'seconds':>8} " + " ".join(f"{k:>13}" for k in keys))
        for name, iterations, seconds, scores in summary:
            print(f"{name:<20} {iterations:>10} {seconds:>8.1f} "
                  + " ".join(f"{scores.get(k, float('nan')):>13.4g}" for k in keys))


if __name__ == "__main__":
    main()
