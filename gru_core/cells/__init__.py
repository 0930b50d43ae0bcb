"""Recorded recurrent cells: each runs a sequence and records every intermediate of every step.

A cell is a stacked, unidirectional network whose parameters use its torch module's layout, so
import and export are a copy; ``run(xs (T, I)) -> Trace`` records one layer record per layer, and
a test holds it equal to the torch module. The GRU (:mod:`.gru`, equations in
:mod:`.gru_equations`) is the reference. A new cell goes in a module of its own beside it, with
its own layer record (the arrays it records, ``csv_columns()``) and its torch comparison test.
"""

from .gru import GRU, GRULayer
from .trace import LayerTrace, Trace

__all__ = ["GRU", "GRULayer", "LayerTrace", "Trace"]
