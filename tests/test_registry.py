"""The registry: every shipped model loads from its file alone, says what it is and what it measured,
and is what its retrain command produces."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

from gru_core import registry
from gru_core.models import RecurrentModel
from gru_core.tasks import Task, task_named
from gru_core.train import TrainConfig, main


@pytest.mark.parametrize("entry", registry.ENTRIES, ids=lambda e: e.name)
def test_each_entry_loads_and_carries_its_config_and_metrics(entry):
    assert entry.path.parent == registry.ASSETS_DIR and entry.path.exists()
    model = registry.load(entry.name)
    assert isinstance(model, RecurrentModel) and isinstance(entry.task, Task)
    c = model.config
    # what the file says it is, is what the entry says it is: the command that wrote it is the entry's
    assert (c["task"], c["cell"], c["convention"]) == (entry.task.name, entry.cell, entry.convention)
    assert (c["input_size"], c["output_size"], c["readout"]) == (entry.task.input_size, entry.task.output_size,
                                                                 entry.task.readout)
    assert c["task_settings"] == entry.task.settings()
    assert c["training"] == asdict(entry.config)
    assert c["hidden_size"] == entry.config.hidden_size == model.cell.hidden_size
    # what training and evaluation measured
    m = model.metrics
    assert m["iterations"] == sum(s["iterations"] for s in m["stages"].values())
    assert [name for name in m["stages"]] == [s.name for s in entry.task.curriculum()]
    assert all(s["seconds"] > 0 for s in m["stages"].values())
    assert set(m) - {"iterations", "train_seconds", "stopped", "stages"} and not m["stopped"]  # evaluated
    assert entry.metrics() == m


def test_the_table_lists_each_model_with_the_command_that_retrains_it():
    rows = registry.table()
    assert [r["name"] for r in rows] == [e.name for e in registry.ENTRIES]
    for row in rows:
        assert row["command"] == f"python -m gru_core.train {row['name']}"
        assert set(row) == {"name", "task", "cell", "convention", "file", "command", "metrics"}
        assert (registry.ASSETS_DIR / row["file"]).exists()


def test_every_model_file_in_assets_is_in_the_registry():
    shipped = {p.name for p in registry.ASSETS_DIR.glob("*.pt")}
    assert shipped == {e.file for e in registry.ENTRIES}


@pytest.mark.parametrize("convention", ["pytorch", "cho2014", "chung2014"])
def test_shipped_adder_per_convention(convention):
    model = registry.shipped_adder(convention)
    assert model.cell.convention.name == convention and model.task == "bit_addition"


def test_chung2014_adder_is_the_cho2014_file_flipped():
    cho, chung = registry.load("bit_adder_cho2014"), registry.shipped_adder("chung2014")
    back = chung.cell.flip_update_gate()
    for a, b in zip(back.layers[0].params().values(), cho.cell.layers[0].params().values(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(chung.readout.weight, cho.readout.weight)
    assert chung.metrics == cho.metrics


def test_conventions_with_their_own_adder_file():
    own = registry.conventions_with_own_adder()
    assert own == ("pytorch", "cho2014")
    for convention in own:   # the shipped adder of each is that file, trained in that convention
        name = next(e.name for e in registry.ENTRIES if e.task.name == "bit_addition" and e.convention == convention)
        assert registry.shipped_adder(convention).config == registry.load(name).config
        assert registry.load(name).config["training"]["convention"] == convention


def test_unknown_names_are_explained():
    with pytest.raises(ValueError, match="bit_adder"):
        registry.load("nope")
    with pytest.raises(ValueError, match="convention"):
        registry.shipped_adder("keras")
    with pytest.raises(ValueError, match="bit_addition"):
        task_named("nope")


def test_a_task_is_rebuilt_from_a_checkpoint_config():
    c = registry.load("bit_adder").config
    assert task_named(c["task"], **c["task_settings"]) == registry.entry("bit_adder").task


def test_the_command_line_lists_and_refuses_to_overwrite_with_another_seed(capsys):
    main(["--list"])
    out = capsys.readouterr().out
    assert all(f"python -m gru_core.train {e.name}" in out for e in registry.ENTRIES)
    with pytest.raises(SystemExit):
        main(["bit_adder", "--seed", "1"])  # would overwrite the shipped file with another model


def test_the_command_line_trains_evaluates_and_writes_an_entry(tmp_path, monkeypatch):
    """A small stand-in entry through the same command: trained, evaluated, written, loadable."""
    from gru_core.tasks import bit_addition as ba

    tiny = registry.Entry("tiny_adder", ba.BitAddition(bits=3, harden_bits=6, check_every=5),
                          TrainConfig(seed=0, hidden_size=4, stage_iterations={"learn": 10, "harden": 2}), "tiny.pt")
    monkeypatch.setattr(registry, "ENTRIES", (tiny,))
    monkeypatch.setattr(registry, "ASSETS_DIR", tmp_path)
    monkeypatch.setattr(ba, "EVALUATION", (ba.AdditionSample(8, 20, seed=8),))
    main(["--all"])
    model = registry.load("tiny_adder")
    assert model.metrics["iterations"] == 12 and "exact_8bit" in model.metrics
    assert model.config["training"] == asdict(tiny.config)
