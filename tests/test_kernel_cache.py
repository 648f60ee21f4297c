"""Issue 12 ("Hardening"): the fused CPU kernel's cache loads only what catlearn
built (``catlearn/backends/_build.py``, whose docstring has the threat model).

Each attack is reproduced: (a) a library planted at the expected name, whose
constructor would write a marker file, is refused before it is loaded (no
marker), as are a changed library, a link, a FIFO and a foreign manifest;
(b) a cache directory writable by others, or not the user's, or inside a
directory others can write, is refused, as is a library owned by someone else;
(c) two processes that build at once: one compiles, both load the same
verified library, no temporary file is left, and a failed build leaves
nothing at the name; (d) the default ``cl.Kernel()`` falls back to XLA with a
``cl.BackendWarning`` naming the reason. The genuine library is compiled once
(by the two processes of (c)) and copied into each test's cache.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

import catlearn as cl
from catlearn.backends import _build
from catlearn.backends import lutnet_cpu as K

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _fuzzing import fails_well  # noqa: E402

try:
    CXX: str | None = _build.compiler()
except cl.BackendError:
    CXX = None
pytestmark = pytest.mark.skipif(CXX is None, reason="no C++ compiler")
ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="chown to another user needs root")
OTHER = 65534  # nobody

BUILD_AT_ONCE = """
import sys
from catlearn.backends import lutnet_cpu as K
print("ready", flush=True)
sys.stdin.readline()  # the barrier: both processes start building together
K.build()
print(K._built["compiled"], K._built["sha256"], flush=True)
"""

PLANTED = """
#include <cstdio>
#include <cstdlib>
__attribute__((constructor)) static void planted() {
  if (const char* p = std::getenv("CATLEARN_TEST_MARKER")) {
    if (FILE* f = std::fopen(p, "w")) std::fclose(f);
  }
}
"""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    """Two processes build into one fresh cache at once (released by a barrier
    after both imported catlearn); a temporary file of a killed build waits
    there. Returns the cache and what each process printed."""
    cache = tmp_path_factory.mktemp("cache")
    cache.chmod(0o700)
    name = _build.target(K._recipe(), CXX).name
    (cache / f".{name}.12345l.tmp").write_bytes(b"half a library")
    env = {**os.environ, "CATLEARN_CACHE": str(cache)}
    errs = [cache.parent / f"stderr{i}" for i in range(2)]
    procs = []
    for err in errs:
        with open(err, "w") as f:
            procs.append(subprocess.Popen(
                [sys.executable, "-c", BUILD_AT_ONCE], env=env, text=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=f,
            ))
    for p, err in zip(procs, errs, strict=True):
        assert p.stdout.readline() == "ready\n", err.read_text()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = [p.communicate(timeout=900)[0].split() for p in procs]
    for p, err in zip(procs, errs, strict=True):
        assert p.returncode == 0, err.read_text()
    return cache / name, outs


@pytest.fixture
def cache(tmp_path, monkeypatch, genuine):
    """A private cache (mode 0700) holding a copy of the genuine build, used by
    this test (``CATLEARN_CACHE``) and by a fresh ``lutnet_cpu`` state."""
    lib, _ = genuine
    d = tmp_path / "cache"
    d.mkdir(mode=0o700)
    for src in (lib, lib.with_suffix(".json")):
        shutil.copyfile(src, d / src.name)
    (d / lib.name).chmod(0o755)
    monkeypatch.setenv("CATLEARN_CACHE", str(d))
    monkeypatch.setattr(K, "_built", {})  # restored after: the real build stays
    return d / lib.name


def test_two_processes_building_at_once_compile_once_and_load_one_library(genuine):
    lib, outs = genuine
    assert sorted(compiled for compiled, _ in outs) == ["False", "True"]  # the lock
    manifest = json.loads(lib.with_suffix(".json").read_text())
    assert {sha for _, sha in outs} == {_sha(lib)} == {manifest["sha256"]}
    assert manifest["library"] == lib.name and manifest["compiler"] == CXX
    names = sorted(p.name for p in lib.parent.iterdir())  # the stale temp is gone
    assert names == [lib.with_suffix(s).name for s in (".json", ".lock", ".so")]
    assert lib.stat().st_mode & 0o777 == 0o755
    assert lib.parent.stat().st_mode & 0o777 == 0o700


def test_the_copy_of_a_genuine_build_is_found_without_compiling(cache):
    built = _build.library(K._recipe())
    assert built == (cache, _sha(cache), False)


@pytest.mark.parametrize("with_manifest", [False, True], ids=["alone", "manifest"])
def test_a_planted_library_is_never_loaded(cache, tmp_path, monkeypatch, with_manifest):
    marker, src, planted = tmp_path / "marker", tmp_path / "p.cc", tmp_path / "p.so"
    src.write_text(PLANTED)
    subprocess.run([CXX, "-shared", "-fPIC", str(src), "-o", str(planted)], check=True)
    monkeypatch.setenv("CATLEARN_TEST_MARKER", str(marker))
    shutil.copyfile(planted, cache)
    if not with_manifest:
        cache.with_suffix(".json").unlink()
    with pytest.raises(cl.BackendError) as e:
        K.build()
    want = "no build manifest" if not with_manifest else f"SHA-256 is {_sha(planted)}"
    fails_well(e.value, str(cache), want, "not loaded", f"delete {cache}")
    assert not marker.exists()
    if jax.default_backend() == "cpu":  # the default Kernel says so, and runs XLA
        with pytest.warns(cl.BackendWarning, match="backend='xla'") as w:
            assert cl.Kernel().resolved_backend == "xla"
        assert str(cache) in str(w[0].message)
    assert not marker.exists()
    ctypes.CDLL(str(planted))  # the attack is real: loading it writes the marker
    assert marker.exists()


def _append(lib: Path) -> None:
    with open(lib, "ab") as f:
        f.write(b"\0")


def _link(lib: Path) -> None:
    away = lib.parent.parent / "away.so"
    lib.rename(away)
    lib.symlink_to(away)


def _fifo(lib: Path) -> None:  # opening it to hash it must not block
    lib.unlink()
    os.mkfifo(lib, 0o600)


def _foreign_manifest(lib: Path) -> None:
    m = lib.with_suffix(".json")
    m.write_text(json.dumps({**json.loads(m.read_text()), "library": "other.so"}))


ATTACKS = {  # what is done to a genuine copy: the words the refusal must contain
    "changed": (_append, ["SHA-256 is", "says"]),
    "link": (_link, ["symbolic link"]),
    "fifo": (_fifo, ["not a regular file"]),
    "group-writable": (lambda lib: lib.chmod(0o775), ["writable by others"]),
    "world-writable manifest": (
        lambda lib: lib.with_suffix(".json").chmod(0o666), ["manifest", "writable"]
    ),
    "foreign manifest": (_foreign_manifest, ["does not describe", "other.so"]),
    "garbled manifest": (
        lambda lib: lib.with_suffix(".json").write_text("{"), ["does not describe"]
    ),
    "another user's": pytest.param(
        lambda lib: os.chown(lib, OTHER, OTHER), [f"uid {OTHER}"], marks=needs_root
    ),
}


@pytest.mark.parametrize(("attack", "words"), ATTACKS.values(), ids=ATTACKS.keys())
def test_a_library_that_is_not_what_was_built_is_refused(cache, attack, words):
    attack(cache)
    with pytest.raises(cl.BackendError) as e:
        _build.library(K._recipe())
    fails_well(e.value, *words, "not loaded", f"delete {cache}")


def _chown(path: Path) -> Path:
    os.chown(path, OTHER, OTHER)
    return path


def _chmod(mode: int):
    return lambda d: d.chmod(mode)


def _in(mode: int):
    """Move the cache into a new directory of that mode."""
    def move(d: Path) -> Path:
        parent = d.parent / "parent"
        parent.mkdir()
        d.rename(parent / d.name)
        parent.chmod(mode)
        return parent / d.name
    return move


DIRECTORIES = {  # what is done to the cache: the words the refusal must contain
    "group-writable": (_chmod(0o770), ["drwxrwx---", "chmod go-w"]),
    "world-writable": (_chmod(0o777), ["drwxrwxrwx", "chmod go-w"]),
    "world-writable, sticky": (_chmod(0o1777), ["drwxrwxrwt", "chmod go-w"]),
    "inside a world-writable directory": (_in(0o777), ["lies inside", "not sticky"]),
    "another user's": pytest.param(
        lambda d: os.chown(d, OTHER, OTHER), [f"uid {OTHER}"], marks=needs_root
    ),
    "inside another user's directory": pytest.param(
        lambda d: _chown(_in(0o755)(d).parent) / d.name, [f"uid {OTHER}"],
        marks=needs_root,
    ),
}


@pytest.mark.parametrize(("attack", "words"), DIRECTORIES.values(),
                         ids=DIRECTORIES.keys())
def test_an_unsafe_cache_directory_is_refused(cache, monkeypatch, attack, words):
    d = attack(cache.parent) or cache.parent
    monkeypatch.setenv("CATLEARN_CACHE", str(d))
    before = sorted(os.listdir(d))
    with pytest.raises(cl.BackendError) as e:
        _build.library(K._recipe())
    fails_well(e.value, str(d), *words, "CATLEARN_CACHE")
    assert sorted(os.listdir(d)) == before  # refused before writing or loading


def test_a_sticky_shared_directory_above_a_private_cache_is_fine(cache, monkeypatch):
    d = _in(0o1777)(cache.parent)  # like /tmp/<private cache>
    monkeypatch.setenv("CATLEARN_CACHE", str(d))
    assert _build.library(K._recipe()).compiled is False


def test_a_failed_build_leaves_nothing_at_the_name(tmp_path, monkeypatch):
    half = tmp_path / "half-compiler"  # writes half a library, then fails
    half.write_text('#!/bin/sh\nfor a; do o=$a; done\n'
                    'printf junk > "$o"\necho "error: out of memory" >&2\nexit 1\n')
    half.chmod(0o755)
    monkeypatch.setenv("CATLEARN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CXX", str(half))
    with pytest.raises(cl.BackendError) as e:
        _build.library(K._recipe())
    fails_well(e.value, "compiling the fused CPU kernel failed", "out of memory")
    assert [p.suffix for p in (tmp_path / "cache").iterdir()] == [".lock"]
    assert (tmp_path / "cache").stat().st_mode & 0o777 == 0o700
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-compiler"))
    with pytest.raises(cl.BackendError, match=r"needs a C\+\+ compiler.*set CXX"):
        _build.library(K._recipe())


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="the CPU default")
@pytest.mark.parametrize("why", ["no compiler", "unsafe cache"])
def test_the_default_kernel_falls_back_to_xla_with_a_warning(cache, monkeypatch, why):
    if why == "no compiler":
        monkeypatch.setenv("CXX", "/no/such/c++")
        words = ["needs a C++ compiler", "set CXX"]
    else:
        cache.parent.chmod(0o777)
        words = [str(cache.parent), "chmod go-w"]
    net = cl.logic.network(4, [6], 2, seed=0)
    params = cl.Boolean()(net).init(jax.random.key(0))
    X = np.random.default_rng(0).random((9, 4)) < 0.5
    with pytest.warns(cl.BackendWarning) as w:
        kernel = cl.Kernel()
        assert kernel.resolved_backend == "xla"
        y = kernel(net)(params, X)
    assert np.array_equal(y, cl.Boolean()(net)(params, X))
    message = str(w[0].message)
    for word in ["falling back to backend='xla'", *words, "cl.Kernel(backend='xla')"]:
        assert word in message, (word, message)
    assert cl.Kernel(backend="xla")(net)(params, X).shape == y.shape  # no warning
    assert K.unavailable_reason() is not None and not K.available()
