"""Read a torch.nn.GRU from an uploaded checkpoint (``.pt`` / ``.pth``) without running code from it.

The file must hold a torch.nn.GRU ``state_dict``: per layer k, ``weight_ih_lk (3H, I)``,
``weight_hh_lk (3H, H)``, ``bias_ih_lk (3H,)`` and ``bias_hh_lk (3H,)``, gate rows r, z, n. It
may sit under a prefix (``encoder.rnn.weight_ih_l0`` from a bigger model) or inside a checkpoint
dict under ``"state_dict"`` / ``"model_state_dict"``.

Every problem is a ValueError whose text the app shows as is, so each message is a sentence for
the person who saved the file: what was found, and what to do about it.
"""

from __future__ import annotations

import io
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..conventions import get_convention
from ..cells.gru import GRU, PARAM_NAMES

MAX_CHECKPOINT_BYTES = 20_000_000

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


def load_gru(data: bytes, convention: str = "pytorch") -> LoadedGRU:
    """Read the raw bytes of a ``.pt`` / ``.pth`` file into a GRU run with ``convention``.

    Only ``torch.load(weights_only=True)`` touches the bytes: it rebuilds tensors and plain
    containers and refuses anything else, so no code from the file ever runs.
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
    state = _state_dict(_torch_load(data))
    prefix, notes = _find_gru(state)
    layers, dtype_notes = _layer_arrays(state, prefix)
    try:
        gru = GRU.from_arrays(layers, convention)
    except ValueError as err:  # the layer messages already name the array and both shapes
        raise ValueError(
            f"The GRU in this file has inconsistent shapes: {err}. A torch.nn.GRU with H hidden "
            "units stores weight_ih_lK as (3H, inputs), weight_hh_lK as (3H, H) and both biases "
            "as (3H,); save the state_dict of an unmodified torch.nn.GRU.") from None
    return LoadedGRU(gru, prefix, "; ".join(notes + dtype_notes))


def describe(gru: GRU) -> str:
    """One line for the page, e.g. ``"2 layers, 3 inputs → 16 hidden units, float32"``."""
    sizes = [layer.hidden_size for layer in gru.layers]
    hidden = str(sizes[0]) if len(set(sizes)) == 1 else " → ".join(map(str, sizes))
    return (f"{_plural(gru.num_layers, 'layer')}, {_plural(gru.input_size, 'input')} → "
            f"{hidden} hidden unit{'' if sizes[-1] == 1 else 's'}, {gru.dtype}")


# -- steps of load_gru ---------------------------------------------------------------------------
def _torch_load(data: bytes) -> Any:
    """torch.load with weights_only=True; every failure becomes a ValueError for the user."""
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
    except Exception as err:  # corrupt zip, truncated file, text, ...
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
        names = [repr(k) for k in state]
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        has = f"its keys are {', '.join(names[:5])}{more}" if names else "it holds an empty dict"
        raise ValueError(
            f"This file has no GRU weights: no key ends in weight_ih_l0 ({has}). A torch.nn.GRU "
            f"state_dict has the keys {_GRU_KEYS}. " + SAVE_HINT)
    # A model with an LSTM encoder and a GRU decoder has a GRU: prefer GRU-shaped blocks.
    grus = [p for p in prefixes if _gate_blocks(state, p) == 3]
    prefix = (grus or prefixes)[0]
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


def _layer_arrays(state: Mapping, prefix: str) -> tuple[list[dict[str, np.ndarray]], list[str]]:
    """One dict of NumPy arrays per layer (float32 or float64), and notes on conversions."""
    import torch

    found = [re.fullmatch(re.escape(prefix) + r"(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)", k)
             for k in state if isinstance(k, str)]
    numbers = sorted({int(m[2]) for m in found if m})
    if numbers != list(range(len(numbers))):
        raise ValueError(
            f"The GRU's layers must be numbered l0, l1, l2, ... without gaps, but this file has "
            f"layers {', '.join(f'l{k}' for k in numbers)}. Save the state_dict of the whole "
            "torch.nn.GRU rather than a selection of its entries.")
    layers, converted = [], set()
    for k in numbers:
        params = {}
        for n in PARAM_NAMES:
            key = f"{prefix}{n}_l{k}"
            t = state.get(key)
            if t is None:
                raise ValueError(
                    f"The GRU's layer {k} has no {key}: every layer of a torch.nn.GRU has "
                    f"weight_ih, weight_hh, bias_ih and bias_hh. " + SAVE_HINT)
            if not isinstance(t, torch.Tensor):
                raise ValueError(f"The entry {key!r} should be a tensor but is of type "
                                 f"{type(t).__name__}. " + SAVE_HINT)
            if t.dtype in (torch.float16, torch.bfloat16):  # float32 holds both; NumPy lacks bfloat16
                converted.add(str(t.dtype).removeprefix("torch."))
                t = t.to(torch.float32)
            elif t.dtype not in (torch.float32, torch.float64):
                raise ValueError(
                    f"The tensor {key!r} holds {str(t.dtype).removeprefix('torch.')} values, but "
                    "GRU weights must be floating-point numbers (float32 or float64). Save the "
                    "weights of a torch.nn.GRU without converting them.")
            a = t.detach().to_dense().cpu().numpy()
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


def _show(prefix: str) -> str:
    return f"'{prefix}'" if prefix else "the one without a prefix"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.{1 if n >= 1_000_000 else 3}f} MB"
