"""Recorded recurrent cells: each runs a sequence and records every intermediate of every step.

A cell is a stacked, unidirectional network whose parameters use its torch module's layout, so
import and export are a copy; ``run(xs (T, I)) -> Trace`` records one layer record per layer, and
a test holds it equal to the torch module. The GRU (:mod:`.gru`, equations in
:mod:`.gru_equations`) is the reference; beside it a plain tanh RNN (:mod:`.rnn`) and an LSTM
(:mod:`.lstm`), each with its own layer record (the arrays it records, ``csv_columns()``) and its
torch comparison test. What they share (layout, stacking, checks) is :mod:`.base`.
"""

from .gru import GRU, GRULayer
from .lstm import LSTM, LSTMLayer, LSTMLayerTrace
from .rnn import RNN, RNNLayer, RNNLayerTrace
from .trace import LayerTrace, Trace

__all__ = ["GRU", "GRULayer", "LSTM", "LSTMLayer", "LSTMLayerTrace", "LayerTrace", "RNN", "RNNLayer",
           "RNNLayerTrace", "Trace"]
