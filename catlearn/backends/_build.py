"""Building a C++ kernel into the user's cache, and loading only what we built.

``library(recipe)`` compiles ``recipe.sources[0]`` with ``$CXX`` (else ``c++``,
``g++``, ``clang++``) and ``recipe.flags`` into :func:`cache_dir`
(``$CATLEARN_CACHE``, else ``~/.cache/catlearn``) as ``<stem>-<hash>.so``, the
hash covering the sources, the compiler, the flags and ``recipe.key`` (what
else the binary depends on). The same build writes the manifest
``<stem>-<hash>.json`` next to it: the library's SHA-256 and what it was built
from. A later process loads the library only after these checks, all made
before the file reaches the dynamic loader (so a refused file's code never
runs):

1. the cache directory is owned by the current user and writable by no one
   else (mode ``go-w``; catlearn creates it ``0700``), and each directory
   above it (as given and as resolved) is owned by root or the current user
   and not writable by others unless sticky (``/tmp``);
2. the library and its manifest are regular files (not links, opened with
   ``O_NOFOLLOW``), owned by the current user, writable by no one else;
3. the library's SHA-256 equals the manifest's.

Anything else raises ``BackendError`` naming the file or directory, what is
wrong and the fix; nothing is replaced or loaded behind the user's back.
Builds run under an exclusive ``flock`` on ``<stem>-<hash>.lock``, so of
processes that start at once one compiles and the others wait and then load
its result; the compiler writes a temporary name, renamed into place (manifest
first, library last) only once complete, so no one loads a half-written file.

**Threat model.** Protected: another local user, or anything that can write a
shared or misconfigured cache directory (group- or world-writable, a
``CATLEARN_CACHE`` in someone else's directory), planting or swapping a
library whose constructor would run in this process (checks 1-2); a library
that is not the one its build produced: truncated, corrupted, copied in from
another cache or machine, left at the name by something else (check 3);
two processes building at once (lock, rename). Not protected: an attacker
running as the same user, or as root. They can write the library *and* its
manifest (the manifest lives in a directory only this user can write, so it is
exactly as trustworthy as that directory: a consistency record, not a
signature), edit catlearn itself, or set ``CXX``, ``PATH`` or
``LD_PRELOAD``. Also outside it: a malicious compiler (we run the one we are
given), a same-user swap between the hash check and ``dlopen``, and file
systems whose owners and modes are fictional (some network and FUSE mounts).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from io import BufferedReader
from pathlib import Path
from typing import NamedTuple

from .._errors import BackendError

FORMAT = "catlearn-build-2"  # in every hash: older cache layouts never match
OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH
SAFE_CACHE = (
    "Fix: set CATLEARN_CACHE to a directory that you own and only you can write "
    "(catlearn creates a missing one with mode 0700), e.g. ~/.cache/catlearn."
)


class Recipe(NamedTuple):
    """What a library is built from: ``sources[0]`` is compiled (the others are
    its headers), ``key`` is what else the binary depends on."""

    stem: str
    sources: tuple[Path, ...]
    flags: tuple[str, ...]
    key: tuple[str, ...]


class Built(NamedTuple):
    path: Path
    sha256: str
    compiled: bool  # by this call; False: found in the cache and verified


def cache_dir() -> Path:
    return Path(os.environ.get("CATLEARN_CACHE") or Path.home() / ".cache" / "catlearn")


def compiler() -> str:
    names = [os.environ["CXX"]] if os.environ.get("CXX") else ["c++", "g++", "clang++"]
    cxx = next((p for p in map(shutil.which, names) if p), None)
    if cxx is None:
        raise BackendError(
            f"the fused CPU kernel needs a C++ compiler, and none of {names} is on "
            "PATH. Fix: install one (e.g. apt-get install g++), or set CXX."
        )
    return cxx


def target(recipe: Recipe, cxx: str) -> Path:
    """Where ``recipe`` built with ``cxx`` is cached (the name hashes both)."""
    h = hashlib.sha256()
    for part in (
        FORMAT.encode(),
        *(p.read_bytes() for p in recipe.sources),
        cxx.encode(),
        "\0".join(recipe.flags).encode(),
        *(k.encode() for k in recipe.key),
    ):
        h.update(part + b"\0")
    return cache_dir() / f"{recipe.stem}-{h.hexdigest()[:20]}.so"


def library(recipe: Recipe) -> Built:
    """The verified library of ``recipe``, compiled first unless it is cached."""
    cxx = compiler()
    out = target(recipe, cxx)
    check_dir(out.parent)
    manifest = out.with_suffix(".json")
    with _exclusive(out.with_suffix(".lock")):
        if os.path.lexists(out):
            return Built(out, verify(out, manifest), False)
        return Built(out, _compile(cxx, recipe, out, manifest), True)


# -- the checks -------------------------------------------------------------------
def check_dir(directory: Path) -> None:
    """Create ``directory`` (``0700``) if missing; raise unless it and every
    directory above it pass check 1 of the module docstring."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        real = directory.resolve(strict=True)
    except OSError as e:
        raise BackendError(
            f"the kernel cache {directory} cannot be created: {e}. {SAFE_CACHE}"
        ) from e
    me, st = os.geteuid(), os.stat(real)
    if st.st_uid != me:
        raise BackendError(
            f"the kernel cache {directory} belongs to uid {st.st_uid}, not to you "
            f"(uid {me}), so its owner could plant a library that this process "
            f"would run. It is not used. {SAFE_CACHE}"
        )
    if st.st_mode & OTHERS_WRITE:
        raise BackendError(
            f"the kernel cache {directory} is writable by its group or by everyone "
            f"(mode {stat.filemode(st.st_mode)}), so another user could plant a "
            f"library that this process would run. It is not used. Fix: chmod go-w "
            f"{directory} and delete the *.so files in it (they are rebuilt), or "
            "set CATLEARN_CACHE to a directory only you can write."
        )
    above = [*directory.absolute().parents, *real.parents]
    for parent in dict.fromkeys(above):  # as given and as resolved, in order
        st = os.stat(parent)
        if st.st_uid not in (0, me) or (
            st.st_mode & OTHERS_WRITE and not st.st_mode & stat.S_ISVTX
        ):
            who = f"belongs to uid {st.st_uid}" if st.st_uid not in (0, me) else (
                f"is writable by others (mode {stat.filemode(st.st_mode)}, not sticky)"
            )
            raise BackendError(
                f"the kernel cache {directory} lies inside {parent}, which {who}, so "
                "another user could swap the cache for one of their own. It is not "
                f"used. {SAFE_CACHE}"
            )


def verify(path: Path, manifest: Path) -> str:
    """The SHA-256 of the library ``path``, once checks 2 and 3 pass."""
    fix = f"Fix: delete {path} and {manifest}; the next use rebuilds them."
    if not os.path.lexists(manifest):
        raise BackendError(
            f"the fused CPU kernel {path} has no build manifest {manifest}, so "
            f"nothing says catlearn built it, and it is not loaded. {fix}"
        )
    want = _read_manifest(manifest, path, fix).get("sha256")
    with _open_own(path, "fused CPU kernel", fix) as f:
        sha = hashlib.file_digest(f, "sha256").hexdigest()
    if sha != want:
        raise BackendError(
            f"the fused CPU kernel {path} is not the library its build recorded: "
            f"its SHA-256 is {sha}, but {manifest} says {want}. It was changed or "
            f"replaced after it was built, and it is not loaded. {fix}"
        )
    return sha


def _read_manifest(manifest: Path, path: Path, fix: str) -> dict[str, object]:
    with _open_own(manifest, "kernel build manifest", fix) as f:
        try:
            record = json.loads(f.read(1 << 16))
        except ValueError as e:
            record = {"library": f"nothing (not JSON: {e})"}
    if not isinstance(record, dict) or record.get("library") != path.name:
        said = record.get("library") if isinstance(record, dict) else record
        raise BackendError(
            f"the kernel build manifest {manifest} does not describe {path.name}: "
            f"it names {str(said)[:200]!r}, so the library is not loaded. {fix}"
        )
    return record


@contextmanager
def _open_own(path: Path, what: str, fix: str) -> Iterator[BufferedReader]:
    """``path`` opened for reading, if check 2 passes (without following a link
    or blocking on a FIFO)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as e:
        link = " (a symbolic link?)" if os.path.islink(path) else ""
        raise BackendError(
            f"the {what} {path} cannot be opened{link}: {e}. It is not loaded. {fix}"
        ) from e
    with os.fdopen(fd, "rb") as f:
        st, me = os.fstat(fd), os.geteuid()
        problem = (
            "is not a regular file" if not stat.S_ISREG(st.st_mode)
            else f"belongs to uid {st.st_uid}, not to you (uid {me})"
            if st.st_uid != me
            else f"is writable by others (mode {stat.filemode(st.st_mode)})"
            if st.st_mode & OTHERS_WRITE
            else None
        )
        if problem:
            raise BackendError(
                f"the {what} {path} {problem}, so it may not be what catlearn "
                f"built, and it is not loaded. {fix}"
            )
        yield f


# -- building -----------------------------------------------------------------------
@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock`` (released when the file closes,
    also when the process dies)."""
    try:
        import fcntl

        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except (ImportError, OSError) as e:
        raise BackendError(
            f"the kernel cache lock {lock} cannot be taken: {e}. {SAFE_CACHE}"
        ) from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _compile(cxx: str, recipe: Recipe, out: Path, manifest: Path) -> str:
    """Compile to a temporary name, record its hash in ``manifest``, rename both
    into place (the caller holds the lock). Returns the SHA-256."""
    for stale in out.parent.glob(f".{out.name}.*.tmp"):  # of a killed build
        stale.unlink(missing_ok=True)
    tmp, tmp_manifest = (f"{out.parent}/.{out.name}.{os.getpid()}{x}.tmp" for x in "lm")
    cmd = [cxx, *recipe.flags, str(recipe.sources[0]), "-o", tmp]
    try:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True)
            failed, message = done.returncode != 0, done.stderr.strip()[-4000:]
        except OSError as e:
            failed, message = True, str(e)
        if failed:
            raise BackendError(
                f"compiling the fused CPU kernel failed: {' '.join(cmd)}\n{message}\n"
                "Fix: a compiler with C++17 (g++ >= 9, clang++ >= 10; set CXX), and "
                "jaxlib's FFI headers (jax.ffi.include_dir())."
            )
        try:
            os.chmod(tmp, 0o755)  # whatever the umask: check 2 wants go-w
            with open(tmp, "rb") as f:
                sha = hashlib.file_digest(f, "sha256").hexdigest()
                os.fsync(f.fileno())
            sources = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                       for p in recipe.sources}
            record = dict(library=out.name, sha256=sha, compiler=cxx, sources=sources,
                          flags=list(recipe.flags), key=list(recipe.key))
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            with os.fdopen(os.open(tmp_manifest, flags, 0o600), "w") as m:
                json.dump(record, m, indent=1)
                m.flush()
                os.fsync(m.fileno())
            os.replace(tmp_manifest, manifest)  # manifest first: a crash between
            os.replace(tmp, out)  # the two leaves no library without its manifest
        except OSError as e:
            raise BackendError(
                f"the fused CPU kernel cannot be cached as {out}: {e}. {SAFE_CACHE}"
            ) from e
    finally:
        for name in (tmp, tmp_manifest):
            if os.path.lexists(name):
                os.unlink(name)
    return sha
