"""Reading and writing model files. Uploaded files are untrusted: see :mod:`.torch_state_dict`."""

from .torch_state_dict import MAX_CHECKPOINT_BYTES, SAVE_HINT, LoadedGRU, describe, load_gru, load_gru_state_dict

__all__ = ["MAX_CHECKPOINT_BYTES", "SAVE_HINT", "LoadedGRU", "describe", "load_gru", "load_gru_state_dict"]
