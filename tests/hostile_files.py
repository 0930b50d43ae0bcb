"""A corpus of hostile uploads, built in memory and deterministically (same bytes on every run).

``checkpoints(marker_dir)`` and ``csv_files()`` map a short name to the bytes of one file; the
code-running pickles would each create a file in ``marker_dir`` if any of them ever ran. The
worst files are named in ``WORST_CHECKPOINTS``. The bottom of the file has parsers that misbehave
on purpose, run by the tests inside the sandbox to check how it reports each kind of failure.

Sizes of note: a GRU with H units and I inputs has weight_ih (3H, I), weight_hh (3H, H) and two
biases (3H,); the giants below declare H = 30,000 or 65,536 while storing at most a few bytes.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import random
import struct
import sys
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

GIANT_H = 30_000               # expand() giant: weight_hh claims 90,000 × 30,000 float32 = 10.8 GB
SPARSE_H = 1 << 16             # sparse giant: weight_hh claims 196,608 × 65,536 = 12.9 billion values
BOMB_BYTES = 1 << 30           # the zip bomb's entry unpacks to 1 GiB of zeros
DEEP = (10_000, 150_000)       # nesting depths: 10k gave a RecursionError traceback, 150k a segfault
WORST_CHECKPOINTS = ("deep_key_150k", "expand_giant", "sparse_giant", "zip_bomb", "meta_tensor")
_EPOCH = (1980, 1, 1, 0, 0, 0)  # every zip entry's timestamp, so the bytes never change


# -- building blocks -------------------------------------------------------------------------------
def torch_saved(obj) -> bytes:
    """What a user would upload: ``obj`` written by torch.save."""
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def torch_zip(data_pkl: bytes, records: dict[str, bytes] | None = None) -> bytes:
    """A zip laid out like torch.save's: ``archive/data.pkl``, ``archive/data/<key>``, byteorder."""
    entries = [("archive/data.pkl", data_pkl), ("archive/byteorder", b"little"),
               *[(f"archive/data/{k}", v) for k, v in (records or {}).items()], ("archive/version", b"3")]
    return _stored_zip(entries)


def _stored_zip(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        warnings.simplefilter("ignore")  # duplicate names are one of the hostile cases
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, _EPOCH), data)
    return out.getvalue()


def _gru_state(hidden: int, inputs: int, make) -> dict:
    """A GRU state_dict's four layer-0 keys, each tensor made by ``make(shape)``."""
    return {"weight_ih_l0": make((3 * hidden, inputs)), "weight_hh_l0": make((3 * hidden, hidden)),
            "bias_ih_l0": make((3 * hidden,)), "bias_hh_l0": make((3 * hidden,))}


# -- deep nesting: hand-written pickles (pickle itself cannot write them: it recurses) -----------
def deep_key_pickle(depth: int) -> bytes:
    """``{((…(0,)…),): 0}`` with the key nested ``depth`` tuples deep: hashing it recurses in C."""
    return b"\x80\x02}" + b"K\x00" + b"\x85" * depth + b"K\x00s."


def deep_value_pickle(depth: int) -> bytes:
    """``{"weight_ih_l0": [[[…[]…]]]}`` with the value nested ``depth`` lists deep.

    Written as pickle writes lists: all the empty lists first, then one APPEND per level.
    """
    return (b"\x80\x02}" + b"X\x0c\x00\x00\x00weight_ih_l0" + b"]" * depth + b"a" * (depth - 1)
            + b"s.")


# -- code that would run if unpickling were unrestricted -------------------------------------------
class RunsShell:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class RunsPython:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran')",))


def code_running_pickles(marker_dir: str | Path) -> dict[str, bytes]:
    """Eight ways a pickle asks to run code; each would create ``marker_dir/<name>`` if it ran."""
    import torch

    m = {name: str(Path(marker_dir) / name) for name in (
        "reduce_os_system_zip", "reduce_os_system_bare_p2", "reduce_exec_zip", "reduce_exec_bare_p5",
        "inst_opcode", "obj_opcode", "stack_global_exec", "hidden_in_a_state_dict")}
    touch = {name: f"touch {path}".encode() for name, path in m.items()}
    run = {name: f"open({path!r}, 'w').write('ran')".encode() for name, path in m.items()}
    return {
        # torch.save of an object whose __reduce__ names os.system (the common attack)
        "reduce_os_system_zip": torch_saved({"weight_ih_l0": RunsShell(m["reduce_os_system_zip"])}),
        "reduce_os_system_bare_p2": pickle.dumps({"state_dict": RunsShell(m["reduce_os_system_bare_p2"])},
                                                 protocol=2),
        "reduce_exec_zip": torch_saved({"weight_ih_l0": RunsPython(m["reduce_exec_zip"])}),
        "reduce_exec_bare_p5": pickle.dumps({"weight_ih_l0": RunsPython(m["reduce_exec_bare_p5"])}, protocol=5),
        # protocol 0's INST: "(S'cmd'\nios\nsystem\n" calls os.system('cmd') as it builds the object
        "inst_opcode": torch_zip(b"(S'" + touch["inst_opcode"] + b"'\nios\nsystem\n."),
        # protocol 1's OBJ: MARK, the callable, its arguments, 'o'
        "obj_opcode": torch_zip(b"(cos\nsystem\nS'" + touch["obj_opcode"] + b"'\no."),
        # protocol 4's STACK_GLOBAL names builtins.exec from two strings on the stack
        "stack_global_exec": torch_zip(
            b"\x80\x04" + _short_str(b"builtins") + _short_str(b"exec") + b"\x93"
            + b"X" + struct.pack("<I", len(run["stack_global_exec"])) + run["stack_global_exec"] + b"\x85R."),
        # a valid GRU state_dict with the call tucked away in an extra entry
        "hidden_in_a_state_dict": torch_saved({**torch.nn.GRU(1, 2).state_dict(),
                                               "extra": [1, {"x": RunsPython(m["hidden_in_a_state_dict"])}]}),
    }


def _short_str(s: bytes) -> bytes:
    return b"\x8c" + bytes([len(s)]) + s  # SHORT_BINUNICODE


# -- the zip bomb, written without ever holding its gigabyte ---------------------------------------
@functools.lru_cache(maxsize=1)
def zip_bomb() -> bytes:
    """A small GRU's torch.save zip whose storage ``archive/data/0`` unpacks to 1 GiB of zeros.

    Deflate restarts after a full flush, so one compressed MiB of zeros repeats byte for byte:
    the 1 GiB entry is 1,024 copies of a 1,037-byte block, never materialised (~1 MB in all).
    """
    import torch

    torch.manual_seed(0)
    normal = zipfile.ZipFile(io.BytesIO(torch_saved(torch.nn.GRU(1, 2).state_dict())))
    chunk = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    repeats = BOMB_BYTES // len(chunk)
    stream = block * repeats + deflate.flush()
    crc = functools.reduce(lambda c, _: zlib.crc32(chunk, c), range(repeats), 0)
    entries = []
    for info in normal.infolist():
        if info.filename.endswith("/data/0"):
            entries.append((info.filename, zipfile.ZIP_DEFLATED, crc, stream, BOMB_BYTES))
        else:
            data = normal.read(info)
            entries.append((info.filename, zipfile.ZIP_STORED, zlib.crc32(data), data, len(data)))
    return _raw_zip(entries)


def _raw_zip(entries: list[tuple[str, int, int, bytes, int]]) -> bytes:
    """A zip from (name, method, crc, stored bytes, unpacked size): entries compressed elsewhere."""
    out, directory = bytearray(), bytearray()
    for name, method, crc, payload, size in entries:
        encoded = name.encode()
        offset = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 33, crc, len(payload), size,
                           len(encoded), 0) + encoded + payload
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 33, crc, len(payload),
                                 size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), len(out), 0)
    return bytes(out + directory + end)


# -- the corpus --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def checkpoints(marker_dir: str) -> dict[str, bytes]:
    """Every hostile checkpoint by name (each is refused by load_gru with a sentence)."""
    import torch

    torch.manual_seed(0)
    saved_gru = torch_saved(torch.nn.GRU(3, 4).state_dict())
    rng = random.Random(12)
    files = {f"deep_key_{d // 1000}k": torch_zip(deep_key_pickle(d)) for d in DEEP}
    files |= {f"deep_value_{d // 1000}k": torch_zip(deep_value_pickle(d)) for d in DEEP}
    files["deep_key_150k_bare"] = deep_key_pickle(150_000)  # the legacy (non-zip) path
    files["expand_giant"] = torch_saved(_gru_state(GIANT_H, 1, lambda shape: torch.zeros(1).expand(*shape)))
    files["sparse_giant"] = torch_saved(_gru_state(SPARSE_H, 1, lambda shape: torch.sparse_coo_tensor(
        torch.zeros((len(shape), 0), dtype=torch.long), torch.zeros(0), shape, check_invariants=True)))
    files["meta_tensor"] = torch_saved(torch.nn.GRU(3, 4, device="meta").state_dict())
    files["zip_bomb"] = zip_bomb()
    files["storage_lies"] = _storage_lies()
    files["too_many_opcodes"] = torch_zip(b"\x80\x02](" + b"N" * 1_200_000 + b"e.")
    files["huge_data_pkl"] = torch_zip(b"\x80\x02X" + struct.pack("<I", 5_000_000) + b"x" * 5_000_000 + b".")
    files["many_entries"] = _stored_zip([("archive/data.pkl", b"\x80\x02}.")]
                                        + [(f"archive/data/{k}", b"") for k in range(20_000)])
    files["duplicate_entries"] = _stored_zip([("archive/data.pkl", b"\x80\x02}."),
                                              ("archive/data.pkl", deep_key_pickle(150_000))])
    files["hidden_300"] = torch_saved(torch.nn.GRU(1, 300).state_dict())
    files["inputs_65"] = torch_saved(torch.nn.GRU(65, 4).state_dict())
    files["layers_9"] = torch_saved(torch.nn.GRU(1, 2, num_layers=9).state_dict())
    files["truncated_500"] = saved_gru[:500]
    files["truncated_half"] = saved_gru[: len(saved_gru) // 2]
    files["random_bytes"] = rng.randbytes(4096)
    files["random_after_zip_header"] = b"PK\x03\x04" + rng.randbytes(4092)
    files["random_after_pickle_header"] = b"\x80\x02" + rng.randbytes(4094)
    files["oversize_25mb"] = torch_saved({**torch.nn.GRU(1, 2).state_dict(), "embedding": torch.zeros(6_250_000)})
    files["empty"] = b""
    return files | code_running_pickles(marker_dir)


def _storage_lies() -> bytes:
    """A tensor whose pickle claims a million-element storage over a 16-byte record."""
    import torch

    z = zipfile.ZipFile(io.BytesIO(torch_saved({"weight_ih_l0": torch.arange(4.0)})))
    pkl = z.read("archive/data.pkl").replace(b"K\x04t", b"J\x40\x42\x0f\x00t")  # numel 4 -> 1,000,000
    return torch_zip(pkl, {"0": z.read("archive/data/0")})


@functools.lru_cache(maxsize=1)
def csv_files() -> dict[str, bytes]:
    """Every hostile CSV by name (each is refused by parse_csv with a sentence)."""
    rng = random.Random(7)
    return {
        "csv_field_200k": b'x\n"' + b"7" * 200_000 + b'"\n',
        "csv_unclosed_quote": b'x\n"1\n' + b"2\n" * 50_000,
        "csv_rows_100k": b"x\n" + b"1\n" * 100_000,
        "csv_cols_10k": b",".join([b"1"] * 10_000) + b"\n",
        "csv_one_row_of_commas": b"," * 1_999_000 + b"1\n",
        "csv_mixed_separators": b"1,2;3\n4;5,6\n7,8\n",   # Sniffer picks commas: the cell '2;3' is named
        "csv_ambiguous_separators": b"1,2\n3;4\n",       # Sniffer cannot tell
        "csv_binary": rng.randbytes(65_536),
        "csv_nul": b"1,2\n\x00,3\n",
        "csv_oversize_3mb": b"1,2\n" * 750_000,
        "csv_nan": b"a,b\n1,nan\n",
        "csv_huge_value": b"1,1e308\n",
        "csv_not_numbers": b"a;b\n1;x\n",
        "csv_header_only": b"price;volume\n",
    }


def valid_csv_files() -> dict[str, tuple[bytes, list[str], list[list[float]]]]:
    """CSVs with other separators that must parse: bytes, column names, values."""
    return {
        "csv_semicolon": (b"price;volume\n1;2\n3;4\n", ["price", "volume"], [[1, 2], [3, 4]]),
        "csv_tab": (b"a\tb\tc\n1\t2\t3\n", ["a", "b", "c"], [[1, 2, 3]]),
        "csv_semicolon_decimal_comma_free": (b"1;2.5\n-3;4\n", ["x[0]", "x[1]"], [[1, 2.5], [-3, 4]]),
    }


def write_corpus(directory: Path, names: tuple[str, ...], marker_dir: str | Path) -> dict[str, Path]:
    """Write the named checkpoints to ``directory/<name>.pt``; returns name -> path."""
    files = checkpoints(str(marker_dir))
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in names:
        paths[name] = directory / f"{name}.pt"
        paths[name].write_bytes(files[name])
    return paths


# -- parsers that misbehave on purpose (they run inside the sandbox worker) -------------------------
def parser_ok(data: bytes, scale: float = 1.0):
    """Bytes as float64 values (N,) times ``scale``, and the length."""
    return {"values": np.frombuffer(data, np.uint8).astype(np.float64) * scale}, {"n": len(data)}


def parser_segfault(data: bytes):
    import ctypes

    ctypes.string_at(0)  # reads address 0: SIGSEGV


def parser_deep_hash(data: bytes):
    """What torch's unpickler did with the 150k-deep key: hash it (C recursion, no guard)."""
    key = 0
    for _ in range(int(data)):
        key = (key,)
    return {}, {"hash": hash(key)}


def parser_allocates(data: bytes):
    return {"big": np.ones(int(data))}, {}  # (N,) float64: N = 10**10 is 80 GB


def parser_spins(data: bytes):
    while True:
        pass


def parser_sleeps(data: bytes):
    import time

    time.sleep(3600)


def parser_floods_output(data: bytes):
    return {"zeros": np.zeros(int(data))}, {}


def parser_prints(data: bytes):
    print("noise on stdout must not corrupt the reply " * 1000)
    return {"values": np.arange(3.0)}, {"printed": True}


def parser_writes_file(data: bytes):
    """Try to write ``data`` (a path) with content: the worker may create it but not fill it."""
    with open(data.decode(), "w") as f:
        f.write("written")
    return {}, {}


def parser_modules(data: bytes):
    """Which UI packages the worker has imported (it should have none)."""
    return {}, {"modules": sorted(m for m in ("streamlit", "plotly", "app.views") if m in sys.modules)}
