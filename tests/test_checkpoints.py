"""Reading uploaded GRU checkpoints: real files written by torch.save, and every refusal's message."""

from __future__ import annotations

import io
import os
import pickle
import random
import uuid

import numpy as np
import pytest
import torch

from gru_core.checkpoints import describe, load_gru, load_gru_state_dict
from gru_core.checkpoints import torch_state_dict as gru_io


def saved(obj) -> bytes:
    """What a user would upload: ``obj`` written by torch.save."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def torch_outputs(module: torch.nn.GRU, xs: np.ndarray) -> np.ndarray:
    """The top layer's h at every step (T, H) for one sequence ``xs`` (T, I)."""
    x = torch.from_numpy(xs).to(module.weight_hh_l0.dtype)
    x = x[None] if module.batch_first else x[:, None]  # (1, T, I) or (T, 1, I)
    with torch.no_grad():
        out, _ = module(x)
    return (out[0] if module.batch_first else out[:, 0]).numpy()


def assert_same_outputs(module: torch.nn.GRU, gru) -> None:
    xs = np.random.default_rng(0).normal(size=(25, module.input_size)).astype(np.float32)
    expected = torch_outputs(module, xs)
    np.testing.assert_allclose(np.asarray(gru.run(xs).h), expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("num_layers", [1, 3])
def test_state_dict_round_trip(num_layers):
    torch.manual_seed(num_layers)
    m = torch.nn.GRU(3, 8, num_layers=num_layers)
    loaded = load_gru(saved(m.state_dict()))
    assert (loaded.prefix, loaded.note) == ("", "")
    assert loaded.gru.num_layers == num_layers and loaded.gru.dtype == np.float32
    assert_same_outputs(m, loaded.gru)
    layers = "1 layer" if num_layers == 1 else f"{num_layers} layers"
    assert describe(loaded.gru) == f"{layers}, 3 inputs → 8 hidden units, float32"


def test_batch_first_module_loads_the_same():
    torch.manual_seed(1)
    m = torch.nn.GRU(2, 5, num_layers=2, batch_first=True)
    assert_same_outputs(m, load_gru_state_dict(saved(m.state_dict())))


def test_prefixed_state_dict_from_a_bigger_model():
    class Tagger(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Linear(4, 3)
            self.encoder = torch.nn.Sequential()
            self.encoder.add_module("rnn", torch.nn.GRU(3, 6, num_layers=2))
            self.head = torch.nn.Linear(6, 2)

    torch.manual_seed(2)
    model = Tagger()
    loaded = load_gru(saved(model.state_dict()))
    assert loaded.prefix == "encoder.rnn."
    assert loaded.note == "found GRU weights under the prefix 'encoder.rnn.'"
    assert_same_outputs(model.encoder.rnn, loaded.gru)


def test_two_grus_use_the_first_and_say_so():
    torch.manual_seed(3)
    model = torch.nn.ModuleDict({"a": torch.nn.GRU(2, 4), "b": torch.nn.GRU(4, 3)})
    loaded = load_gru(saved(model.state_dict()))
    assert loaded.prefix == "a."
    assert loaded.note == "the file has 2 GRUs; using the first, 'a.'"
    assert_same_outputs(model["a"], loaded.gru)


def test_a_gru_after_an_lstm_is_found():
    torch.manual_seed(6)
    model = torch.nn.ModuleDict({"encoder": torch.nn.LSTM(2, 4), "decoder": torch.nn.GRU(4, 3)})
    loaded = load_gru(saved(model.state_dict()))
    assert loaded.prefix == "decoder."
    assert_same_outputs(model["decoder"], loaded.gru)


def test_checkpoint_wrapping_the_state_dict():
    torch.manual_seed(4)
    m = torch.nn.GRU(3, 4)
    blob = saved({"epoch": 7, "state_dict": m.state_dict(), "optimizer": {"lr": 0.01}})
    assert_same_outputs(m, load_gru_state_dict(blob))
    blob = saved({"model_state_dict": m.state_dict(), "loss": 0.5})
    assert_same_outputs(m, load_gru_state_dict(blob))


def test_float16_is_converted_with_a_note():
    torch.manual_seed(5)
    m = torch.nn.GRU(3, 4)
    loaded = load_gru(saved(m.half().state_dict()))
    assert loaded.gru.dtype == np.float32
    assert loaded.note == "converted float16 weights to float32"
    assert_same_outputs(m.float(), loaded.gru)  # the module now holds the float16-rounded weights


def test_pickle_that_would_run_code_is_refused_and_never_runs():
    marker = f"/tmp/gru_gate_lab_io_pwned_{uuid.uuid4().hex}"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    for blob in (saved({"weight_ih_l0": Evil()}),                     # torch.save's zip format
                 pickle.dumps({"state_dict": Evil()}, protocol=2)):  # a bare pickle
        with pytest.raises(ValueError, match=r"holds more than tensors .* could run code\. "
                                             r"Save the weights with torch\.save"):
            load_gru(blob)
    assert not os.path.exists(marker)


def test_whole_pickled_module_is_refused():
    with pytest.raises(ValueError, match=r"more than tensors \(for example a whole pickled model"):
        load_gru(saved(torch.nn.GRU(2, 3)))


def test_lstm_state_dict_is_explained():
    with pytest.raises(ValueError, match=r"look like an LSTM \(torch\.nn\.LSTM, 4 gate blocks\): "
                                         r"weight_hh_l0 has shape \(20, 5\), 4 blocks of 5 rows\. "
                                         r"This app reads GRUs \(3 gate blocks"):
        load_gru(saved(torch.nn.LSTM(3, 5).state_dict()))


def test_rnn_state_dict_is_explained():
    with pytest.raises(ValueError, match=r"look like a plain RNN \(torch\.nn\.RNN, 1 block\): "
                                         r"weight_hh_l0 has shape \(5, 5\), 1 block of 5 rows"):
        load_gru(saved(torch.nn.RNN(3, 5).state_dict()))


def test_linear_state_dict_lists_its_keys():
    with pytest.raises(ValueError, match=r"no GRU weights: no key ends in weight_ih_l0 \(its keys "
                                         r"are 'weight', 'bias'\)\. A torch\.nn\.GRU state_dict "
                                         r"has the keys weight_ih_l0, weight_hh_l0, bias_ih_l0 and "
                                         r"bias_hh_l0"):
        load_gru(saved(torch.nn.Linear(3, 2).state_dict()))


def test_bidirectional_is_refused():
    with pytest.raises(ValueError, match=r"bidirectional.*not supported.*bidirectional=False"):
        load_gru(saved(torch.nn.GRU(3, 4, bidirectional=True).state_dict()))


def test_gru_without_biases_is_refused():
    with pytest.raises(ValueError, match=r"built without biases \(bias=False\).*not supported"):
        load_gru(saved(torch.nn.GRU(3, 4, bias=False).state_dict()))


def test_integer_tensor_is_refused():
    sd = torch.nn.GRU(3, 4).state_dict()
    sd["weight_hh_l0"] = torch.ones(12, 4, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"'weight_hh_l0' holds int64 values, but GRU weights "
                                         r"must be floating-point"):
        load_gru(saved(sd))


def test_nan_is_refused():
    sd = torch.nn.GRU(3, 4).state_dict()
    sd["bias_ih_l0"][2] = float("nan")
    with pytest.raises(ValueError, match=r"'bias_ih_l0' contains NaN or infinite values"):
        load_gru(saved(sd))


def test_inconsistent_shapes_are_explained():
    sd = torch.nn.GRU(3, 4).state_dict()
    sd["bias_hh_l0"] = torch.zeros(11)
    with pytest.raises(ValueError, match=r"inconsistent shapes: layer 0: bias_hh must have "
                                         r"shape \(12,\), got \(11,\)"):
        load_gru(saved(sd))


def test_not_a_state_dict_is_explained():
    with pytest.raises(ValueError, match=r"holds a single tensor of shape \(3, 4\), not a state_dict"):
        load_gru(saved(torch.zeros(3, 4)))
    with pytest.raises(ValueError, match=r"holds a list, not a state_dict"):
        load_gru(saved([torch.zeros(3)]))


def test_empty_bytes():
    with pytest.raises(ValueError, match=r"The uploaded file is empty \(0 bytes\)"):
        load_gru(b"")


@pytest.mark.parametrize("garbage", [bytes(random.Random(s).randrange(256) for _ in range(4096))
                                     for s in range(3)]
                         + [b"cost,value\n1,2\n"])  # a text file starting with "c" (pickle's GLOBAL)
def test_random_garbage(garbage):
    with pytest.raises(ValueError, match=r"could not be read as a PyTorch file"):
        load_gru(garbage)


def test_truncated_file():
    with pytest.raises(ValueError, match=r"could not be read as a PyTorch file"):
        load_gru(saved(torch.nn.GRU(3, 4).state_dict())[:500])


def test_too_large(monkeypatch):
    blob = saved(torch.nn.GRU(3, 4).state_dict())
    monkeypatch.setattr(gru_io, "MAX_CHECKPOINT_BYTES", 1000)
    size = f"{len(blob) / 1e6:.3f}"
    with pytest.raises(ValueError, match=rf"This file is {size} MB, over the 0\.001 MB limit"):
        load_gru(blob)


# -- structure checks: what is measured before torch.load ------------------------------------------
def test_pickle_scan_measures_a_real_state_dict():
    import zipfile

    from gru_core.checkpoints.structure import scan_pickle

    blob = saved(torch.nn.GRU(3, 4, num_layers=2).state_dict())
    data_pkl = zipfile.ZipFile(io.BytesIO(blob)).read("archive/data.pkl")
    scan = scan_pickle(data_pkl, max_ops=10_000, max_depth=100)
    # dict → _rebuild_tensor_v2(...) → its argument tuple → the storage's persistent id tuple → ...
    assert scan.depth == 5 and 200 < scan.ops < 400 and scan.end == len(data_pkl)


def _top_down_lists(n: int) -> bytes:
    """``[[[…]]]`` n deep, each list created empty and filled after its parent holds it (via the memo)."""
    ops = bytearray(b"\x80\x02]r\x00\x00\x00\x00")  # L0, memo 0
    for i in range(1, n):
        ops += b"j" + (i - 1).to_bytes(4, "little") + b"]r" + i.to_bytes(4, "little") + b"a0"  # L[i-1].append(L[i])
    return bytes(ops + b".")


def test_pickle_scan_counts_nesting_built_in_any_order():
    from gru_core.checkpoints.structure import StructureError, scan_pickle

    data = _top_down_lists(300)
    built, depth = pickle.loads(data), 1  # our own bytes: see what they build, to be sure
    while built:
        built, depth = built[0], depth + 1
    assert depth == 300
    assert scan_pickle(data, max_ops=10_000, max_depth=1_000).depth == 300
    with pytest.raises(StructureError, match="nested more than 100 levels deep"):
        scan_pickle(data, max_ops=10_000, max_depth=100)


def test_pickle_scan_survives_cycles_and_refuses_garbage():
    from gru_core.checkpoints.structure import StructureError, scan_pickle

    cyclic = []
    cyclic.append(cyclic)
    assert scan_pickle(pickle.dumps(cyclic, protocol=2), max_ops=100, max_depth=10).depth == 1
    with pytest.raises(StructureError, match="cannot be read"):
        scan_pickle(b"\x80\x02]\xff.", max_ops=100, max_depth=10)
    with pytest.raises(StructureError, match="more than 10 instructions"):
        scan_pickle(pickle.dumps(list(range(20)), protocol=2), max_ops=10, max_depth=10)


def test_legacy_format_still_loads():
    """torch.save's format from before torch 1.6: five pickles back to back, then the raw storages."""
    torch.manual_seed(7)
    m = torch.nn.GRU(2, 3)
    buf = io.BytesIO()
    torch.save(m.state_dict(), buf, _use_new_zipfile_serialization=False)
    assert buf.getvalue()[:1] == b"\x80"
    assert_same_outputs(m, load_gru_state_dict(buf.getvalue()))


def test_a_compressed_zip_is_refused_before_it_is_unpacked():
    import zipfile

    blob = saved(torch.nn.GRU(2, 3).state_dict())
    src, out = zipfile.ZipFile(io.BytesIO(blob)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:  # the same entries, re-zipped
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
    with pytest.raises(ValueError, match=r"its zip entry 'archive/data\.pkl' is compressed"):
        load_gru(out.getvalue())
