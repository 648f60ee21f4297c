"""The maths of 2-input LUT layers that every reading of them shares: a table's
algebraic normal form, the wiring transposed, and counting ones.

A gate's table ``t = (t00, t01, t10, t11)`` (``t_ab``: its output on inputs
``a, b``) is a polynomial in ``a, b``, ``c0 + c1 a + c2 b + c3 a b``, whose
coefficients are the Möbius transform of the table. Over Z2 (bit masks)
subtraction is XOR; over the reals (relaxed tables) it is subtraction:

>>> import numpy as np
>>> t = np.array([[0, 1, 1, 0]], np.uint32)            # XOR = a + b
>>> [int(c[0]) for c in anf(t)]
[0, 1, 1, 0]
>>> s = np.array([[0.0, 1.0, 1.0, 1.0]], np.float32)   # OR = a + b - a b
>>> [float(c[0]) for c in anf(s)]
[0.0, 1.0, 1.0, -1.0]

A layer's wiring says which rows each gate reads; its transpose, the fan-in
table, says which gates read each row, so a reverse pass gathers (no scatter):

>>> fan_in(np.array([0, 2]), np.array([2, 0]), 3).tolist()
[[0, 3], [-1, -1], [1, 2]]
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = Any


def anf(t: Array) -> tuple[Array, Array, Array, Array]:
    """Tables ``t`` of shape ``(n, 4, ...)`` -> ANF coefficients ``(c0, c1, c2,
    c3)``: the constant, the ``a``, the ``b`` and the ``a b`` term, each ``(n,
    ...)``. Integer masks over Z2 (``c3 = t00 ^ t01 ^ t10 ^ t11``), floats over
    the reals (``c3 = t00 - t01 - t10 + t11``)."""
    t00, t01, t10, t11 = t[:, 0], t[:, 1], t[:, 2], t[:, 3]
    if jnp.issubdtype(t.dtype, jnp.floating):
        return t00, t10 - t00, t01 - t00, t00 - t01 - t10 + t11
    return t00, t00 ^ t10, t00 ^ t01, t00 ^ t01 ^ t10 ^ t11


def fan_in(
    ia: np.ndarray, ib: np.ndarray, n_in: int, half: int | None = None
) -> np.ndarray:
    """The wiring transposed: ``(n_in, k)`` int32, row ``i`` lists the slots that
    read input ``i`` (``g`` for gate ``g``'s input ``a``, ``half + g`` for its
    input ``b``; ``half`` defaults to the number of gates), padded with ``-1``
    to the largest fan-in ``k`` (at least 1). Each row lists its ``a`` slots,
    then its ``b`` slots, each by gate."""
    ia, ib = np.asarray(ia), np.asarray(ib)
    slots = np.concatenate([ia, ib]).astype(np.int64)
    order = np.argsort(slots, kind="stable")
    counts = np.bincount(slots, minlength=n_in)
    k = max(int(counts.max(initial=0)), 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(slots)) - np.repeat(starts, counts)
    n = len(ia)
    # slot j of the concatenation: gate j's a, or gate j - n's b (at half + g)
    ids = order if half is None else np.where(order < n, order, order - n + half)
    table = np.full((n_in, k), -1, np.int32)
    table[slots[order], rank] = ids
    return table


def popcount_words(v: Array, *, swar: bool = False) -> Array:
    """Ones per ``uint32`` word, as ``int32``. ``swar=True``: by shifts and
    masks (the SWAR bit count), for compilers with no population-count
    lowering (Triton has none for ``math.ctpop``)."""
    if not swar:
        return jax.lax.population_count(v).astype(jnp.int32)
    v = v - ((v >> 1) & np.uint32(0x55555555))
    v = (v & np.uint32(0x33333333)) + ((v >> 2) & np.uint32(0x33333333))
    v = (v + (v >> 4)) & np.uint32(0x0F0F0F0F)
    return ((v * np.uint32(0x01010101)) >> 24).astype(jnp.int32)


def count_row(planes: tuple[Array, ...], row: Array) -> tuple[Array, ...]:
    """Add a row of bits to bit-sliced counters: plane ``i`` holds bit ``i`` of
    every example's count, and the row ripples a carry through the planes
    (``p_i, c := p_i ^ c, p_i & c``)."""
    out, carry = [], row
    for p in planes:
        out.append(p ^ carry)
        carry = p & carry
    return tuple(out)
