"""Bad input, fuzzed, for files: corrupted saved models, mutated diagram JSON
and bad save targets must fail with a ``cl.CatlearnError`` naming the file and
a fix, never load part of a file, and leave files as they were
(tests/test_fuzz.py has the rest of the suite and its conventions)."""

from __future__ import annotations

import io
import json
import os
import sys
import zipfile
from typing import Any

import jax
import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import catlearn as cl
from catlearn.io import FormatError, SaveError
from catlearn.learn import _checkpoint

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _fuzzing import entries, fails_well, fuzz, npy, rezip, same, snapshot  # noqa: E402

N_LOAD, N_JSON, N_SAVE, N_CRAFT = 60, 60, 25, 60
SMOOTH_NET = cl.nn.mlp([3, 4, 2], name="mlp")
TWO_IN = cl.Box("add", cl.real(2) @ cl.real(2), cl.real(2))
LOGIC_NET = cl.logic.network(4, [8], 2, seed=0)
MLP_PARAMS = cl.Smooth()(SMOOTH_NET).init(jax.random.key(0))


# -- saved files ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved(tmp_path_factory: Any) -> tuple[str, bytes]:
    path = str(tmp_path_factory.mktemp("fuzz") / "model.catlearn")
    cl.save(path, SMOOTH_NET, MLP_PARAMS, metadata={"note": "fuzz"})
    with open(path, "rb") as f:
        return path, f.read()


def _rezip(blob: bytes, drop: str | None, swap: tuple[str, bytes] | None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            if item.filename == drop:
                continue
            data = zin.read(item.filename)
            if swap and item.filename == swap[0]:
                data = swap[1]
            zout.writestr(item.filename, data)
    return out.getvalue()


@st.composite
def corruptions(draw: Any, blob: bytes) -> bytes:
    how = draw(st.sampled_from(["flip", "flip", "truncate", "drop", "swap", "junk"]))
    if how == "flip":
        b = bytearray(blob)
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, len(b) - 1))
            b[i] ^= draw(st.integers(1, 255))
        return bytes(b)
    if how == "truncate":
        return blob[: draw(st.integers(0, len(blob) - 1))]
    names = zipfile.ZipFile(io.BytesIO(blob)).namelist()
    if how == "drop":
        return _rezip(blob, draw(st.sampled_from(names)), None)
    if how == "swap":
        entry = draw(st.sampled_from(names))
        payload = draw(
            st.sampled_from(
                [
                    b"",
                    b"{}",
                    b"[1, 2]",
                    b'{"format": "catlearn", "version": 1}',
                    b'{"format": "catlearn", "version": 99}',
                    b"\x93NUMPY garbage",
                    b'{"format": "catlearn", "version": 1, "params": {"x": 3}}',
                ]
            )
        )
        return _rezip(blob, None, (entry, payload))
    return draw(st.binary(min_size=0, max_size=64))


@fuzz(N_LOAD)
@given(data=st.data())
def test_load_corrupted_files(saved, tmp_path_factory, data):
    """``cl.load`` of flipped bytes, truncations, zips with missing or wrong
    entries, junk: FormatError (never part of a file), and the file unchanged."""
    path, blob = saved
    bad = data.draw(corruptions(blob))
    target = str(tmp_path_factory.getbasetemp() / "corrupt.catlearn")
    with open(target, "wb") as f:
        f.write(bad)
    try:
        got = cl.load(target)
    except cl.CatlearnError as e:
        assert isinstance(e, FormatError), type(e)
        fails_well(e, repr(target))
    else:  # a harmless flip (e.g. in a zip field nobody reads): the same model
        event("ok")
        assert got.diagram == SMOOTH_NET
        assert same({k: np.asarray(v) for k, v in MLP_PARAMS.items()}, got.params)
    with open(target, "rb") as f:
        assert f.read() == bad, "load modified the file"


def _mutate(obj: Any, draw: Any, depth: int = 0) -> Any:
    """One random change somewhere in a JSON value."""
    junk_values = st.sampled_from(
        [None, 0, -1, 1.5, "x", [], {}, True, [[]], {"box": "nope"}, 10**12]
    )
    if isinstance(obj, dict) and obj and depth < 6 and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(obj)))
        if draw(st.integers(0, 4)) == 0:
            return {k: v for k, v in obj.items() if k != key}
        return {**obj, key: _mutate(obj[key], draw, depth + 1)}
    if isinstance(obj, list) and obj and depth < 6 and draw(st.booleans()):
        i = draw(st.integers(0, len(obj) - 1))
        if draw(st.integers(0, 4)) == 0:
            return obj[:i] + obj[i + 1 :]
        return obj[:i] + [_mutate(obj[i], draw, depth + 1)] + obj[i + 1 :]
    return draw(junk_values)


JSON_DIAGRAMS = [
    SMOOTH_NET,
    LOGIC_NET,
    TWO_IN,
    cl.Copy(cl.real(2)) >> cl.Swap(cl.real(2), cl.real(2)),
]


@fuzz(N_JSON)
@given(st.sampled_from(range(len(JSON_DIAGRAMS))), st.data())
def test_from_json_mutated(i, data):
    """``cl.from_json`` of mutated JSON (values replaced, keys and items
    dropped, text cut): FormatError, or a diagram that round-trips."""
    text = cl.to_json(JSON_DIAGRAMS[i])
    if data.draw(st.booleans()):
        bad = json.dumps(_mutate(json.loads(text), data.draw))
    else:
        cut = data.draw(st.integers(0, len(text)))
        bad = text[:cut] + data.draw(st.sampled_from(["", "}", "]", '"', "x"]))
    try:
        d = cl.from_json(bad)
    except cl.CatlearnError as e:
        assert isinstance(e, FormatError), type(e)
        fails_well(e, "diagram JSON")
    else:
        event("ok")
        assert cl.from_json(cl.to_json(d)) == d


@fuzz(N_SAVE)
@given(
    where=st.sampled_from(["ok", "missing-dir", "is-dir"]),
    how=st.sampled_from(
        ["none", "missing", "extra", "shape", "dtype", "not-a-dict", "metadata"]
    ),
)
def test_save_bad_targets(tmp_path_factory, where, how):
    """``cl.save`` into a missing directory or onto a directory, with params
    that do not fit the diagram, or metadata JSON cannot hold: a CatlearnError,
    no file written, the params unchanged."""
    base = tmp_path_factory.mktemp("save")
    path = {
        "ok": base / "m.catlearn",
        "missing-dir": base / "nope" / "m.catlearn",
        "is-dir": base,
    }[where]
    params: Any = {k: np.asarray(v) for k, v in MLP_PARAMS.items()}
    metadata: Any = {"a": 1}
    key = "mlp.0.w"
    if how == "missing":
        del params[key]
    elif how == "extra":
        params["zzz"] = np.ones(2)
    elif how == "shape":
        params[key] = params[key][:1]
    elif how == "dtype":
        params[key] = params[key].astype(str)
    elif how == "not-a-dict":
        params = list(params.values())
    elif how == "metadata":
        metadata = {"x": object(), "y": float("nan")}
    before = snapshot(params)
    listing = sorted(os.listdir(base))
    try:
        cl.save(path, SMOOTH_NET, params, metadata=metadata)
    except cl.CatlearnError as e:
        assert where != "ok" or how != "none"
        expected = (
            SaveError if how == "none" else (cl.ParamError, FormatError, SaveError)
        )
        assert isinstance(e, expected), type(e)
        fails_well(e)
        assert sorted(os.listdir(base)) == listing, "a failed save left a file"
    else:
        assert where == "ok" and how == "none"
        assert same(cl.load(path).params, before)
    assert same(params, before)


# -- crafted files: mutated headers, entries, sizes and compression ------------------
@st.composite
def crafted(draw: Any, blob: bytes) -> bytes:
    """A zip made from ``blob`` by one deliberate change of the kind an attacker
    makes: a JSON entry mutated, a .npy header that lies about its shape or
    dtype, entries DEFLATEd, dropped, added or renamed, or a size field in the
    central directory changed."""
    files = entries(blob)
    names = sorted(files)
    how = draw(
        st.sampled_from(["json", "shape", "dtype", "deflate", "drop", "add", "size"])
    )
    if how == "json":
        name = draw(st.sampled_from([n for n in names if n.endswith(".json")]))
        value = _mutate(json.loads(files[name]), draw)
        return rezip(blob, {name: json.dumps(value).encode()})
    arrays = [n for n in names if n.endswith(".npy")]
    if how in ("shape", "dtype"):
        name = draw(st.sampled_from(arrays))
        old = np.load(io.BytesIO(files[name]), allow_pickle=False)
        if how == "shape":
            shape = tuple(draw(st.lists(st.integers(0, 10**9), max_size=3)))
            head = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                head, {"descr": old.dtype.str, "fortran_order": False, "shape": shape}
            )
            data = head.getvalue() + old.tobytes()[: draw(st.integers(0, 64))]
        else:
            kinds = ["<c8", ">f4", "<U1", "|V4", "<M8[s]", "<i8", "|b1", "<f2", ">i2"]
            data = npy(np.zeros(old.shape, draw(st.sampled_from(kinds))))
        return rezip(blob, {name: data})
    if how == "deflate":
        return rezip(blob, deflate=tuple(draw(st.lists(st.sampled_from(names)))))
    if how == "drop":
        return rezip(blob, drop=(draw(st.sampled_from(names)),))
    if how == "add":
        name = draw(st.sampled_from([*names, "params/99.npy", "opt/99.npy", "x"]))
        return rezip(blob, {name: draw(st.sampled_from([b"", b"{}", npy(0)]))})
    b = bytearray(blob)
    starts = [i for i in range(len(b) - 4) if b[i : i + 4] == b"PK\x01\x02"]
    at = draw(st.sampled_from(starts)) + draw(st.sampled_from([20, 24]))
    b[at : at + 4] = draw(st.integers(0, 2**32 - 1)).to_bytes(4, "little")
    return bytes(b)


@fuzz(N_CRAFT)
@given(data=st.data())
def test_load_crafted_models(saved, tmp_path_factory, data):
    """``cl.load`` of a crafted model file: a CatlearnError naming the file
    and a fix, or (a change nobody reads, e.g. in the metadata) a model; the
    file unchanged either way."""
    _, blob = saved
    bad = data.draw(crafted(blob))
    target = str(tmp_path_factory.getbasetemp() / "crafted.catlearn")
    with open(target, "wb") as f:
        f.write(bad)
    try:
        got = cl.load(target)
    except cl.CatlearnError as e:
        fails_well(e, repr(target))
    else:
        event("ok")
        assert got.diagram == SMOOTH_NET and set(got.params) == set(MLP_PARAMS)
    with open(target, "rb") as f:
        assert f.read() == bad, "load modified the file"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: Any) -> tuple[bytes, dict[str, Any], Any, Any]:
    """A checkpoint of a tiny run, its fingerprint and fresh params/state."""
    path = str(tmp_path_factory.mktemp("ckpt") / "run.ckpt")
    x = (np.arange(48, dtype=np.float32) % 5).reshape(16, 3) / 5
    y = (np.arange(16) % 2).astype(np.int32)
    optimiser = cl.optim.adam(0.01)
    cl.fit(SMOOTH_NET, (x, y), epochs=1, batch_size=8, progress=False,
           optimiser=optimiser, checkpoint=path)  # fmt: skip
    with open(path, "rb") as f:
        blob = f.read()
    fp = json.loads(entries(blob)["checkpoint.json"])["fingerprint"]
    return blob, fp, MLP_PARAMS, optimiser.init(MLP_PARAMS)


@fuzz(N_CRAFT)
@given(data=st.data())
def test_resume_crafted_checkpoints(checkpoint, tmp_path_factory, data):
    """Reading a crafted checkpoint for its own run: a CatlearnError naming
    the file and a fix, or a state; the file unchanged either way."""
    blob, fp, params, opt_state = checkpoint
    bad = data.draw(crafted(blob))
    target = str(tmp_path_factory.getbasetemp() / "crafted.ckpt")
    with open(target, "wb") as f:
        f.write(bad)
    try:
        state = _checkpoint.read(target, params, opt_state, fp)
    except cl.CatlearnError as e:
        fails_well(e, repr(target))
    else:
        event("ok")
        assert set(state.params) == set(params) and state.epoch == 1
    with open(target, "rb") as f:
        assert f.read() == bad, "reading modified the checkpoint"
