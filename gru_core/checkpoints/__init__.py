"""Reading and writing model files. Uploaded files are untrusted: see :mod:`.torch_state_dict`.

Every reader of uploaded bytes has the same two halves. In a sandboxed worker
(:mod:`gru_core.sandbox`), a parser ``read_x_arrays(data, **caps) -> (arrays, meta)`` checks the
container's structure first (:mod:`.structure`: zip directory, pickle opcodes), then parses and
returns plain arrays plus JSON metadata, raising ValueError with a sentence for the user. In this
process, ``load_x(data)`` checks the size, calls ``sandbox.parse_untrusted("module:read_x_arrays",
data, preload=(...), hint=...)`` and builds the model from the arrays. A Keras reader (a ``.keras``
zip of config.json and model.weights.h5) is :mod:`.keras`: ``read_keras_arrays`` uses
``structure.zip_entries(..., stored_only=False)`` (Python's zipfile never inflates past a declared
size) and h5py in the worker, with ``preload=("h5py", ...)``. :func:`load_upload` picks the reader
from a file's name (.keras, .weights.h5 with its config, .pt / .pth).
"""

from .keras import (
    MAX_KERAS_BYTES,
    KerasWeights,
    LoadedKeras,
    LoadedModel,
    keras_config,
    load_keras,
    load_upload,
    to_keras_weights,
    write_keras_archive,
    write_keras_weights,
)
from .keras import prewarm as prewarm_keras
from .torch_state_dict import (
    MAX_CHECKPOINT_BYTES,
    MAX_FEATURES,
    MAX_HIDDEN,
    MAX_LAYERS,
    SAVE_HINT,
    LoadedGRU,
    describe,
    load_gru,
    load_gru_state_dict,
    prewarm,
)

__all__ = ["MAX_CHECKPOINT_BYTES", "MAX_FEATURES", "MAX_HIDDEN", "MAX_LAYERS", "SAVE_HINT", "LoadedGRU", "describe",
           "load_gru", "load_gru_state_dict", "prewarm",
           "MAX_KERAS_BYTES", "KerasWeights", "LoadedKeras", "LoadedModel", "keras_config", "load_keras",
           "load_upload", "prewarm_keras", "to_keras_weights", "write_keras_archive", "write_keras_weights"]
