"""Read a torch.nn.GRU from an uploaded checkpoint (``.pt`` / ``.pth``) without running code from it.

The file must hold a torch.nn.GRU ``state_dict``: per layer k, ``weight_ih_lk (3H, I)``,
``weight_hh_lk (3H, H)``, ``bias_ih_lk (3H,)`` and ``bias_hh_lk (3H,)``, gate rows r, z, n. It
may sit under a prefix (``encoder.rnn.weight_ih_l0`` from a bigger model) or inside a checkpoint
dict under ``"state_dict"`` / ``"model_state_dict"``.

Every problem is a ValueError whose text the app shows as is, so each message is a sentence for
the person who saved the file: what was found, and what to do about it.

The bytes are parsed in a sandboxed worker (:mod:`gru_core.sandbox`) by :func:`read_gru_arrays`,
which refuses a file at the first check it fails, cheapest first, before anything can grow:

1. the zip directory (entries, declared sizes, no compression) and every pickle's opcodes
   (nesting depth, opcode count), without unpacking or unpickling anything;
2. ``torch.load(weights_only=True)``, which rebuilds tensors and plain containers only;
3. each GRU tensor's metadata: dense, strided, on the CPU, contiguous, numel × element size
   within the bytes its storage really holds, and the caps on layers, units and inputs;
4. only then the copy into NumPy (at most a few MB), and the NaN check.

This process (the Streamlit server) only ever sees the arrays and a little JSON.
"""

from __future__ import annotations

import io
import pickle
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import sandbox
from ..cells.gru import GRU, PARAM_NAMES
from ..conventions import get_convention
from .structure import StructureError, scan_pickle, zip_entries

MAX_CHECKPOINT_BYTES = 20_000_000
# The caps of the pages that run an uploaded GRU (app.limits.MAX_HIDDEN / MAX_FEATURES; gru_core
# imports nothing from app). They are checked on the tensors' shapes, before any copy.
MAX_HIDDEN = 256      # hidden units in any layer
MAX_FEATURES = 64     # inputs per step of layer 0
MAX_LAYERS = 8
# Structure caps, far above any real file. Measured with torch 2.13: a 2-layer GRU state_dict's
# data.pkl has 280 opcodes and nests 5 deep (dict, rebuild call, argument tuple, storage id...);
# a training checkpoint (model, Adam state, history) 556 opcodes, 8 deep; a 12-layer transformer
# with AdamW state 18,376 opcodes, 8 deep.
MAX_ZIP_ENTRIES = 10_000
MAX_PICKLE_BYTES = 4_000_000
MAX_PICKLE_OPS = 500_000  # scanning takes under 1 µs an opcode: at most ~0.4 s
MAX_PICKLE_DEPTH = 100   # C code recurses once per level (hashing a nested tuple key): 150,000 crashed
MAX_PREFIX_CHARS = 200  # "encoder.layers.3.rnn." and the like; it is quoted in notes and messages
LEGACY_PICKLES = 5       # torch's pre-1.6 format: magic, protocol, sys info, the object, storage keys
# A worker may use 512 MB on top of torch's own import, and 10 s of CPU: a 20 MB file needs
# well under 150 MB and 1 s.
SANDBOX_LIMITS = sandbox.Limits(memory_mb=512, cpu_seconds=10, wall_seconds=30.0, output_mb=64)
_PARSER = f"{__name__}:read_gru_arrays"
_PRELOAD = ("torch", __name__)

SAVE_HINT = "Save the weights with torch.save(gru.state_dict(), path) and upload that."
_GRU_KEYS = "weight_ih_l0, weight_hh_l0, bias_ih_l0 and bias_hh_l0 (then _l1, _l2, ... for more layers)"
_UNREADABLE = ("This file could not be read as a PyTorch file: it may be damaged, cut short, or "
               "not written by torch.save. " + SAVE_HINT)


@dataclass(frozen=True)
class LoadedGRU:
    """A GRU read from a file, with where it was found and remarks worth showing the user."""

    gru: GRU
    prefix: str  # "" for a bare GRU state_dict, e.g. "encoder.rnn." inside a bigger model's
    note: str    # non-fatal remarks ("" when there are none), e.g. a dtype conversion


def load_gru_state_dict(data: bytes, convention: str = "pytorch") -> GRU:
    """The GRU in the torch.nn.GRU state_dict file ``data`` (see :func:`load_gru`)."""
    return load_gru(data, convention).gru


def load_gru(data: bytes, convention: str = "pytorch", *, max_hidden: int = MAX_HIDDEN,
             max_features: int = MAX_FEATURES, max_layers: int = MAX_LAYERS) -> LoadedGRU:
    """Read the raw bytes of a ``.pt`` / ``.pth`` file into a GRU run with ``convention``.

    The bytes are parsed in a sandboxed worker process (see the module docstring); this process
    receives one (3H, I), (3H, H), (3H,), (3H,) array group per layer and builds the GRU from
    them. Every refusal, including a worker that crashed or hit a limit, is a ValueError whose
    text is for the user. No code from the file ever runs: ``torch.load(weights_only=True)``
    refuses anything but tensors and plain containers.
    """
    get_convention(convention)  # a bad convention is the caller's bug, not the file's: fail first
    if len(data) == 0:
        raise ValueError("The uploaded file is empty (0 bytes). " + SAVE_HINT)
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise ValueError(
            f"This file is {_megabytes(len(data))}, over the {MAX_CHECKPOINT_BYTES / 1e6:g} MB "
            "limit for uploaded checkpoints. A GRU's weights alone are usually far smaller than "
            "a whole training checkpoint, so save just them with torch.save(gru.state_dict(), "
            "path) and upload that.")
    caps = {"max_hidden": max_hidden, "max_features": max_features, "max_layers": max_layers,
            "max_unpacked_bytes": MAX_CHECKPOINT_BYTES}
    parsed = sandbox.parse_untrusted(_PARSER, data, options=caps, limits=SANDBOX_LIMITS,
                                     preload=_PRELOAD, subject="This file", hint=SAVE_HINT)
    layers, prefix, notes = _layers_from(parsed)
    try:
        gru = GRU.from_arrays(layers, convention)
    except ValueError as err:  # the layer messages already name the array and both shapes
        raise ValueError(
            f"The GRU in this file has inconsistent shapes: {err}. A torch.nn.GRU with H hidden "
            "units stores weight_ih_lK as (3H, inputs), weight_hh_lK as (3H, H) and both biases "
            "as (3H,); save the state_dict of an unmodified torch.nn.GRU.") from None
    return LoadedGRU(gru, prefix, "; ".join(notes))


def prewarm() -> None:
    """Start the sandbox's torch zygote in the background (the first upload then skips ~2 s)."""
    sandbox.prewarm(_PRELOAD)


def describe(gru: GRU) -> str:
    """One line for the page, e.g. ``"2 layers, 3 inputs → 16 hidden units, float32"``."""
    sizes = [layer.hidden_size for layer in gru.layers]
    hidden = str(sizes[0]) if len(set(sizes)) == 1 else " → ".join(map(str, sizes))
    return (f"{_plural(gru.num_layers, 'layer')}, {_plural(gru.input_size, 'input')} → "
            f"{hidden} hidden unit{'' if sizes[-1] == 1 else 's'}, {gru.dtype}")


def _layers_from(parsed: sandbox.Parsed) -> tuple[list[dict[str, np.ndarray]], str, list[str]]:
    """The worker's reply as layer dicts, prefix and notes; a reply of the wrong form is refused."""
    meta = parsed.meta
    try:
        count, prefix, notes = meta["layers"], meta["prefix"], meta["notes"]
        if not (isinstance(count, int) and isinstance(prefix, str) and isinstance(notes, list)
                and all(isinstance(n, str) for n in notes)):
            raise TypeError
        layers = [{n: parsed.arrays[f"{k}.{n}"] for n in PARAM_NAMES} for k in range(count)]
    except (KeyError, TypeError):
        raise ValueError("This file could not be read safely: the reader's reply was malformed. "
                         + SAVE_HINT) from None
    return layers, prefix, notes


# -- in the sandboxed worker ------------------------------------------------------------------------
def read_gru_arrays(data: bytes, *, max_hidden: int, max_features: int, max_layers: int,
                    max_unpacked_bytes: int) -> tuple[dict[str, np.ndarray], dict]:
    """The sandbox parser: ``data`` to arrays ``"k.weight_ih"`` (3H, I), ``"k.weight_hh"`` (3H, H),
    ``"k.bias_ih"``, ``"k.bias_hh"`` (3H,) per layer k, and ``{"layers", "prefix", "notes"}``.

    Runs only in a sandbox worker: it calls torch.load on untrusted bytes.
    """
    _check_structure(data, max_unpacked_bytes)
    state = _state_dict(_torch_load(data))
    prefix, notes = _find_gru(state)
    _check_tensors(state, prefix, max_hidden, max_features, max_layers)
    layers, dtype_notes = _layer_arrays(state, prefix)
    arrays = {f"{k}.{n}": a for k, params in enumerate(layers) for n, a in params.items()}
    return arrays, {"layers": len(layers), "prefix": prefix, "notes": notes + dtype_notes}


# -- steps of read_gru_arrays ------------------------------------------------------------------------
def _check_structure(data: bytes, max_unpacked_bytes: int) -> None:
    """Refuse a file whose zip directory or pickles are out of bounds, before torch reads it.

    torch.save writes a zip whose entries are stored, not compressed (``archive/data.pkl`` and one
    ``archive/data/N`` per storage); files from before torch 1.6 are pickles back to back
    followed by raw storage bytes. Anything else is not a torch.save file.
    """
    try:
        if data[:4] == b"PK\x03\x04":
            infos = zip_entries(data, max_entries=MAX_ZIP_ENTRIES, max_total_bytes=max_unpacked_bytes,
                                stored_only=True)
            pickles = [info for info in infos if info.filename.endswith(".pkl")]  # data.pkl (and any other)
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in pickles:
                    _check_pickle_size(info.filename, info.file_size)
                    raw = archive.read(info)  # stored, and at most MAX_PICKLE_BYTES: checked above
                    scan_pickle(raw, max_ops=MAX_PICKLE_OPS, max_depth=MAX_PICKLE_DEPTH)
        elif data[:1] == b"\x80":  # pickle's PROTO opcode: the legacy format, or a bare pickle
            at = 0
            for _ in range(LEGACY_PICKLES):
                at = scan_pickle(data, start=at, max_ops=MAX_PICKLE_OPS, max_depth=MAX_PICKLE_DEPTH).end
                if data[at:at + 1] != b"\x80":
                    break
        else:
            raise ValueError(_UNREADABLE)
    except StructureError as err:
        what = str(err)
        if "cannot be read" in what:
            raise ValueError(_UNREADABLE) from None
        raise ValueError(f"This file is not a plain PyTorch checkpoint: {what}. torch.save never writes "
                         "such a file, so it was not opened. " + SAVE_HINT) from None
    except (zipfile.BadZipFile, OSError, EOFError):  # a directory that lists what is not there
        raise ValueError(_UNREADABLE) from None


def _check_pickle_size(name: str, size: int) -> None:
    if size > MAX_PICKLE_BYTES:
        raise ValueError(
            f"This file's pickled part ({name[:80]}) is {_megabytes(size)}, over the "
            f"{MAX_PICKLE_BYTES / 1e6:g} MB limit; a state_dict's takes a few hundred bytes per tensor, "
            "so this file holds far more than weights. " + SAVE_HINT)


def _torch_load(data: bytes) -> Any:
    """torch.load with weights_only=True; every failure becomes a ValueError for the user.

    MemoryError (and torch's allocator failing under the worker's memory limit) is let through:
    the sandbox turns it into its own message.
    """
    import torch  # lazily: the core's NumPy path never needs torch

    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        # The weights-only unpickler raises this for references to classes or functions, which
        # unpickling would call (a pickled nn.Module, an optimizer, or outright malicious code),
        # but also for bytes it cannot parse at all ("Unsupported operand"), and a text file that
        # starts with "c" reads as a reference. A torch.save file starts with a zip header or, in
        # the legacy format, with pickle's PROTO opcode 0x80: anything else is simply unreadable.
        torch_header = data[:4] == b"PK\x03\x04" or data[:1] == b"\x80"
        if not torch_header or "Unsupported operand" in str(err):
            raise ValueError(_UNREADABLE) from err
        raise ValueError(
            "This file holds more than tensors (for example a whole pickled model or code), and "
            "it is not loaded because that could run code. " + SAVE_HINT) from err
    except MemoryError:
        raise
    except Exception as err:  # corrupt zip, truncated file, text, ...
        if "can't allocate memory" in str(err) or "std::bad_alloc" in str(err):
            raise MemoryError(str(err)) from err
        if "TorchScript" in str(err):
            raise ValueError(
                "This file is a TorchScript archive (written by torch.jit.save), which holds code "
                "as well as weights, so it is not loaded. " + SAVE_HINT) from err
        raise ValueError(_UNREADABLE) from err


def _state_dict(obj: Any) -> Mapping:
    """The state_dict in what torch.load returned: the dict itself or a checkpoint's entry."""
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model_state_dict"):  # common training-checkpoint layouts
            if isinstance(obj.get(key), Mapping):
                return obj[key]
        return obj
    what = (f"a single tensor of shape {tuple(obj.shape)}" if hasattr(obj, "shape")
            else f"a {type(obj).__name__}")
    raise ValueError(f"This file holds {what}, not a state_dict (a dict of named tensors). "
                     + SAVE_HINT)


def _find_gru(state: Mapping) -> tuple[str, list[str]]:
    """Pick the GRU's key prefix and refuse what is not a unidirectional GRU with biases.

    Returns ``(prefix, notes)``; a prefix is whatever precedes ``weight_ih_l0`` in a key.
    """
    keys = [k for k in state if isinstance(k, str)]
    prefixes = [k[: -len("weight_ih_l0")] for k in keys if k.endswith("weight_ih_l0")]
    if not prefixes:
        names = [_short_repr(k) for _, k in zip(range(5), state)]  # never repr all of a huge dict
        more = f" and {len(state) - 5} more" if len(state) > 5 else ""
        has = f"its keys are {', '.join(names[:5])}{more}" if names else "it holds an empty dict"
        raise ValueError(
            f"This file has no GRU weights: no key ends in weight_ih_l0 ({has}). A torch.nn.GRU "
            f"state_dict has the keys {_GRU_KEYS}. " + SAVE_HINT)
    # A model with an LSTM encoder and a GRU decoder has a GRU: prefer GRU-shaped blocks.
    grus = [p for p in prefixes if _gate_blocks(state, p) == 3]
    prefix = (grus or prefixes)[0]
    if len(prefix) > MAX_PREFIX_CHARS:
        raise ValueError(f"The GRU's keys in this file start with a prefix of {len(prefix):,} characters "
                         f"(at most {MAX_PREFIX_CHARS} are accepted); a model's module names are far "
                         "shorter. " + SAVE_HINT)
    notes = []
    if len(grus) > 1:
        notes.append(f"the file has {len(grus)} GRUs; using the first, {_show(prefix)}")
    elif prefix:
        notes.append(f"found GRU weights under the prefix {_show(prefix)}")

    name = re.escape(prefix)
    if any(re.fullmatch(name + r"weight_hr_l\d+(_reverse)?", k) for k in keys):
        raise ValueError(
            f"These weights have projection matrices ({prefix}weight_hr_l0, from proj_size > 0), "
            "which only torch.nn.LSTM has; this app reads torch.nn.GRU weights. Upload the "
            "state_dict of a torch.nn.GRU.")
    blocks, w_hh = _gate_blocks(state, prefix), f"{prefix}weight_hh_l0"
    if blocks in (1, 4):
        H = state[w_hh].shape[1]
        kind = ("an LSTM (torch.nn.LSTM, 4 gate blocks)" if blocks == 4
                else "a plain RNN (torch.nn.RNN, 1 block)")
        raise ValueError(
            f"These weights look like {kind}: {w_hh} has shape {tuple(state[w_hh].shape)}, "
            f"{_plural(blocks, 'block')} of {H} rows. This app reads GRUs (3 gate blocks, "
            f"shape ({3 * H}, {H})); upload the state_dict of a torch.nn.GRU.")
    if any(re.fullmatch(name + r"(weight|bias)_(ih|hh)_l\d+_reverse", k) for k in keys):
        raise ValueError(
            f"This GRU is bidirectional (the file has {prefix}weight_ih_l0_reverse and similar "
            "keys), and bidirectional GRUs are not supported. Upload a GRU built with "
            "bidirectional=False.")
    if f"{prefix}bias_ih_l0" not in state and f"{prefix}bias_hh_l0" not in state:
        raise ValueError(
            f"This GRU was built without biases (bias=False): the file has no "
            f"{prefix}bias_ih_l0 or {prefix}bias_hh_l0, and a GRU without biases is not "
            "supported. Build it with bias=True (the default), or add zero tensors of shape (3H,) "
            "as bias_ih_lK and bias_hh_lK for every layer K before saving (that computes the "
            "same thing).")
    return prefix, notes


def _check_tensors(state: Mapping, prefix: str, max_hidden: int, max_features: int, max_layers: int) -> None:
    """Refuse, from metadata alone, any GRU tensor whose copy into NumPy could be large or fail.

    A tensor's shape and strides say nothing about the bytes behind it: ``expand()`` gives stride
    0, so a 1-element storage can claim billions of elements, and a sparse or meta tensor holds
    none of its values. Only dense, strided, contiguous CPU tensors whose storage holds every
    element, within the caps, are copied.
    """
    numbers = _layer_numbers(state, prefix)
    if len(numbers) > max_layers:
        raise ValueError(f"This GRU has {len(numbers)} layers; the app runs GRUs of at most {max_layers} "
                         "layers. Upload a smaller GRU.")
    for k in numbers:
        for n in PARAM_NAMES:
            key = f"{prefix}{n}_l{k}"
            t = state.get(key)
            if t is None:
                raise ValueError(
                    f"The GRU's layer {k} has no {key}: every layer of a torch.nn.GRU has "
                    f"weight_ih, weight_hh, bias_ih and bias_hh. " + SAVE_HINT)
            _check_dense(key, t)
            _check_size(key, n, k, t, max_hidden, max_features)


def _check_dense(key: str, t: Any) -> None:
    """A plain float tensor whose storage really holds every element it claims (no copy made)."""
    import torch

    if not isinstance(t, torch.Tensor):
        raise ValueError(f"The entry {key!r} should be a tensor but is of type "
                         f"{type(t).__name__}. " + SAVE_HINT)
    if t.layout != torch.strided:
        layout = str(t.layout).removeprefix("torch.")
        raise ValueError(
            f"The tensor {key!r} is a {layout} tensor, which stores only some of its values; GRU "
            f"weights are dense. Save the weights of a torch.nn.GRU as they are (not converted with "
            f".to_sparse()). " + SAVE_HINT)
    if t.is_meta or t.device.type != "cpu":
        raise ValueError(
            f"The tensor {key!r} is a meta tensor: it has a shape but no values (it was saved from a "
            "model built on the 'meta' device, before its weights were loaded). Save the weights "
            "after loading or training them. " + SAVE_HINT)
    if t.is_quantized:
        raise ValueError(f"The tensor {key!r} is quantized; this app reads float weights. Save the "
                         "weights before quantizing the model. " + SAVE_HINT)
    if t.dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        raise ValueError(
            f"The tensor {key!r} holds {str(t.dtype).removeprefix('torch.')} values, but "
            "GRU weights must be floating-point numbers (float32 or float64). Save the "
            "weights of a torch.nn.GRU without converting them.")
    stored = t.untyped_storage().nbytes() - t.storage_offset() * t.element_size()
    claimed = t.numel() * t.element_size()
    if claimed > stored or not t.is_contiguous():
        raise ValueError(
            f"The tensor {key!r} claims {t.numel():,} values of shape {tuple(t.shape)} but its "
            f"storage holds {max(stored, 0):,} bytes laid out with strides {tuple(t.stride())} (a "
            "view made with expand() or similar, which would be copied out to its full size). Save "
            "real copies: torch.save({k: v.contiguous() for k, v in gru.state_dict().items()}, path).")


def _check_size(key: str, name: str, k: int, t: Any, max_hidden: int, max_features: int) -> None:
    """Caps on units and inputs from the shape: (3H, I) / (3H, H) / (3H,) with H and I capped."""
    shape = tuple(t.shape)
    if name == "weight_hh" and len(shape) == 2 and shape[1] > max_hidden:
        raise ValueError(f"This GRU has {shape[1]:,} hidden units in layer {k}; the app runs GRUs with "
                         f"at most {max_hidden} hidden units per layer. Upload a smaller GRU.")
    if name == "weight_ih" and k == 0 and len(shape) == 2 and shape[1] > max_features:
        raise ValueError(f"This GRU reads {shape[1]:,} input features per step; the app runs at most "
                         f"{max_features}. Upload a GRU with fewer inputs.")
    # whatever its shape, no tensor of a GRU within the caps has more elements than this
    most = 3 * max_hidden * max(max_hidden, max_features)
    if t.numel() > most or len(shape) > 2:
        raise ValueError(
            f"The tensor {key!r} has shape {shape} ({t.numel():,} values), which no GRU the app runs "
            f"has (at most {max_hidden} hidden units and {max_features} inputs: weight_ih (3H, I), "
            "weight_hh (3H, H), biases (3H,)). " + SAVE_HINT)


def _layer_numbers(state: Mapping, prefix: str) -> list[int]:
    """The layer numbers K of the GRU's ``{prefix}weight_ih_lK``-style keys: 0, 1, ... without gaps."""
    found = [re.fullmatch(re.escape(prefix) + r"(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d{1,9})", k)
             for k in state if isinstance(k, str)]
    numbers = sorted({int(m[2]) for m in found if m})
    if numbers != list(range(len(numbers))):
        shown = ", ".join(f"l{k}" for k in numbers[:10]) + (", ..." if len(numbers) > 10 else "")
        raise ValueError(
            f"The GRU's layers must be numbered l0, l1, l2, ... without gaps, but this file has "
            f"layers {shown}. Save the state_dict of the whole "
            "torch.nn.GRU rather than a selection of its entries.")
    return numbers


def _layer_arrays(state: Mapping, prefix: str) -> tuple[list[dict[str, np.ndarray]], list[str]]:
    """One dict of NumPy arrays per layer (float32 or float64), and notes on conversions.

    Call after :func:`_check_tensors`: every tensor is then small, dense and fully stored.
    """
    import torch

    layers, converted = [], set()
    for k in _layer_numbers(state, prefix):
        params = {}
        for n in PARAM_NAMES:
            key = f"{prefix}{n}_l{k}"
            t = state[key]
            if t.dtype in (torch.float16, torch.bfloat16):  # float32 holds both; NumPy lacks bfloat16
                converted.add(str(t.dtype).removeprefix("torch."))
                t = t.to(torch.float32)
            a = t.detach().numpy()
            if not np.all(np.isfinite(a)):
                raise ValueError(
                    f"The tensor {key!r} contains NaN or infinite values, so this GRU cannot be "
                    "run. This usually means training diverged; save the weights from an earlier "
                    "point, before that happened.")
            params[n] = a
        layers.append(params)
    notes = [f"converted {' and '.join(sorted(converted))} weights to float32"] if converted else []
    # Mixed float32 / float64 tensors would give layers of different dtypes: use the wider one.
    dtypes = {a.dtype for params in layers for a in params.values()}
    if len(dtypes) > 1:
        layers = [{n: a.astype(np.float64) for n, a in params.items()} for params in layers]
        notes.append("the weights mixed float32 and float64; all were converted to float64")
    return layers, notes


# -- small helpers -------------------------------------------------------------------------------
def _gate_blocks(state: Mapping, prefix: str) -> int | None:
    """How many H-row blocks ``weight_hh_l0`` (blocks·H, H) has: 3 GRU, 4 LSTM, 1 RNN; else None."""
    w = state.get(f"{prefix}weight_hh_l0")
    shape = tuple(getattr(w, "shape", ()))
    if len(shape) != 2 or shape[1] == 0 or shape[0] % shape[1]:
        return None
    return shape[0] // shape[1]


def _short_repr(key: Any) -> str:
    """A dict key for a message: at most 40 characters (keys can be huge)."""
    text = repr(key) if isinstance(key, (str, int, float, bool, type(None))) else f"a {type(key).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."


def _show(prefix: str) -> str:
    return f"'{prefix}'" if prefix else "the one without a prefix"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.{1 if n >= 1_000_000 else 3}f} MB"
