"""Real Keras 3 model files, and hostile ones made from them, for tests/test_keras_checkpoints.py.

Real files are written by Keras itself (``model.save``, ``model.save_weights``) on the torch
backend; hostile ones are those bytes with one thing changed: the config (``edit_config``), the
HDF5 weights (``edit_weights``), the zip (``zip_of``, ``zip_bomb``), or a model built to run code
when loaded (``lambda_model``, ``spy_model``: each creates a marker file if it ever runs).

Keras is imported here, in the tests only: the app never imports it.
"""

from __future__ import annotations

import io
import json
import os
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

_EPOCH = (1980, 1, 1, 0, 0, 0)


# -- real models -----------------------------------------------------------------------------------
def randomize(model: keras.Model, seed: int = 0, scale: float = 0.5) -> keras.Model:
    """Every weight (biases too: Keras starts them at zero) drawn from U(−scale, scale)."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(-scale, scale, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def gru_stack(*, units: int = 8, inputs: int = 3, layers: int = 2, outputs: int | None = 1,
              reset_after: bool = True, per_step: bool = False, functional: bool = False,
              between: Callable[[], keras.layers.Layer] | None = None, before: list | None = None,
              activation: str = "linear", seed: int = 0, **gru_kwargs) -> keras.Model:
    """GRU(units, return_sequences=True) × (layers − 1) → GRU(units) → Dense(outputs), randomized.

    ``per_step`` makes the last GRU return sequences (a Dense per step); ``between`` makes the layer
    put between consecutive GRUs (Dropout by default: nothing); ``before`` layers come first.
    """
    stack = list(before or [])
    for k in range(layers):
        last = k == layers - 1
        stack.append(keras.layers.GRU(units, return_sequences=per_step or not last, reset_after=reset_after,
                                      name="gru" if k == 0 else f"gru_{k}", **gru_kwargs))
        if not last:
            stack.append(between() if between else keras.layers.Dropout(0.25, name=f"dropout_{k}"))
    if outputs:
        stack.append(keras.layers.Dense(outputs, activation=activation, name="dense"))
    if functional:
        x = inp = keras.Input((None, inputs))
        for layer in stack:
            x = layer(x)
        model = keras.Model(inp, x)
    else:
        model = keras.Sequential([keras.Input((None, inputs)), *stack])
    return randomize(model, seed)


def saved(model: keras.Model, tmp_path: Path, name: str = "model") -> tuple[bytes, bytes, bytes]:
    """(the .keras archive, the .weights.h5, model.to_json()) of ``model``, as Keras writes them."""
    archive, weights = tmp_path / f"{name}.keras", tmp_path / f"{name}.weights.h5"
    model.save(archive)
    model.save_weights(weights)
    return archive.read_bytes(), weights.read_bytes(), model.to_json().encode()


def layer_outputs(model: keras.Model, xs: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Every GRU layer's h at every step, (T, H) each, and the model's prediction, for one sequence
    ``xs`` (T, I), computed by Keras: the layers are called in turn (Dropout at inference is the
    identity), and a GRU that returns only its last state is run again as a copy that returns all."""
    x = keras.ops.convert_to_tensor(xs[None].astype(np.float32))
    hs = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.layers.GRU):
            full = layer
            if not layer.return_sequences:
                full = keras.layers.GRU.from_config({**layer.get_config(), "return_sequences": True})
                full.build(tuple(x.shape))
                full.set_weights(layer.get_weights())
            hs.append(keras.ops.convert_to_numpy(full(x))[0])
        x = layer(x, training=False) if isinstance(layer, keras.layers.Dropout) else layer(x)
    prediction = keras.ops.convert_to_numpy(model(xs[None].astype(np.float32), training=False))[0]
    return hs, prediction


# -- models that run code when loaded ---------------------------------------------------------------
def lambda_model(marker: Path) -> keras.Model:
    """A model whose Lambda layer creates ``marker`` whenever it is called (building the model calls
    it once: delete the marker after saving)."""
    touch = eval(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]")  # code in the file
    return keras.Sequential([keras.Input((None, 3)), keras.layers.GRU(4), keras.layers.Lambda(touch),
                             keras.layers.Dense(1)])


def spy_layer_class(marker: Path) -> type:
    """A registered custom layer whose constructor creates ``marker`` (Keras calls it on loading)."""

    @keras.saving.register_keras_serializable(package="evil")
    class Spy(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            marker.touch()

        def call(self, x):
            return x

    return Spy


def spy_model(marker: Path) -> keras.Model:
    spy = spy_layer_class(marker)
    return keras.Sequential([keras.Input((None, 3)), keras.layers.GRU(4, return_sequences=True), spy(),
                             keras.layers.GRU(4)])


# -- hostile variants of real files ------------------------------------------------------------------
def entries(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def zip_of(items: dict[str, bytes] | list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", compression) as z:
        warnings.simplefilter("ignore")  # duplicate names are one of the hostile cases
        for name, data in (items.items() if isinstance(items, dict) else items):
            z.writestr(zipfile.ZipInfo(name, _EPOCH), data, compress_type=compression)
    return out.getvalue()


def edit_config(archive: bytes, edit: Callable[[dict], object]) -> bytes:
    """The archive with ``edit(config)`` applied to its config.json (edit mutates the dict in place)."""
    items = entries(archive)
    config = json.loads(items["config.json"])
    edit(config)
    items["config.json"] = json.dumps(config).encode()
    return zip_of(items)


def edit_weights(archive: bytes, edit: Callable[[h5py.File], object]) -> bytes:
    """The archive with ``edit(f)`` applied to its model.weights.h5, opened read-write in memory."""
    items = entries(archive)
    items["model.weights.h5"] = edit_h5(items["model.weights.h5"], edit)
    return zip_of(items)


def edit_h5(data: bytes, edit: Callable[[h5py.File], object]) -> bytes:
    buf = io.BytesIO(data)
    with h5py.File(buf, "r+") as f:
        edit(f)
    return buf.getvalue()


def layers_of(config: dict) -> list[dict]:
    return config["config"]["layers"]


def gru_configs(config: dict) -> list[dict]:
    return [layer["config"] for layer in layers_of(config) if layer["class_name"] == "GRU"]


def zip_bomb(archive: bytes, unpacked: int = 40_000_000) -> bytes:
    """The archive plus a deflated entry of ``unpacked`` zero bytes (a few tens of kB in the file)."""
    items = entries(archive)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in items.items():
            z.writestr(zipfile.ZipInfo(name, _EPOCH), data)
        info = zipfile.ZipInfo("assets/padding.bin", _EPOCH)
        z.writestr(info, bytes(unpacked), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def keras2_h5(weights: bytes) -> bytes:
    """An HDF5 file laid out like Keras 2's model.save("model.h5"): model_config attribute, model_weights."""
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"layers": []}})
        f.create_group("model_weights").create_dataset("kernel:0", data=np.zeros((3, 12), np.float32))
    return buf.getvalue()
