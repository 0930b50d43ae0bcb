"""Issue 10, "Keras models in": real Keras 3 files read through the sandbox, compared with Keras.

Keras itself (torch backend) builds and saves the models and computes the reference outputs; the
reader (gru_core.checkpoints.keras) never imports it. Each refusal is checked by its message.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported, here or in tests.keras_files

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gru_core import GRU, sandbox  # noqa: E402
from gru_core.checkpoints import (  # noqa: E402
    MAX_KERAS_BYTES,
    keras_config,
    load_keras,
    load_upload,
    to_keras_weights,
    write_keras_archive,
    write_keras_weights,
)
from gru_core.checkpoints.keras import _from_keras_layout  # noqa: E402
from gru_core.models import Readout  # noqa: E402
from tests import keras_files as kf  # noqa: E402

# Keras 3.15 on NumPy 2 says this about its own tensors on every conversion.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
TOL = 1e-5  # float32 throughout
RNG = np.random.default_rng(7)
XS = RNG.normal(size=(25, 3)).astype(np.float32)  # (T, I)


def grus_of(model: keras.Model) -> list:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.GRU)]


def assert_same_as_keras(loaded, model: keras.Model, xs: np.ndarray = XS) -> None:
    """Every GRU layer's h at every step, and the readout, equal to Keras's to TOL."""
    hs, prediction = kf.layer_outputs(model, xs)
    trace = loaded.gru.run(xs)
    assert len(trace.layers) == len(hs)
    for k, (ours, theirs) in enumerate(zip(trace.layers, hs)):
        np.testing.assert_allclose(ours.h, theirs, atol=TOL, rtol=0, err_msg=f"layer {k}")
    if loaded.readout is not None:
        h = trace.h if loaded.readout.per_step else trace.h[-1]
        logits = loaded.readout.logits(h)
        if loaded.readout_activation == "sigmoid":
            logits = 1 / (1 + np.exp(-logits))
        np.testing.assert_allclose(logits, prediction, atol=TOL, rtol=0)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> bytes:
    """A small real archive: GRU(8, return_sequences) → Dropout → GRU(8) → Dense(1), 3 inputs."""
    return kf.saved(kf.gru_stack(units=8), tmp_path_factory.mktemp("base"))[0]


# -- real files, read as the app reads them ----------------------------------------------------------
@pytest.mark.parametrize("reset_after, convention", [(True, "pytorch"), (False, "cho2014")])
def test_keras_archive_and_weights_match_keras(tmp_path, reset_after, convention):
    model = kf.gru_stack(units=50, inputs=3, layers=2, outputs=1, reset_after=reset_after)
    archive, weights, config = kf.saved(model, tmp_path)
    from_archive = load_keras(archive)
    from_weights = load_upload(weights, "model.weights.h5", config=config)
    for loaded in (from_archive, from_weights):
        assert loaded.gru.convention.name == convention
        assert (loaded.gru.num_layers, loaded.gru.input_size, loaded.gru.hidden_size) == (2, 3, 50)
        assert loaded.gru.dtype == np.float32
        assert loaded.readout.weight.shape == (1, 50) and loaded.readout.per_step is False
        assert loaded.readout_activation == "linear"
        assert loaded.layer_names == tuple(layer.name for layer in model.layers if layer.weights)
        assert_same_as_keras(loaded, model)
    assert from_archive.keras_version == keras.__version__
    assert "dropout" in from_archive.note


def test_functional_per_step_sigmoid_readout(tmp_path):
    model = kf.gru_stack(units=6, layers=3, outputs=2, reset_after=False, per_step=True, functional=True,
                         activation="sigmoid")
    loaded = load_keras(kf.saved(model, tmp_path)[0])
    assert loaded.readout.per_step and loaded.readout.weight.shape == (2, 6)
    assert "sigmoid activation is not part of the readout" in loaded.note  # outputs are the logits
    assert_same_as_keras(loaded, model)


def test_no_biases_unroll_and_dropout_are_read(tmp_path):
    """use_bias=False is read as zero biases (the same computation); unroll and dropout change nothing
    at inference."""
    model = kf.gru_stack(units=5, layers=2, use_bias=False, unroll=True, dropout=0.3, recurrent_dropout=0.2)
    loaded = load_keras(kf.saved(model, tmp_path)[0])
    assert not any(np.any(layer.bias_ih) or np.any(layer.bias_hh) for layer in loaded.gru.layers)
    assert "no biases (use_bias=False)" in loaded.note
    assert_same_as_keras(loaded, model, XS[:8])


def test_trained_model_with_custom_loss_is_read(tmp_path):
    """A model compiled with a custom loss and trained: the loss (compile_config) and the optimizer's
    variables are training state, never read; the layers are."""
    def my_loss(y, p):
        return keras.ops.mean((y - p) ** 2)

    model = kf.gru_stack(units=4, layers=1)
    model.compile(optimizer="adam", loss=my_loss)
    model.fit(RNG.normal(size=(8, 5, 3)), RNG.normal(size=(8, 1)), verbose=0)
    archive = kf.saved(model, tmp_path)[0]
    assert "optimizer" in kf.entries(archive)["model.weights.h5"].decode("latin-1")
    assert_same_as_keras(load_keras(archive), model, XS[:6])


def test_reset_after_false_bias_goes_to_bias_ih():
    """Keras's single bias (reset_after=False) is b_ih with b_hh = 0: exact for cho2014, whose b_hn
    is added outside r ⊙ · like b_in (checked against Keras above for r, z and h̃ together)."""
    H, I = 4, 3
    kernel, recurrent, bias = RNG.normal(size=(I, 3 * H)), RNG.normal(size=(H, 3 * H)), RNG.normal(size=3 * H)
    params = _from_keras_layout(kernel, recurrent, bias, reset_after=False)
    z, r, h = np.split(np.arange(3 * H), 3)
    np.testing.assert_array_equal(params["bias_ih"], bias[np.concatenate([r, z, h])])
    np.testing.assert_array_equal(params["bias_hh"], 0)
    np.testing.assert_array_equal(params["weight_ih"][:H], kernel[:, r].T)   # torch's rows r, z, n
    np.testing.assert_array_equal(params["weight_hh"][H:2 * H], recurrent[:, z].T)


# -- code in a file never runs -----------------------------------------------------------------------------
def test_lambda_layer_refused_without_running(tmp_path):
    marker = tmp_path / "lambda_ran"
    model = kf.lambda_model(marker)
    path = tmp_path / "lambda.keras"
    model.save(path)
    marker.unlink()  # building the model called the lambda once
    with pytest.raises(ValueError, match=r"contains a Lambda layer \(in layer 'lambda'\), which stores Python "
                                         r"code.*was not opened any further"):
        load_keras(path.read_bytes())
    assert not marker.exists()
    # The file really does hold code that creates the marker: Keras, told to trust it, runs it.
    keras.saving.load_model(path, safe_mode=False)(XS[None])
    assert marker.exists()


def test_custom_layer_refused_without_running(tmp_path):
    marker = tmp_path / "spy_ran"
    archive = kf.saved(kf.spy_model(marker), tmp_path, "spy")[0]
    marker.unlink()
    with pytest.raises(ValueError, match=r"custom object, 'Spy' \(registered as 'evil>Spy'\) from the module "
                                         r"'tests.keras_files', in layer 'spy'. Custom classes and functions are "
                                         r"Python code"):
        load_keras(archive)
    assert not marker.exists()
    keras.saving.load_model(tmp_path / "spy.keras")  # Keras, with the class registered, constructs it
    assert marker.exists()


def test_reader_imports_neither_keras_nor_torch(tmp_path, base):
    """The parser the sandbox runs, run in a fresh interpreter: it needs h5py and NumPy only."""
    path = tmp_path / "base.keras"
    path.write_bytes(base)
    code = ("import sys; from gru_core.checkpoints.keras import read_keras_arrays as read; "
            f"arrays, meta = read(open({str(path)!r}, 'rb').read(), config_bytes=0, max_hidden=256, "
            "max_features=64, max_layers=8); "
            "print(meta['convention'], sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'torch')))")
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.stdout.split("\n")[0] == "pytorch []"


def test_damaged_files_are_read_or_refused(base):
    """Random bytes changed in the archive or the weights: every outcome is a model or a refusal
    with a message, never a crash of the reader or another exception here."""
    rng = random.Random(0)
    items = kf.entries(base)
    for i in range(40):
        data = bytearray(base if i % 2 else items["model.weights.h5"])
        for _ in range(rng.choice([1, 8, 64])):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            if i % 2:
                load_keras(bytes(data))
            else:
                load_keras(items["config.json"], weights=bytes(data))
        except sandbox.SandboxError as err:
            assert err.kind == "refused", (err.kind, str(err), err.detail[-500:])


# -- refusals found in the config (no weight is read) --------------------------------------------------------
def _gru(i: int):
    return lambda c: kf.gru_configs(c)[i]


def _set(getter, **values):
    return lambda c: getter(c).update(values)


def _insert(at: int, class_name: str, **config):
    layer = {"module": "keras.layers", "class_name": class_name, "registered_name": None,
             "config": {"name": class_name.lower(), **config}}
    return lambda c: kf.layers_of(c).insert(at, layer)


def _nine_layers(c):
    layers = kf.layers_of(c)
    gru = layers[1]
    layers[1:4] = [json.loads(json.dumps(gru)) for _ in range(9)]
    for k, layer in enumerate(layers[1:10]):
        layer["config"]["name"] = f"g{k}"


CONFIG_REFUSALS = {
    "go_backwards": (_set(_gru(0), go_backwards=True), r"'gru' has go_backwards=True: it reads each sequence from "
                                                        r"the last step.*go_backwards=False"),
    "stateful": (_set(_gru(1), stateful=True), r"'gru_1' is stateful.*Rebuild the model with stateful=False"),
    "activation_relu": (_set(_gru(0), activation="relu"), r"uses activation='relu' for its candidate state.*tanh"),
    "hard_sigmoid": (_set(_gru(1), recurrent_activation="hard_sigmoid"),
                     r"'gru_1' uses recurrent_activation=\"hard_sigmoid\", a piecewise-linear stand-in"),
    "recurrent_tanh": (_set(_gru(0), recurrent_activation="tanh"),
                       r"recurrent_activation='tanh' for its gates.*sigmoid"),
    "return_sequences": (_set(_gru(0), return_sequences=False),
                         r"'gru' \(GRU 1 of 2\) has return_sequences=False.*return_sequences=True on all GRU layers"),
    "units_differ": (_set(_gru(1), units=16), r"different sizes \('gru': 8, 'gru_1': 16 units\)"),
    "reset_after_mixed": (_set(_gru(1), reset_after=False), r"mix reset_after=True and reset_after=False"),
    "units_257": (lambda c: [g.update(units=257) for g in kf.gru_configs(c)],
                  r"'gru' has 257 units; the app runs GRUs with at most 256 hidden units"),
    "inputs_65": (lambda c: kf.layers_of(c)[0]["config"].update(batch_shape=[None, None, 65]),
                  r"reads 65 input features per step; the app runs at most 64"),
    "layers_9": (_nine_layers, r"has 9 GRU layers; the app runs GRUs of at most 8 layers"),
    "lstm": (lambda c: kf.layers_of(c)[1].update(class_name="LSTM"),
             r"layer 'gru' is an LSTM layer \(keras.layers.LSTM\); this app reads GRU layers"),
    "simple_rnn": (lambda c: kf.layers_of(c)[3].update(class_name="SimpleRNN"), r"is a SimpleRNN layer"),
    "conv_lstm": (lambda c: kf.layers_of(c)[1].update(class_name="ConvLSTM1D"), r"is a ConvLSTM1D layer"),
    "rnn_wrapper": (lambda c: kf.layers_of(c)[1].update(class_name="RNN"), r"keras.layers.RNN wrapper"),
    "masking": (_insert(1, "Masking", mask_value=0.0), r"'masking' is a Masking layer: Keras then skips masked steps"),
    "layer_between": (_insert(3, "LayerNormalization"),
                      r"'LayerNormalization' layer \('layernormalization'\) between GRU layers"),
    "dense_before": (_insert(1, "Dense", units=3), r"'Dense' layer \('dense'\) before the first GRU layer.*changes "
                                                   r"the inputs"),
    "after_readout": (_insert(5, "Dense", units=3), r"'Dense' layer \('dense'\) after the Dense readout"),
    "nested_model": (_insert(1, "Sequential", layers=[]), r"is itself a model \(Sequential\) nested in it"),
    "no_gru": (lambda c: kf.layers_of(c).__delitem__(slice(1, 4)), r"has no GRU layer \(its layers: InputLayer, "
                                                                   r"Dense\)"),
    "module_outside_keras": (_set(_gru(0), kernel_initializer={"module": "os", "class_name": "system",
                                                              "config": "touch x", "registered_name": None}),
                             r"custom object, 'system' from the module 'os', in layer 'gru'"),
    "registered_custom": (lambda c: kf.layers_of(c)[1].update(registered_name="evil>GRU"),
                          r"custom object, 'GRU' \(registered as 'evil>GRU'\)"),
    "custom_activation": (_set(_gru(0), activation={"module": "mypkg", "class_name": "function", "config": "act",
                                                    "registered_name": "act"}),
                          r"custom object, 'function' \(registered as 'act'\) from the module 'mypkg'"),
    "lambda_json": (_insert(2, "Lambda", function={"class_name": "__lambda__", "config": {"code": "4wEA"}}),
                    r"contains a Lambda layer \(in layer 'lambda'\)"),
    "subclassed_model": (lambda c: c.update(module="mypkg.models", class_name="MyModel", registered_name="MyModel"),
                         r"custom object, 'MyModel' from the module 'mypkg.models', in the model"),
}


@pytest.mark.parametrize("name", CONFIG_REFUSALS)
def test_config_refusals(base, name):
    edit, message = CONFIG_REFUSALS[name]
    with pytest.raises(ValueError, match=message):
        load_keras(kf.edit_config(base, edit))


def test_config_that_is_not_json_or_too_deep(base):
    items = kf.entries(base)
    with pytest.raises(ValueError, match=r"model config could not be read as JSON"):
        load_keras(kf.zip_of({**items, "config.json": b"{not json"}))
    with pytest.raises(ValueError, match=r"nested far deeper than any Keras config"):
        load_keras(kf.zip_of({**items, "config.json": b"[" * 200_000}))
    with pytest.raises(ValueError, match=r"more than 200,000 values"):
        load_keras(kf.edit_config(base, _set(_gru(0), seed=[0] * 250_000)))
    with pytest.raises(ValueError, match=r"config.json is 1\.5 MB"):
        load_keras(kf.zip_of({**items, "config.json": b" " * 1_500_000}))


@pytest.mark.parametrize("name, build, message", [
    ("lstm", lambda: keras.Sequential([keras.Input((None, 3)), keras.layers.LSTM(4)]),
     r"layer 'lstm' is an LSTM layer"),
    ("bidirectional", lambda: keras.Sequential([keras.Input((None, 3)), keras.layers.Bidirectional(
        keras.layers.GRU(4))]), r"is Bidirectional: it runs a second copy of its layer backwards"),
    ("masking", lambda: keras.Sequential([keras.Input((None, 3)), keras.layers.Masking(), keras.layers.GRU(4)]),
     r"is a Masking layer"),
    ("embedding_mask_zero", lambda: keras.Sequential([keras.Input((None,)), keras.layers.Embedding(10, 3,
                                                      mask_zero=True), keras.layers.GRU(4)]),
     r"is an Embedding layer with mask_zero=True, which masks: Keras then skips masked steps"),
    ("layer_norm_between", lambda: kf.gru_stack(between=keras.layers.LayerNormalization),
     r"'LayerNormalization' layer \('layer_normalization'\) between GRU layers"),
    ("skip_connection", lambda: _skip_model(), r"not a single chain of layers \(layer 'add' reads 2 tensors\)"),
])
def test_real_models_refused(tmp_path, name, build, message):
    with pytest.raises(ValueError, match=message):
        load_keras(kf.saved(build(), tmp_path, name)[0])


def _skip_model() -> keras.Model:
    inp = keras.Input((None, 3))
    a = keras.layers.GRU(3, return_sequences=True)(inp)
    return keras.Model(inp, keras.layers.Add()([a, inp]))


# -- refusals of the container: zip and size -------------------------------------------------------------
def _archive_refusals(base: bytes) -> dict[str, tuple[bytes, str]]:
    items = kf.entries(base)
    without = lambda name: {k: v for k, v in items.items() if k != name}  # noqa: E731
    corrupt = bytearray(base)
    at = base.index(b'"class_name"')
    corrupt[at:at + 4] = b"XXXX"  # inside the stored config.json: its CRC no longer matches
    return {
        "empty": (b"", r"The uploaded file is empty \(0 bytes\)"),
        "oversize": (b"PK\x03\x04" + bytes(MAX_KERAS_BYTES), r"over the 32 MB limit"),
        "not_a_zip": (b"hello, world", r"not a Keras archive \(.keras, a zip file\)"),
        "truncated": (base[: len(base) // 2], r"zip directory is damaged or cut short"),
        "no_config": (kf.zip_of(without("config.json")), r"no config.json .*so it is not a Keras 3 archive"),
        "no_weights": (kf.zip_of(without("model.weights.h5")), r"has no model.weights.h5"),
        "npz_weights": (kf.zip_of({**without("model.weights.h5"), "model.weights.npz": b"x"}),
                        r"weights_format=\"npz\""),
        "zip_bomb": (kf.zip_bomb(base), r"zip entries would unpack to 40\.\d MB, over the 32 MB limit"),
        "many_entries": (kf.zip_of({**items, **{f"assets/{i}": b"" for i in range(70)}}),
                         r"73 entries, over the limit of 64"),
        "duplicate_entries": (kf.zip_of([*items.items(), ("config.json", b"{}")]),
                              r"two entries named 'config.json'"),
        "corrupt_entry": (bytes(corrupt), r"an entry is damaged, cut short"),
        "weights_as_archive": (items["model.weights.h5"], r"This is an HDF5 file, not a .keras archive"),
    }


def test_archive_refusals(base):
    for name, (data, message) in _archive_refusals(base).items():
        with pytest.raises(ValueError, match=message):
            load_keras(data)
        assert name


# -- refusals of the HDF5 weights --------------------------------------------------------------------------
def _replace(path: str, **kwargs):
    def edit(f):
        del f[path]
        f.create_dataset(path, **kwargs)
    return edit


def _set_value(path: str, value: float):
    def edit(f):
        a = f[path][()]
        a.flat[0] = value
        f[path][...] = a
    return edit


def _link(path: str, link):
    def edit(f):
        del f[path]
        f[path] = link
    return edit


GRU0 = "layers/gru/cell/vars"
H5_REFUSALS = {
    "missing_layer": (lambda f: f.__delitem__("layers/gru_1"),
                      r"no weights for the GRU layer 'gru_1' \(no HDF5 group layers/gru_1\)"),
    "extra_array": (lambda f: f[GRU0].create_dataset("3", data=np.zeros(3)),
                    r"should be 3 arrays \(kernel, recurrent_kernel, bias\).*the file has 0, 1, 2, 3"),
    "soft_link": (_link(f"{GRU0}/0", __import__("h5py").SoftLink("/layers/gru_1/cell/vars/0")),
                  r"has a soft link at /layers/gru/cell/vars/0"),
    "external_link": (_link(f"{GRU0}/1", __import__("h5py").ExternalLink("/etc/passwd", "/x")),
                      r"has an external link \(to another file\) at /layers/gru/cell/vars/1"),
    "external_dataset": (_replace(f"{GRU0}/2", shape=(2, 24), dtype="f4", external=[("/etc/hostname", 0, 192)]),
                         r"bias of the GRU layer 'gru' is stored outside the weights file"),
    "integer_weights": (_replace(f"{GRU0}/1", data=np.zeros((8, 24), np.int32)),
                        r"recurrent_kernel of the GRU layer 'gru' holds integer values"),
    "compound_weights": (_replace(f"{GRU0}/1", data=np.zeros((8, 24), [("a", "f4"), ("b", "i4")])),
                         r"holds raw \(opaque or compound\) values"),
    "wrong_shape": (_replace("layers/gru_1/cell/vars/1", data=np.zeros((8, 30), np.float32)),
                    r"recurrent_kernel of the GRU layer 'gru_1' has shape \(8, 30\).*needs \(8, 24\)"),
    "giant_shape": (_replace(f"{GRU0}/0", shape=(3, 1 << 30), dtype="f4", chunks=(1, 1 << 16)),
                    r"kernel of the GRU layer 'gru' has shape \(3, 1073741824\)"),
    "chunk_bomb": (_replace(f"{GRU0}/0", data=np.zeros((3, 24), np.float32), maxshape=(None, None),
                            chunks=(2048, 2049), compression="gzip"), r"stored in chunks of 4,196,352 values"),
    "nan": (_set_value(f"{GRU0}/0", np.nan), r"kernel of the GRU layer 'gru' contains NaN or infinite values"),
    "inf_readout": (_set_value("layers/dense/vars/1", np.inf), r"bias of the Dense layer 'dense' contains NaN"),
    "group_for_dataset": (lambda f: (f.__delitem__(GRU0), f.create_dataset(GRU0, data=np.zeros(3))),
                          r"a dataset at '/layers/gru/cell/vars' where Keras writes a group"),
}


@pytest.mark.parametrize("name", H5_REFUSALS)
def test_weights_refusals(base, name):
    edit, message = H5_REFUSALS[name]
    with pytest.raises(ValueError, match=message):
        load_keras(kf.edit_weights(base, edit))


def test_weights_file_refusals(tmp_path, base):
    config, weights = kf.entries(base)["config.json"], kf.entries(base)["model.weights.h5"]
    cases = {
        "not_hdf5": (b"hello", r"not an HDF5 file"),
        "truncated": (weights[: len(weights) // 2], r"could not be read"),
        "sharded_index": (b'{"metadata": {}, "weight_map": {}}', r"sharded weights file"),
        "keras2": (kf.keras2_h5(weights), r"Keras 2 \(tf.keras\) HDF5 file"),
    }
    for data, message in cases.values():
        with pytest.raises(ValueError, match=message):
            load_keras(config, weights=data)
    one_layer = kf.saved(kf.gru_stack(units=8, layers=1), tmp_path, "one")[2]
    with pytest.raises(ValueError, match=r"weights for 1 layer\(s\) the config does not have \(gru_1\)"):
        load_keras(one_layer, weights=weights)
    with pytest.raises(ValueError, match=r"needs the model's config too"):
        load_upload(weights, "model.weights.h5")
    # With no input shape in the config, the kernel's rows are the only count of inputs: capped too.
    bare = json.loads(config)
    del bare["config"]["layers"][0], bare["build_config"]
    bare["config"]["layers"][0].pop("build_config")
    with pytest.raises(ValueError, match=r"reads 3 input features per step; the app runs at most 2"):
        load_keras(json.dumps(bare).encode(), weights=weights, max_features=2)
    assert load_keras(json.dumps(bare).encode(), weights=weights).gru.input_size == 3


def test_load_upload_dispatches(tmp_path, base):
    import torch

    module = torch.nn.GRU(3, 4)
    path = tmp_path / "gru.pt"
    torch.save(module.state_dict(), path)
    loaded = load_upload(path.read_bytes(), "gru.pt", convention="cho2014")
    assert loaded.format == "torch" and loaded.readout is None and loaded.gru.convention.name == "cho2014"
    assert load_upload(base, "MODEL.KERAS").format == "keras"
    with pytest.raises(ValueError, match=r"neither a Keras model .* nor a PyTorch state_dict"):
        load_upload(base, "model.zip")


# -- export: gru_core → Keras ------------------------------------------------------------------------------
@pytest.mark.parametrize("convention", ["pytorch", "cho2014", "chung2014"])
def test_export_weights_into_real_keras(tmp_path, convention):
    """to_keras_weights → layer.set_weights, and write_keras_weights → model.load_weights, in a real
    Keras model: the same h at every layer and step, and the same readout."""
    gru = GRU.random(3, 16, 2, seed=3, scale=0.9, convention=convention, dtype=np.float32)  # b_hh ≠ 0
    readout = Readout(RNG.normal(size=(2, 16)), RNG.normal(size=2), per_step=False)
    exported = to_keras_weights(gru)
    assert exported.reset_after == (convention == "pytorch")
    assert ("flipped" in exported.note) == (convention == "chung2014")
    model = kf.gru_stack(units=16, inputs=3, layers=2, outputs=2, reset_after=exported.reset_after, seed=9)
    for layer, arrays in zip(grus_of(model), exported.layers):
        layer.set_weights(list(arrays))
    hs, _ = kf.layer_outputs(model, XS)
    trace = gru.run(XS)
    for ours, theirs in zip(trace.layers, hs):
        np.testing.assert_allclose(ours.h, theirs, atol=TOL, rtol=0)

    fresh = kf.gru_stack(units=16, inputs=3, layers=2, outputs=2, reset_after=exported.reset_after, seed=11)
    path = tmp_path / "export.weights.h5"
    path.write_bytes(write_keras_weights(gru, fresh.to_json(), readout))
    fresh.load_weights(path)
    hs, prediction = kf.layer_outputs(fresh, XS)
    for ours, theirs in zip(trace.layers, hs):
        np.testing.assert_allclose(ours.h, theirs, atol=TOL, rtol=0)
    np.testing.assert_allclose(readout.logits(trace.h[-1]), prediction, atol=TOL, rtol=0)


def test_export_archive_opens_in_keras_and_reads_back(tmp_path):
    gru = GRU.random(2, 6, 3, seed=4, convention="pytorch", dtype=np.float32)
    readout = Readout(RNG.normal(size=(1, 6)), RNG.normal(size=1), per_step=True)
    path = tmp_path / "export.keras"
    path.write_bytes(write_keras_archive(gru, readout))
    model = keras.saving.load_model(path)
    xs = XS[:, :2]
    prediction = keras.ops.convert_to_numpy(model(xs[None]))[0]
    np.testing.assert_allclose(readout.logits(gru.run(xs).h), prediction, atol=TOL, rtol=0)
    back = load_keras(path.read_bytes())
    for a, b in zip(back.gru.layers, gru.layers):
        for name, value in a.params().items():
            np.testing.assert_array_equal(value, b.params()[name])
    np.testing.assert_array_equal(back.readout.weight, readout.weight.astype(np.float32))
    assert back.readout.per_step and back.note == ""


def test_export_refusals():
    chung = GRU.random(3, 4, convention="chung2014")
    with pytest.raises(ValueError, match=r"chung2014 convention, where z ≈ 1 takes the candidate"):
        to_keras_weights(chung, flip_update_gate=False)
    pytorch = GRU.random(3, 4, 2, convention="pytorch")
    config = keras_config(GRU.random(3, 4, 1, convention="cho2014"))
    with pytest.raises(ValueError, match=r"config has 1 GRU layers, the GRU 2.*reset_after=False, but the pytorch "
                                         r"convention is reset_after=True"):
        write_keras_weights(pytorch, config)
    with pytest.raises(ValueError, match=r"a readout was given but the config has no Dense layer"):
        write_keras_weights(pytorch, keras_config(pytorch), Readout(np.ones((1, 4)), np.zeros(1)))
