"""What every recorded cell shares: parameters in torch's layout, stacking, and input checks.

A cell kind is a layer class (its parameters and its recorded step, in a module of its own) and a
:class:`Stack` subclass naming it. Parameters follow the torch module's layout, ``weight_ih
(blocks·H, I)``, ``weight_hh (blocks·H, H)``, ``bias_ih`` and ``bias_hh (blocks·H,)``, so import
and export are a copy: blocks = 1 for torch.nn.RNN, 3 for torch.nn.GRU (r, z, n), 4 for
torch.nn.LSTM (i, f, g, o).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:  # torch is imported lazily: the core's NumPy path never needs it
    import torch

PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
_FLOAT_DTYPES = (np.float32, np.float64)


def frozen_params(layer: Any, blocks: int) -> int:
    """Check a layer's four parameters against torch's layout, store read-only copies (plus the
    transposed copies ``_weight_ih_t`` / ``_weight_hh_t`` the recurrences multiply by) on the frozen
    dataclass ``layer``, and return H. Any problem is a ValueError naming the array and its shape."""
    arrays = [np.asarray(getattr(layer, n)) for n in PARAM_NAMES]
    dtype = np.result_type(*arrays)
    if dtype not in _FLOAT_DTYPES:
        dtype = np.dtype(np.float64)
    w_ih, w_hh, b_ih, b_hh = (np.array(a, dtype=dtype) for a in arrays)  # copies, never views
    if w_hh.ndim != 2 or w_hh.shape[0] != blocks * w_hh.shape[1] or w_hh.shape[1] == 0:
        raise ValueError(f"weight_hh must have shape ({blocks}H, H) with H >= 1, got {w_hh.shape}")
    H = w_hh.shape[1]
    if w_ih.ndim != 2 or w_ih.shape[0] != blocks * H or w_ih.shape[1] == 0:
        raise ValueError(f"weight_ih must have shape ({blocks * H}, I) with I >= 1, got {w_ih.shape}")
    for name, b in (("bias_ih", b_ih), ("bias_hh", b_hh)):
        if b.shape != (blocks * H,):
            raise ValueError(f"{name} must have shape ({blocks * H},), got {b.shape}")
    for name, a in zip(PARAM_NAMES, (w_ih, w_hh, b_ih, b_hh)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or inf")
        a.flags.writeable = False
        object.__setattr__(layer, name, a)
    for name, a in (("_weight_ih_t", w_ih), ("_weight_hh_t", w_hh)):
        a_t = np.ascontiguousarray(a.T)  # a copy: read-only like the parameters, shared by every session
        a_t.flags.writeable = False
        object.__setattr__(layer, name, a_t)
    return H


def frozen(**arrays: np.ndarray) -> dict[str, np.ndarray]:
    """Mark recorded arrays read-only (a trace is shared between sessions by the app's caches)."""
    for a in arrays.values():
        a.flags.writeable = False
    return arrays


@dataclass(frozen=True)
class LayerParams:
    """One layer's parameters in torch's layout (read-only copies, so a cached model cannot be tweaked
    in place): weight_ih (BLOCKS·H, I), weight_hh (BLOCKS·H, H), bias_ih and bias_hh (BLOCKS·H,).
    A cell's layer class sets BLOCKS and adds its recorded step, ``run``."""

    BLOCKS: ClassVar[int]
    weight_ih: np.ndarray
    weight_hh: np.ndarray
    bias_ih: np.ndarray
    bias_hh: np.ndarray
    # transposed copies: h @ W.T from a contiguous W.T is the faster matrix-vector product here
    _weight_ih_t: np.ndarray = field(init=False, repr=False, compare=False)
    _weight_hh_t: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        frozen_params(self, self.BLOCKS)

    @property
    def input_size(self) -> int:
        return self.weight_ih.shape[1]

    @property
    def hidden_size(self) -> int:
        return self.weight_hh.shape[1]

    @property
    def dtype(self) -> np.dtype:
        return self.weight_hh.dtype

    def params(self) -> dict[str, np.ndarray]:
        return {n: getattr(self, n) for n in PARAM_NAMES}

    def replace(self, **arrays: np.ndarray):
        """A new layer with some parameters swapped (this one is left untouched)."""
        return type(self)(**{**self.params(), **arrays})


class Stack:
    """A stacked, unidirectional recorded cell; subclasses name their layer class and torch module."""

    LAYER: ClassVar[type]
    BLOCKS: ClassVar[int]          # gate blocks per layer: rows of weight_hh = BLOCKS · H
    TORCH: ClassVar[str]           # the torch.nn module it equals, e.g. "RNN"
    STATES: ClassVar[tuple[str, ...]] = ("h",)   # what the recurrence carries (the LSTM adds c)

    def __init__(self, layers) -> None:
        layers = tuple(layers)
        name = type(self).__name__
        if not layers:
            raise ValueError(f"a{'n' if name[0] in 'AEILMNORS' else ''} {name} needs at least one layer")
        for k in range(1, len(layers)):
            if layers[k].hidden_size != layers[0].hidden_size:  # as in torch; h0 is (layers, H)
                raise ValueError(f"every layer must have the same number of hidden units: layer 0 has "
                                 f"{layers[0].hidden_size}, layer {k} has {layers[k].hidden_size}")
            if layers[k].input_size != layers[k - 1].hidden_size:
                raise ValueError(
                    f"layer {k} expects {layers[k].input_size} inputs but layer {k - 1} has "
                    f"{layers[k - 1].hidden_size} hidden units")
        if len({layer.dtype for layer in layers}) != 1:
            raise ValueError("all layers must share one dtype")
        self.layers = layers

    # -- construction (the GRU adds its convention to each) --------------------------------------
    @classmethod
    def from_arrays(cls, layers: list[dict[str, np.ndarray]]):
        """From one dict per layer with keys weight_ih, weight_hh, bias_ih, bias_hh (shapes checked)."""
        return cls(cls._layers_from_arrays(layers))

    @classmethod
    def random(cls, input_size: int, hidden_size: int, num_layers: int = 1, *, seed: int = 0,
               scale: float | None = None, dtype: type = np.float64):
        """Seeded initialisation: U(−s, s) with s = 1/√H like torch's own, unless ``scale`` is given."""
        return cls(cls._random_layers(input_size, hidden_size, num_layers, seed, scale, dtype))

    @classmethod
    def from_torch(cls, module: torch.nn.Module):
        """Copy a unidirectional torch module of this kind with biases (any depth, batch_first either way)."""
        return cls.from_arrays(cls._torch_layers(module))

    def to_torch(self, batch_first: bool = False) -> torch.nn.Module:
        """An equal torch module holding copies of these parameters."""
        return self._torch_module(batch_first)

    @classmethod
    def _layers_from_arrays(cls, layers: list[dict[str, np.ndarray]]) -> list:
        built = []
        for k, params in enumerate(layers):
            missing = set(PARAM_NAMES) - set(params)
            if missing:
                raise ValueError(f"layer {k} is missing {', '.join(sorted(missing))}")
            try:
                built.append(cls.LAYER(**{n: params[n] for n in PARAM_NAMES}))
            except ValueError as err:
                raise ValueError(f"layer {k}: {err}") from None
        return built

    @classmethod
    def _random_layers(cls, input_size: int, hidden_size: int, num_layers: int, seed: int,
                       scale: float | None, dtype: type) -> list:
        """U(−s, s) with s = 1/√H like torch's own initialisation, unless ``scale`` is given."""
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("num_layers", num_layers)):
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        s = 1.0 / np.sqrt(hidden_size) if scale is None else float(scale)
        if not np.isfinite(s) or s < 0:
            raise ValueError(f"scale must be a finite non-negative number, got {scale!r}")
        rng = np.random.default_rng(seed)
        rows = cls.BLOCKS * hidden_size
        layers = []
        for k in range(num_layers):
            I = input_size if k == 0 else hidden_size
            shapes = {"weight_ih": (rows, I), "weight_hh": (rows, hidden_size), "bias_ih": (rows,),
                      "bias_hh": (rows,)}
            layers.append(cls.LAYER(**{n: rng.uniform(-s, s, shp).astype(dtype) for n, shp in shapes.items()}))
        return layers

    @classmethod
    def _torch_layers(cls, module: torch.nn.Module) -> list[dict[str, np.ndarray]]:
        """The per-layer arrays of a unidirectional torch.nn.{cls.TORCH} with biases."""
        import torch

        expected = getattr(torch.nn, cls.TORCH)
        if not isinstance(module, expected):
            raise ValueError(f"expected a torch.nn.{cls.TORCH}, got {type(module).__name__}")
        if module.bidirectional:
            raise ValueError(f"bidirectional {cls.TORCH}s are not supported: pass a unidirectional one")
        if not module.bias:
            raise ValueError(f"a {cls.TORCH} without biases is not supported: build it with bias=True")
        if getattr(module, "proj_size", 0):
            raise ValueError("projections (proj_size) are not supported")
        state = module.state_dict()
        return [{n: state[f"{n}_l{k}"].detach().cpu().numpy() for n in PARAM_NAMES}
                for k in range(module.num_layers)]

    def _torch_module(self, batch_first: bool = False, **kwargs: Any) -> torch.nn.Module:
        """An equal torch.nn.{TORCH} holding copies of these parameters."""
        import torch

        dtype = torch.float64 if self.dtype == np.float64 else torch.float32
        module = getattr(torch.nn, self.TORCH)(self.input_size, self.hidden_size, num_layers=self.num_layers,
                                               batch_first=batch_first, dtype=dtype, **kwargs)
        with torch.no_grad():
            for k, layer in enumerate(self.layers):
                for n in PARAM_NAMES:
                    getattr(module, f"{n}_l{k}").copy_(torch.from_numpy(getattr(layer, n).copy()))
        return module

    # -- properties -----------------------------------------------------------------------------
    @property
    def input_size(self) -> int:
        return self.layers[0].input_size

    @property
    def hidden_size(self) -> int:
        return self.layers[-1].hidden_size

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].dtype

    @property
    def parameter_count(self) -> int:
        return int(sum(a.size for layer in self.layers for a in layer.params().values()))

    def fingerprint(self) -> str:
        """A content hash of the parameters (and convention, if any), for caches keyed on a model."""
        convention = getattr(self, "convention", None)
        digest = hashlib.sha1(f"{type(self).__name__}:{convention.name if convention else ''}".encode())
        for layer in self.layers:
            for n in PARAM_NAMES:
                a = getattr(layer, n)
                digest.update(f"{n}{a.shape}{a.dtype}".encode())
                digest.update(np.ascontiguousarray(a).tobytes())
        return digest.hexdigest()

    def _sizes(self) -> str:
        return " → ".join([str(self.input_size)] + [str(layer.hidden_size) for layer in self.layers])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._sizes()}, dtype={self.dtype})"

    def forward_batch(self, xs: np.ndarray) -> np.ndarray:
        """Last layer's h for a batch ``xs`` (B, T, I) -> (B, T, H), one recorded run per sequence
        (the GRU overrides this with a batched recurrence)."""
        xs = np.asarray(xs)
        if xs.ndim != 3 or xs.shape[0] == 0:
            raise ValueError(f"xs must have shape (B, T, {self.input_size}) with B >= 1, got {xs.shape}")
        return np.stack([self.run(x).h for x in xs])

    # -- checks -----------------------------------------------------------------------------------
    def _check_inputs(self, xs: np.ndarray) -> np.ndarray:
        try:
            xs = np.asarray(xs)
        except Exception as err:  # ragged nested lists and the like
            raise ValueError(f"xs must be a numeric array of shape (T, {self.input_size}): {err}") from None
        if xs.dtype == object or not (np.issubdtype(xs.dtype, np.number) or xs.dtype == bool):
            raise ValueError(f"xs must be numeric, got dtype {xs.dtype}")
        if xs.ndim != 2:
            raise ValueError(f"xs must have shape (T, {self.input_size}) — 2 dimensions — got shape {xs.shape}")
        if xs.shape[1] != self.input_size:
            raise ValueError(f"xs must have {self.input_size} feature column(s), got {xs.shape[1]} "
                             f"(shape {xs.shape})")
        if xs.shape[0] == 0:
            raise ValueError("xs is empty: it needs at least one time step")
        if np.iscomplexobj(xs):
            raise ValueError("xs must be real-valued")
        if not np.all(np.isfinite(xs)):
            raise ValueError("xs contains NaN or inf")
        return xs

    def _check_state(self, state: np.ndarray | None, name: str = "h0") -> np.ndarray:
        """An initial state (num_layers, H), zeros when None; (H,) is accepted for one layer."""
        shape = (self.num_layers, self.hidden_size)
        if state is None:
            return np.zeros(shape, self.dtype)
        state = np.asarray(state)
        if state.shape == (self.hidden_size,) and self.num_layers == 1:
            state = state[None, :]
        if state.shape != shape or not np.issubdtype(state.dtype, np.number):
            raise ValueError(f"{name} must have shape {shape} (num_layers, H), got {state.shape}")
        if not np.all(np.isfinite(state)):
            raise ValueError(f"{name} contains NaN or inf")
        return state.astype(self.dtype)
