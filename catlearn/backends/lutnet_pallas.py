"""A Pallas kernel for bit-packed LUT networks: every layer, one block of
examples per program, the wiring as index data.

A network is a chain of layers of 2-input gates; layer ``l`` has ``n_l`` gates,
gate ``g`` reading rows ``ia[g], ib[g]`` of the previous layer (of ``x`` for
layer 0) through its table ``(t00, t01, t10, t11)`` of masks, in algebraic
normal form ``c0 ^ a (c1 ^ b c3) ^ b c2`` (as ``cl.Boolean()`` computes it).
Values are the packed words of :mod:`catlearn.backends.bits`: ``(rows, words)``
``uint32``, 32 examples per word. Blocks of words are independent, so program
``i`` of the grid takes words ``[i B, (i + 1) B)`` through every layer:

- gathers are loads from a ref with an index array (pointer arithmetic on the
  GPU), never indexing into a loaded value;
- a layer's output lives in a scratch output buffer in global memory (the
  program's own columns; two ping-pong slots for ``forward``, every layer for
  ``reverse``), with a barrier between layers on the GPU;
- reductions over the batch (vote counts) are per-block partial sums, added
  by XLA after the kernel.

The reverse pass (Boolean's Z2 rules, see :mod:`catlearn.functors._boolean`)
recomputes the block's forward, then walks the layers down: ``R_t = dz &
(~a~b, ~a b, a~b, a b)`` counted into votes, ``R_a = dz & (c1 ^ b c3)``, ``R_b
= dz & (c2 ^ a c3)`` into a scratch, and each input row's cotangent is the XOR
of the ``R_a, R_b`` of the gates reading it: a gather through the transposed
wiring (deterministic; no atomics).

>>> import numpy as np, jax.numpy as jnp
>>> x = jnp.array([[0b1100], [0b1010]], dtype=jnp.uint32)   # 4 examples
>>> xor = jnp.array([[0, 1, 1, 0]], dtype=jnp.uint32) * np.uint32(0xFFFFFFFF)
>>> wiring = (np.array([0], np.int32), np.array([1], np.int32))
>>> int(forward(x, [xor], [wiring])[0, 0]) == 0b0110
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as plt

from .._errors import ShapeError
from ._lut import anf, count_row, popcount_words
from ._pallas_plan import BACKENDS as BACKENDS
from ._pallas_plan import WORD as WORD
from ._pallas_plan import Layout, Wiring, setup
from ._pallas_plan import default_block_words as default_block_words

Array = Any
_U0 = np.uint32(0)


# -- the public entry points ------------------------------------------------------
def forward(
    x: Array,
    tables: Sequence[Array],
    wirings: Sequence[Wiring],
    *,
    group_k: int | None = None,
    block_words: int | None = None,
    backend: str = "interpret",
    gate_block: int | None = None,
) -> Array:
    """The last layer's words ``(n_L, W)`` ``uint32`` for packed inputs ``x``
    ``(n_in, W)``; with ``group_k``, the ones in each of ``group_k`` equal groups
    of its rows per example, ``float32`` ``(group_k, 32 W)`` (as Boolean's
    ``group_sum``). ``tables[l]``: ``uint32`` masks ``(n_l, 4)``; ``wirings[l]``:
    static ``(ia, ib)``. ``gate_block``: gates per tile (a power of two)."""
    lay = setup(x, tables, wirings, group_k, block_words, backend, gate_block)
    if group_k is None:
        out = _buffer(lay.pad[-1], lay)
    else:
        shape = (lay.kp, WORD, lay.n_words)
        out = (jax.ShapeDtypeStruct(shape, jnp.float32), _spec3(lay.kp, WORD, lay))
    res = _call(_forward_kernel(lay), lay, tables, [_buffer(lay.act_rows, lay), out], x)
    if group_k is None:
        return res[1][: lay.widths[-1], : lay.words]
    counts = res[1][:group_k].transpose(0, 2, 1).reshape(group_k, -1)
    return counts[:, : WORD * lay.words]


def reverse(
    x: Array,
    tables: Sequence[Array],
    wirings: Sequence[Wiring],
    dz: Array,
    *,
    block_words: int | None = None,
    backend: str = "interpret",
    gate_block: int | None = None,
) -> tuple[Array, tuple[Array, ...]]:
    """``(dx, votes)`` for the output cotangent ``dz`` ``(n_L, W)``: ``dx``
    ``uint32`` ``(n_in, W)``, and per layer ``int32`` ``(4 n_l,)`` the number of
    examples whose cotangent of each table bit is 1 (its parity is Boolean's
    parameter cotangent). Padding bits of ``dz`` must be zero."""
    lay = setup(x, tables, wirings, None, block_words, backend, gate_block, True)
    if tuple(dz.shape) != (lay.widths[-1], lay.words) or dz.dtype != jnp.uint32:
        raise ShapeError(
            f"lutnet reverse: dz has shape {tuple(dz.shape)} and dtype {dz.dtype}, "
            f"but the network's output is uint32 {(lay.widths[-1], lay.words)}. "
            "Fix: pass the packed cotangent of the last layer (bits.pack)."
        )
    dz = jnp.pad(dz, ((0, lay.pad[-1] - dz.shape[0]), (0, 0)))
    rows = (lay.in_pad, lay.act_rows, 2 * lay.ct_slot, 2 * lay.dab_half)
    n_blocks = lay.n_words // lay.blk
    votes = jax.ShapeDtypeStruct((n_blocks, 4, lay.total), jnp.int32)
    outs = [_buffer(r, lay) for r in rows]
    outs.append((votes, pl.BlockSpec((None, 4, lay.total), lambda i: (i, 0, 0))))
    res = _call(_reverse_kernel(lay), lay, tables, outs, x, dz)
    dx, counts = res[0][: lay.n_in, : lay.words], jnp.sum(res[-1], axis=0)
    per_layer = tuple(
        counts[:, o : o + n].T.reshape(4 * n)
        for o, n in zip(lay.gate_off, lay.widths, strict=True)
    )
    return dx, per_layer


def _coefficients(tables: Sequence[Array], lay: Layout) -> Array:
    """Flat ANF coefficients: per layer ``(c0, c1, c2, c3)``, each padded."""
    parts = []
    for t, p in zip(tables, lay.pad, strict=True):
        c = jnp.stack(anf(t))
        parts.append(jnp.pad(c, ((0, 0), (0, p - t.shape[0]))).ravel())
    return jnp.concatenate(parts)


# -- the kernels ---------------------------------------------------------------------
def _loop(n: int, body: Callable[[Any], None]) -> None:
    """``body(i)`` for ``i < n``: a loop on the device, straight code for one."""
    if n == 1:
        body(0)
        return

    def step(i: Any, carry: int) -> int:
        body(i)
        return carry

    jax.lax.fori_loop(0, n, step, 0)


def _tile(i: Any, size: int) -> Any:
    return i * size if isinstance(i, int) else pl.multiple_of(i * size, size)


def _sync(on_gpu: bool) -> None:
    """Make one layer's stores visible to every thread of the program."""
    if on_gpu:
        plt.debug_barrier()


class _Refs(NamedTuple):
    """A program's refs: index data, coefficients, its block of ``x``, scratch
    rows for the layers' outputs, the result (``out``: the last layer's words or
    group counts; reverse: ``dx``), and the reverse pass's own buffers."""

    idx: Any
    coef: Any
    x: Any
    act: Any
    out: Any
    dz: Any = None  # the output cotangent
    ct: Any = None  # cotangents of hidden layers, two ping-pong slots
    dab: Any = None  # R_a (rows < dab_half) and R_b of the current layer
    votes: Any = None  # (4, total) partial counts of this block


def _gate_inputs(lay: Layout, li: int, g0: Any, r: _Refs) -> tuple[Any, Any, list]:
    """Tile ``g0`` of layer ``l``: inputs ``a, b`` gathered by their row indices
    (from ``x`` for layer 0), and the four ANF coefficient columns."""
    cs, p, src = lay.cs[li], lay.pad[li], r.x if li == 0 else r.act
    a = src[r.idx[pl.ds(lay.wire_off[li] + g0, cs)], :]
    b = src[r.idx[pl.ds(lay.wire_off[li] + p + g0, cs)], :]
    c = r.coef
    return (
        a,
        b,
        [c[pl.ds(4 * lay.gate_off[li] + k * p + g0, cs)][:, None] for k in range(4)],
    )


def _layer_forward(lay: Layout, li: int, r: _Refs, dst: Any, base: int) -> None:
    """``z = c0 ^ a (c1 ^ b c3) ^ b c2`` for every gate of layer ``l``, into rows
    ``base + g`` of ``dst``."""

    def tile(i: Any) -> None:
        cs = lay.cs[li]
        g0 = _tile(i, cs)
        a, b, (c0, c1, c2, c3) = _gate_inputs(lay, li, g0, r)
        dst[pl.ds(base + g0, cs), :] = c0 ^ (a & (c1 ^ (b & c3))) ^ (b & c2)

    _loop(lay.pad[li] // lay.cs[li], tile)


def _layer_reverse(lay: Layout, li: int, r: _Refs, on_gpu: bool) -> None:
    """Layer ``l`` backwards: votes and ``R_a, R_b`` per gate, then the input
    rows' cotangents by XOR through the transposed wiring."""
    top = li == len(lay.pad) - 1
    dz, dz_base = (r.dz, 0) if top else (r.ct, (li % 2) * lay.ct_slot)

    def gates(i: Any) -> None:
        cs = lay.cs[li]
        g0 = _tile(i, cs)
        a, b, (_, c1, c2, c3) = _gate_inputs(lay, li, g0, r)
        d = dz[pl.ds(dz_base + g0, cs), :]
        na, nb = ~a, ~b
        for k, minterm in enumerate((na & nb, na & b, a & nb, a & b)):
            count = jnp.sum(popcount_words(d & minterm, swar=True), axis=1)
            r.votes[k, pl.ds(lay.gate_off[li] + g0, cs)] = count
        r.dab[pl.ds(g0, cs), :] = d & (c1 ^ (b & c3))
        r.dab[pl.ds(lay.dab_half + g0, cs), :] = d & (c2 ^ (a & c3))

    _loop(lay.pad[li] // lay.cs[li], gates)
    _sync(on_gpu)
    rc = lay.cs[li - 1] if li else lay.in_cs
    rows = lay.pad[li - 1] if li else lay.in_pad
    dst, base = (r.out, 0) if li == 0 else (r.ct, ((li - 1) % 2) * lay.ct_slot)

    def fan_in(i: Any) -> None:
        r0 = _tile(i, rc)

        def add(j: Any, acc: Any) -> Any:
            t = r.idx[pl.ds(lay.fan_off[li] + j * rows + r0, rc)]
            v = r.dab[jnp.maximum(t, 0), :]
            return acc ^ jnp.where(t[:, None] >= 0, v, _U0)

        zero = jnp.zeros((rc, lay.blk), jnp.uint32)
        dst[pl.ds(base + r0, rc), :] = jax.lax.fori_loop(
            0, lay.fan_width[li], add, zero
        )

    _loop(rows // rc, fan_in)
    _sync(on_gpu)


def _forward_kernel(lay: Layout) -> Callable[..., None]:
    last, on_gpu = len(lay.pad) - 1, lay.backend == "triton"

    def kernel(idx: Any, coef: Any, x: Any, act: Any, out: Any) -> None:
        r = _Refs(idx, coef, x, act, out)
        for li in range(last + 1):
            to_out = li == last and not lay.grouped
            dst, base = (out, 0) if to_out else (act, lay.act_off[li])
            _layer_forward(lay, li, r, dst, base)
            _sync(on_gpu)
        if lay.grouped:
            _group_counts(lay, r)

    return kernel


def _reverse_kernel(lay: Layout) -> Callable[..., None]:
    last, on_gpu = len(lay.pad) - 1, lay.backend == "triton"

    def kernel(*refs: Any) -> None:
        idx, coef, x, dz, dx, act, ct, dab, votes = refs
        r = _Refs(idx, coef, x, act, dx, dz, ct, dab, votes)
        for li in range(last):  # recompute the block's hidden layers
            _layer_forward(lay, li, r, act, lay.act_off[li])
            _sync(on_gpu)
        for li in reversed(range(last + 1)):
            _layer_reverse(lay, li, r, on_gpu)

    return kernel


def _group_counts(lay: Layout, r: _Refs) -> None:
    """Ones per example in each group of the last layer's rows, by bit-sliced
    counters (plane ``i`` holds bit ``i`` of every count; adding a row ripples a
    carry), then unpacked into ``out`` ``(kp, 32, blk)``: bit, then word."""
    off, m, kp = lay.group
    starts = r.idx[pl.ds(off, kp)]

    def add_row(i: Any, planes: tuple[Any, ...]) -> tuple[Any, ...]:
        return count_row(planes, r.act[starts + i, :])

    zero = jnp.zeros((kp, lay.blk), jnp.uint32)
    planes = jax.lax.fori_loop(0, m, add_row, (zero,) * m.bit_length())
    shifts = jnp.arange(WORD, dtype=jnp.uint32)[None, :, None]
    counts = jnp.zeros((kp, WORD, lay.blk), jnp.int32)
    for i, p in enumerate(planes):
        bit = (p[:, None, :] >> shifts) & np.uint32(1)
        counts = counts + (bit << np.uint32(i)).astype(jnp.int32)
    r.out[...] = counts.astype(jnp.float32)


# -- plumbing ----------------------------------------------------------------------
def _buffer(rows: int, lay: Layout) -> tuple[Any, Any]:
    """A ``uint32`` output ``(rows, n_words)``; each program owns its words."""
    out = jax.ShapeDtypeStruct((rows, lay.n_words), jnp.uint32)
    return out, pl.BlockSpec((rows, lay.blk), lambda i: (0, i))


def _spec3(k: int, m: int, lay: Layout) -> Any:
    return pl.BlockSpec((k, m, lay.blk), lambda i: (0, 0, i))


def _call(
    kernel: Callable[..., None],
    lay: Layout,
    tables: Sequence[Array],
    outs: list[tuple[Any, Any]],
    *arrays: Array,
) -> Any:
    """Run ``kernel`` over the blocks of words: inputs the index data, the ANF
    coefficients and ``arrays`` (padded to ``n_words``), outputs ``outs``."""
    idx, coef = jnp.asarray(lay.idx), _coefficients(tables, lay)
    arrays = tuple(jnp.pad(a, ((0, 0), (0, lay.n_words - a.shape[1]))) for a in arrays)
    flat = [pl.BlockSpec(v.shape, lambda i: (0,)) for v in (idx, coef)]
    in_specs = flat + [_buffer(a.shape[0], lay)[1] for a in arrays]
    params = None
    if lay.backend == "triton":
        warps = min(16, max(4, lay.blk * max(lay.cs) // 512))  # a warp per 512 words
        params = plt.CompilerParams(num_warps=warps)
    return pl.pallas_call(
        kernel,
        out_shape=[o for o, _ in outs],
        grid=(lay.n_words // lay.blk,),
        in_specs=in_specs,
        out_specs=[sp for _, sp in outs],
        interpret=lay.backend == "interpret",
        compiler_params=params,
        name="lutnet",
    )(idx, coef, *arrays)
