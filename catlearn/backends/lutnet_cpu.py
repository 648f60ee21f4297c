"""A fused CPU kernel for bit-packed logic networks (chains of learnable 2-input
LUT layers), called from JAX through ``jax.ffi``; bit for bit ``cl.Boolean()``.

Values are laid out as in :mod:`catlearn.backends.bits`: a layer's output is a
``uint32`` array ``(n, W)``, row ``i`` = bit ``i`` of every example. Gate ``g``
of layer ``l`` reads rows ``ia[g], ib[g]`` of the layer before (of ``x`` for
layer 0), ``(ia, ib) = cl.logic.wiring(n_in, n_out, seed)``, through its table
``(t00, t01, t10, t11)`` of masks (0 or ``0xFFFFFFFF``: Boolean's encoded
``(4 n, 1)`` parameter reshaped to ``(n, 4)``):

    z   = t00 ~a~b ^ t01 ~a b ^ t10 a~b ^ t11 a b
    R_t = dz & (~a~b, ~a b, a~b, a b)     votes: ones of R_t over the batch
    R_a = dz & ((t00 ^ t10) & ~b | (t01 ^ t11) & b)
    R_b = dz & ((t00 ^ t01) & ~a | (t10 ^ t11) & a)

>>> import numpy as np, catlearn as cl
>>> ia, ib = cl.logic.wiring(2, 1, seed=0)            # one gate on two wires
>>> x = np.array([[0b1100], [0b1010]], np.uint32)     # 4 examples
>>> xor = np.array([[0, 1, 1, 0]], np.uint32) * np.uint32(0xFFFFFFFF)
>>> y = forward(x, [xor], [(ia, ib)]) if available() else x[:1] ^ x[1:]
>>> int(y[0, 0])                                       # 0b0110
6

**How it runs.** One XLA FFI call per ``forward`` / ``reverse``. The batch is
cut into tiles of ``tile_words`` words (32 examples each), and a tile goes
through *every* layer while its rows stay in the core's L2 cache; no layer is
materialised in main memory (the reverse recomputes the forward of each tile
and keeps that tile's rows of every layer). Per call, the kernel sorts each
layer's gates by their 2-input function (16 kinds), so a layer is 16 loops whose
body is one fixed word operation (``a & b``, ``~a | b``, ...: the table algebra
folds at compile time) on AVX-512 registers where the CPU has them, with no
per-gate coefficients to load. Votes are counted with ``VPOPCNTDQ`` where the
CPU has it. Results are written with non-temporal stores, on transparent huge
pages (``madvise``). ``threads`` threads split the tiles; the default, 1,
leaves the other cores to XLA and to other calls.

**Building.** ``csrc/lutnet.cc`` and ``csrc/lutnet.h`` are compiled at first use
(about 5 s) with ``$CXX`` (else ``c++``, ``g++``, ``clang++``) and ``FLAGS``,
into ``$CATLEARN_CACHE`` (else ``~/.cache/catlearn``), under a name hashing the
source, the compiler, the flags, the CPU's feature flags and the jaxlib
version, by :mod:`catlearn.backends._build`: one process compiles (a lock) to a
temporary name, renamed into place with a manifest of its SHA-256; a cached
library is loaded only if the directory and the file are the user's own and
writable by no one else and the hash matches (the threat model is there).
``unavailable_reason()`` says why not, with the fix.

**Measured** (2026-11-24, Intel Xeon (Sapphire Rapids: AVX-512, VPOPCNTDQ, 2 MiB
L2 per core), gcc 12.2, jax 0.10.2, ``taskset -c 0``; fastest of 15 interleaved
runs, jitted, as the machine is shared): ``network(400, [8000] * 6, 10)``,
parameters from ``prog.init``, 2^16 examples (scratch script, not in the repo):

    forward -> last layer's words (n_L, W)    24 ms   1.3e11 gate evaluations/s
    forward, group_k=10                       12 ms   2.7e11
    reverse -> dx, votes (forward inside)     75 ms
    plain fused-tile C loop (ctypes; per-gate ANF masks, uint64 words),
      tiles of 8 / 16 / 32 uint64 words      103 / 71 / 61 ms   (3.0 / 4.4 / 5.1e10)
      32, writing into an already-touched y   53 ms   5.9e10

A second run agreed within 10 %. Of the 24 ms, about 8 ms is the OS zeroing the
pages of the fresh 64 MiB result. Without ``taskset``, ``threads=2``: 19 ms.

What the choices bought, each measured alone: 16 fixed-function loops against
per-gate ANF masks, 9.8 against 12.9 ms for the six layers (16-word tiles, no
input or output); tiles of 16, 32, 64 words, 9.4, 12.2, 23 ms (16 words keep
both 8000-row buffers in L2); non-temporal stores on huge pages, 48 to 24 ms of
CPU for the forward (16,000 page faults a call to 700); reading ``dz`` in vector
rows and blocks of 256 bytes, 104 to 75 ms for the reverse. No gain, so left
out: ordering gates by input, storing instead of XOR-ing the first cotangent of
a row (no memset), prefetching ``dz``, staging the forward's result in 256-byte
rows (slower: 31 ms).
"""

from __future__ import annotations

import ctypes
import os
import platform
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import jaxlib
import numpy as np

from .._errors import BackendError, ShapeError
from . import _build

Array = Any
Wiring = tuple[np.ndarray, np.ndarray]
TILES = (8, 16, 32, 64)  # tile widths in words, as built (LUTNET_TILES)
FLAGS = ("-O3", "-march=native", "-std=c++17", "-shared", "-fPIC")
SOURCES = ("lutnet.cc", "lutnet.h")  # compiled, included
FORWARD, REVERSE = "catlearn_lutnet_forward", "catlearn_lutnet_reverse"
TILE_BYTES = 1 << 20  # the tile buffers' share of a core's L2 cache

_lock = threading.Lock()
_built: dict[str, Any] = {}  # once per process: "path", "lib", ..., or "error"


# -- the calls ------------------------------------------------------------------
def forward(
    x: Array,
    tables: Sequence[Array],
    wirings: Sequence[Wiring],
    *,
    group_k: int | None = None,
    tile_words: int | None = None,
    keep_activations: bool = False,
    threads: int = 1,
) -> Any:
    """The last layer's words ``(n_L, W)`` of the network on ``x`` ``(n_in, W)``.

    ``tables[l]``: ``uint32`` ``(n_l, 4)`` masks; ``wirings[l] = (ia, ib)``,
    static numpy. ``group_k``: instead, the ones per example in ``group_k``
    equal groups of the last layer's rows, float32 ``(group_k, 32 W)``
    (``group_sum``'s counts; padding columns hold garbage).
    ``keep_activations``: return ``(out, acts)``, ``acts`` every layer's words.
    ``tile_words``: one of ``TILES``; by default the widest whose two buffers fit
    ``TILE_BYTES`` (at least 16). Under ``jax.vmap`` the calls run in turn."""
    widths, wiring, table = _check(x, tables, wirings)
    W, n_last = x.shape[1], widths[-1]
    if group_k is not None and (
        isinstance(group_k, bool)
        or not isinstance(group_k, int)
        or group_k < 1
        or n_last % group_k
    ):
        raise ShapeError(
            f"forward: group_k={group_k!r} does not split the last layer's {n_last} "
            f"rows into equal groups. Fix: a divisor of {n_last}, or None."
        )
    tile = _tile(tile_words, W, 2 * max(widths))
    shapes = [jax.ShapeDtypeStruct((group_k, 32 * W), jnp.float32)] if group_k else []
    if keep_activations:
        shapes += [jax.ShapeDtypeStruct((n, W), jnp.uint32) for n in widths[1:]]
    elif not group_k:
        shapes.append(jax.ShapeDtypeStruct((n_last, W), jnp.uint32))
    build()
    outs = jax.ffi.ffi_call(FORWARD, shapes, vmap_method="sequential")(
        x,
        table,
        wiring,
        widths=np.asarray(widths, np.int64),
        tile_words=tile,
        group_k=group_k or 0,
        keep=int(keep_activations),
        threads=_threads(threads),
    )
    if not keep_activations:
        return outs[0]
    acts = tuple(outs[1:] if group_k else outs)
    return (outs[0] if group_k else acts[-1]), acts


def reverse(
    x: Array,
    tables: Sequence[Array],
    wirings: Sequence[Wiring],
    dz: Array,
    *,
    tile_words: int | None = None,
    threads: int = 1,
) -> tuple[Array, tuple[Array, ...]]:
    """The reverse derivative at ``x`` of the last layer's cotangent ``dz``
    ``(n_L, W)`` (padding bits zero): ``(dx, votes)``, with ``dx`` ``uint32``
    ``(n_in, W)`` and, per layer, ``int32`` ``(4 n_l,)`` votes: how many
    examples have a 1 in the cotangent of each table bit (their parity is
    ``cl.Boolean()``'s parameter cotangent). The forward is recomputed tile by
    tile inside the kernel; the default tile is as in ``forward``, with every
    layer's rows counted."""
    widths, wiring, table = _check(x, tables, wirings)
    W = x.shape[1]
    if getattr(dz, "dtype", None) != jnp.uint32 or tuple(dz.shape) != (widths[-1], W):
        raise ShapeError(
            f"reverse: dz is {getattr(dz, 'dtype', type(dz))} "
            f"{tuple(getattr(dz, 'shape', ()))}, but the last layer's words are "
            f"uint32 ({widths[-1]}, {W}). Fix: pack it like x, with "
            "catlearn.backends.bits.pack."
        )
    tile = _tile(tile_words, W, sum(widths[:-1]) + 2 * max(widths))
    shapes = [
        jax.ShapeDtypeStruct((widths[0], W), jnp.uint32),
        jax.ShapeDtypeStruct((4 * sum(widths[1:]),), jnp.int32),
    ]
    build()
    dx, votes = jax.ffi.ffi_call(REVERSE, shapes, vmap_method="sequential")(
        x,
        table,
        wiring,
        dz,
        widths=np.asarray(widths, np.int64),
        tile_words=tile,
        threads=_threads(threads),
    )
    ends = np.cumsum([4 * n for n in widths[1:]]).tolist()
    return dx, tuple(votes[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True))


# -- checks and choices ---------------------------------------------------------
def _check(
    x: Array, tables: Sequence[Array], wirings: Sequence[Wiring]
) -> tuple[list[int], np.ndarray, Array]:
    """The widths ``[n_in, n_1, ..., n_L]``, the wiring ``(2, G)`` and the tables
    ``(G, 4)`` over all layers, once they are checked against each other."""
    shape, dtype = tuple(getattr(x, "shape", ())), getattr(x, "dtype", type(x))
    if dtype != jnp.uint32 or len(shape) != 2:
        raise ShapeError(
            f"lutnet: x is {dtype} {shape}, but must be uint32 words (n_in, W). "
            "Fix: pack the (batch, n_in) bools with catlearn.backends.bits.pack."
        )
    if len(tables) != len(wirings) or not tables:
        raise ShapeError(
            f"lutnet: {len(tables)} tables but {len(wirings)} wirings. Fix: one "
            "(n_l, 4) table and one (ia, ib) wiring per layer, at least one layer."
        )
    widths = [int(shape[0])]
    for i, (t, (ia, ib)) in enumerate(zip(tables, wirings, strict=True)):
        ia, ib = np.asarray(ia), np.asarray(ib)
        n, n_in = len(ia), widths[-1]
        if n == 0 or ia.shape != (n,) or ib.shape != (n,):
            raise ShapeError(
                f"lutnet: wiring {i} has shapes {ia.shape} and {ib.shape}, not two "
                "equal non-empty vectors. Fix: cl.logic.wiring(n_in, n_out, seed)."
            )
        reads = np.concatenate([ia, ib])
        if reads.min() < 0 or reads.max() >= n_in:
            bad = int(reads[(reads < 0) | (reads >= n_in)][0])
            raise ShapeError(
                f"lutnet: wiring {i} reads wire {bad}, but layer {i} has {n_in} "
                f"inputs. Fix: wire it with cl.logic.wiring({n_in}, {n}, seed)."
            )
        t_shape, t_dtype = tuple(getattr(t, "shape", ())), getattr(t, "dtype", type(t))
        if t_dtype != jnp.uint32 or t_shape != (n, 4):
            raise ShapeError(
                f"lutnet: table {i} is {t_dtype} {t_shape}, but wiring {i} has {n} "
                f"gates, so it must be uint32 ({n}, 4). Fix: Boolean's encoded "
                f"parameter (4 n, 1) reshaped: t.reshape({n}, 4)."
            )
        widths.append(n)
    wiring = np.stack(
        [np.concatenate([np.asarray(w[j], np.int32) for w in wirings]) for j in (0, 1)]
    )
    table = jnp.concatenate(list(tables)) if len(tables) > 1 else tables[0]
    return widths, wiring, table


def _tile(tile_words: int | None, W: int, rows: int) -> int:
    """``tile_words`` if given, else the widest tile (at least 16 words) whose
    ``rows`` rows fit ``TILE_BYTES``, and no wider than the batch needs."""
    if tile_words is None:
        fits = [t for t in TILES if t == 16 or rows * t * 4 <= TILE_BYTES]
        return min(max(fits), next((t for t in TILES if t >= W), TILES[-1]))
    if tile_words not in TILES:
        raise BackendError(
            f"lutnet: tile_words={tile_words!r} is not one of the built widths "
            f"{TILES}. Fix: one of these, or None to size it to the L2 cache."
        )
    return tile_words


def _threads(threads: int) -> int:
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise BackendError(
            f"lutnet: threads={threads!r} must be an int >= 1. Fix: 1 (one core), "
            f"or up to the {os.cpu_count()} cores here."
        )
    return threads


# -- building -------------------------------------------------------------------
def available() -> bool:
    """Whether the kernel builds and loads here; builds and registers it if
    needed. Never raises."""
    return unavailable_reason() is None


def unavailable_reason() -> str | None:
    """``None`` if the kernel builds and loads here (building and registering it
    if needed), else why not: the message of the error ``build`` raises, which
    names the fix. Never raises."""
    try:
        build()
    except BackendError as e:
        return str(e)
    except Exception as e:  # whatever else stops the build, the answer is "no"
        return f"building the fused CPU kernel failed: {type(e).__name__}: {e}"
    return None


def build() -> Path:
    """Compile the kernel unless a verified build is cached, and register its
    FFI targets with JAX (once per process). Returns the shared library's path;
    raises ``BackendError`` with the reason (the compiler's message, a refused
    cache directory or file) and the fix."""
    with _lock:
        if "error" in _built:
            raise BackendError(_built["error"])
        if "path" not in _built:
            try:
                built = _build.library(_recipe())
            except BackendError as e:
                _built["error"] = str(e)
                raise
            try:
                lib = ctypes.cdll.LoadLibrary(str(built.path))
            except OSError as e:
                _built["error"] = (
                    f"the fused CPU kernel {built.path} does not load: {e}. Fix: "
                    "delete it and its .json manifest to rebuild, or set "
                    "CATLEARN_CACHE to another directory."
                )
                raise BackendError(_built["error"]) from e
            for name, symbol in (
                (FORWARD, "CatlearnLutnetForward"),
                (REVERSE, "CatlearnLutnetReverse"),
            ):
                capsule = jax.ffi.pycapsule(getattr(lib, symbol))
                jax.ffi.register_ffi_target(name, capsule, platform="cpu")
            _built.update(built._asdict(), path=str(built.path), lib=lib)
        return Path(_built["path"])


def _recipe() -> _build.Recipe:
    """The kernel's sources, flags (-isystem: the include path of -I, without
    warnings from the FFI headers) and what else the binary depends on."""
    src = Path(__file__).parent / "csrc"
    return _build.Recipe(
        stem="lutnet",
        sources=tuple(src / s for s in SOURCES),
        flags=(*FLAGS, "-isystem", jax.ffi.include_dir()),
        key=(jaxlib.__version__, _cpu_flags().strip(), platform.machine()),
    )


def _cpu_flags() -> str:
    """What ``-march=native`` depends on: the CPU's feature flags."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((ln for ln in f if ln.startswith(("flags", "Features"))), "")
    except OSError:
        return platform.processor()
