"""Read Keras 3 GRU models without running code from them, and write GRUs back as Keras weights.

What is read: a ``.keras`` archive (a zip of ``config.json``, ``metadata.json`` and
``model.weights.h5``), or a ``.weights.h5`` file (``model.save_weights``) with the model's config
(``model.to_json()``, a ``config.json``, or the ``.keras`` archive itself). The config is parsed as
JSON and the weights are read with h5py, both in a sandboxed worker (:mod:`gru_core.sandbox`); Keras
is never imported, nothing in the file is deserialised as code, and a config naming a custom class,
a Lambda layer or a module outside Keras is refused before any weight is read (the training settings,
``compile_config``, are not read at all: a custom loss there does not matter).

The model must be a stack of ``keras.layers.GRU`` layers (Sequential, or a Functional chain in which
every layer feeds the next), with optional Dropout-like layers (identities at inference) and one
optional ``Dense`` readout after the last GRU. Every GRU must have the same ``units``, the same
``reset_after`` and ``return_sequences=True`` except the last. It becomes one gru_core GRU with one
layer per Keras GRU: ``reset_after=True`` is the ``pytorch`` convention, ``reset_after=False`` the
``cho2014`` convention (GUIDE §2).

Keras's layout, per GRU layer (``keras/src/layers/rnn/gru.py``), gate columns in the order z, r, h::

    kernel            (I, 3H)   x @ kernel
    recurrent_kernel  (H, 3H)   h @ recurrent_kernel
    bias              (2, 3H)   reset_after=True: row 0 input bias, row 1 recurrent bias
                      (3H,)     reset_after=False: one bias, added with the input part

torch's (and gru_core's) rows are r, z, n: ``weight_ih = kernel.T`` with the first two blocks
swapped, and so on. With ``reset_after=False`` Keras computes z, r = σ(x W + b + h U) and
h̃ = tanh(x W_h + b_h + (r ⊙ h) U_h): its bias goes to ``bias_ih`` and ``bias_hh`` is zero, which
is the cho2014 recurrence exactly (there b_hn sits outside r ⊙ ·, like b_in). The converse holds
too: any cho2014 GRU is a ``reset_after=False`` Keras GRU with bias ``b_ih + b_hh``.

Keras 3 stores weights by layer *path*, not layer name (``keras/src/saving/saving_lib.py``): the
model's layers are numbered per class in order, ``layers/gru``, ``layers/gru_1``, ...,
``layers/dense``; a GRU's arrays are ``layers/<path>/cell/vars/0, 1, 2`` (kernel, recurrent kernel,
bias) and a Dense's ``layers/<path>/vars/0, 1`` (kernel (H, O), bias (O,)).

Every refusal is a ValueError whose text is a sentence for the person who saved the file.
"""

from __future__ import annotations

import datetime
import io
import json
import math
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import sandbox
from ..cells.gru import GRU
from ..models import Readout
from .structure import StructureError, zip_entries
from .torch_state_dict import MAX_FEATURES, MAX_HIDDEN, MAX_LAYERS, load_gru

# A float32 GRU at the caps (8 layers of 256 units) stores 12.6 MB of weights, a float64 one 25 MB.
MAX_KERAS_BYTES = 32_000_000
MAX_CONFIG_BYTES = 1_000_000   # a GRU layer's config is ~2.3 kB; 8 layers and a Dense ~25 kB
MAX_METADATA_BYTES = 65_536    # {"keras_version": ..., "date_saved": ...}
MAX_ZIP_ENTRIES = 64           # Keras writes 3 (plus assets/ entries for layers that have assets)
MAX_CONFIG_NODES = 200_000     # JSON values in the config; a GRU layer has ~80
MAX_CONFIG_LAYERS = 64         # layers listed in a config (most are then refused by class)
MAX_OUTPUTS = 4_096            # units of the Dense readout
MAX_CHUNK_VALUES = 1 << 22     # an HDF5 chunk may not be larger than this (values), whatever the dataset
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_SAFE_FILTERS = {1: "gzip", 2: "shuffle", 3: "fletcher32", 32000: "lzf"}  # built into HDF5 / h5py
SANDBOX_LIMITS = sandbox.Limits(memory_mb=512, cpu_seconds=10, wall_seconds=30.0, output_mb=64)
_PARSER = f"{__name__}:read_keras_arrays"
_PRELOAD = ("h5py", __name__)

SAVE_HINT = 'Save the model in Keras 3 with model.save("model.keras") and upload that file.'
WEIGHTS_HINT = ("Upload the .weights.h5 file written by model.save_weights(...) together with the model's "
                "config (the text of model.to_json(), or the .keras archive).")
_LAYOUT = ("a stack of keras.layers.GRU layers, optionally with Dropout between them and one Dense layer "
           "after the last GRU")

# Layers that are the identity at inference (Keras applies them only when training=True).
IDENTITY_LAYERS = frozenset({"Dropout", "SpatialDropout1D", "GaussianDropout", "GaussianNoise", "AlphaDropout",
                             "ActivityRegularization"})
_MODELS = frozenset({"Sequential", "Functional", "Model"})
# Keras's own markers inside a config (tensors in Functional graphs, values); none names a module.
_KERAS_MARKERS = frozenset({"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__slice__",
                            "__ellipsis__", "__typespec__", "__tuple__"})
_OTHER_RECURRENT = {
    "LSTM": "an LSTM layer (keras.layers.LSTM)", "SimpleRNN": "a SimpleRNN layer (keras.layers.SimpleRNN)",
    "ConvLSTM1D": "a ConvLSTM1D layer", "ConvLSTM2D": "a ConvLSTM2D layer", "ConvLSTM3D": "a ConvLSTM3D layer",
    "CuDNNLSTM": "a CuDNNLSTM layer", "CuDNNGRU": "a CuDNNGRU layer (from Keras 2)",
    "LSTMCell": "an LSTM cell", "SimpleRNNCell": "a SimpleRNN cell", "StackedRNNCells": "stacked RNN cells",
}


@dataclass(frozen=True)
class LoadedModel:
    """A GRU (and its Dense readout, if the model has one) read from an uploaded file."""

    gru: GRU                       # in the file's convention: Keras reset_after=True -> pytorch, False -> cho2014
    readout: Readout | None        # the Dense layer after the last GRU: weight (O, H), bias (O,), per_step
    note: str                      # non-fatal remarks for the page ("" when there are none)
    layer_names: tuple[str, ...]   # Keras: the GRU layers' names, then the Dense's; torch: the key prefix
    readout_activation: str | None = None  # the Dense's activation ("linear", "sigmoid", ...), applied after logits
    format: str = "keras"          # "keras" or "torch"
    keras_version: str = ""        # from the archive's metadata.json, when there is one


LoadedKeras = LoadedModel


@dataclass(frozen=True)
class KerasWeights:
    """A GRU's weights in Keras's layout, for ``keras.layers.GRU(units, reset_after=reset_after)``."""

    layers: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]  # per layer: kernel (I, 3H),
    # recurrent_kernel (H, 3H), bias (2, 3H) when reset_after else (3H,): what layer.set_weights() takes
    reset_after: bool
    note: str = ""


# -- this process ----------------------------------------------------------------------------------
def load_keras(data: bytes, *, weights: bytes | None = None, max_hidden: int = MAX_HIDDEN,
               max_features: int = MAX_FEATURES, max_layers: int = MAX_LAYERS) -> LoadedModel:
    """Read a Keras 3 GRU model: a ``.keras`` archive, or (with ``weights``) a config and its weights.

    ``data`` is the ``.keras`` archive, or, when ``weights`` (the bytes of a ``.weights.h5``) is
    given, the model's config: the JSON of ``model.to_json()`` / ``config.json``, or a ``.keras``
    archive whose config is used. Everything is parsed in a sandboxed worker; this process receives
    arrays in torch's layout and builds the GRU in the convention the file's ``reset_after`` says.
    Every refusal is a ValueError whose text is for the user.
    """
    hint = WEIGHTS_HINT if weights is not None else SAVE_HINT
    what = "config" if weights is not None else "file"
    config_is_json = weights is not None and data[:4] != b"PK\x03\x04"  # else a .keras archive (checked later)
    _check_size(data, f"The uploaded {what}", MAX_CONFIG_BYTES if config_is_json else MAX_KERAS_BYTES, hint)
    if weights is not None:
        _check_size(weights, "The uploaded weights file", MAX_KERAS_BYTES, WEIGHTS_HINT)
    payload, config_bytes = (data, 0) if weights is None else (data + weights, len(data))
    caps = {"config_bytes": config_bytes, "max_hidden": max_hidden, "max_features": max_features,
            "max_layers": max_layers}
    parsed = sandbox.parse_untrusted(_PARSER, payload, options=caps, limits=SANDBOX_LIMITS, preload=_PRELOAD,
                                     subject="This file", hint=hint)
    return _model_from(parsed, hint)


def load_upload(data: bytes, filename: str, *, config: bytes | None = None, convention: str = "pytorch",
                max_hidden: int = MAX_HIDDEN, max_features: int = MAX_FEATURES,
                max_layers: int = MAX_LAYERS) -> LoadedModel:
    """Read an uploaded model file by its name: ``.keras``, ``.weights.h5`` / ``.h5`` (needs
    ``config``), or ``.pt`` / ``.pth`` (a torch.nn.GRU state_dict, run with ``convention``).

    A Keras file's convention comes from the file itself (``reset_after``), so ``convention``
    applies to torch files only. Raises ValueError with a message for the user.
    """
    name = filename.lower()
    caps = {"max_hidden": max_hidden, "max_features": max_features, "max_layers": max_layers}
    if name.endswith(".keras"):
        return load_keras(data, **caps)
    if name.endswith(".h5") or name.endswith(".hdf5"):
        if config is None:
            raise ValueError(
                f"{filename[:80]!r} holds a Keras model's weights but not its layers, so it needs the model's "
                "config too. " + WEIGHTS_HINT + " Or save the whole model with model.save(\"model.keras\") "
                "and upload that one file (for a Keras 2 model.h5, load it in Keras 3 first and save it that "
                "way).")
        return load_keras(config, weights=data, **caps)
    if name.endswith(".pt") or name.endswith(".pth"):
        loaded = load_gru(data, convention, **caps)
        return LoadedModel(gru=loaded.gru, readout=None, note=loaded.note,
                           layer_names=(loaded.prefix,) if loaded.prefix else (), format="torch")
    raise ValueError(f"The file {filename[:80]!r} is neither a Keras model (.keras, or .weights.h5 with its "
                     "config) nor a PyTorch state_dict (.pt / .pth). Upload one of those.")


def prewarm() -> None:
    """Start the sandbox's h5py zygote in the background (it takes ~0.3 s to import)."""
    sandbox.prewarm(_PRELOAD)


def _check_size(data: bytes, subject: str, cap: int, hint: str) -> None:
    if len(data) == 0:
        raise ValueError(f"{subject} is empty (0 bytes). {hint}")
    if len(data) > cap:
        raise ValueError(f"{subject} is {len(data) / 1e6:,.1f} MB, over the {cap / 1e6:g} MB limit; a Keras "
                         f"model of GRU layers within the app's limits is far smaller. {hint}")


def _model_from(parsed: sandbox.Parsed, hint: str) -> LoadedModel:
    """The worker's reply as a model; a reply of the wrong form is refused."""
    meta = parsed.meta
    try:
        count, convention, notes, names = meta["layers"], meta["convention"], meta["notes"], meta["layer_names"]
        readout_meta, version = meta["readout"], meta["keras_version"]
        if not (isinstance(count, int) and convention in ("pytorch", "cho2014") and isinstance(version, str)
                and all(isinstance(s, str) for s in [*notes, *names])):
            raise TypeError
        layers = [{n: parsed.arrays[f"{k}.{n}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
                  for k in range(count)]
        readout, activation = None, None
        if readout_meta is not None:
            activation = str(readout_meta["activation"])
            readout = Readout(parsed.arrays["readout.weight"], parsed.arrays["readout.bias"],
                              per_step=bool(readout_meta["per_step"]))
        gru = GRU.from_arrays(layers, convention)
    except (KeyError, TypeError, ValueError):
        raise ValueError("This file could not be read safely: the reader's reply was malformed. " + hint) from None
    if readout is not None and readout.hidden_size != gru.hidden_size:
        raise ValueError("This file could not be read safely: the reader's reply was malformed. " + hint)
    return LoadedModel(gru=gru, readout=readout, note="; ".join(notes), layer_names=tuple(names),
                       readout_activation=activation, format="keras", keras_version=version)


# -- the plan: what a config describes (pure; used by the reader and the writer) ------------------
@dataclass
class _GRUSpec:
    name: str
    path: str            # HDF5 group of the layer, e.g. "layers/gru_1"
    units: int
    reset_after: bool
    use_bias: bool
    return_sequences: bool


@dataclass
class _DenseSpec:
    name: str
    path: str
    units: int
    use_bias: bool
    activation: str


@dataclass
class _Plan:
    model_name: str
    grus: list[_GRUSpec]
    dense: _DenseSpec | None
    input_size: int | None                  # from an InputLayer / build shape, when the config has one
    groups: list[tuple[str, str]]           # (HDF5 path, layer name) of every layer Keras would save
    notes: list[str] = field(default_factory=list)

    @property
    def reset_after(self) -> bool:
        return self.grus[0].reset_after

    @property
    def per_step(self) -> bool:
        return self.grus[-1].return_sequences


def _plan(config: Any, *, max_hidden: int, max_features: int, max_layers: int) -> _Plan:
    """Check a parsed Keras model config and say which layers hold what; ValueError for the user."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError("The model config is not a Keras model config (a JSON object with \"class_name\" and "
                         "\"config\", as model.to_json() writes). " + SAVE_HINT)
    body = config.get("config")
    layers = body.get("layers") if isinstance(body, dict) else None
    if not isinstance(layers, list):
        _refuse_code(config, "the model")
        raise ValueError(f"The model config describes a {_q(config['class_name'])} without a list of layers; the "
                         f"app reads Sequential or Functional Keras models: {_LAYOUT}. " + SAVE_HINT)
    if len(layers) > MAX_CONFIG_LAYERS:
        raise ValueError(f"This model has {len(layers):,} layers; the app reads {_LAYOUT} (at most "
                         f"{MAX_CONFIG_LAYERS} layers in all). Upload a smaller model.")
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or not isinstance(layer.get("class_name"), str):
            raise ValueError(f"Layer {i} of the model config is not a Keras layer config. " + SAVE_HINT)
        _refuse_code(layer, f"layer {_q(_layer_name(layer, i))}")
    # compile_config (optimizer, loss, metrics) is for training only and never read, so a custom loss
    # function named there does not stop the model from being shown.
    _refuse_code({k: v for k, v in config.items() if k not in ("config", "compile_config")}, "the model")
    _refuse_code({k: v for k, v in body.items() if k != "layers"}, "the model")
    model_class = config["class_name"]
    if model_class not in _MODELS or not _keras_module(config.get("module"), allow_none=True):
        raise ValueError(f"This model is a subclassed Keras model ({_q(model_class)}): its call() method is Python "
                         "code, which this app never runs. Rebuild it as keras.Sequential (or a Functional "
                         f"model) made of {_LAYOUT}, save that, and upload it.")
    names = [_layer_name(layer, i) for i, layer in enumerate(layers)]
    if model_class != "Sequential":
        _check_chain(body, layers, names)

    grus: list[_GRUSpec] = []
    dense: _DenseSpec | None = None
    input_size: int | None = None
    groups: list[tuple[str, str]] = []
    used: dict[str, int] = {}
    notes: list[str] = []
    after: list[str] = []  # classes after the Dense (Activation merges into the readout)
    for i, (layer, name) in enumerate(zip(layers, names)):
        cls, cfg = layer["class_name"], layer.get("config")
        if not isinstance(cfg, dict):
            raise ValueError(f"Layer {_q(name)} ({cls}) of the model config has no settings. " + SAVE_HINT)
        if cls == "InputLayer":
            if i != 0:
                raise ValueError(f"This model has an input layer ({_q(name)}) in the middle of its layers; the app "
                                 f"reads {_LAYOUT}. Upload a model of that shape.")
            input_size = _last_dim(cfg.get("batch_shape", cfg.get("batch_input_shape")))
            if model_class == "Sequential":
                continue  # Sequential keeps its InputLayer out of model.layers: no weights group
        path = "layers/" + _unique(_snake_case(cls), used)
        groups.append((path, name))
        if cls in IDENTITY_LAYERS or cls == "InputLayer":
            continue
        _refuse_layer(cls, cfg, name)
        if cls == "GRU":
            if dense is not None:
                raise ValueError(f"This model has a GRU layer ({_q(name)}) after its Dense layer "
                                 f"({_q(dense.name)}); the app reads {_LAYOUT}. Upload a model of that shape.")
            grus.append(_gru_spec(cfg, name, path, max_hidden))
            build = layer.get("build_config")
            if input_size is None and len(grus) == 1 and isinstance(build, dict):
                input_size = _last_dim(build.get("input_shape"))
        elif cls == "Dense" and grus and dense is None:
            dense = _dense_spec(cfg, name, path)
        elif cls == "Activation" and dense is not None and not after:
            activation = _activation_name(cfg.get("activation"))
            if dense.activation not in ("linear", None):
                raise ValueError(f"This model applies two activations after its Dense layer ({_q(dense.name)}: "
                                 f"{dense.activation}, then {_q(name)}: {activation}); the app reads one Dense "
                                 "readout. Upload a model with a single activation on the Dense layer.")
            dense.activation = activation
            after.append(cls)
        else:
            if not any(later["class_name"] == "GRU" for later in layers):
                break  # no GRU at all: said below
            if not grus:
                where = "before the first GRU layer"
            elif dense is not None:
                where = "after the Dense readout"
            elif any(later["class_name"] == "GRU" for later in layers[i + 1:]):
                where = "between GRU layers"
            else:
                where = "after the last GRU layer"
            if cls == "Dense" and not grus:
                extra = " A Dense layer there changes the inputs before the GRU sees them."
            elif cls == "Dense":
                extra = " Only one Dense layer (the readout) is read."
            else:
                extra = ""
            raise ValueError(f"This model has a {_q(cls)} layer ({_q(name)}) {where}; the app reads {_LAYOUT}."
                             f"{extra} Upload a model of that shape (for example the GRU layers and the Dense "
                             "readout of this one, rebuilt as a Sequential model with the same weights).")
    if not grus:
        classes = ", ".join(dict.fromkeys(str(layer["class_name"])[:40] for layer in layers)) or "none"
        raise ValueError(f"This Keras model has no GRU layer (its layers: {classes}). Upload a model made of "
                         "keras.layers.GRU layers.")
    _check_stack(grus, max_layers)
    if input_size is not None and input_size > max_features:
        raise ValueError(f"This model reads {input_size:,} input features per step; the app runs at most "
                         f"{max_features}. Upload a model with fewer inputs.")
    model_name = body.get("name") if isinstance(body.get("name"), str) else "model"
    if not grus[0].use_bias:
        notes.append("the GRU layers have no biases (use_bias=False): read with zero biases, which computes the "
                     "same thing")
    dropouts = [s for s in (layer.get("config", {}) for layer in layers if layer["class_name"] == "GRU")
                if _number(s.get("dropout")) or _number(s.get("recurrent_dropout"))]
    if dropouts or any(layer["class_name"] in IDENTITY_LAYERS for layer in layers):
        notes.append("dropout and noise layers do nothing at inference, so they are left out")
    policy = _dtype_policy(layers)
    if policy.startswith("mixed"):
        notes.append(f"the model was saved with the {policy} dtype policy; its weights are run in float32 here, "
                     "so outputs can differ slightly from Keras's half-precision ones")
    if dense is not None and dense.activation not in ("linear", None):
        notes.append(f"the Dense readout's {dense.activation} activation is not part of the readout here: the "
                     f"outputs shown are its inputs (logits); Keras applies {dense.activation} to them")
    return _Plan(model_name[:80], grus, dense, input_size, groups, notes)


def _gru_spec(cfg: dict, name: str, path: str, max_hidden: int) -> _GRUSpec:
    """One GRU layer's settings, refused when the app cannot run them (the message names the layer)."""
    layer = f"The GRU layer {_q(name)}"
    units = cfg.get("units")
    if not isinstance(units, int) or isinstance(units, bool) or units < 1:
        raise ValueError(f"{layer} has units={_short(units)}, which is not a positive whole number. " + SAVE_HINT)
    if units > max_hidden:
        raise ValueError(f"{layer} has {units:,} units; the app runs GRUs with at most {max_hidden} hidden units "
                         "per layer. Upload a smaller model.")
    activation = _activation_name(cfg.get("activation", "tanh"))
    if activation != "tanh":
        raise ValueError(f"{layer} uses activation={activation!r} for its candidate state; the GRU equations (and "
                         "this app) use tanh. Upload a model built with activation=\"tanh\" (Keras's default).")
    recurrent = _activation_name(cfg.get("recurrent_activation", "sigmoid"))
    if recurrent == "hard_sigmoid":
        raise ValueError(f"{layer} uses recurrent_activation=\"hard_sigmoid\", a piecewise-linear stand-in for the "
                         "sigmoid: its gates take other values than σ, so the app would show wrong gates. Rebuild "
                         "the model with recurrent_activation=\"sigmoid\" (Keras 3's default), retrain it, and "
                         "upload that.")
    if recurrent != "sigmoid":
        raise ValueError(f"{layer} uses recurrent_activation={recurrent!r} for its gates; the GRU equations (and "
                         "this app) use the sigmoid σ. Upload a model built with recurrent_activation=\"sigmoid\" "
                         "(Keras 3's default).")
    flags = {k: cfg.get(k, default) for k, default in (("go_backwards", False), ("stateful", False),
                                                       ("reset_after", True), ("use_bias", True),
                                                       ("return_sequences", False), ("return_state", False))}
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise ValueError(f"{layer} has {key}={_short(value)}, which is not true or false. " + SAVE_HINT)
    if flags["go_backwards"]:
        raise ValueError(f"{layer} has go_backwards=True: it reads each sequence from the last step to the first, "
                         "and the app runs GRUs forwards. Rebuild the layer with go_backwards=False (the weights "
                         "are the same), reverse your sequences instead, save the model and upload it.")
    if flags["stateful"]:
        raise ValueError(f"{layer} is stateful (stateful=True): it carries its state from one batch to the next, "
                         "so its outputs depend on what it saw before, while the app runs every sequence from a "
                         "zero state. Rebuild the model with stateful=False (the weights are the same), save it "
                         "and upload that.")
    if cfg.get("cell") is not None or cfg.get("implementation") not in (None, 1, 2):
        raise ValueError(f"{layer} has settings this app does not know. " + SAVE_HINT)
    return _GRUSpec(name, path, units, flags["reset_after"], flags["use_bias"], flags["return_sequences"])


def _check_stack(grus: list[_GRUSpec], max_layers: int) -> None:
    if len(grus) > max_layers:
        raise ValueError(f"This model has {len(grus)} GRU layers; the app runs GRUs of at most {max_layers} "
                         "layers. Upload a smaller model.")
    sizes = {g.units for g in grus}
    if len(sizes) > 1:
        shown = ", ".join(f"{_q(g.name)}: {g.units}" for g in grus[:8])
        raise ValueError(f"The GRU layers have different sizes ({shown} units); the app, like torch.nn.GRU, stacks "
                         "layers of one size. Upload a model whose GRU layers all have the same number of units.")
    if len({g.reset_after for g in grus}) > 1:
        shown = ", ".join(f"{_q(g.name)}: {g.reset_after}" for g in grus[:8])
        raise ValueError(f"The GRU layers mix reset_after=True and reset_after=False ({shown}): these are two "
                         "different GRU equations, and the app runs one of them for all layers. Rebuild the model "
                         "with one setting for every GRU layer, retrain it, and upload that.")
    if len({g.use_bias for g in grus}) > 1:
        raise ValueError("Some GRU layers have biases and some do not (use_bias); the app reads GRUs whose layers "
                         "all have biases or all have none. Upload a model with one setting for every GRU layer.")
    for k, g in enumerate(grus[:-1]):
        if not g.return_sequences:
            raise ValueError(
                f"The GRU layer {_q(g.name)} (GRU {k + 1} of {len(grus)}) has return_sequences=False, so only its "
                "last state would reach the next GRU layer. In a stack every GRU but the last passes every step "
                "on: rebuild the model with return_sequences=True on all GRU layers except the last, retrain it, "
                "and upload that.")


def _dense_spec(cfg: dict, name: str, path: str) -> _DenseSpec:
    units = cfg.get("units")
    if not isinstance(units, int) or isinstance(units, bool) or not 1 <= units <= MAX_OUTPUTS:
        raise ValueError(f"The Dense layer {_q(name)} has units={_short(units)}; the app reads Dense readouts of "
                         f"1 to {MAX_OUTPUTS:,} outputs. " + SAVE_HINT)
    use_bias = cfg.get("use_bias", True)
    if not isinstance(use_bias, bool):
        raise ValueError(f"The Dense layer {_q(name)} has use_bias={_short(use_bias)}. " + SAVE_HINT)
    if cfg.get("quantization_config") is not None or cfg.get("lora_rank"):
        raise ValueError(f"The Dense layer {_q(name)} is quantized or has LoRA weights; the app reads a plain "
                         "Dense readout. Save the model before quantizing it (or after merging LoRA weights).")
    return _DenseSpec(name, path, units, use_bias, _activation_name(cfg.get("activation", "linear")))


def _refuse_layer(cls: str, cfg: dict, name: str) -> None:
    """The specific message for a layer class the app cannot read (nothing for GRU, Dense, Activation)."""
    layer = f"layer {_q(name)}"
    if cls in _OTHER_RECURRENT:
        raise ValueError(f"This model's {layer} is {_OTHER_RECURRENT[cls]}; this app reads GRU layers "
                         "(keras.layers.GRU) only. Upload a model whose recurrent layers are all GRUs.")
    if cls == "Bidirectional":
        raise ValueError(f"This model's {layer} is Bidirectional: it runs a second copy of its layer backwards over "
                         "each sequence, and the app runs GRUs forwards only. Upload a model made of plain "
                         "keras.layers.GRU layers (without the Bidirectional wrapper).")
    if cls in ("RNN", "GRUCell"):
        raise ValueError(f"This model's {layer} is a keras.layers.RNN wrapper around a cell; the app reads "
                         "keras.layers.GRU layers. Build the model with keras.layers.GRU(units) instead (it holds "
                         "the same weights), save it and upload that.")
    if cls == "TimeDistributed":
        raise ValueError(f"This model's {layer} is a TimeDistributed wrapper; the app reads {_LAYOUT}. A Dense "
                         "layer on a GRU with return_sequences=True already acts on every step: use it without "
                         "TimeDistributed, save the model and upload that.")
    if cls == "Masking" or (cls == "Embedding" and cfg.get("mask_zero") is True):
        what = ("a Masking layer" if cls == "Masking" else "an Embedding layer with mask_zero=True, which masks")
        raise ValueError(f"This model's {layer} is {what}: Keras then skips masked steps (the GRU keeps its "
                         "state through them), but the app runs every step of a sequence. Remove the mask (build "
                         "the model without it; the GRU's weights are the same), trim the padding from your "
                         "sequences instead, and upload that model.")
    if cls == "Embedding":
        raise ValueError(f"This model's {layer} is an Embedding (token ids to vectors); the app feeds numbers "
                         "straight into the first GRU layer. Upload a model that starts with the GRU layers.")
    if cls in _MODELS:
        raise ValueError(f"This model's {layer} is itself a model ({cls}) nested in it; the app reads one flat "
                         f"model: {_LAYOUT}. Rebuild it as one Sequential model with the same layers and "
                         "weights, save it and upload that.")


def _check_chain(body: dict, layers: list[dict], names: list[str]) -> None:
    """A Functional model must be one chain: each layer reads the one before it, once, and nothing else."""
    def refuse(why: str) -> ValueError:
        return ValueError(f"This functional model is not a single chain of layers ({why}); the app reads "
                          f"{_LAYOUT}, each layer reading the one before it. Upload a model of that shape.")

    if len(set(names)) != len(names):
        raise refuse("two layers share a name")
    for key in ("input_layers", "output_layers"):
        ends = _tensor_refs(body.get(key))
        if len(ends) != 1:
            raise refuse(f"it has {len(ends)} {key.split('_')[0]}s")
    if _tensor_refs(body.get("input_layers"))[0] != (names[0], 0) or \
            _tensor_refs(body.get("output_layers"))[0] != (names[-1], 0):
        raise refuse("its first and last layers are not its input and output")
    for i, layer in enumerate(layers):
        nodes = layer.get("inbound_nodes")
        if i == 0:
            if nodes not in ([], None):
                raise refuse(f"its first layer {_q(names[0])} reads another layer")
            continue
        if not isinstance(nodes, list) or len(nodes) != 1:
            count = len(nodes) if isinstance(nodes, list) else 0
            raise refuse(f"layer {_q(names[i])} is called {count} times")
        node = nodes[0]
        if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
            sources = _keras_tensors(node.get("args"))
            passed = _keras_tensors(node.get("kwargs"))
            if passed:
                kwargs = node.get("kwargs") if isinstance(node.get("kwargs"), dict) else {}
                if "mask" in kwargs and kwargs["mask"] is not None:
                    raise ValueError(
                        f"This model passes a mask to its layer {_q(names[i])}: Keras then skips masked steps, but "
                        "the app runs every step of a sequence. Build the model without the mask (the weights are "
                        "the same), trim the padding from your sequences instead, and upload that model.")
                raise refuse(f"layer {_q(names[i])} is given another tensor ({', '.join(map(str, kwargs))[:80]}), "
                             "such as an initial state")
        elif isinstance(node, list):  # tf.keras / Keras 2: [[name, node_index, tensor_index, kwargs], ...]
            sources = [tuple(ref[:3]) for ref in node if isinstance(ref, list) and len(ref) >= 3]
        else:
            raise refuse(f"layer {_q(names[i])}'s inputs cannot be read")
        if len(sources) != 1:
            raise refuse(f"layer {_q(names[i])} reads {len(sources)} tensors")
        src, _, tensor = sources[0]
        if src != names[i - 1] or tensor != 0:
            raise refuse(f"layer {_q(names[i])} reads {_q(src)}, not the layer before it")


# -- checks on config values ------------------------------------------------------------------------
def _refuse_code(tree: Any, where: str) -> None:
    """Refuse any object in ``tree`` that is not one of Keras's own (custom classes, functions, Lambda).

    Nothing is imported or looked up: Keras's serialisation names every object's ``module``,
    ``class_name`` and ``registered_name``; built-in objects name a module under ``keras`` and no
    registered name (or their own class name), custom ones their own module or a "package>Name".
    """
    todo, seen = [tree], 0
    while todo:
        node = todo.pop()
        seen += 1
        if seen > MAX_CONFIG_NODES:
            raise ValueError(f"The model config has more than {MAX_CONFIG_NODES:,} values; a Keras model of GRU "
                             "layers has a few hundred. " + SAVE_HINT)
        if isinstance(node, list):
            todo.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        todo.extend(node.values())
        cls = node.get("class_name")
        if cls is None:
            continue
        if cls in ("Lambda", "__lambda__"):
            raise ValueError(f"This model contains a Lambda layer (in {where}), which stores Python code. This app "
                             "never runs code from an uploaded file, so the file was not opened any further. "
                             "Replace the Lambda layer by Keras's own layers (or remove it), save the model and "
                             "upload that.")
        if isinstance(cls, str) and cls in _KERAS_MARKERS and "module" not in node:
            continue
        module, registered = node.get("module"), node.get("registered_name")
        if not isinstance(cls, str) or not _keras_module(module) or registered not in (None, cls):
            shown = f"{_q(cls)}" + (f" (registered as {_q(registered)})" if registered not in (None, cls) else "")
            origin = f" from the module {_q(module)}" if isinstance(module, str) else ""
            raise ValueError(f"This model uses a custom object, {shown}{origin}, in {where}. Custom classes and "
                             "functions are Python code, which this app never runs, so the file was not opened any "
                             "further. Build the model from Keras's own layers (settings that only matter for "
                             "training, such as a custom regularizer or constraint, can be set to None before "
                             "saving) and upload that.")


def _keras_module(module: Any, allow_none: bool = False) -> bool:
    if module is None:
        return allow_none
    return isinstance(module, str) and (module == "keras" or module.startswith("keras."))


def _activation_name(value: Any) -> str:
    """A built-in activation's name: Keras 3 writes a string; older files a {"class_name": ...} object."""
    if isinstance(value, str):
        return value[:40]
    if value is None:
        return "linear"
    if isinstance(value, dict) and isinstance(value.get("config"), str):  # checked by _refuse_code first
        return value["config"][:40]
    if isinstance(value, dict) and isinstance(value.get("class_name"), str):
        return value["class_name"][:40]
    return _short(value)


def _last_dim(shape: Any) -> int | None:
    if isinstance(shape, list) and shape and isinstance(shape[-1], int) and not isinstance(shape[-1], bool):
        return shape[-1] if shape[-1] > 0 else None
    return None


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _dtype_policy(layers: list[dict]) -> str:
    for layer in layers:
        if layer["class_name"] == "GRU":
            d = layer.get("config", {}).get("dtype")
            if isinstance(d, dict) and isinstance(d.get("config"), dict):
                d = d["config"].get("name")
            return d if isinstance(d, str) else "float32"
    return "float32"


def _tensor_refs(value: Any) -> list[tuple]:
    """``["name", 0, 0]`` or a list of them -> [(name, tensor_index)]."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [(value[0], value[2])]
    if isinstance(value, list):
        return [ref for v in value for ref in _tensor_refs(v)]
    return []


def _keras_tensors(tree: Any) -> list[tuple]:
    """(layer, node, tensor) of every ``__keras_tensor__`` in a node's args or kwargs."""
    found, todo = [], [tree]
    while todo and len(found) < 16:
        node = todo.pop()
        if isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, dict):
            if node.get("class_name") == "__keras_tensor__":
                history = (node.get("config") or {}).get("keras_history") if isinstance(node.get("config"),
                                                                                        dict) else None
                found.append(tuple(history[:3]) if isinstance(history, list) and len(history) >= 3
                             else (None, None, None))
            else:
                todo.extend(node.values())
    return found


def _layer_name(layer: dict, i: int) -> str:
    cfg = layer.get("config")
    name = cfg.get("name") if isinstance(cfg, dict) else None
    return name[:80] if isinstance(name, str) else f"#{i}"


def _snake_case(name: str) -> str:
    """keras.src.utils.naming.to_snake_case: the name of a layer's weights group (GRU -> gru)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _unique(name: str, used: dict[str, int]) -> str:
    """saving_lib._get_unique_name: gru, gru_1, gru_2, ..."""
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _q(value: Any) -> str:
    """A value from the file, quoted for a message, at most 60 characters."""
    text = value if isinstance(value, str) else _short(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _short(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (int, float, str, bool, type(None))) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


# -- in the sandboxed worker ------------------------------------------------------------------------
def read_keras_arrays(data: bytes, *, config_bytes: int, max_hidden: int, max_features: int,
                      max_layers: int) -> tuple[dict[str, np.ndarray], dict]:
    """The sandbox parser: ``data`` is a ``.keras`` archive (``config_bytes`` = 0), or a config (the first
    ``config_bytes`` bytes: JSON or a .keras archive) followed by a ``.weights.h5`` file.

    Returns torch-layout arrays ``"k.weight_ih"`` (3H, I), ``"k.weight_hh"`` (3H, H), ``"k.bias_ih"``,
    ``"k.bias_hh"`` (3H,) per GRU layer k, ``"readout.weight"`` (O, H) and ``"readout.bias"`` (O,) when
    there is a Dense readout, and ``{"layers", "convention", "readout", "notes", "layer_names",
    "keras_version"}``. Runs only in a sandbox worker: h5py parses untrusted bytes.
    """
    caps = {"max_hidden": max_hidden, "max_features": max_features, "max_layers": max_layers}
    if config_bytes:
        config_text, version, hint = _config_text(data[:config_bytes]), "", WEIGHTS_HINT
        h5 = data[config_bytes:]
    else:
        config_text, version, h5 = _open_archive(data)
        hint = SAVE_HINT
    try:
        plan = _plan(_parse_json(config_text), **caps)
    except RecursionError:
        raise ValueError("The model config is nested far deeper than any Keras config. " + SAVE_HINT) from None
    layers, readout, notes = _read_weights(h5, plan, hint, max_features)
    arrays = {f"{k}.{n}": a for k, params in enumerate(layers) for n, a in params.items()}
    readout_meta = None
    if readout is not None:
        arrays["readout.weight"], arrays["readout.bias"] = readout
        readout_meta = {"per_step": plan.per_step, "activation": plan.dense.activation or "linear"}
    names = [g.name for g in plan.grus] + ([plan.dense.name] if plan.dense else [])
    return arrays, {"layers": len(layers), "convention": "pytorch" if plan.reset_after else "cho2014",
                    "readout": readout_meta, "notes": plan.notes + notes, "layer_names": names,
                    "keras_version": version}


def _open_archive(data: bytes) -> tuple[bytes, str, bytes]:
    """config.json, the Keras version in metadata.json ("" if absent) and model.weights.h5 of an archive."""
    if data[:len(_HDF5_MAGIC)] == _HDF5_MAGIC:
        raise ValueError("This is an HDF5 file, not a .keras archive: a Keras weights file (.weights.h5) holds the "
                         "weights but not the layers. " + WEIGHTS_HINT + " Or upload the .keras file written by "
                         "model.save(\"model.keras\").")
    if data[:4] != b"PK\x03\x04":
        raise ValueError("This file is not a Keras archive (.keras, a zip file): it does not start like one. "
                         + SAVE_HINT)
    try:
        infos = zip_entries(data, max_entries=MAX_ZIP_ENTRIES, max_total_bytes=MAX_KERAS_BYTES, stored_only=False)
    except StructureError as err:
        if "cannot be read" in str(err):
            raise ValueError("This file could not be read as a Keras archive (.keras): its zip directory is "
                             "damaged or cut short. " + SAVE_HINT) from None
        raise ValueError(f"This file is not a plain Keras archive: {err}. Keras never writes such a file, so it "
                         "was not opened. " + SAVE_HINT) from None
    sizes = {info.filename: info.file_size for info in infos}
    if "config.json" not in sizes:
        shown = ", ".join(_q(n) for n in list(sizes)[:5]) or "nothing"
        raise ValueError(f"This zip file has no config.json (it holds {shown}), so it is not a Keras 3 archive. "
                         + SAVE_HINT)
    if "model.weights.h5" not in sizes:
        if "model.weights.npz" in sizes:
            raise ValueError("This archive stores its weights as model.weights.npz (saved with "
                             "weights_format=\"npz\"); the app reads the default HDF5 weights. " + SAVE_HINT)
        raise ValueError("This archive has no model.weights.h5, so it holds a model's layers but not its weights. "
                         + SAVE_HINT)
    for name, cap in (("config.json", MAX_CONFIG_BYTES), ("metadata.json", MAX_METADATA_BYTES)):
        if sizes.get(name, 0) > cap:
            raise ValueError(f"This archive's {name} is {sizes[name] / 1e6:,.1f} MB; for a model of GRU layers it "
                             f"takes a few kilobytes (at most {cap / 1e6:g} MB is read). " + SAVE_HINT)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:  # never reads past an entry's declared size
            config = archive.read("config.json")
            metadata = archive.read("metadata.json") if "metadata.json" in sizes else b""
            weights = archive.read("model.weights.h5")
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, ValueError):
        raise ValueError("This file could not be read as a Keras archive (.keras): an entry is damaged, cut short "
                         "or packed in a way Keras does not use. " + SAVE_HINT) from None
    version = ""
    try:
        meta = json.loads(metadata) if metadata else {}
        if isinstance(meta, dict) and isinstance(meta.get("keras_version"), str):
            version = meta["keras_version"][:40]
    except (ValueError, RecursionError):
        pass  # metadata.json is informative only
    return config, version, weights


def _config_text(data: bytes) -> bytes:
    """The config JSON from an uploaded config: the JSON itself, or a .keras archive's config.json."""
    if data[:4] == b"PK\x03\x04":
        return _open_archive(data)[0]
    if data[:len(_HDF5_MAGIC)] == _HDF5_MAGIC:
        raise ValueError("The config file is an HDF5 file (weights?), not the model's config. " + WEIGHTS_HINT)
    return data


def _parse_json(text: bytes) -> Any:
    if len(text) > MAX_CONFIG_BYTES:
        raise ValueError(f"The model config is {len(text) / 1e6:,.1f} MB; for a model of GRU layers it takes a few "
                         f"kilobytes (at most {MAX_CONFIG_BYTES / 1e6:g} MB is read). " + SAVE_HINT)
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("The model config is nested far deeper than any Keras config. " + SAVE_HINT) from None
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        raise ValueError("The model config could not be read as JSON (config.json, or the text of "
                         "model.to_json()): it may be damaged, cut short or another file. " + SAVE_HINT) from None


def _read_weights(h5: bytes, plan: _Plan, hint: str, max_features: int):
    """Each GRU layer's torch-layout arrays, the Dense readout's (weight (O, H), bias (O,)) or None,
    and notes; only the datasets the plan names are opened, each checked before it is read."""
    import h5py

    if h5[:len(_HDF5_MAGIC)] != _HDF5_MAGIC:
        sharded = h5[:1] == b"{"
        raise ValueError(("The weights file is JSON, the index of a sharded weights file (saved with "
                          "max_shard_size): save the weights as one .weights.h5 file and upload that. "
                          if sharded else "The weights file is not an HDF5 file (it does not start with the "
                          "HDF5 signature). ") + hint)
    _disable_hdf5_plugins()
    try:
        f = h5py.File(io.BytesIO(h5), "r")
    except MemoryError:
        raise
    except Exception:  # h5py raises OSError, ValueError, RuntimeError... for a damaged file
        raise ValueError("The weights could not be read as an HDF5 file: the file may be damaged or cut short. "
                         + hint) from None
    with f:
        try:
            return _read_groups(f, plan, hint, max_features)
        except (ValueError, MemoryError):
            raise
        except Exception:  # OSError, KeyError, RuntimeError...: h5py on a file that is not what it claims
            raise ValueError("The weights file could not be read: its HDF5 structure is damaged or not what Keras "
                             "writes. " + hint) from None


def _read_groups(f, plan: _Plan, hint: str, max_features: int):
    if _has(f, "model_weights") or "layer_names" in f.attrs or "model_config" in f.attrs:
        raise ValueError("This is a Keras 2 (tf.keras) HDF5 file, written by model.save(\"model.h5\") or "
                         "save_weights(\"model.h5\"), whose layout differs from Keras 3's. Load it in Keras 3 "
                         "(keras.saving.load_model or model.load_weights) and save it again with "
                         "model.save(\"model.keras\"), then upload that.")
    root = next((name for name in ("layers", "_layer_checkpoint_dependencies") if _has(f, name)), None)
    if root is None:
        raise ValueError("The weights file has no \"layers\" group, so Keras 3 did not write it (model.save_weights "
                         "stores every layer's arrays under layers/...). " + hint)
    layers_group = _group(f, root, hint)
    if len(layers_group) > 4 * MAX_CONFIG_LAYERS:
        raise ValueError(f"The weights file has {len(layers_group):,} layer groups; the config has "
                         f"{len(plan.groups)}. The weights and the config do not belong together. " + hint)
    expected = {path.split("/", 1)[1] for path, _ in plan.groups}
    strays = sorted(k for k in layers_group.keys() if re.fullmatch(r"(gru|dense)(_\d+)?", k) and k not in expected)
    if strays:
        raise ValueError(f"The weights file has weights for {len(strays)} layer(s) the config does not have "
                         f"({', '.join(strays[:4])}): the weights and the config do not belong together. Upload "
                         "the weights saved from the model this config describes (or the .keras archive).")
    layers, dtypes, notes = [], set(), []
    H = plan.grus[0].units
    for k, spec in enumerate(plan.grus):
        where = f"the GRU layer {_q(spec.name)}"
        cell = spec.path.split("/", 1)[1]
        group = (_group(layers_group, f"{cell}/cell/vars", hint, missing=where) if _has(layers_group, f"{cell}/cell")
                 else _group(layers_group, f"{cell}/vars", hint, missing=where))
        n_arrays = 3 if spec.use_bias else 2
        _expect_keys(group, n_arrays, where, "(kernel, recurrent_kernel" + (", bias)" if spec.use_bias else ")"))
        kernel = _dataset(group, "0", where, "kernel",
                          lambda s, k=k: len(s) == 2 and s[1] == 3 * H and (s[0] == H or k == 0 and s[0] >= 1),
                          f"(inputs, {3 * H})" if k == 0 else f"({H}, {3 * H})", dtypes,
                          max_inputs=max_features if k == 0 else None)
        if k == 0 and plan.input_size is not None and kernel.shape[0] != plan.input_size:
            raise ValueError(f"The kernel of {where} reads {kernel.shape[0]} inputs but the config says "
                             f"{plan.input_size}: the weights and the config do not belong together. " + hint)
        recurrent = _dataset(group, "1", where, "recurrent_kernel", lambda s: tuple(s) == (H, 3 * H),
                             f"({H}, {3 * H})", dtypes)
        if spec.use_bias:
            shape = (2, 3 * H) if spec.reset_after else (3 * H,)
            bias = _dataset(group, "2", where, "bias", lambda s, shape=shape: tuple(s) == shape, str(shape), dtypes)
        else:
            bias = np.zeros((2, 3 * H) if spec.reset_after else (3 * H,), kernel.dtype)
        layers.append(_from_keras_layout(kernel, recurrent, bias, spec.reset_after))
    readout = None
    if plan.dense is not None:
        spec = plan.dense
        where = f"the Dense layer {_q(spec.name)}"
        group = _group(layers_group, f"{spec.path.split('/', 1)[1]}/vars", hint, missing=where)
        _expect_keys(group, 2 if spec.use_bias else 1, where, "(kernel, bias)" if spec.use_bias else "(kernel)")
        kernel = _dataset(group, "0", where, "kernel", lambda s: tuple(s) == (H, spec.units),
                          f"({H}, {spec.units})", dtypes)
        bias = (_dataset(group, "1", where, "bias", lambda s: tuple(s) == (spec.units,), f"({spec.units},)",
                         dtypes) if spec.use_bias else np.zeros(spec.units, kernel.dtype))
        readout = (np.ascontiguousarray(kernel.T), bias)
    if "float16" in dtypes:
        notes.append("converted float16 weights to float32")
    if {"float32", "float64"} <= dtypes:  # one dtype for the whole model: the wider one
        layers = [{n: a.astype(np.float64) for n, a in p.items()} for p in layers]
        if readout is not None:
            readout = (readout[0].astype(np.float64), readout[1].astype(np.float64))
        notes.append("the weights mixed float32 and float64; all were converted to float64")
    return layers, readout, notes


def _link_kind(group, name: str) -> str | None:
    """"hard", "soft", "external" or "other" for the link ``name`` (one path component) in ``group``,
    None if there is none. Only the link itself is looked at (H5Lexists, H5Lget_info): unlike
    ``name in group`` or ``group.get(name)``, nothing is resolved, so an external link never makes
    HDF5 open another file."""
    from h5py import h5l

    key = name.encode()
    if not group.id.links.exists(key):
        return None
    kind = group.id.links.get_info(key).type
    return {h5l.TYPE_HARD: "hard", h5l.TYPE_SOFT: "soft", h5l.TYPE_EXTERNAL: "external"}.get(kind, "other")


def _has(parent, path: str) -> bool:
    """Whether ``path`` exists under ``parent`` through groups and hard links (other links refused)."""
    import h5py

    node = parent
    for part in path.split("/"):
        if not isinstance(node, h5py.Group) or _link_kind(node, part) is None:
            return False
        _hard_link(node, part)
        node = node[part]
    return True


def _group(parent, path: str, hint: str, missing: str = ""):
    """A subgroup reached through hard links only (soft and external links can point anywhere)."""
    import h5py

    node = parent
    for part in path.split("/"):
        if _link_kind(node, part) is None:
            if missing:
                raise ValueError(f"The weights file has no weights for {missing} (no HDF5 group "
                                 f"{node.name.lstrip('/')}/{part}): the weights and the config do not belong "
                                 "together. Upload the weights saved from the model this config describes (or "
                                 "the .keras archive).")
            raise ValueError(f"The weights file has no {part!r} group where Keras writes one. " + hint)
        _hard_link(node, part)
        node = node[part]
        if not isinstance(node, h5py.Group):
            raise ValueError(f"The weights file has a dataset at {node.name[:80]!r} where Keras writes a group. "
                             + hint)
    return node


def _hard_link(group, name: str) -> None:
    link = _link_kind(group, name)
    if link != "hard":
        kind = {"external": "an external link (to another file)", "soft": "a soft link"}.get(link, "a link")
        raise ValueError(f"The weights file has {kind} at {group.name.rstrip('/')}/{name[:60]}; Keras writes plain "
                         "groups and datasets, and links can point outside the file, so it was not read. "
                         "Upload the file as Keras wrote it.")


def _expect_keys(group, n: int, where: str, names: str) -> None:
    keys = sorted(group.keys()) if len(group) <= 16 else None
    if keys != [str(i) for i in range(n)]:
        shown = f"{len(group):,} entries" if keys is None else (", ".join(k[:20] for k in keys) or "nothing")
        raise ValueError(f"The weights of {where} should be {n} arrays {names}, named 0 to {n - 1}, but the file "
                         f"has {shown} there: it was not written by Keras 3 for this model. Upload the weights "
                         "saved from the model this config describes (or the .keras archive).")


def _dataset(group, name: str, where: str, what: str, shape_ok, expected: str, dtypes: set,
             max_inputs: int | None = None) -> np.ndarray:
    """One array, after checking its link, storage, dtype, shape and filters; never larger than the caps
    (``max_inputs`` caps the rows of the first layer's kernel, the only size the config does not fix)."""
    import h5py

    _hard_link(group, name)
    d = group[name]
    if not isinstance(d, h5py.Dataset):
        raise ValueError(f"The {what} of {where} is a group in the weights file, not an array. Upload the file as "
                         "Keras wrote it.")
    if d.external or d.is_virtual:
        raise ValueError(f"The {what} of {where} is stored outside the weights file (an external or virtual "
                         "HDF5 dataset), so it was not read. Upload the file as Keras wrote it.")
    shape = d.shape
    if shape is None or not shape_ok(shape):
        raise ValueError(f"The {what} of {where} has shape {tuple(shape or ())} in the weights file, but this "
                         f"layer's config needs {expected}: the weights and the config do not belong together (or "
                         "the model is larger than the app runs). Upload the weights saved from the model this "
                         "config describes (or the .keras archive).")
    if max_inputs is not None and shape[0] > max_inputs:
        raise ValueError(f"This model reads {shape[0]:,} input features per step; the app runs at most "
                         f"{max_inputs}. Upload a model with fewer inputs.")
    dt = d.dtype
    if dt.kind != "f" or dt.itemsize not in (2, 4, 8):
        raise ValueError(f"The {what} of {where} holds {_dtype_name(dt)} values; GRU weights are floating-point "
                         "numbers. Save the model with float32 weights (Keras's default) and upload that.")
    plist = d.id.get_create_plist()
    for i in range(plist.get_nfilters()):
        code = plist.get_filter(i)[0]
        if code not in _SAFE_FILTERS:
            raise ValueError(f"The {what} of {where} is packed with an HDF5 filter (number {code}) the app does not "
                             "read; Keras writes its weights unpacked. Save the model again with Keras and upload "
                             "that.")
    if d.chunks is not None and math.prod(d.chunks) > MAX_CHUNK_VALUES:
        raise ValueError(f"The {what} of {where} is stored in chunks of {math.prod(d.chunks):,} values, far more "
                         "than the array holds; Keras never writes that. Save the model again with Keras.")
    try:
        a = np.asarray(d[()])
    except Exception:
        raise ValueError(f"The {what} of {where} could not be read from the weights file: it may be damaged or "
                         "cut short. Save the model again and upload that.") from None
    if a.dtype.itemsize == 2:
        dtypes.add("float16")
        a = a.astype(np.float32)
    a = a.astype(a.dtype.newbyteorder("="))  # native byte order, a copy
    dtypes.add(a.dtype.name)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"The {what} of {where} contains NaN or infinite values, so this model cannot be run. "
                         "This usually means training diverged; save the weights from an earlier point, before "
                         "that happened.")
    return a


def _dtype_name(dt: np.dtype) -> str:
    return {"i": "integer", "u": "unsigned integer", "b": "boolean", "c": "complex", "S": "byte-string",
            "U": "text", "O": "object", "V": "raw (opaque or compound)"}.get(dt.kind, str(dt))


def _disable_hdf5_plugins() -> None:
    """Empty HDF5's plugin search path: a filter named in a file can then never load a shared library."""
    from h5py import h5pl

    while h5pl.size():
        h5pl.remove(0)


# -- the layouts -----------------------------------------------------------------------------------
def _swap_rz(a: np.ndarray) -> np.ndarray:
    """(3H, ...) rows (z, r, h) <-> (r, z, n): swapping the first two blocks is its own inverse."""
    H = a.shape[0] // 3
    return np.concatenate([a[H:2 * H], a[:H], a[2 * H:]])


def _from_keras_layout(kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray,
                       reset_after: bool) -> dict[str, np.ndarray]:
    """Keras's kernel (I, 3H), recurrent_kernel (H, 3H), bias (2, 3H) | (3H,) -> torch's four arrays."""
    if reset_after:
        b_ih, b_hh = bias[0], bias[1]
    else:  # one bias, added with the input part: exact in cho2014 (see the module docstring)
        b_ih, b_hh = bias, np.zeros_like(bias)
    return {"weight_ih": _swap_rz(kernel.T), "weight_hh": _swap_rz(recurrent.T),
            "bias_ih": _swap_rz(b_ih), "bias_hh": _swap_rz(b_hh)}


def to_keras_weights(gru: GRU, *, flip_update_gate: bool = True) -> KerasWeights:
    """``gru``'s weights in Keras's layout: per layer (kernel, recurrent_kernel, bias).

    * pytorch -> ``reset_after=True``: a copy (input bias row, recurrent bias row).
    * cho2014 -> ``reset_after=False``: Keras has one bias, added outside r ⊙ ·, so it is
      ``b_ih + b_hh`` for every gate; cho2014 adds b_hn outside r as well, so this is exact.
    * chung2014: its z weighs the candidate, Keras's the old state; with ``flip_update_gate`` the
      update gate is negated first (:meth:`GRU.flip_update_gate`: the same network, z ↔ 1 − z) and
      exported as cho2014; without, it is refused.
    """
    note = ""
    if not gru.convention.z_keeps_old:
        if not flip_update_gate:
            raise ValueError(f"Keras's GRU weighs the old state with z (z ≈ 1 keeps h_(t-1)); this GRU uses the "
                             f"{gru.convention.name} convention, where z ≈ 1 takes the candidate. Export it with "
                             "flip_update_gate=True (the same network with z relabelled 1 − z).")
        gru = gru.flip_update_gate()
        note = (f"the update gate was flipped (z -> 1 - z, its weights and biases negated) to write the "
                f"{gru.convention.name} form Keras computes; the outputs are the same")
    reset_after = gru.convention.reset_after_matmul
    layers = []
    for layer in gru.layers:
        kernel = np.ascontiguousarray(_swap_rz(layer.weight_ih).T)      # (I, 3H)
        recurrent = np.ascontiguousarray(_swap_rz(layer.weight_hh).T)   # (H, 3H)
        if reset_after:
            bias = np.stack([_swap_rz(layer.bias_ih), _swap_rz(layer.bias_hh)])   # (2, 3H)
        else:
            bias = _swap_rz(layer.bias_ih + layer.bias_hh)                         # (3H,)
        layers.append((kernel, recurrent, bias))
    return KerasWeights(tuple(layers), reset_after, note)


def keras_config(gru: GRU, readout: Readout | None = None, *, name: str = "gru_gate_lab") -> dict:
    """A Keras 3 Sequential config for ``gru`` (and a Dense readout): InputLayer, GRU × layers, Dense.

    ``json.dumps`` of it is what ``model.to_json()`` gives; ``keras.models.model_from_json`` builds it.
    """
    reset_after = gru.convention.reset_after_matmul  # chung2014 is written as cho2014 (to_keras_weights)
    dtype = "float32"
    I, H, L = gru.input_size, gru.hidden_size, gru.num_layers
    layers: list[dict] = [{"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
                           "config": {"batch_shape": [None, None, I], "dtype": dtype, "name": "input_layer"}}]
    for k in range(L):
        last = k == L - 1
        layers.append({"module": "keras.layers", "class_name": "GRU", "registered_name": None,
                       "build_config": {"input_shape": [None, None, I if k == 0 else H]},
                       "config": {"name": "gru" if k == 0 else f"gru_{k}", "units": H, "activation": "tanh",
                                  "recurrent_activation": "sigmoid", "use_bias": True,
                                  "return_sequences": not last or bool(readout is None or readout.per_step),
                                  "reset_after": reset_after, "dtype": dtype}})
    if readout is not None:
        shape = [None, None, H] if readout.per_step else [None, H]
        layers.append({"module": "keras.layers", "class_name": "Dense", "registered_name": None,
                       "build_config": {"input_shape": shape},
                       "config": {"name": "dense", "units": readout.output_size, "activation": "linear",
                                  "use_bias": True, "dtype": dtype}})
    return {"module": "keras", "class_name": "Sequential", "registered_name": None,
            "config": {"name": name, "trainable": True, "dtype": dtype, "layers": layers},
            "build_config": {"input_shape": [None, None, I]}}


def write_keras_weights(gru: GRU, config: dict | str | bytes, readout: Readout | None = None, *,
                        dtype: type = np.float32) -> bytes:
    """The bytes of a ``.weights.h5`` file for the Keras model ``config`` (``model.to_json()``, a
    config.json, or its dict) holding ``gru`` (and ``readout`` as the model's Dense layer);
    ``model.load_weights(path)`` reads it. The config must match: as many GRU layers of
    ``gru.hidden_size`` units, ``reset_after`` as the convention needs (see :func:`to_keras_weights`),
    and a Dense layer exactly when a readout is given.
    """
    import h5py

    if not isinstance(config, dict):
        config = json.loads(config)
    plan = _plan(config, max_hidden=1 << 30, max_features=1 << 30, max_layers=1 << 30)
    exported = to_keras_weights(gru)
    problems = []
    if len(plan.grus) != gru.num_layers:
        problems.append(f"the config has {len(plan.grus)} GRU layers, the GRU {gru.num_layers}")
    if plan.grus[0].units != gru.hidden_size:
        problems.append(f"the config's GRU layers have {plan.grus[0].units} units, the GRU {gru.hidden_size}")
    if plan.input_size is not None and plan.input_size != gru.input_size:
        problems.append(f"the config's model reads {plan.input_size} inputs, the GRU {gru.input_size}")
    if plan.reset_after != exported.reset_after:
        problems.append(f"the config's GRU layers have reset_after={plan.reset_after}, but the {gru.convention.name} "
                        f"convention is reset_after={exported.reset_after}")
    if not plan.grus[0].use_bias and any(np.any(b) for layer in exported.layers for b in layer[2:]):
        problems.append("the config's GRU layers have no biases (use_bias=False) but the GRU's biases are not zero")
    if (plan.dense is None) != (readout is None):
        problems.append("the config has a Dense layer but no readout was given" if readout is None
                        else "a readout was given but the config has no Dense layer after the GRU layers")
    elif readout is not None:
        if plan.dense.units != readout.output_size or readout.per_step != plan.per_step:
            problems.append(f"the config's Dense layer has {plan.dense.units} outputs "
                            f"{'per step' if plan.per_step else 'per sequence'}, the readout "
                            f"{readout.output_size} {'per step' if readout.per_step else 'per sequence'}")
        if not plan.dense.use_bias and np.any(readout.bias):
            problems.append("the config's Dense layer has no bias but the readout's bias is not zero")
    if problems:
        raise ValueError("This GRU does not fit the Keras model config: " + "; ".join(problems) + ".")
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_group("vars").attrs["name"] = plan.model_name
        f.create_group("layers")
        for path, name in plan.groups:
            f.create_group(path).create_group("vars").attrs["name"] = name
        for spec, arrays in zip(plan.grus, exported.layers):
            cell = f.create_group(f"{spec.path}/cell").create_group("vars")
            cell.attrs["name"] = "gru_cell"
            for i, a in enumerate(arrays if spec.use_bias else arrays[:2]):
                cell.create_dataset(str(i), data=np.asarray(a, dtype=dtype))
        if readout is not None:
            group = f[f"{plan.dense.path}/vars"]
            group.create_dataset("0", data=np.asarray(readout.weight.T, dtype=dtype))
            if plan.dense.use_bias:
                group.create_dataset("1", data=np.asarray(readout.bias, dtype=dtype))
    return buf.getvalue()


def write_keras_archive(gru: GRU, readout: Readout | None = None, *, name: str = "gru_gate_lab") -> bytes:
    """The bytes of a ``.keras`` archive of ``gru`` (and its readout): ``keras.saving.load_model`` opens it,
    and so does :func:`load_keras`. A chung2014 GRU is written with its update gate flipped."""
    config = keras_config(gru, readout, name=name)
    weights = write_keras_weights(gru, config, readout)
    metadata = {"keras_version": "3", "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("metadata.json", json.dumps(metadata))
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", weights)
    return out.getvalue()
