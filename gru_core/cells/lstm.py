"""An LSTM in torch.nn.LSTM's layout that records every step (gate rows i, f, g, o).

The recurrence is written once, in :func:`_record` (the equations are its docstring): a loop compiled
by numba that writes each step into the preallocated recorded arrays. In float32 torch.nn.LSTM is one
fused oneDNN kernel with no Python between steps, which ten NumPy calls a step could not approach.

numba compiles ``_record`` on its first call for each dtype and keeps the machine code on disk
(``cache=True``, in ``__pycache__`` beside this file or numba's user cache directory): a machine
compiles once (a few seconds), a later process loads it (a few hundred milliseconds, mostly numba's own
start-up), and ``import`` itself compiles nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, types
from numba.extending import overload

from .base import LayerParams, Stack, frozen
from .trace import RecordedLayer, Trace

GATES = ("i", "f", "g", "o")


@dataclass(frozen=True)
class LSTMLayerTrace(RecordedLayer):
    x: np.ndarray            # (T, I)
    h_prev: np.ndarray       # (T, H)  h_{t-1}; row 0 is h0
    c_prev: np.ndarray       # (T, H)  c_{t-1}; row 0 is c0
    input_part: np.ndarray   # (T, 4H) W_i· x_t + b_i·                       blocks i, f, g, o
    hidden_part: np.ndarray  # (T, 4H) W_h· h_{t-1} + b_h·
    pre: np.ndarray          # (T, 4H) their sum
    gates: np.ndarray        # (T, 4H) i, f, o after σ and g after tanh
    c: np.ndarray            # (T, H)  the cell state
    h: np.ndarray            # (T, H)  the new state

    def gate(self, name: str) -> np.ndarray:  # (T, H)
        k, H = GATES.index(name), self.hidden_size
        return self.gates[:, k * H:(k + 1) * H]

    i = property(lambda self: self.gate("i"))
    f = property(lambda self: self.gate("f"))
    g = property(lambda self: self.gate("g"))
    o = property(lambda self: self.gate("o"))

    def csv_columns(self) -> dict[str, np.ndarray]:
        return {"h_prev": self.h_prev, "c_prev": self.c_prev, "i": self.i, "f": self.f, "g": self.g,
                "o": self.o, "c": self.c, "h": self.h}


# tanh in float32: x·P(x²)/Q(x²) for |x| < 9.1 and ±1 beyond (where float32's tanh is ±1), evaluated in
# float64. The (11, 8)-degree rational was fitted here for least relative error on [0, 9.1] (weighted
# least squares, reweighted towards the largest error): below 1.5e-9, a twentieth of float32's
# resolution, so the result is tanh correctly rounded for about 99 values in 100 and one float32 step
# off otherwise (tests/test_lstm_kernel.py sweeps float32 values). Unlike libm's tanhf, called once per element, it is
# arithmetic the compiler vectorises: the tanhf calls alone took longer than torch's whole step.
_TANH_CLAMP = 9.1
P0, P1, P2, P3, P4, P5 = (0.9999999985613639, 0.13676191487533368, 0.003863660988572476,
                          2.7913268184994796e-05, 3.035854635365843e-08, -1.2035690241961026e-11)
Q0, Q1, Q2, Q3, Q4 = (1.0, 0.4700952342974794, 0.027228761513768275, 0.0003930401788141359,
                      1.2807853748683762e-06)


def _tanh(a, scale):
    """tanh(scale · a) as a float64: callable from compiled code only (the version follows a's type)."""
    raise NotImplementedError("_tanh is compiled into _record; call it from numba-compiled code")


@overload(_tanh)
def _tanh_typed(a, scale):
    if a == types.float32:
        def tanh_float32(a, scale):
            x = scale * np.float64(a)
            s = min(abs(x), _TANH_CLAMP)
            t = s * s
            p = ((((P5 * t + P4) * t + P3) * t + P2) * t + P1) * t + P0
            q = (((Q4 * t + Q3) * t + Q2) * t + Q1) * t + Q0
            y = 1.0 if s == _TANH_CLAMP else s * p / q
            return y if x >= 0.0 else -y
        return tanh_float32
    return lambda a, scale: math.tanh(scale * a)                       # float64: libm's tanh


# fastmath "contract" only: a multiply and the add of its product may be one fused multiply-add (one
# rounding instead of two), nothing reordered. The float32 tanh stays within one float32 step (swept by
# tests/test_lstm_kernel.py compiled so); the gate loops take 0.8× as long, a float32 step about 0.97×.
_COMPILE = dict(nogil=True, error_model="numpy", fastmath={"contract"})


@njit(inline="always", **_COMPILE)
def _affine(out, b, w_t, v):
    """out = b + w_tᵀ v, w_t (n, m) a transposed weight: four rows of w_t at a time, each added over all
    of out (a quarter of the loads and stores of out; one row at a time took 1.2× as long, eight 1.04×,
    and slice assignment ~40×)."""
    n, m = v.shape[0], out.shape[0]
    J = n - n % 4
    for k in range(m):
        out[k] = b[k]
    for j in range(0, J, 4):
        v0, v1, v2, v3 = v[j], v[j + 1], v[j + 2], v[j + 3]
        w0, w1, w2, w3 = w_t[j], w_t[j + 1], w_t[j + 2], w_t[j + 3]
        for k in range(m):
            out[k] += (v0 * w0[k] + v1 * w1[k]) + (v2 * w2[k] + v3 * w3[k])
    for j in range(J, n):
        for k in range(m):
            out[k] += v[j] * w_t[j, k]


@njit(cache=True, **_COMPILE)
def _record(x, weight_ih_t, bias_ih, weight_hh_t, bias_hh, hs, cs, input_part, hidden_part, pre, gates):
    """The LSTM recurrence, step by step, into the recorded arrays:

        i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)       input gate
        f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)       forget gate
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)    candidate cell
        o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)       output gate
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t                      the cell: what the forget gate keeps
        h_t = o_t ⊙ tanh(c_t)

    The one place the core writes these. σ(a) = ½ + ½ tanh(½a), as in the GRU.

    x (T, I) holds the inputs; weight_ih_t (I, 4H) and weight_hh_t (H, 4H) are W_i·ᵀ and W_h·ᵀ;
    hs (T + 1, H) and cs (T + 1, H) hold h0 and c0 in row 0 and get h_t, c_t in row t + 1;
    input_part, hidden_part, pre and gates (T, 4H) get W_i· x_t + b_i·, W_h· h_{t-1} + b_h·, their
    sum, and the gates. Each step reads only what it has recorded (the sum from the recorded parts,
    c_t from the recorded gates, h_t from the recorded c_t). The element-wise part is in float64,
    rounded once on storing.
    """
    T, H = input_part.shape[0], hs.shape[1]
    for t in range(T):
        h_prev, c_prev, h, c = hs[t], cs[t], hs[t + 1], cs[t + 1]
        gi, gh, a, gate = input_part[t], hidden_part[t], pre[t], gates[t]
        _affine(gi, bias_ih, weight_ih_t, x[t])              # W_i· x_t + b_i· (computed here, where the
        _affine(gh, bias_hh, weight_hh_t, h_prev)            # step reads it: one pass over it, not three)
        for k in range(4 * H):                               # the pre-activation
            a[k] = gi[k] + gh[k]
        # One simple loop per block, each of which the compiler vectorises: i and f, g, o, then c and h.
        for k in range(2 * H):
            gate[k] = 0.5 + 0.5 * _tanh(a[k], 0.5)           # i, f = σ
        for k in range(2 * H, 3 * H):
            gate[k] = _tanh(a[k], 1.0)                       # g = tanh
        for k in range(3 * H, 4 * H):
            gate[k] = 0.5 + 0.5 * _tanh(a[k], 0.5)           # o = σ
        for u in range(H):                                   # c_t = f ⊙ c_{t-1} + i ⊙ g
            c[u] = np.float64(gate[H + u]) * c_prev[u] + np.float64(gate[u]) * gate[2 * H + u]
        for u in range(H):                                   # h_t = o ⊙ tanh(c_t)
            h[u] = gate[3 * H + u] * _tanh(c[u], 1.0)


@dataclass(frozen=True)
class LSTMLayer(LayerParams):
    """One LSTM layer: weight_ih (4H, I), weight_hh (4H, H), biases (4H,); gate rows i, f, g, o."""

    BLOCKS = 4

    def run(self, xs: np.ndarray, h0: np.ndarray, c0: np.ndarray) -> LSTMLayerTrace:
        """Run over ``xs`` (T, I) from ``h0``, ``c0`` (H,), recording every step (:func:`_record`)."""
        x = np.array(xs, dtype=self.dtype)                               # (T, I), a copy
        T, H = x.shape[0], self.hidden_size
        input_part, hidden_part, pre, gates, hs, cs = _placed(                # a line apart (see there)
            self.dtype, _address(self._weight_hh_t), ((T, 4 * H), 1), ((T, 4 * H), 2), ((T, 4 * H), 3),
            ((T, 4 * H), 4), ((T + 1, H), 5), ((T + 1, H), 6))
        hs[0], cs[0] = h0, c0                                            # hs, cs: h0..hT, c0..cT
        _record(x, self._weight_ih_t, self.bias_ih, self._weight_hh_t, self.bias_hh, hs, cs, input_part,
                hidden_part, pre, gates)
        return LSTMLayerTrace(**frozen(x=x, h_prev=hs[:-1], c_prev=cs[:-1], input_part=input_part,
                                       hidden_part=hidden_part, pre=pre, gates=gates, c=cs[1:], h=hs[1:]))


def _placed(dtype: np.dtype, after: int, *arrays: tuple[tuple[int, ...], int]) -> list[np.ndarray]:
    """Contiguous arrays cut from one allocation, each given as (shape, lines) and placed by where it
    starts within a 4 KiB page: that many cache lines (64 B) below where address ``after`` is.

    The CPU compares a load with the stores not yet written by the address's last 12 bits, and a load
    that matches one there waits for it. Each step reads some arrays' rows and writes another's, element
    by element (W_h·ᵀ → hidden_part; input_part and hidden_part → pre → gates → c, h): with the array
    written starting a line below the ones it reads, a load can only match the store of an element not
    yet written. Measured on 2026-12-07 (float32, T = 2048, H = 128, the recurrence alone): 9.15 ms so,
    12.97 ms with each array 64 elements above the last (the layout until then: a load matched the store
    of 64 elements before); two arrays at the same place were nearly as slow."""
    itemsize = np.dtype(dtype).itemsize
    after -= after % itemsize
    sizes = [math.prod(shape) * itemsize for shape, _ in arrays]
    buf = np.empty(sum(sizes) + 4096 * len(sizes), np.uint8)
    out, pos, start = [], 0, _address(buf)
    for (shape, lines), n in zip(arrays, sizes):
        pos += (after - 64 * lines - (start + pos)) % 4096
        out.append(buf[pos:pos + n].view(dtype).reshape(shape))
        pos += n
    return out


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]      # as a.ctypes.data, which takes 2 µs


class LSTM(Stack):
    """Stacked unidirectional LSTM, equal to torch.nn.LSTM (no projections)."""

    LAYER, BLOCKS, TORCH = LSTMLayer, 4, "LSTM"
    STATES = ("h", "c")
    convention = None

    def run(self, xs: np.ndarray, h0: np.ndarray | None = None, c0: np.ndarray | None = None) -> Trace:
        """Run ``xs`` (T, I) from ``h0``, ``c0`` (num_layers, H) or zeros; every step recorded."""
        xs, h0, c0 = self._check_inputs(xs), self._check_state(h0), self._check_state(c0, "c0")
        traces, layer_input = [], xs
        for k, layer in enumerate(self.layers):
            traces.append(layer.run(layer_input, h0[k], c0[k]))
            layer_input = traces[-1].h
        return Trace(layers=tuple(traces))
