"""How much memory a program's parameters take, known before they exist.

``Program.init`` asks :func:`check_init_memory` first: the arrays' shapes come
from the functor (``param_shape``), their dtypes from tracing ``init_param``
abstractly (``jax.eval_shape``: nothing is allocated), and the total is
compared with the memory free on the device the arrays would land on. Too big
a model is refused with a ``ShapeError`` naming its largest parameter, instead
of an allocation that fails inside XLA (or aborts the interpreter later).

Arrays fed to a program are put into the machine's byte order first
(:func:`native`): JAX refuses big-endian numpy arrays such as ``>f4``, and
their values are the same in either order.

>>> import numpy as np
>>> native(np.arange(3, dtype=">f4")).dtype.str
'<f4'
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import jax
import numpy as np

from ..diagrams import SMALL_ALLOCATION as SMALL
from ..diagrams import check_memory, describe_bytes, free_memory

if TYPE_CHECKING:
    from ._program import Program

WIDEST = 8  # bytes per entry at most (float64, int64): a bound read off shapes
# While ``init_param`` draws one array, JAX holds it and a few same-sized
# temporaries (random bits, their floats, the scaled result).
DRAWING = 3


def native(x: Any) -> Any:
    """``x`` with the machine's byte order: a numpy array in the other order
    (``>f4`` on a little-endian machine, as some files and tools write) is
    copied into this one, values unchanged; anything else is returned as is."""
    if isinstance(x, np.ndarray) and not x.dtype.isnative:
        return x.astype(x.dtype.newbyteorder("="))
    return x


def device_free() -> tuple[int, str] | None:
    """``(bytes, source)`` free on JAX's default device: its allocator's limit
    less what is in use (GPUs, TPUs), else the host's free memory (CPU)."""
    try:
        device = jax.devices()[0]
        stats = device.memory_stats()
    except Exception:  # a backend without memory statistics
        device, stats = None, None
    if stats and "bytes_limit" in stats:
        free = int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
        return free, f"memory_stats() of {device}"
    if device is not None and device.platform != "cpu":
        return None  # an accelerator that does not say: nothing to compare with
    return free_memory()


def _entries(shape: tuple[int, ...]) -> int:
    return math.prod(int(d) for d in shape)


def check_init_memory(program: Program, key: Any) -> None:
    """Raise ``ShapeError`` if ``program.init(key)`` would need more memory
    than is free. Cheap for small models: a bound from the shapes alone."""
    shapes = program.param_shapes
    if not shapes:
        return
    sizes = {name: _entries(shape) for name, shape in shapes.items()}
    largest = max(sizes, key=sizes.__getitem__)
    if WIDEST * (sum(sizes.values()) + DRAWING * sizes[largest]) <= SMALL:
        return  # fits anywhere: no tracing, no reading of free memory
    functor, nbytes = program.functor, {}
    for i, (name, (box, _)) in enumerate(program._params.items()):
        k = jax.random.fold_in(key, i)
        try:
            out = jax.eval_shape(lambda k, box=box: functor.init_param(box, k), k)
            nbytes[name] = sizes[name] * np.dtype(out.dtype).itemsize
        except Exception:  # a functor whose init cannot be traced abstractly
            nbytes[name] = sizes[name] * WIDEST
    largest = max(nbytes, key=nbytes.__getitem__)
    need = sum(nbytes.values()) + DRAWING * nbytes[largest]
    wire = program.param_types[largest]
    total = describe_bytes(sum(nbytes.values()))
    check_memory(
        f"{program!r}.init: {len(nbytes)} parameter(s), {total} in all (the "
        f"largest, {largest!r} {wire!r} of shape {shapes[largest]}, takes "
        f"{describe_bytes(nbytes[largest])}, and drawing it holds {DRAWING} "
        "more arrays of its size)",
        need,
        f"make the model smaller (the largest parameter is {largest!r}: e.g. "
        "narrower layers), or run it on a machine with more memory",
        device_free(),
    )
