"""Attacks by file (issue 12): crafted model files and checkpoints, each built
here. Every one ends in a ``cl.CatlearnError`` naming a fix, with bounded
memory (a bomb's peak RSS growth is measured in a fresh process) and nothing
changed on disk: the file read is as it was, the caller's params untouched."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zipfile

import jax
import numpy as np
import pytest

import catlearn as cl
from catlearn import _zipfile
from catlearn.io import FormatError, MissingFileError, SaveError
from catlearn.learn import _checkpoint

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _fuzzing import entries, fails_well, npy, rezip, same, snapshot  # noqa: E402

NET = cl.nn.mlp([2, 4, 2], name="m")
PARAMS = cl.Smooth()(NET).init(jax.random.key(0))
W = "m.0.w"  # a parameter of NET: float32, shape (2, 4)
BOMB = 400 * 2**20  # bytes a bomb inflates to
RSS_LIMIT = 50 * 2**20


def _model(tmp_path) -> tuple[str, bytes]:
    path = str(tmp_path / "m.catlearn")
    cl.save(path, NET, PARAMS, metadata={"note": "x"})
    with open(path, "rb") as f:
        return path, f.read()


def _read(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _write(path, blob: bytes) -> str:
    with open(path, "wb") as f:
        f.write(blob)
    return str(path)


def _deflated(blob: bytes, name: str, prefix: bytes, size: int, suffix=b"") -> bytes:
    """``blob`` with entry ``name`` replaced by ``prefix``, ``size`` bytes of
    zeros (or spaces, for JSON) and ``suffix``, DEFLATEd as it is written (never
    whole in memory here)."""
    pad = b" " if name.endswith(".json") else b"\0"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.namelist():
            if item != name:
                zout.writestr(item, zin.read(item))
                continue
            info = zipfile.ZipInfo(item)
            info.compress_type = zipfile.ZIP_DEFLATED
            with zout.open(info, "w", force_zip64=True) as f:
                f.write(prefix)
                chunk = pad * 2**20
                for _ in range(size // len(chunk)):
                    f.write(chunk)
                f.write(suffix)
    return out.getvalue()


def _npy_prefix(dtype: str, shape: tuple[int, ...]) -> bytes:
    f = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(f, header)
    return f.getvalue()


# The code run in a fresh process to measure a bomb: warm up with the intact
# file, reset the peak RSS (Linux: /proc/self/clear_refs; elsewhere the peak
# so far stands), try the bomb, print the growth of the peak and the error.
PROBE = """
import json, resource, sys
import catlearn as cl
def peak():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
{setup}
attack(good)
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    pass
before = peak()
try:
    attack(bad)
    error = None
except Exception as e:
    error = [type(e).__name__, isinstance(e, cl.CatlearnError), str(e)]
print(json.dumps({{"growth": peak() - before, "error": error}}))
"""


def _probe(setup: str, good: str, bad: str) -> dict:
    code = PROBE.format(setup=textwrap.dedent(setup))
    code = f"good, bad = {good!r}, {bad!r}\n" + code
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _refused_in_bounded_memory(result: dict, *words: str) -> None:
    name, is_catlearn, msg = result["error"]
    assert is_catlearn, (name, msg)
    assert "Fix:" in msg and all(w in msg for w in words), msg
    assert len(msg) < 2000
    assert result["growth"] < RSS_LIMIT, result


LOAD = """
def attack(path):
    cl.load(path)
"""


# -- 1. decompression bombs ----------------------------------------------------------
def test_deflate_bomb_in_a_models_array(tmp_path):
    """A 0.4 MB model whose W entry inflates to 400 MB (and declares that
    shape): refused before anything is inflated."""
    good, blob = _model(tmp_path)
    entry = json.loads(entries(blob)["catlearn.json"])["params"][W]["file"]
    n = BOMB // 4
    bomb = _deflated(blob, entry, _npy_prefix("<f4", (n,)), BOMB)
    assert len(bomb) < BOMB // 100
    bad = _write(tmp_path / "bomb.catlearn", bomb)
    _refused_in_bounded_memory(_probe(LOAD, good, bad), "compressed", "DEFLATE")
    assert _read(bad) == bomb


def test_deflate_bomb_in_a_models_header(tmp_path):
    """A header entry of 400 MB of JSON whitespace, DEFLATEd to ~0.4 MB."""
    good, blob = _model(tmp_path)
    header = entries(blob)["catlearn.json"]
    bomb = _deflated(blob, "catlearn.json", header[:-1], BOMB, b"}")
    bad = _write(tmp_path / "bomb.catlearn", bomb)
    _refused_in_bounded_memory(_probe(LOAD, good, bad), "compressed")
    assert _read(bad) == bomb


def _tiny_run(tmp_path, epochs=2, **kw):
    x = (np.arange(64, dtype=np.float32) % 7).reshape(32, 2) / 7
    y = (np.arange(32) % 2).astype(np.int32)
    return cl.fit(
        NET, (x, y), epochs=epochs, batch_size=8, progress=False, seed=0, **kw
    )


RESUME = """
import numpy as np
NET = cl.nn.mlp([2, 4, 2], name="m")
x = (np.arange(64, dtype=np.float32) % 7).reshape(32, 2) / 7
y = (np.arange(32) % 2).astype(np.int32)
def attack(path):
    cl.fit(NET, (x, y), epochs=2, batch_size=8, progress=False, seed=0, resume=path)
"""


def test_deflate_bomb_in_a_checkpoint(tmp_path):
    """A checkpoint whose optimiser-state entry inflates to 400 MB: resuming
    is refused in bounded memory, the file as it was."""
    good = str(tmp_path / "run.ckpt")
    _tiny_run(tmp_path, checkpoint=good)
    blob = _read(good)
    bomb = _deflated(blob, "opt/1.npy", _npy_prefix("<f4", (BOMB // 4,)), BOMB)
    bad = _write(tmp_path / "bomb.ckpt", bomb)
    _refused_in_bounded_memory(_probe(RESUME, good, bad), "compressed")
    assert _read(bad) == bomb


# -- 2. sizes that lie -----------------------------------------------------------------
def test_npy_header_declares_more_than_the_entry_holds(tmp_path):
    """A stored W entry whose .npy header claims 10**5 x 10**5 floats (40 GB)
    but holds 32 bytes: refused before anything is allocated."""
    _, blob = _model(tmp_path)
    head = json.loads(entries(blob)["catlearn.json"])
    head["params"][W]["shape"] = [10**5, 10**5]
    lie = _npy_prefix("<f4", (10**5, 10**5)) + bytes(32)
    bad = _write(
        tmp_path / "lie.catlearn",
        rezip(
            blob,
            {
                "catlearn.json": json.dumps(head).encode(),
                head["params"][W]["file"]: lie,
            },
        ),
    )
    with pytest.raises(FormatError) as e:
        cl.load(bad)
    fails_well(e.value, "shape")


def test_zip_entry_sizes_that_do_not_fit_the_file(tmp_path):
    """The central directory says the header entry holds 10**9 bytes (in both
    size fields, so it looks uncompressed): refused, as no entry may claim
    more than the file has room for."""
    _, blob = _model(tmp_path)
    b = bytearray(blob)
    at = b.index(b"PK\x01\x02")  # the first central directory record: the header
    assert b[at + 46 : at + 46 + len("catlearn.json")] == b"catlearn.json"
    struct.pack_into("<II", b, at + 20, 10**9, 10**9)
    bad = _write(tmp_path / "sizes.catlearn", bytes(b))
    with pytest.raises(FormatError) as e:
        cl.load(bad)
    fails_well(e.value, bad)


def test_json_entry_over_the_limit(tmp_path, monkeypatch):
    """A stored JSON entry larger than MAX_JSON_BYTES is refused unread (the
    limit lowered here, so that the file stays small)."""
    path, _ = _model(tmp_path)
    monkeypatch.setattr(_zipfile, "MAX_JSON_BYTES", 100)
    with pytest.raises(FormatError) as e:
        cl.load(path)
    fails_well(e.value, "MAX_JSON_BYTES")


@pytest.mark.parametrize("how", ["duplicate", "unknown", "encrypted", "bzip2"])
def test_zip_structure(tmp_path, how):
    """Two entries of one name, an entry the header does not name, an entry
    flagged encrypted, another compression method: all refused."""
    _, blob = _model(tmp_path)
    if how == "duplicate":
        out = io.BytesIO(blob)
        with pytest.warns(UserWarning), zipfile.ZipFile(out, "a") as z:
            z.writestr("diagram.json", b"{}")
        blob = out.getvalue()
    elif how == "unknown":
        blob = rezip(blob, {"extra.bin": b"x"})
    elif how == "encrypted":
        b = bytearray(blob)
        at = b.index(b"PK\x01\x02")
        b[at + 8] |= 1
        blob = bytes(b)
    else:
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(blob)) as zin, zipfile.ZipFile(out, "w") as z:
            for n in zin.namelist():
                z.writestr(n, zin.read(n), compress_type=zipfile.ZIP_BZIP2)
        blob = out.getvalue()
    bad = _write(tmp_path / "z.catlearn", blob)
    with pytest.raises(FormatError) as e:
        cl.load(bad)
    fails_well(e.value, bad)
    assert _read(bad) == blob


# -- 5. load as strict as save ---------------------------------------------------------
@pytest.mark.parametrize("dtype", ["<c8", "<U2", "<M8[s]", "|V4", ">f4", "<f16"])
def test_load_refuses_dtypes_save_refuses(tmp_path, dtype):
    """A W entry (and header) of complex, unicode, datetime, void, big-endian
    or long-double dtype: save never writes one, load refuses it."""
    _, blob = _model(tmp_path)
    head = json.loads(entries(blob)["catlearn.json"])
    a = np.zeros((2, 4), dtype=np.dtype(dtype))
    head["params"][W]["dtype"] = a.dtype.str
    files = {"catlearn.json": json.dumps(head).encode()}
    files[head["params"][W]["file"]] = npy(a)
    bad = _write(tmp_path / "d.catlearn", rezip(blob, files))
    with pytest.raises(FormatError) as e:
        cl.load(bad)
    fails_well(e.value, bad)


@pytest.mark.parametrize(
    "change",
    [
        {"metadata": [1, 2]},
        {"metadata": "note"},
        {"metadata": {"x": float("nan")}},
        {"extra": 1},
        {"catlearn": 5},
        {"params": []},
    ],
)
def test_load_refuses_headers_save_never_writes(tmp_path, change):
    _, blob = _model(tmp_path)
    head = json.loads(entries(blob)["catlearn.json"])
    head.update(change)
    bad = _write(
        tmp_path / "h.catlearn",
        rezip(blob, {"catlearn.json": json.dumps(head).encode()}),
    )
    with pytest.raises(FormatError) as e:
        cl.load(bad)
    fails_well(e.value, bad)


@pytest.mark.parametrize(
    "kind", ["complex", "unicode", "datetime", "object", "meta-list", "meta-key"]
)
def test_save_refuses_what_load_refuses(tmp_path, kind):
    """save refuses the same values: no file written, the params untouched."""
    params = {k: np.asarray(v) for k, v in PARAMS.items()}
    metadata: object = {"a": 1}
    if kind in ("complex", "unicode", "datetime", "object"):
        dtype = {
            "complex": "<c8",
            "unicode": "<U2",
            "datetime": "<M8[s]",
            "object": "O",
        }
        params[W] = np.zeros((2, 4), dtype=dtype[kind])
    elif kind == "meta-list":
        metadata = [("a", 1)]
    else:
        metadata = {1: "a"}
    before = snapshot(params)
    path = tmp_path / "m.catlearn"
    with pytest.raises(FormatError) as e:
        cl.save(path, NET, params, metadata=metadata)
    fails_well(e.value)
    assert os.listdir(tmp_path) == []
    assert same(params, before)


def test_big_endian_params_are_saved_little_endian(tmp_path):
    params = {k: np.asarray(v) for k, v in PARAMS.items()}
    params[W] = params[W].astype(">f4")
    before = snapshot(params)
    cl.save(tmp_path / "m.catlearn", NET, params)
    got = cl.load(tmp_path / "m.catlearn").params[W]
    assert got.dtype.str == "<f4" and np.array_equal(got, params[W])
    assert same(params, before)


def test_copy_of_a_million_wires_in_220_bytes(tmp_path):
    """A diagram JSON whose copy box asks for n = 10**6 outputs it never
    lists: refused from the counts, before any wire is made; short message."""
    text = json.dumps({
        "format": "catlearn.diagram", "version": 1,
        "dom": [{"kind": "real", "shape": [1]}], "cod": [],
        "layers": [[[], {"box": "copy", "dom": [{"kind": "real", "shape": [1]}],
                         "n": 10**6}, []]],
    })  # fmt: skip
    assert len(text) < 220
    with pytest.raises(FormatError) as e:
        cl.from_json(text)
    msg = fails_well(e.value, "1000000")
    assert len(msg) < 1000


def test_error_messages_are_clipped():
    """A malformed diagram JSON carrying a megabyte of junk: the message
    quotes a few hundred characters of it, not the megabyte."""
    junk = "x" * 2**20
    text = cl.to_json(NET).replace('"box": "box"', f'"box": "{junk}"', 1)
    with pytest.raises(FormatError) as e:
        cl.from_json(text)
    assert len(fails_well(e.value)) < 2000


# -- 7. paths --------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["m\0.catlearn", b"m.catlearn", 3])
def test_bad_paths(tmp_path, monkeypatch, path):
    """NUL characters, bytes, non-paths: a CatlearnError from save, load and
    the checkpoint reader/writer, never a raw ValueError or TypeError."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SaveError) as e:
        cl.save(path, NET, PARAMS)
    fails_well(e.value)
    with pytest.raises(MissingFileError) as e:
        cl.load(path)
    fails_well(e.value)
    with pytest.raises(MissingFileError) as e:
        _checkpoint.read(path, PARAMS, None, {})
    fails_well(e.value)
    assert os.listdir(tmp_path) == []
