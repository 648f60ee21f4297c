"""A lut layer's wiring: which two of its ``n_in`` input wires each of its
``n_out`` gates reads, drawn from its seed. The box stores only the sizes and
the seed (``LutLayerSpec``); every reading derives the same index arrays here.
Wiring may also be given explicitly (:func:`check_indices`): the box then
stores the indices themselves.

>>> a, b = wiring(4, 6, seed=0)
>>> a.shape, b.shape, bool((a != b).all())
((6,), (6,), True)
"""

from __future__ import annotations

import functools
import math
from typing import Any, cast

import numpy as np

from .._errors import ShapeError, TypeSpecError
from ._checks import check_seed, is_count
from ._memory import check_memory

# Drawing a lut layer's random wiring repairs each gate that reads one wire
# twice (about n_out / n_in of them) with a shuffle of all n_out gates: about
# n_out**2 / n_in steps of ~10 ns. Past this many steps (~5 minutes of one
# core) a builder refuses the layer instead of running for hours.
WIRING_STEPS = 3 * 10**10


def wiring(n_in: int, n_out: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The fixed random inputs ``(a, b)`` of ``n_out`` gates over ``n_in`` wires.

    Every input is used about equally (the ``2 n_out`` input slots cycle
    through shuffled copies of ``range(n_in)``, as difflogic's random
    connections do), and no gate reads one wire twice when ``n_in > 1``.
    Deterministic in ``seed``; read-only arrays. Sizes whose drawing would
    take hours or more memory than is free raise ``ShapeError`` first.
    """
    where = f"wiring({n_in!r}, {n_out!r}, {seed!r})"
    for what, n in (("n_in", n_in), ("n_out", n_out)):
        if not is_count(n):
            raise TypeSpecError(f"{where}: {what} must be a positive int, got {n!r}.")
    seed = check_seed(seed, where)
    check_wiring_size(int(n_in), int(n_out), where)
    return _draw_wiring(int(n_in), int(n_out), seed)


@functools.lru_cache(maxsize=64)
def _draw_wiring(n_in: int, n_out: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    reps = -(-2 * n_out // n_in)
    slots = np.concatenate([rng.permutation(n_in) for _ in range(reps)])[: 2 * n_out]
    slots = rng.permutation(slots)
    a, b = slots[:n_out].copy(), slots[n_out:].copy()
    if n_in > 1:
        for i in np.flatnonzero(a == b):  # swap b with another gate's b
            for j in rng.permutation(n_out):
                if b[j] != a[i] and b[i] != a[j]:
                    b[i], b[j] = b[j], b[i]
                    break
    a, b = a.astype(np.int32), b.astype(np.int32)
    a.flags.writeable = b.flags.writeable = False
    return a, b


# -- the cost of drawing it ------------------------------------------------------
def wiring_steps(n_in: int, n_out: int) -> int:
    """About how many ~10 ns steps ``wiring(n_in, n_out, seed)`` takes: a
    shuffle of ``n_in`` per ``n_in`` slots, and, for each of the about
    ``n_out / n_in`` gates that read one wire twice, a shuffle of ``n_out``."""
    reps = -(-2 * n_out // n_in)
    repairs = n_out // n_in if n_in > 1 else 0
    return 200 * reps + 8 * n_out + repairs * n_out


def wiring_bytes(n_in: int, n_out: int) -> tuple[int, int]:
    """``(kept, peak)`` bytes of a lut layer's wiring: what stays cached (the
    gates' inputs and their transpose) and what drawing it takes at most."""
    reps = -(-2 * n_out // n_in)
    return 16 * n_out + 16 * n_in, 48 * n_out + reps * (8 * n_in + 128)


def check_wiring_size(n_in: int, n_out: int, what: str) -> None:
    """Raise ``ShapeError`` if drawing the wiring of ``n_out`` gates over
    ``n_in`` wires would take hours or more memory than is free."""
    steps = wiring_steps(n_in, n_out)
    if steps > WIRING_STEPS:
        most = math.isqrt(WIRING_STEPS * max(n_in, 1))
        raise ShapeError(
            f"{what}: drawing the random wiring of {n_out:,} gates over {n_in:,} "
            f"wires takes about {steps:.1e} steps of ~10 ns ({_duration(steps)} of "
            f"one core): about {n_out // max(n_in, 1):,} gates read one wire "
            f"twice, and each is redrawn by a shuffle of all {n_out:,} gates. The "
            f"limit is {WIRING_STEPS:.0e} steps (~5 minutes). Fix: at most about "
            f"{most:,} gates per layer on {n_in:,} wires, or more input wires."
        )
    kept, peak = wiring_bytes(n_in, n_out)
    check_memory(
        f"{what}: the wiring of {n_out:,} gates over {n_in:,} wires",
        kept + peak,
        "fewer gates per layer",
    )


def _duration(steps: int) -> str:
    seconds = steps * 1e-8
    for unit, size in (("years", 3.15e7), ("days", 86400), ("hours", 3600)):
        if seconds >= size:
            return f"~{seconds / size:,.0f} {unit}"
    return f"~{seconds / 60:,.0f} minutes"


Indices = tuple[tuple[int, ...], tuple[int, ...]]


def check_indices(value: object, n_in: int, n_out: int, what: str) -> Indices:
    """Wiring given explicitly: ``(a, b)``, two sequences (tuples, lists or
    integer arrays) of ``n_out`` indices into ``range(n_in)``, gate ``g``
    reading wires ``a[g]`` and ``b[g]``. Returned as tuples of ints (box data,
    saved with the diagram); anything else is a ``TypeSpecError`` naming the
    problem."""
    fix = (f"pass wiring=(a, b) with a and b integer sequences of length "
           f"{n_out}, each index in 0..{n_in - 1}, e.g. "
           f"cl.logic.wiring({n_in}, {n_out}, seed)")
    try:
        a, b = cast(Any, value)
    except (TypeError, ValueError):
        raise TypeSpecError(
            f"{what}: wiring {_short(value)} is not a pair (a, b) of index "
            f"sequences. Fix: {fix}."
        ) from None
    out = []
    for side, seq in (("a", a), ("b", b)):
        arr = np.asarray(seq)
        if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.ndim == 1):
            raise TypeSpecError(
                f"{what}: wiring {side} {_short(seq)} holds {arr.dtype} values, "
                f"not integer indices. Fix: {fix}."
            )
        if arr.shape != (n_out,):
            raise TypeSpecError(
                f"{what}: wiring {side} has shape {arr.shape}, but the layer has "
                f"{n_out} gates: expected ({n_out},). Fix: {fix}."
            )
        bad = np.flatnonzero((arr < 0) | (arr >= n_in))
        if bad.size:
            g = int(bad[0])
            raise TypeSpecError(
                f"{what}: wiring {side}[{g}] = {int(arr[g])} is outside the "
                f"layer's {n_in} input wires (0..{n_in - 1}). Fix: {fix}."
            )
        out.append(tuple(int(i) for i in arr.tolist()))
    return out[0], out[1]


@functools.lru_cache(maxsize=64)
def given_wiring(indices: Indices) -> tuple[np.ndarray, np.ndarray]:
    """``indices`` as the read-only arrays :func:`wiring` returns."""
    a, b = (np.asarray(side, dtype=np.int32) for side in indices)
    a.flags.writeable = b.flags.writeable = False
    return a, b


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
