"""Everything the app shares between sessions is read-only all the way down: a test tries to write
every array reachable from each cached object (the app's caches hand the same object to everyone)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gru_core import GRU, checkpoints, registry
from gru_core.tasks import bit_addition as ba


def arrays_in(obj, seen=None, path="obj"):
    """Every NumPy array reachable from ``obj`` through attributes, dataclass fields and containers."""
    seen = set() if seen is None else seen
    if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, bool)):
        return
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        yield path, obj
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from arrays_in(v, seen, f"{path}[{k!r}]")
        return
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from arrays_in(v, seen, f"{path}[{i}]")
        return
    fields = ([f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else []) + \
        list(getattr(obj, "__dict__", {}))
    for name in dict.fromkeys(fields):
        yield from arrays_in(getattr(obj, name), seen, f"{path}.{name}")


def assert_read_only(obj):
    found = list(arrays_in(obj))
    assert found, "nothing to check"
    for path, a in found:
        with pytest.raises(ValueError, match="read-only"):
            a.reshape(-1)[:1] = 0
        assert not a.flags.writeable, path


def test_the_shipped_models_are_read_only():
    for convention in ("pytorch", "cho2014", "chung2014"):
        assert_read_only(registry.shipped_adder(convention))


def test_a_recorded_addition_is_read_only():
    assert_read_only(ba.run_addition(registry.shipped_adder(), 46955, 27509))


def test_the_carry_finding_is_read_only():
    assert_read_only(ba.carry_finding(registry.shipped_adder()))


def test_a_random_gru_and_its_trace_are_read_only():
    gru = GRU.random(3, 5, 2, seed=0)
    assert_read_only(gru)
    assert_read_only(gru.run(np.random.default_rng(0).normal(size=(7, 3))))


def test_an_uploaded_gru_is_read_only():
    import io

    import torch

    buf = io.BytesIO()
    torch.save(torch.nn.GRU(2, 4, num_layers=2).state_dict(), buf)
    assert_read_only(checkpoints.load_gru(buf.getvalue()))


def test_the_walker_finds_a_writable_array():
    with pytest.raises(BaseException):  # noqa: B017 — the check itself must be able to fail
        assert_read_only({"x": np.zeros(3)})
