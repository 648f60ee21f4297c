"""The reverse of a relaxed LUT layer as a C++ kernel on the CPU
(``csrc/relaxed.cc``), called from JAX through ``jax.ffi``: the ``"cpu"``
backend of :mod:`catlearn.backends.lutnet_relaxed`, and what ``cl.Smooth()``
and ``cl.Kernel(relaxed=True)`` run on a CPU where it builds.

XLA writes a layer's reverse (features-first) as row gathers over the fan-in
table and batch sums, several passes over ``(n, batch)`` arrays; the kernel
makes one pass over the gates, each reading three contiguous rows (``a``,
``b``, ``dz``) and adding into two (``dx``), the batch columns split between
threads. The forward stays XLA's (it is a few gathers that XLA runs well).
Measured on this project's 2-core machine (network 400 -> 6 x 8000 gates,
batch 256): one 8000-gate layer's reverse 1.7 ms here against about 5 ms of
XLA's; see ``bench/smooth_logic.py`` and ``docs/benchmarks.md``.

Building, caching and the checks before loading are :mod:`catlearn.backends._build`'s
(as for the Boolean kernel, :mod:`catlearn.backends.lutnet_cpu`). Where no C++
compiler works, :func:`available` is false and the relaxed rule stays on XLA.
"""

from __future__ import annotations

import ctypes
import os
import threading
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import jaxlib
import numpy as np

from .._errors import BackendError
from . import _build
from .lutnet_cpu import FLAGS, _cpu_flags

Array = Any
TARGET = "catlearn_relaxed_reverse"
_lock = threading.Lock()
_built: dict[str, Any] = {}


def threads() -> int:
    """The kernel's threads: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def layer_reverse(
    x: Array, dz: Array, c: Array, ia: np.ndarray, ib: np.ndarray
) -> tuple[Array, Array]:
    """``(dx, sums)`` of one layer: ``x`` ``(n_in, B)``, ``dz`` ``(n_out, B)``,
    ``c`` the gates' ANF coefficients ``(n_out, 4)``, ``ia``/``ib`` the
    wiring; ``sums[g] = sum_batch dz[g] (1, a, b, a b)``. Float32 only."""
    build()
    wiring = jnp.asarray(np.stack([ia, ib]).astype(np.int32))
    shapes = (jax.ShapeDtypeStruct(x.shape, jnp.float32),
              jax.ShapeDtypeStruct((dz.shape[0], 4), jnp.float32))
    call = jax.ffi.ffi_call(TARGET, shapes, vmap_method="sequential")
    dx, sums = call(x, dz, c, wiring, threads=np.int64(threads()))
    return dx, sums


def available() -> bool:
    """Whether the kernel builds and loads here (building it if needed)."""
    try:
        build()
    except Exception:  # any failure to build or load: the answer is "no"
        return False
    return True


def build() -> Path:
    """Compile unless a verified build is cached, and register the FFI target
    (once per process); ``BackendError`` with the reason and the fix."""
    with _lock:
        if "error" in _built:
            raise BackendError(_built["error"])
        if "path" not in _built:
            src = Path(__file__).parent / "csrc"
            recipe = _build.Recipe(
                stem="relaxed",
                sources=(src / "relaxed.cc",),
                flags=(*FLAGS, "-fopenmp-simd", "-isystem", jax.ffi.include_dir()),
                key=(jaxlib.__version__, _cpu_flags().strip()),
            )
            try:
                built = _build.library(recipe)
                lib = ctypes.cdll.LoadLibrary(str(built.path))
            except (BackendError, OSError) as e:
                _built["error"] = (
                    f"the relaxed CPU kernel does not build or load: {e}. Fix: "
                    "install a C++ compiler (g++), or set CATLEARN_CACHE to a "
                    "writable directory of your own; until then the relaxed "
                    "reverse runs on XLA."
                )
                raise BackendError(_built["error"]) from e
            capsule = jax.ffi.pycapsule(lib.CatlearnRelaxedReverse)
            jax.ffi.register_ffi_target(TARGET, capsule, platform="cpu")
            _built.update(path=str(built.path), lib=lib)
        return Path(_built["path"])
