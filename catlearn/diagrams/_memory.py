"""Sizes from types, checked before anything is allocated.

An estimate is made from wire types (so from sizes, never from arrays) and
compared with the memory this machine has free: ``MemAvailable`` of
``/proc/meminfo`` on Linux, ``os.sysconf`` elsewhere. When neither can be read
nothing is refused: the check never fails for want of a number.

>>> describe_bytes(3 * 2**30)
'3.0 GiB'
>>> check_memory("a small table", 1000, "none needed")   # small: not even read
"""

from __future__ import annotations

import os

from .._errors import ShapeError

# Below this an allocation is not checked (and /proc/meminfo is not read): a
# quarter GiB fits on anything that runs JAX.
SMALL = 2**28


def free_memory() -> tuple[int, str] | None:
    """``(bytes, where it was read)`` of the memory free for a new allocation,
    or ``None`` if this machine does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024, "MemAvailable in /proc/meminfo"
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        pass
    try:
        pages, size = os.sysconf("SC_AVPHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return (pages * size, "os.sysconf") if pages > 0 and size > 0 else None


def describe_bytes(n: float) -> str:
    """``n`` bytes in binary units, one decimal: ``'3.0 GiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def check_memory(
    what: str,
    need: int,
    fix: str,
    free: tuple[int, str] | None = None,
) -> None:
    """Raise :class:`ShapeError` if ``what``, which needs ``need`` bytes, does
    not fit in the free memory (``free``: ``(bytes, source)``, by default
    :func:`free_memory`). Allocations under :data:`SMALL` always pass."""
    if need <= SMALL:
        return
    free = free_memory() if free is None else free
    if free is None or need <= free[0]:
        return
    raise ShapeError(
        f"{what} needs about {describe_bytes(need)} of memory, but this machine "
        f"has {describe_bytes(free[0])} free ({free[1]}); nothing was allocated. "
        f"Fix: {fix}."
    )
