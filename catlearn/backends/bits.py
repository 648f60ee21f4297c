"""Bit-packed Boolean kernels: 32 examples per ``uint32`` word.

A batched ``bits(n)`` value is an array of shape ``(n, words)``: row ``i``
holds bit ``i`` of every example, example ``e`` at bit ``e % 32`` of word
``e // 32`` (features first, so a gate's inputs are whole rows). An unbatched
value (a parameter) is a *mask*, shape ``(n, 1)``: all ones or all zeros, so it
broadcasts against every word. Bits past the batch in the last word are
padding: forward values there are garbage, cotangents there are always zero
(every reverse rule is linear in the cotangent), so reductions may include them.

>>> import numpy as np
>>> x = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)   # 3 examples, 2 bits
>>> w = pack(x)
>>> w.shape, [int(v) for v in w[:, 0]]
((2, 1), [3, 6])
>>> unpack(w, 3).tolist() == x.tolist()
True
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._lut import count_row, popcount_words

Array = Any
WORD = 32
ONES = np.uint32(0xFFFFFFFF)
_SHIFTS = np.arange(WORD, dtype=np.uint32)


def n_words(batch: int) -> int:
    return max(1, -(-batch // WORD))


def pack(x: Array) -> Array:
    """``(batch, n)`` bools -> ``(n, words)`` uint32, examples along the bits."""
    x = jnp.asarray(x, dtype=jnp.bool_)
    batch, n = x.shape
    words = n_words(batch)
    x = jnp.pad(x, ((0, words * WORD - batch), (0, 0))).reshape(words, WORD, n)
    # Pack words-major (contiguous reads of the examples), then transpose. Fused
    # into one loop, the transpose makes every read strided (~10x slower).
    h, k = n // 2, words // 2
    major = _unfused([_shift_sum(x[:, :, :h]), _shift_sum(x[:, :, h:])])
    return _unfused([major[:k].T, major[k:].T])


def unpack(w: Array, batch: int) -> Array:
    """``(n, words)`` uint32 -> ``(batch, n)`` bools."""
    n, words = w.shape
    k = n // 2
    major = _unfused([w[:k].T, w[k:].T])  # (words, n), as in ``pack``
    bits = (major[:, None, :] >> _SHIFTS[:, None]) & np.uint32(1)
    return bits.reshape(words * WORD, n)[:batch].astype(jnp.bool_)


def _shift_sum(x: Array) -> Array:
    """``(words, 32, n)`` bools -> ``(words, n)``: bit ``j`` from ``x[:, j]``."""
    shifted = x.astype(jnp.uint32) << _SHIFTS[:, None]
    return jnp.sum(shifted, axis=1, dtype=jnp.uint32)


def _unfused(parts: list[Array]) -> Array:
    """Concatenate along the last axis, as a fusion barrier: XLA on CPU fuses a
    concatenation along the minor axis neither into its users nor with its
    operands, so both sides are materialised in their own loops
    (``lax.optimization_barrier`` is removed before fusion there)."""
    return jnp.concatenate(parts, axis=-1)


def unpack_rows(w: Array) -> Array:
    """``(n, words)`` uint32 -> ``(n, 32 * words)`` of 0/1 ``int32``, padding
    included (examples along axis 1)."""
    bits = (w[:, :, None] >> _SHIFTS) & np.uint32(1)
    return bits.reshape(w.shape[0], -1).astype(jnp.int32)


def pack_rows(r: Array) -> Array:
    """The inverse of :func:`unpack_rows`: ``(n, 32 * words)`` of 0/1 ->
    ``(n, words)`` uint32."""
    n, cols = r.shape
    rows = r.reshape(n, cols // WORD, WORD).astype(jnp.uint32)
    return jnp.sum(rows << _SHIFTS, axis=-1, dtype=jnp.uint32)


def group_count(w: Array, k: int) -> Array:
    """Ones per example in each of ``k`` equal groups of consecutive rows:
    ``(n, words)`` -> ``(k, 32 * words)`` ``int32``, padding included; equal
    to ``unpack_rows(w).reshape(k, n // k, -1).sum(axis=1)``.

    Bit-sliced counters (:func:`~catlearn.backends.count_row`: plane ``i``
    holds bit ``i`` of every example's running count), so no array of
    unpacked bits is built.

    >>> x = np.array([[1, 1, 0, 1], [0, 1, 1, 1], [1, 1, 1, 1]], dtype=bool)
    >>> group_count(pack(x), 2)[:, :3].tolist()   # groups of 2 bits, 3 examples
    [[2, 1, 2], [1, 2, 2]]
    """
    n, words = w.shape
    rows = w.reshape(k, n // k, words)

    def add_row(r: Any, planes: tuple[Array, ...]) -> tuple[Array, ...]:
        row = jax.lax.dynamic_index_in_dim(rows, r, axis=1, keepdims=False)
        return count_row(planes, row)

    zero = jnp.zeros((k, words), w.dtype)
    init = (zero,) * (n // k).bit_length()
    planes = jax.lax.fori_loop(0, n // k, add_row, init, unroll=8)  # 2-3x faster
    counts = unpack_rows(planes[0])
    for i, p in enumerate(planes[1:], 1):
        counts = counts + (unpack_rows(p) << i)
    return counts


def mask(b: Array) -> Array:
    """Unbatched bools ``(n,)`` -> all-ones / all-zeros words ``(n, 1)``."""
    b = jnp.asarray(b, dtype=jnp.bool_)
    return jnp.where(b, ONES, np.uint32(0))[:, None]


def unmask(m: Array) -> Array:
    """Mask words ``(n, 1)`` -> bools ``(n,)`` (bit 0 of each word)."""
    return (m[:, 0] & np.uint32(1)).astype(jnp.bool_)


def popcount(w: Array) -> Array:
    """Ones per row of ``(n, words)``, as ``int32`` ``(n,)``."""
    return jnp.sum(popcount_words(w), axis=-1, dtype=jnp.int32)


def parity(w: Array) -> Array:
    """XOR of all bits of each row: ``(n, words)`` -> mask words ``(n, 1)``.

    The sum over Z2 of a per-example cotangent: the reverse derivative of
    copying a parameter to every example."""
    return mask((popcount(w) & 1).astype(jnp.bool_))


def xor_gather_sum(rows: Array, table: Array) -> Array:
    """``out[i] = XOR_j rows[table[i, j]]``; ``table`` holds row indices and
    ``-1`` for none (``rows`` of shape ``(m, words)``, ``table`` ``(n, k)``)."""
    padded = jnp.concatenate([rows, jnp.zeros((1, rows.shape[1]), rows.dtype)])
    picked = padded[np.where(table < 0, rows.shape[0], table)]  # (n, k, words)
    out = picked[:, 0]
    for j in range(1, table.shape[1]):
        out = out ^ picked[:, j]
    return out
