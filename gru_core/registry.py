"""The shipped models, in one table: what each is, where its file is, the command that retrains it.

Every file in assets/ that holds a model is an entry here, and every entry is reproduced by its
command (``python -m gru_core.train <name>``; ``make train`` runs them all). The figures a page quotes
about a shipped model (iterations, seconds, accuracies) are read from its file: what training wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .conventions import Convention, get_convention
from .models import RecurrentModel
from .tasks import Task
from .tasks.adding import AddingProblem
from .tasks.bit_addition import BitAddition
from .tasks.forecast import Forecast
from .tasks.last_part import LastPart
from .train import TrainConfig

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


@dataclass(frozen=True)
class Entry:
    """One shipped model: trained by ``train(task, config)``, written to ``assets/<file>``."""

    name: str
    task: Task
    config: TrainConfig
    file: str

    @property
    def path(self) -> Path:
        return ASSETS_DIR / self.file

    @property
    def cell(self) -> str:
        return self.config.cell

    @property
    def convention(self) -> str | None:
        """The GRU convention it computes (None for cells without conventions)."""
        return get_convention(self.config.convention).name if self.config.cell == "gru" else None

    @property
    def command(self) -> str:
        """The command that retrains this model and rewrites its file."""
        return f"python -m gru_core.train {self.name}"

    def load(self) -> RecurrentModel:
        return RecurrentModel.load(self.path)

    def metrics(self) -> dict[str, Any]:
        """What training and evaluation measured, as written in the file."""
        return self.load().metrics


# Why gates: the three cells on the adding problem at four lengths, one recipe, about 1,000 parameters
# each (hidden sizes chosen for that: GRU 3 blocks, LSTM 4, plain RNN 1; readout included).
ADDING_LENGTHS = (10, 50, 100, 200)
ADDING_CELLS = {"rnn": 30, "gru": 16, "lstm": 14}   # cell -> hidden units
ADDING_LR = 3e-3


def _adding_entries() -> tuple[Entry, ...]:
    return tuple(Entry(f"adding_{cell}_{length}", AddingProblem(length=length),
                       TrainConfig(cell=cell, hidden_size=hidden, lr=ADDING_LR, seed=0), f"adding_{cell}_{length}.pt")
                 for length in ADDING_LENGTHS for cell, hidden in ADDING_CELLS.items())


# Seed 001's architecture on real data: GRU(50) → GRU(50) → Dense(1), one forecast per window.
FORECAST = Entry("forecast_stocks", Forecast(),
                 TrainConfig(cell="gru", hidden_size=50, num_layers=2, lr=1e-3, batch_size=32, seed=0),
                 "forecast_stocks.pt")

# Seed 003's reset gate: only the last part of a "review" counts, so the state is washed out at every
# marker (gru_core.tasks.last_part; the reset finding is computed from this model's recorded gates).
LAST_PART = Entry("last_part", LastPart(), TrainConfig(hidden_size=6, lr=1e-2, seed=0), "last_part.pt")

# One trained bit adder per reset placement; chung2014 is the cho2014 one re-expressed (shipped_adder).
ENTRIES: tuple[Entry, ...] = (
    Entry("bit_adder", BitAddition(), TrainConfig(seed=0, convention="pytorch"), "bit_adder.pt"),
    Entry("bit_adder_cho2014", BitAddition(), TrainConfig(seed=0, convention="cho2014"), "bit_adder_cho2014.pt"),
    *_adding_entries(),
    FORECAST,
    LAST_PART,
)


def entry(name: str) -> Entry:
    """The entry called ``name``; an unknown name is a ValueError listing the shipped ones."""
    for e in ENTRIES:
        if e.name == name:
            return e
    raise ValueError(f"no shipped model called {name!r}: expected one of {', '.join(e.name for e in ENTRIES)}")


def load(name: str) -> RecurrentModel:
    """The shipped model ``name``, rebuilt from its file alone."""
    return entry(name).load()


def table() -> list[dict[str, Any]]:
    """The registry as rows: name, task, cell, convention, file, command, metrics (read from the file)."""
    return [{"name": e.name, "task": e.task.name, "cell": e.cell, "convention": e.convention, "file": e.file,
             "command": e.command, "metrics": e.metrics()} for e in ENTRIES]


def conventions_with_own_adder() -> tuple[str, ...]:
    """The conventions whose shipped bit adder is a file trained with their own equations (the others
    get one of these re-expressed, see :func:`shipped_adder`)."""
    return tuple(dict.fromkeys(e.convention for e in ENTRIES if e.task.name == BitAddition.name))


def shipped_adder(convention: str | Convention = "pytorch") -> RecurrentModel:
    """The shipped bit adder for ``convention``.

    pytorch and cho2014 are two networks, each trained with its own equations. A convention with no
    file of its own (chung2014) gets the network trained with its reset placement, its update gate
    flipped (:meth:`GRU.flip_update_gate`): the same computation, z ↔ 1 − z.
    """
    c = get_convention(convention)
    adders = [e for e in ENTRIES if e.task.name == BitAddition.name]
    for e in adders:
        if e.convention == c.name:
            return e.load()
    for e in adders:
        if get_convention(e.convention).reset_after_matmul == c.reset_after_matmul:
            model = e.load()
            return model.with_cell(model.cell.flip_update_gate())
    raise ValueError(f"no shipped bit adder computes the {c.name} convention")
