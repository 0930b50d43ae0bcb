"""A stacked, unidirectional GRU in NumPy that records every step (see :mod:`gru_core.cells.trace`).

Parameters use torch.nn.GRU's layout and gate order (r, z, n), so import and export are a copy:
``weight_ih (3H, I)``, ``weight_hh (3H, H)``, ``bias_ih (3H,)``, ``bias_hh (3H,)``.
The equations themselves live in :mod:`gru_core.cells.gru_equations`; this file holds the parameters and
prepares the arrays the recurrence writes into.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..conventions import CONVENTIONS, Convention, get_convention
from . import gru_equations as eq
from .trace import LayerTrace, Trace

if TYPE_CHECKING:  # torch is imported lazily: the core's NumPy path never needs it
    import torch

PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
_FLOAT_DTYPES = (np.float32, np.float64)


@dataclass(frozen=True)
class GRULayer:
    """One layer's parameters (read-only arrays, so a cached model cannot be tweaked in place)."""

    weight_ih: np.ndarray  # (3H, I)
    weight_hh: np.ndarray  # (3H, H)
    bias_ih: np.ndarray    # (3H,)
    bias_hh: np.ndarray    # (3H,)
    # transposed copies: h @ W.T from a contiguous W.T is the faster matrix-vector product here
    _weight_ih_t: np.ndarray = field(init=False, repr=False, compare=False)
    _weight_hh_t: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        arrays = [np.asarray(getattr(self, n)) for n in PARAM_NAMES]
        dtype = np.result_type(*arrays)
        if dtype not in _FLOAT_DTYPES:
            dtype = np.dtype(np.float64)
        w_ih, w_hh, b_ih, b_hh = (np.array(a, dtype=dtype) for a in arrays)  # copies, never views
        if w_hh.ndim != 2 or w_hh.shape[0] != 3 * w_hh.shape[1] or w_hh.shape[1] == 0:
            raise ValueError(f"weight_hh must have shape (3H, H) with H >= 1, got {w_hh.shape}")
        H = w_hh.shape[1]
        if w_ih.ndim != 2 or w_ih.shape[0] != 3 * H or w_ih.shape[1] == 0:
            raise ValueError(f"weight_ih must have shape ({3 * H}, I) with I >= 1, got {w_ih.shape}")
        for name, b in (("bias_ih", b_ih), ("bias_hh", b_hh)):
            if b.shape != (3 * H,):
                raise ValueError(f"{name} must have shape ({3 * H},), got {b.shape}")
        for name, a in zip(PARAM_NAMES, (w_ih, w_hh, b_ih, b_hh)):
            if not np.all(np.isfinite(a)):
                raise ValueError(f"{name} contains NaN or inf")
            a.flags.writeable = False
            object.__setattr__(self, name, a)
        for name, a in (("_weight_ih_t", w_ih), ("_weight_hh_t", w_hh)):
            a_t = np.ascontiguousarray(a.T)  # a copy: read-only like the parameters, shared by every session
            a_t.flags.writeable = False
            object.__setattr__(self, name, a_t)

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

    def replace(self, **arrays: np.ndarray) -> GRULayer:
        """A new layer with some parameters swapped (this one is left untouched)."""
        return GRULayer(**{**self.params(), **arrays})

    def run(self, xs: np.ndarray, h0: np.ndarray, convention: Convention) -> LayerTrace:
        """Run the recurrence over ``xs`` (T, I) from ``h0`` (H,), recording every step."""
        x = np.array(xs, dtype=self.dtype)                                   # (T, I), a copy
        rec = self._record(x @ self._weight_ih_t + self.bias_ih, h0, convention)  # input part (T, 3H)
        x.flags.writeable = False  # a trace is shared between sessions by the app's caches
        return LayerTrace(x=x, **rec)

    def run_batch(self, xs: np.ndarray, convention: Convention) -> np.ndarray:
        """h for a batch ``xs`` (T, B, I) from zeros -> (T, B, H); the same recurrence as :meth:`run`."""
        x = np.asarray(xs, dtype=self.dtype)
        h0 = np.zeros(x.shape[1:-1] + (self.hidden_size,), self.dtype)
        return self._record(x @ self._weight_ih_t + self.bias_ih, h0, convention)["h"]

    def _record(self, input_part: np.ndarray, h0: np.ndarray, convention: Convention) -> dict:
        """Preallocate every recorded array, run :func:`equations.recur` into them, freeze them.

        input_part (T, ..., 3H); h0 (..., H). Returns the LayerTrace fields but ``x``.
        """
        T, lead, H = input_part.shape[0], input_part.shape[1:-1], self.hidden_size
        dt = self.dtype
        states = np.empty((T + 1, *lead, H), dt)                             # h0, h1, ..., hT
        states[0] = h0
        rec = dict(input_part=input_part, hidden_part=np.empty((T, *lead, 3 * H), dt),
                   pre=np.empty((T, *lead, 3 * H), dt), gates=np.empty((T, *lead, 2 * H), dt),
                   h_tilde=np.empty((T, *lead, H), dt))
        eq.recur(weight_hh_t=self._weight_hh_t, bias_hh=self.bias_hh, convention=convention,
                 states=states, **rec)
        for a in (*rec.values(), states):
            a.flags.writeable = False
        return dict(rec, h_prev=states[:-1], h=states[1:])


class GRU:
    """Stacked unidirectional GRU; ``run`` returns a :class:`Trace` of every gate at every step."""

    def __init__(self, layers: list[GRULayer] | tuple[GRULayer, ...],
                 convention: str | Convention = "pytorch") -> None:
        layers = tuple(layers)
        if not layers:
            raise ValueError("a GRU needs at least one layer")
        for k in range(1, len(layers)):
            if layers[k].hidden_size != layers[0].hidden_size:  # as in torch.nn.GRU; h0 is (layers, H)
                raise ValueError(f"every layer must have the same number of hidden units: layer 0 has "
                                 f"{layers[0].hidden_size}, layer {k} has {layers[k].hidden_size}")
            if layers[k].input_size != layers[k - 1].hidden_size:
                raise ValueError(
                    f"layer {k} expects {layers[k].input_size} inputs but layer {k - 1} has "
                    f"{layers[k - 1].hidden_size} hidden units")
        if len({layer.dtype for layer in layers}) != 1:
            raise ValueError("all layers must share one dtype")
        self.layers = layers
        self._convention = get_convention(convention)

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_arrays(cls, layers: list[dict[str, np.ndarray]],
                    convention: str | Convention = "pytorch") -> GRU:
        """From one dict per layer with keys weight_ih, weight_hh, bias_ih, bias_hh (shapes checked)."""
        built = []
        for k, params in enumerate(layers):
            missing = set(PARAM_NAMES) - set(params)
            if missing:
                raise ValueError(f"layer {k} is missing {', '.join(sorted(missing))}")
            try:
                built.append(GRULayer(**{n: params[n] for n in PARAM_NAMES}))
            except ValueError as err:
                raise ValueError(f"layer {k}: {err}") from None
        return cls(built, convention)

    @classmethod
    def random(cls, input_size: int, hidden_size: int, num_layers: int = 1, *, seed: int = 0,
               scale: float | None = None, convention: str | Convention = "pytorch",
               dtype: type = np.float64) -> GRU:
        """Seeded initialisation: U(−s, s) with s = 1/√H like torch.nn.GRU unless ``scale`` is given."""
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("num_layers", num_layers)):
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        s = 1.0 / np.sqrt(hidden_size) if scale is None else float(scale)
        if not np.isfinite(s) or s < 0:
            raise ValueError(f"scale must be a finite non-negative number, got {scale!r}")
        rng = np.random.default_rng(seed)
        H = hidden_size
        layers = []
        for k in range(num_layers):
            I = input_size if k == 0 else H
            shapes = {"weight_ih": (3 * H, I), "weight_hh": (3 * H, H),
                      "bias_ih": (3 * H,), "bias_hh": (3 * H,)}
            layers.append(GRULayer(**{n: rng.uniform(-s, s, shp).astype(dtype)
                                      for n, shp in shapes.items()}))
        return cls(layers, convention)

    @classmethod
    def from_torch(cls, module: torch.nn.GRU, convention: str | Convention = "pytorch") -> GRU:
        """Copy a unidirectional torch.nn.GRU with biases (any depth, batch_first either way)."""
        import torch

        if not isinstance(module, torch.nn.GRU):
            raise ValueError(f"expected a torch.nn.GRU, got {type(module).__name__}")
        if module.bidirectional:
            raise ValueError("bidirectional GRUs are not supported: pass a unidirectional one")
        if not module.bias:
            raise ValueError("a GRU without biases is not supported: build it with bias=True")
        if getattr(module, "proj_size", 0):
            raise ValueError("projections (proj_size) are not part of a GRU")
        state = module.state_dict()
        layers = [{n: state[f"{n}_l{k}"].detach().cpu().numpy() for n in PARAM_NAMES}
                  for k in range(module.num_layers)]
        return cls.from_arrays(layers, convention)

    def to_torch(self, batch_first: bool = False) -> torch.nn.GRU:
        """Export to torch.nn.GRU; only the pytorch convention is expressible there."""
        import torch

        if not (self.convention.reset_after_matmul and self.convention.z_keeps_old):
            raise ValueError(
                f"torch.nn.GRU computes the pytorch convention; this GRU uses {self.convention.name}")
        dtype = torch.float64 if self.dtype == np.float64 else torch.float32
        module = torch.nn.GRU(self.input_size, self.hidden_size, num_layers=len(self.layers),
                              batch_first=batch_first, dtype=dtype)
        with torch.no_grad():
            for k, layer in enumerate(self.layers):
                for n in PARAM_NAMES:
                    getattr(module, f"{n}_l{k}").copy_(torch.from_numpy(getattr(layer, n).copy()))
        return module

    def flip_update_gate(self) -> GRU:
        """The same network written in the other update-gate convention (cho2014 ↔ chung2014).

        Negating the z rows of every weight and bias turns σ(a) into σ(−a) = 1 − σ(a), so a network
        whose z weighs the old state becomes one whose z weighs the candidate: same h at every
        step, z ↔ 1 − z. The reset placement is untouched, so pytorch has no partner here.
        """
        c = self.convention
        partner = next((o for o in CONVENTIONS.values() if o.reset_after_matmul == c.reset_after_matmul
                        and o.z_keeps_old != c.z_keeps_old), None)
        if partner is None:
            raise ValueError(f"{self.convention.name} has no update-gate partner among the conventions "
                             "(cho2014 and chung2014 are each other's)")
        layers = []
        for layer in self.layers:
            H = layer.hidden_size
            sign = np.ones(3 * H, dtype=layer.dtype)
            sign[H:2 * H] = -1.0
            layers.append(layer.replace(weight_ih=layer.weight_ih * sign[:, None],
                                        weight_hh=layer.weight_hh * sign[:, None],
                                        bias_ih=layer.bias_ih * sign, bias_hh=layer.bias_hh * sign))
        return GRU(layers, partner)

    def ablated(self, *, update_bias_shift: float = 0.0, reset_bias_shift: float = 0.0,
                recurrent_scale: float = 1.0) -> GRU:
        """A copy with the ablation knobs applied to every layer (this GRU is left untouched).

        ``update_bias_shift`` / ``reset_bias_shift`` are added to b_iz / b_ir (the gate sees the sum
        b_i· + b_h·, so either bias would do); ``recurrent_scale`` multiplies W_hh, all three blocks.
        """
        layers = []
        for layer in self.layers:
            H = layer.hidden_size
            shift = np.zeros(3 * H, dtype=layer.dtype)
            shift[:H], shift[H:2 * H] = reset_bias_shift, update_bias_shift
            layers.append(layer.replace(bias_ih=layer.bias_ih + shift,
                                        weight_hh=layer.weight_hh * recurrent_scale))
        return GRU(layers, self.convention)

    def with_convention(self, convention: str | Convention) -> GRU:
        """The same parameters read under another convention's equations."""
        return GRU(self.layers, convention)

    # -- properties -----------------------------------------------------------------------------
    @property
    def convention(self) -> Convention:
        return self._convention

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

    def fingerprint(self) -> str:
        """A content hash of the parameters and convention (for caches keyed on a model)."""
        import hashlib

        digest = hashlib.sha1(self.convention.name.encode())
        for layer in self.layers:
            for n in PARAM_NAMES:
                a = getattr(layer, n)
                digest.update(f"{n}{a.shape}{a.dtype}".encode())
                digest.update(np.ascontiguousarray(a).tobytes())
        return digest.hexdigest()

    def __repr__(self) -> str:
        sizes = " → ".join([str(self.input_size)] + [str(l.hidden_size) for l in self.layers])
        return f"GRU({sizes}, convention={self.convention.name!r}, dtype={self.dtype})"

    # -- the forward pass -----------------------------------------------------------------------
    def run(self, xs: np.ndarray, h0: np.ndarray | None = None) -> Trace:
        """Run ``xs`` (T, I) from ``h0`` (num_layers, H) or zeros; returns the full :class:`Trace`."""
        xs = self._check_inputs(xs)
        h0 = self._check_h0(h0)
        traces = []
        layer_input = xs
        for k, layer in enumerate(self.layers):
            lt = layer.run(layer_input, h0[k], self.convention)
            traces.append(lt)
            layer_input = lt.h
        return Trace(layers=tuple(traces), convention=self.convention)

    def forward_batch(self, xs: np.ndarray, chunk: int = 2048) -> np.ndarray:
        """Last layer's h for a batch: ``xs`` (B, T, I) -> (B, T, H), without keeping the traces.

        For evaluating many sequences at once (e.g. exact-sum accuracy over thousands of additions):
        the same recurrence as :meth:`run`, with a batch axis, in chunks of ``chunk`` sequences.
        """
        xs = np.asarray(xs)
        if xs.ndim != 3 or xs.shape[0] == 0:
            raise ValueError(f"xs must have shape (B, T, {self.input_size}) with B >= 1, got {xs.shape}")
        self._check_inputs(xs.reshape(-1, xs.shape[2]) if xs.shape[1] else xs[0])  # width, dtype, finite
        out = []
        for start in range(0, xs.shape[0], chunk):
            layer_input = np.swapaxes(xs[start:start + chunk], 0, 1)        # (T, b, I)
            for layer in self.layers:
                layer_input = layer.run_batch(layer_input, self.convention)  # (T, b, H)
            out.append(np.swapaxes(layer_input, 0, 1))
        return np.concatenate(out)

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

    def _check_h0(self, h0: np.ndarray | None) -> np.ndarray:
        shape = (self.num_layers, self.hidden_size)
        if h0 is None:
            return np.zeros(shape, self.dtype)
        h0 = np.asarray(h0)
        if h0.shape == (self.hidden_size,) and self.num_layers == 1:
            h0 = h0[None, :]
        if h0.shape != shape or not np.issubdtype(h0.dtype, np.number):
            raise ValueError(f"h0 must have shape {shape} (num_layers, H), got {h0.shape}")
        if not np.all(np.isfinite(h0)):
            raise ValueError("h0 contains NaN or inf")
        return h0.astype(self.dtype)
