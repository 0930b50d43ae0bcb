"""GRU Gate Lab's core: a NumPy GRU that records every gate at every step and matches torch.nn.GRU.

No UI package is imported anywhere in ``gru_core``; torch is imported only where torch is the point
(conversion, training, checkpoints).
"""

from .cells import GRU, GRULayer, LayerTrace, Trace
from .conventions import CONVENTIONS, Convention, get_convention

__all__ = ["CONVENTIONS", "Convention", "GRU", "GRULayer", "LayerTrace", "Trace", "get_convention"]
