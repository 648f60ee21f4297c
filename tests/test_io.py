"""Saving and loading: JSON round-trips of diagrams, and the safe model file
(atomic, versioned, and loud about truncated, corrupted or mismatched files)."""

from __future__ import annotations

import json
import os
import zipfile

import jax
import numpy as np
import pytest

import catlearn as cl
from catlearn import io as clio
from catlearn.io import FormatError, MissingFileError, VersionError

X, B = cl.real(2), cl.bits(3)

DIAGRAMS = {
    "mlp": lambda: cl.nn.mlp([4, 16, 3]),
    "network": lambda: cl.logic.network(17, [64, 64], 2, seed=0),
    "lut3": lambda: cl.logic.lut("t", n_inputs=3),
    "structural": lambda: cl.Copy(X) @ B >> X @ cl.Swap(X, B) >> cl.Discard(X) @ B @ X,
    "composite-copy": lambda: cl.Copy(X @ B, 3) >> cl.Discard(X @ B) @ X @ B @ X @ B,
    "identity": lambda: cl.Id(X @ B),
    "labels-and-data": lambda: (
        cl.Box("f", cl.real(2, name="x"), cl.bits(1), data=(1, (2.5, "a"), None))
        @ cl.Param("w", cl.real(3), init="zeros", relax=None)
    ),
}


@pytest.mark.parametrize("name", DIAGRAMS)
def test_json_round_trip(name):
    d = DIAGRAMS[name]()
    text = clio.to_json(d)
    back = clio.from_json(text)
    assert back == d
    assert clio.to_json(back) == text
    assert json.loads(text)["format"] == "catlearn.diagram"


def test_json_keeps_wire_labels():
    d = cl.Box("f", cl.real(2, name="x"), cl.real(1))
    assert repr(clio.from_json(clio.to_json(d)).dom) == repr(d.dom)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"format": "catlearn.diagram", "version": 1}',
        '{"format": "catlearn.diagram", "version": 1, "dom": [], "cod": [],'
        ' "layers": [[[], {"box": "nope"}, []]]}',
    ],
)
def test_bad_json_is_a_format_error(text):
    with pytest.raises(FormatError, match="diagram JSON"):
        clio.from_json(text)


def test_json_layers_must_compose():
    d = json.loads(clio.to_json(cl.nn.mlp([2, 3])))
    d["layers"][1][1]["dom"][0]["shape"] = [7]  # matmul now wants real(7)
    with pytest.raises(FormatError, match="layer"):
        clio.from_dict(d)


def test_json_version_error():
    d = json.loads(clio.to_json(cl.Id(X)))
    d["version"] = 99
    with pytest.raises(VersionError, match="99"):
        clio.from_dict(d)


# -- model files -----------------------------------------------------------


def _smooth(name="mlp"):
    d = DIAGRAMS[name]()
    return d, cl.Smooth()(d).init(jax.random.key(0))


def test_save_load_smooth_round_trip(tmp_path):
    d, params = _smooth()
    path = tmp_path / "model.npz"
    clio.save(path, d, params, metadata={"epochs": 3, "note": "hi"})
    s = clio.load(path)
    assert s.diagram == d and s.version == 1
    assert s.metadata == {"epochs": 3, "note": "hi"}
    assert list(s.params) == list(params)
    for k, v in params.items():
        assert s.params[k].dtype == v.dtype
        np.testing.assert_array_equal(s.params[k], np.asarray(v))
    x = np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4)
    prog = cl.Smooth()(s.diagram)
    np.testing.assert_array_equal(prog(s.params, x), cl.Smooth()(d)(params, x))


@pytest.mark.parametrize("name", ["network", "lut3"])
def test_save_load_boolean_and_smooth_params(tmp_path, name):
    d = DIAGRAMS[name]()
    n_in = len(d.dom) if name == "lut3" else 1
    for semantics in (cl.Boolean(), cl.Smooth()):
        prog = semantics(d)
        params = prog.init(jax.random.key(1))
        clio.save(tmp_path / "m.npz", d, params)
        s = clio.load(tmp_path / "m.npz")
        for k, v in params.items():
            assert s.params[k].dtype == v.dtype
            np.testing.assert_array_equal(s.params[k], np.asarray(v))
        rng = np.random.default_rng(0)
        width = 17 if name == "network" else 1
        xs = [rng.random((8, width)) < 0.5 for _ in range(n_in)]
        if isinstance(semantics, cl.Smooth):
            xs = [x.astype(np.float32) for x in xs]
        np.testing.assert_array_equal(
            semantics(s.diagram)(s.params, *xs), prog(params, *xs)
        )


def test_save_does_not_modify_params(tmp_path):
    d, params = _smooth()
    params = {k: np.array(v) for k, v in params.items()}
    before = {k: v.copy() for k, v in params.items()}
    clio.save(tmp_path / "m.npz", d, params)
    assert list(params) == list(before)
    for k in before:
        np.testing.assert_array_equal(params[k], before[k])


def test_file_is_a_plain_npz_without_pickle(tmp_path):
    d, params = _smooth()
    clio.save(tmp_path / "m.npz", d, params)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as z:
        header = json.loads(z["catlearn.json"])
        assert header["format"] == "catlearn" and header["version"] == 1
        assert header["params"]["mlp.0.w"]["shape"] == [4, 16]
        assert z[header["params"]["mlp.0.w"]["file"][:-4]].shape == (4, 16)


def test_missing_file(tmp_path):
    with pytest.raises(MissingFileError, match="nowhere.npz"):
        clio.load(tmp_path / "nowhere.npz")


def _saved(tmp_path):
    d, params = _smooth()
    path = tmp_path / "m.npz"
    clio.save(path, d, params)
    return path


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_truncated_file(tmp_path, keep):
    path = _saved(tmp_path)
    blob = path.read_bytes()
    path.write_bytes(blob[: int(len(blob) * keep)])
    with pytest.raises(FormatError, match="m.npz.*truncated or corrupted"):
        clio.load(path)


@pytest.mark.parametrize("where", [0.02, 0.3, 0.5, 0.7])
def test_corrupted_file(tmp_path, where):
    path = _saved(tmp_path)
    blob = bytearray(path.read_bytes())
    i = int(len(blob) * where)
    blob[i : i + 4] = bytes(b ^ 0xFF for b in blob[i : i + 4])
    path.write_bytes(bytes(blob))
    with pytest.raises(FormatError, match="m.npz"):
        clio.load(path)


def test_not_a_zip(tmp_path):
    path = tmp_path / "m.npz"
    path.write_text("hello")
    with pytest.raises(FormatError, match="not a catlearn save file"):
        clio.load(path)


def test_zip_without_header(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, w=np.zeros(3))
    with pytest.raises(FormatError, match="no 'catlearn.json' header"):
        clio.load(path)


def _rewrite(path, edit_header=None, replace=None):
    """Rewrite a saved file with its header edited and entries replaced."""
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    header = json.loads(entries["catlearn.json"])
    if edit_header:
        edit_header(header)
    entries["catlearn.json"] = json.dumps(header).encode()
    entries.update(replace or {})
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in entries.items():
            zf.writestr(n, data)


@pytest.mark.parametrize("version", [2, 99, "1", None])
def test_unknown_version(tmp_path, version):
    path = _saved(tmp_path)
    _rewrite(path, lambda h: h.update(version=version))
    with pytest.raises(VersionError) as e:
        clio.load(path)
    msg = str(e.value)
    assert repr(version) in msg and "[1]" in msg and "upgrade catlearn" in msg


def test_older_version_names_the_writer_and_the_fix(tmp_path):
    path = _saved(tmp_path)
    _rewrite(path, lambda h: h.update(version=0, catlearn="0.0.9"))
    with pytest.raises(VersionError) as e:
        clio.load(path)
    msg = str(e.value)
    assert "format version 0" in msg and "catlearn 0.0.9" in msg
    assert "pip install 'catlearn==0.0.9'" in msg and "save it again" in msg


def test_saves_record_the_writer():
    assert clio._version() == cl.__version__


def test_an_older_version_loads_through_its_upgrade(tmp_path, monkeypatch):
    """When the format moves on (to version 2, say), version-1 files still
    load: ``_UPGRADES[1]`` converts their header first. Simulated here."""
    path = _saved(tmp_path)
    saved = clio.load(path)
    seen = []

    def v1_to_v2(header):
        seen.append(header["version"])
        return {**header, "version": 2}

    monkeypatch.setattr(clio, "VERSION", 2)
    monkeypatch.setattr(clio, "READABLE", (1, 2))
    monkeypatch.setattr(clio, "_UPGRADES", {1: v1_to_v2})
    loaded = clio.load(path)
    assert seen == [1] and loaded.version == 1
    assert loaded.diagram == saved.diagram and loaded.metadata == saved.metadata
    assert all((loaded.params[k] == v).all() for k, v in saved.params.items())


@pytest.mark.parametrize("params", [[], {"mlp.0.w": 3}, {"mlp.0.w": {}}])
def test_malformed_header(tmp_path, params):
    path = _saved(tmp_path)
    _rewrite(path, lambda h: h.update(params=params))
    with pytest.raises(FormatError, match="m.npz"):
        clio.load(path)


def test_mismatched_params_in_file(tmp_path):
    path = _saved(tmp_path)
    other = clio.to_json(cl.nn.mlp([4, 8, 3]))  # same names, other shapes
    _rewrite(path, replace={"diagram.json": other.encode()})
    with pytest.raises(FormatError, match="do not match.*mlp.0.w"):
        clio.load(path)


def test_header_disagrees_with_array(tmp_path):
    path = _saved(tmp_path)

    def edit(h):
        h["params"]["mlp.0.w"]["dtype"] = "<f8"

    _rewrite(path, edit)
    with pytest.raises(FormatError, match="header says"):
        clio.load(path)


def test_save_rejects_mismatched_params(tmp_path):
    d, params = _smooth()
    bad = dict(params, **{"mlp.0.w": np.zeros((3, 3), np.float32)})
    with pytest.raises(cl.ParamError, match=r"'mlp.0.w' has shape \(3, 3\)"):
        clio.save(tmp_path / "m.npz", d, bad)
    missing = {k: v for k, v in params.items() if k != "mlp.1.b"}
    with pytest.raises(cl.ParamError, match="missing \\['mlp.1.b'\\]"):
        clio.save(tmp_path / "m.npz", d, missing)
    assert not os.listdir(tmp_path)


def test_save_rejects_bad_metadata_and_dtype(tmp_path):
    d, params = _smooth()
    with pytest.raises(FormatError, match="metadata"):
        clio.save(tmp_path / "m.npz", d, params, metadata={"f": object()})
    bad = dict(params, **{"mlp.0.w": np.zeros((4, 16), complex)})
    with pytest.raises(FormatError, match="dtype complex"):
        clio.save(tmp_path / "m.npz", d, bad)


def test_atomic_write(tmp_path, monkeypatch):
    path = _saved(tmp_path)
    before = path.read_bytes()
    d, params = _smooth("network")
    calls = []

    def broken(zf, entry, array):
        calls.append(entry)
        with zf.open(entry, "w") as f:
            f.write(b"half an array")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(clio, "_write_array", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        clio.save(path, d, params)
    assert calls
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]
    assert clio.load(path).diagram == DIAGRAMS["mlp"]()


# -- the format does not move: diagram JSON byte for byte ----------------------

# sha256 of to_json(d) (and of a saved file's diagram.json), as written before
# the codec became a table in catlearn/diagrams/_codec.py. A change here is a
# change of the file format: bump VERSION and add an upgrade instead.
GOLDEN = {
    "mlp": "977d5b279da21d6e270a82c1d725b33e33a2b5ef3ebc6b838c9ecbf1821b50b0",
    "network": "322e4810c81469de726a8a5872af53f82e93eb37df50005823cf553e0c3a959e",
    "lut3": "87bea7277c2adc04e30bf9bd8ec34d8fbeaadfccd0a617c98ecc0c0b1956a6d3",
    "structural": "477144c5ca7b202540f9e8a6113836768dd25351e79031253cc438bd114c3b86",
    "composite-copy": (
        "3dca24159e202ed34ef257cd9338fa9179cdf44fe748307dc38bc40d5f4d93d5"
    ),
    "identity": "0916d4cb196ce58d0a4f5e8690ce26ff518bbd00fcecabca633a4a0eeb43d795",
    "labels-and-data": (
        "6143dadfca8703698f87f8a5a2b2cca2aae26cb02fad74e9c0f29e7215a20cba"
    ),
}
STRUCTURAL_JSON = (
    '{"format": "catlearn.diagram", "version": 1, "dom": [{"kind": "real", '
    '"shape": [2]}, {"kind": "bits", "shape": [3]}], "cod": [{"kind": "bits", '
    '"shape": [3]}, {"kind": "real", "shape": [2]}], "layers": [[[], {"box": '
    '"copy", "dom": [{"kind": "real", "shape": [2]}], "n": 2}, [{"kind": "bits", '
    '"shape": [3]}]], [[{"kind": "real", "shape": [2]}], {"box": "swap", "left": '
    '[{"kind": "real", "shape": [2]}], "right": [{"kind": "bits", "shape": [3]}]}, '
    '[]], [[], {"box": "discard", "dom": [{"kind": "real", "shape": [2]}]}, '
    '[{"kind": "bits", "shape": [3]}, {"kind": "real", "shape": [2]}]]]}'
)


@pytest.mark.parametrize("name", GOLDEN)
def test_diagram_json_is_unchanged(name):
    import hashlib

    text = clio.to_json(DIAGRAMS[name]())
    assert hashlib.sha256(text.encode()).hexdigest() == GOLDEN[name]
    if name == "structural":
        assert text == STRUCTURAL_JSON
        assert clio.from_json(STRUCTURAL_JSON) == DIAGRAMS[name]()


@pytest.mark.parametrize("name", ["mlp", "structural", "labels-and-data"])
def test_saved_diagram_json_is_unchanged(tmp_path, name):
    import hashlib

    d = DIAGRAMS[name]()
    params = {n: np.zeros(ty.inside[0].shape, np.float32) for n, ty in d.params.items()}
    clio.save(tmp_path / "m.npz", d, params)
    with zipfile.ZipFile(tmp_path / "m.npz") as zf:
        saved = zf.read("diagram.json")
    assert hashlib.sha256(saved).hexdigest() == GOLDEN[name]


@pytest.mark.parametrize("name", ["mlp", "structural"])
def test_the_diagrams_codec_writes_the_whole_document(name):
    """``cl.diagrams.encode_diagram`` is ``to_dict``: code below catlearn.io
    (checkpoints) can write or hash the same JSON without importing io."""
    d = DIAGRAMS[name]()
    obj = cl.diagrams.encode_diagram(d)
    assert obj["format"] == clio.DIAGRAM_FORMAT and obj["version"] == clio.VERSION
    assert json.dumps(obj, allow_nan=False) == clio.to_json(d)
    assert cl.diagrams.decode_diagram(obj) == d


def test_every_box_kind_has_one_row_both_ways():
    from catlearn.diagrams import _codec

    x = cl.real(2)
    examples = {
        "box": cl.Box("f", x, cl.bits(1), data=cl.diagrams.spec(k=1)),
        "param": cl.Param("w", cl.bits(4), relax="softmax"),
        "swap": cl.Swap(x, cl.bits(1)),
        "copy": next(cl.diagrams.boxes(cl.Copy(x, 3))),
        "discard": next(cl.diagrams.boxes(cl.Discard(x))),
    }
    assert set(examples) == set(_codec.BOX_CODECS)
    for tag, box in examples.items():
        obj = _codec.encode_box(box, "here")
        assert obj["box"] == tag and type(box) is _codec.BOX_CODECS[tag].kind
        back = _codec.decode_box(json.loads(json.dumps(obj)))
        assert type(back) is type(box) and back == box


def test_save_checks_shapes_without_compiling(tmp_path, monkeypatch):
    """Save and load read each parameter's shapes off the functors'
    ``param_shape`` hook (wire shape, Smooth's 16 logits per relaxed gate)."""
    d = cl.logic.network(8, [16], 2, seed=1, relax="softmax")
    smooth = cl.Smooth()(d).init(jax.random.key(0))
    boolean = cl.Boolean()(d).init(jax.random.key(0))

    def no_compiling(self, diagram):
        raise AssertionError("save compiled the diagram")

    monkeypatch.setattr(cl.functors.Functor, "__call__", no_compiling)
    for params in (smooth, boolean):
        clio.save(tmp_path / "m.npz", d, params)
        assert clio.load(tmp_path / "m.npz").params.keys() == params.keys()
    bad = {k: np.zeros(3, v.dtype) for k, v in smooth.items()}
    with pytest.raises(cl.ParamError, match="expects one of"):
        clio.save(tmp_path / "m.npz", d, bad)


def test_version_lives_in_its_own_module():
    import ast
    import importlib.metadata
    import pathlib
    import tomllib

    from catlearn import _version

    assert cl.__version__ == _version.__version__ == clio._version()
    try:  # the installed distribution's metadata, built from the module
        assert importlib.metadata.version("catlearn") == cl.__version__
    except importlib.metadata.PackageNotFoundError:
        pass
    root = pathlib.Path(cl.__file__).parent
    tree = ast.parse((root / "_version.py").read_text())
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    pyproject = root.parent / "pyproject.toml"
    if pyproject.exists():  # a source checkout: the build reads the module
        config = tomllib.loads(pyproject.read_text())
        assert "version" in config["project"]["dynamic"]
        assert "version" not in config["project"]
        attr = config["tool"]["setuptools"]["dynamic"]["version"]["attr"]
        assert attr == "catlearn._version.__version__"
