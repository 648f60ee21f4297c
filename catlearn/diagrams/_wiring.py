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


def wiring(
    n_in: int, n_out: int, seed: int, n_inputs: int = 2
) -> tuple[np.ndarray, ...]:
    """The fixed random inputs ``(a, b)`` of ``n_out`` gates over ``n_in`` wires
    (``n_inputs=k``: ``k`` arrays, gate ``g`` reading the ``g``-th of each).

    Every input is used about equally (the ``k n_out`` input slots cycle
    through shuffled copies of ``range(n_in)``, as difflogic's random
    connections do), and no gate reads one wire twice when ``n_in >= k``.
    Deterministic in ``seed``; read-only arrays. Sizes whose drawing would
    take hours or more memory than is free raise ``ShapeError`` first.

    >>> [a.tolist() for a in wiring(5, 2, seed=1, n_inputs=3)]
    [[0, 3], [1, 2], [3, 4]]
    """
    where = f"wiring({n_in!r}, {n_out!r}, {seed!r})"
    for what, n in (("n_in", n_in), ("n_out", n_out)):
        if not is_count(n):
            raise TypeSpecError(f"{where}: {what} must be a positive int, got {n!r}.")
    check_lut_inputs(n_inputs, where)
    seed = check_seed(seed, where)
    check_wiring_size(int(n_in), int(n_out), where, n_inputs)
    if n_inputs == 2:
        return _draw_wiring(int(n_in), int(n_out), seed)
    return _draw_wiring_k(int(n_in), int(n_out), seed, n_inputs)


# k-input LUT layers: a gate's table has 2^k entries, held by every
# semantics (Smooth: 2^k floats per gate and example in its forward pass).
MAX_LUT_INPUTS = 10


def check_lut_inputs(k: object, where: str) -> int:
    """``k``, the inputs of each gate of a lut layer, checked: an int in
    ``2..MAX_LUT_INPUTS``."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not (
        2 <= k <= MAX_LUT_INPUTS
    ):
        raise TypeSpecError(
            f"{where}: n_inputs={k!r} must be an int from 2 to {MAX_LUT_INPUTS} "
            f"(each gate's table holds 2^n_inputs entries). Fix: e.g. n_inputs=6 "
            "for the 6-input LUTs of FPGAs."
        )
    return int(k)


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


@functools.lru_cache(maxsize=64)
def _draw_wiring_k(n_in: int, n_out: int, seed: int, k: int) -> tuple[np.ndarray, ...]:
    """``k`` inputs per gate, as :func:`_draw_wiring` draws two: cycling slots,
    shuffled, then each gate that reads a wire twice swaps that slot with the
    same slot of another gate, where neither gate then reads a wire twice, or
    (no such gate: a small layer) reads a wire it lacks instead."""
    rng = np.random.default_rng(seed)
    reps = -(-k * n_out // n_in)
    slots = np.concatenate([rng.permutation(n_in) for _ in range(reps)])[: k * n_out]
    ins = rng.permutation(slots).reshape(k, n_out).astype(np.int32)
    if n_in >= k:
        twice = (np.diff(np.sort(ins, axis=0), axis=0) == 0).any(axis=0)
        for g in np.flatnonzero(twice):
            for p in range(1, k):
                if ins[p, g] not in ins[:p, g]:
                    continue
                for h in rng.permutation(n_out):
                    mine, theirs = ins[p, g], ins[p, h]
                    if theirs not in np.delete(ins[:, g], p) and (
                        mine not in np.delete(ins[:, h], p)
                    ):
                        ins[p, g], ins[p, h] = theirs, mine
                        break
                else:  # no gate to swap with (few gates): a wire it lacks
                    free = np.setdiff1d(np.arange(n_in), ins[:, g])
                    ins[p, g] = rng.choice(free)
    out = tuple(ins[p].copy() for p in range(k))
    for a in out:
        a.flags.writeable = False
    return out


# -- the cost of drawing it ------------------------------------------------------
def wiring_steps(n_in: int, n_out: int, k: int = 2) -> int:
    """About how many ~10 ns steps ``wiring(n_in, n_out, seed, k)`` takes: a
    shuffle of ``n_in`` per ``n_in`` slots, and, for each of the about
    ``n_out k^2 / (2 n_in)`` gates that read one wire twice, a shuffle of
    ``n_out`` (a swap checks ``k`` slots, ~100 steps each, when ``k > 2``)."""
    reps = -(-k * n_out // n_in)
    twice = n_out // n_in if k == 2 else n_out * k * k // (2 * n_in)
    repairs = twice if n_in > 1 else 0
    per_repair = n_out if k == 2 else n_out + 100 * k * k
    return 200 * reps + 8 * k * n_out // 2 + repairs * per_repair


def wiring_bytes(n_in: int, n_out: int, k: int = 2) -> tuple[int, int]:
    """``(kept, peak)`` bytes of a lut layer's wiring: what stays cached (the
    gates' inputs and their transpose) and what drawing it takes at most."""
    reps = -(-k * n_out // n_in)
    return 8 * k * n_out + 16 * n_in, 24 * k * n_out + reps * (8 * n_in + 128)


def check_wiring_size(n_in: int, n_out: int, what: str, k: int = 2) -> None:
    """Raise ``ShapeError`` if drawing the wiring of ``n_out`` gates over
    ``n_in`` wires (``k`` each) would take hours or more memory than is free."""
    steps = wiring_steps(n_in, n_out, k)
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
    kept, peak = wiring_bytes(n_in, n_out, k)
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


Indices = tuple[tuple[int, ...], ...]


def check_indices(
    value: object, n_in: int, n_out: int, what: str, k: int = 2
) -> Indices:
    """Wiring given explicitly: ``(a, b)``, two sequences (tuples, lists or
    integer arrays) of ``n_out`` indices into ``range(n_in)``, gate ``g``
    reading wires ``a[g]`` and ``b[g]`` (``k`` sequences for gates of ``k``
    inputs). Returned as tuples of ints (box data, saved with the diagram);
    anything else is a ``TypeSpecError`` naming the problem."""
    names = "(a, b)" if k == 2 else f"({k} sequences)"
    fix = (f"pass wiring={names} of integer sequences of length "
           f"{n_out}, each index in 0..{n_in - 1}, e.g. "
           f"cl.logic.wiring({n_in}, {n_out}, seed{'' if k == 2 else f', {k}'})")
    try:
        sides = tuple(cast(Any, value))
        if isinstance(value, str | bytes) or len(sides) != k:
            raise TypeError
    except (TypeError, ValueError):
        raise TypeSpecError(
            f"{what}: wiring {_short(value)} is not "
            + ("a pair (a, b) of index sequences" if k == 2 else
               f"{k} index sequences, one per input of a gate")
            + f". Fix: {fix}."
        ) from None
    out = []
    for p, seq in enumerate(sides):
        side = "ab"[p] if k == 2 else f"{p}"
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
    return tuple(out)


@functools.lru_cache(maxsize=64)
def given_wiring(indices: Indices) -> tuple[np.ndarray, ...]:
    """``indices`` as the read-only arrays :func:`wiring` returns."""
    out = tuple(np.asarray(side, dtype=np.int32) for side in indices)
    for a in out:
        a.flags.writeable = False
    return out


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
