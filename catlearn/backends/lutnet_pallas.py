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
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as plt

from .._errors import BackendError, ShapeError

Array = Any
Wiring = tuple[np.ndarray, np.ndarray]
BACKENDS = ("interpret", "triton")
WORD = 32
_U0 = np.uint32(0)
# Interpret mode pays per grid step and per loop iteration: whole batch, big
# chunks. Triton: a tile of gate_block x block_words words per load, one warp
# per 512 of them (4 to 16). Tuned on an H100 (network(400, [8000] * 6, 10),
# 2^16 examples): (32, 256), 16 warps 0.77 ms; (32, 128), 8 warps 0.84 ms;
# (64, 64), 4 warps 2.0 ms.
_BLOCK_WORDS = {"interpret": 1 << 16, "triton": 32}
_GATE_BLOCK = {"interpret": 1 << 12, "triton": 256}


def default_block_words(backend: str) -> int:
    """Words of examples (32 each) one program handles by default."""
    return _BLOCK_WORDS[_check_backend(backend)]


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
    lay = _setup(x, tables, wirings, group_k, block_words, backend, gate_block)
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
    lay = _setup(x, tables, wirings, None, block_words, backend, gate_block, True)
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


# -- the static plan: padded sizes, offsets, and the index data -------------------
@dataclass(frozen=True)
class _Layout:
    """Where everything lives. Gate counts are padded per layer to a multiple of
    that layer's tile ``cs[l]`` (a power of two); index data is one flat
    ``int32`` array ``idx``, coefficients one flat ``uint32`` array."""

    backend: str
    n_in: int
    widths: tuple[int, ...]
    words: int  # W, words of the batch
    blk: int  # words per program
    n_words: int  # W padded to a multiple of blk
    cs: tuple[int, ...]  # gates per tile, per layer
    pad: tuple[int, ...]  # padded gates per layer
    gate_off: tuple[int, ...]  # layer l's gates in the flat coefficients / votes
    total: int  # sum of pad
    act_off: tuple[int, ...]  # row of layer l's output in the scratch buffer
    act_rows: int
    wire_off: tuple[int, ...]  # ia of layer l at idx[wire_off[l]:], ib after it
    in_cs: int  # tile of input rows for dx
    in_pad: int
    ct_slot: int  # rows of one cotangent ping-pong slot
    dab_half: int  # R_b rows start here in the R_a / R_b scratch
    fan_off: tuple[int, ...]  # transposed wiring of layer l, (width, rows) flat
    fan_width: tuple[int, ...]
    grouped: bool  # forward ends in group counts
    group: tuple[int, int, int]  # (index offset, rows per group, padded k)
    idx: np.ndarray

    @property
    def kp(self) -> int:
        return self.group[2]


def _layout(
    backend: str,
    n_in: int,
    wirings: Sequence[Wiring],
    words: int,
    blk: int,
    gate_block: int,
    group_k: int | None,
    keep_all: bool,
) -> _Layout:
    widths = tuple(len(ia) for ia, _ in wirings)
    cs = tuple(min(gate_block, pl.next_power_of_2(n)) for n in widths)
    pad = tuple(-(-n // c) * c for n, c in zip(widths, cs, strict=True))
    gate_off = tuple(int(v) for v in np.cumsum((0, *pad[:-1])))
    # Scratch rows: every hidden layer for reverse; two slots for forward (the
    # last layer too when it feeds group counts).
    stored = len(pad) - 1 if group_k is None or keep_all else len(pad)
    if keep_all:
        act_off = tuple(int(v) for v in np.cumsum((0, *pad[: stored - 1])))
        act_rows = sum(pad[:stored])
    else:
        slot = max(pad[:stored], default=0)
        act_off, act_rows = tuple((li % 2) * slot for li in range(stored)), 2 * slot
    act_rows = max(act_rows, 1)  # no empty buffers
    in_cs = min(gate_block, pl.next_power_of_2(n_in))
    in_pad = -(-n_in // in_cs) * in_cs
    chunks: list[np.ndarray] = []
    wire_off, fan_off, fan_width = [], [], []
    dab_half = max(pad)
    for li, (ia, ib) in enumerate(wirings):  # rows of the source, padded with its 0
        base = 0 if li == 0 else act_off[li - 1]
        wire_off.append(sum(len(c) for c in chunks))
        for w in (ia, ib):
            w = np.asarray(w, np.int32) + base
            chunks.append(np.pad(w, (0, pad[li] - len(w)), constant_values=base))
    for li, (ia, ib) in enumerate(wirings if keep_all else ()):  # reverse only
        fan = _fan_in(widths[li - 1] if li else n_in, ia, ib, dab_half)
        rows = pad[li - 1] if li else in_pad
        fan = np.pad(fan, ((0, rows - fan.shape[0]), (0, 0)), constant_values=-1)
        fan_off.append(sum(len(c) for c in chunks))
        fan_width.append(fan.shape[1])
        chunks.append(fan.T.ravel())
    k = group_k or 1
    kp = pl.next_power_of_2(k)
    last = act_off[-1] if group_k is not None and not keep_all else 0
    starts = last + (widths[-1] // k) * np.arange(kp)
    group = (sum(len(c) for c in chunks), widths[-1] // k, kp)
    chunks.append(np.where(np.arange(kp) < k, starts, last).astype(np.int32))
    return _Layout(
        backend=backend,
        n_in=n_in,
        widths=widths,
        words=words,
        blk=blk,
        n_words=-(-words // blk) * blk,
        cs=cs,
        pad=pad,
        gate_off=gate_off,
        total=sum(pad),
        act_off=act_off,
        act_rows=act_rows,
        wire_off=tuple(wire_off),
        in_cs=in_cs,
        in_pad=in_pad,
        ct_slot=max(pad[:-1], default=1),
        dab_half=dab_half,
        fan_off=tuple(fan_off),
        fan_width=tuple(fan_width),
        grouped=group_k is not None and not keep_all,
        group=group,
        idx=np.concatenate(chunks),
    )


def _fan_in(n_in: int, ia: np.ndarray, ib: np.ndarray, half: int) -> np.ndarray:
    """For each input row, the rows of the ``R_a, R_b`` scratch that read it
    (``g`` for ``a``, ``half + g`` for ``b``), ``-1`` padded: ``(n_in, width)``."""
    readers: list[list[int]] = [[] for _ in range(n_in)]
    for g, (a, b) in enumerate(zip(ia.tolist(), ib.tolist(), strict=True)):
        readers[a].append(g)
        readers[b].append(half + g)
    table = np.full((n_in, max(1, *map(len, readers))), -1, dtype=np.int32)
    for i, r in enumerate(readers):
        table[i, : len(r)] = r
    return table


def _coefficients(tables: Sequence[Array], lay: _Layout) -> Array:
    """Flat ANF coefficients: per layer ``(c0, c1, c2, c3)``, each padded."""
    parts = []
    for t, p in zip(tables, lay.pad, strict=True):
        t00, t01, t10, t11 = t[:, 0], t[:, 1], t[:, 2], t[:, 3]
        c = jnp.stack([t00, t00 ^ t10, t00 ^ t01, t00 ^ t01 ^ t10 ^ t11])
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


def _gate_inputs(lay: _Layout, li: int, g0: Any, r: _Refs) -> tuple[Any, Any, list]:
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


def _layer_forward(lay: _Layout, li: int, r: _Refs, dst: Any, base: int) -> None:
    """``z = c0 ^ a (c1 ^ b c3) ^ b c2`` for every gate of layer ``l``, into rows
    ``base + g`` of ``dst``."""

    def tile(i: Any) -> None:
        cs = lay.cs[li]
        g0 = _tile(i, cs)
        a, b, (c0, c1, c2, c3) = _gate_inputs(lay, li, g0, r)
        dst[pl.ds(base + g0, cs), :] = c0 ^ (a & (c1 ^ (b & c3))) ^ (b & c2)

    _loop(lay.pad[li] // lay.cs[li], tile)


def _layer_reverse(lay: _Layout, li: int, r: _Refs, on_gpu: bool) -> None:
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
            count = jnp.sum(_popcount(d & minterm), axis=1)
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


def _forward_kernel(lay: _Layout) -> Callable[..., None]:
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


def _reverse_kernel(lay: _Layout) -> Callable[..., None]:
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


def _group_counts(lay: _Layout, r: _Refs) -> None:
    """Ones per example in each group of the last layer's rows, by bit-sliced
    counters (plane ``i`` holds bit ``i`` of every count; adding a row ripples a
    carry), then unpacked into ``out`` ``(kp, 32, blk)``: bit, then word."""
    off, m, kp = lay.group
    starts = r.idx[pl.ds(off, kp)]

    def add_row(i: Any, planes: tuple[Any, ...]) -> tuple[Any, ...]:
        carry, new = r.act[starts + i, :], []
        for p in planes:
            new.append(p ^ carry)
            carry = p & carry
        return tuple(new)

    zero = jnp.zeros((kp, lay.blk), jnp.uint32)
    planes = jax.lax.fori_loop(0, m, add_row, (zero,) * m.bit_length())
    shifts = jnp.arange(WORD, dtype=jnp.uint32)[None, :, None]
    counts = jnp.zeros((kp, WORD, lay.blk), jnp.int32)
    for i, p in enumerate(planes):
        bit = (p[:, None, :] >> shifts) & np.uint32(1)
        counts = counts + (bit << np.uint32(i)).astype(jnp.int32)
    r.out[...] = counts.astype(jnp.float32)


def _popcount(v: Any) -> Any:
    """Ones per ``uint32`` word, as ``int32``: the SWAR bit count (Triton has
    no lowering for ``math.ctpop``)."""
    v = v - ((v >> 1) & np.uint32(0x55555555))
    v = (v & np.uint32(0x33333333)) + ((v >> 2) & np.uint32(0x33333333))
    v = (v + (v >> 4)) & np.uint32(0x0F0F0F0F)
    return ((v * np.uint32(0x01010101)) >> 24).astype(jnp.int32)


# -- plumbing ----------------------------------------------------------------------
def _buffer(rows: int, lay: _Layout) -> tuple[Any, Any]:
    """A ``uint32`` output ``(rows, n_words)``; each program owns its words."""
    out = jax.ShapeDtypeStruct((rows, lay.n_words), jnp.uint32)
    return out, pl.BlockSpec((rows, lay.blk), lambda i: (0, i))


def _spec3(k: int, m: int, lay: _Layout) -> Any:
    return pl.BlockSpec((k, m, lay.blk), lambda i: (0, 0, i))


def _call(
    kernel: Callable[..., None],
    lay: _Layout,
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


def _check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise BackendError(
            f"lutnet: backend {backend!r} is not one of {BACKENDS}. Fix: "
            "backend='interpret' (any device, e.g. CPU) or backend='triton' (GPU)."
        )
    return backend


def _pow2(name: str, value: Any, backend: str, need_pow2: bool) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    if not ok or (need_pow2 and value & (value - 1)):
        what = "a power of two" if need_pow2 else "a positive int"
        raise BackendError(
            f"lutnet: {name}={value!r} for backend {backend!r}, but it must be "
            f"{what}. Fix: e.g. {name}={_BLOCK_WORDS['triton']}, or leave it None "
            "for the default."
        )
    return value


def _setup(
    x: Array,
    tables: Sequence[Array],
    wirings: Sequence[Wiring],
    group_k: int | None,
    block_words: int | None,
    backend: str,
    gate_block: int | None,
    reverse: bool = False,
) -> _Layout:
    """Check the arguments; return the layout."""
    on_gpu = _check_backend(backend) == "triton"
    blk = _BLOCK_WORDS[backend] if block_words is None else block_words
    gb = _GATE_BLOCK[backend] if gate_block is None else gate_block
    blk = _pow2("block_words", blk, backend, on_gpu)
    gb = _pow2("gate_block", gb, backend, True)
    if x.ndim != 2 or x.dtype != jnp.uint32:
        raise ShapeError(
            f"lutnet: x has shape {tuple(x.shape)} and dtype {x.dtype}, but it must "
            "be packed words uint32 (n_in, words). Fix: x = bits.pack(X)."
        )
    if not wirings or len(tables) != len(wirings):
        raise ShapeError(
            f"lutnet: {len(tables)} tables for {len(wirings)} wirings; the network "
            "needs one table per layer and at least one layer. Fix: pass as many "
            "tables as wirings."
        )
    n_prev = x.shape[0]
    for li, (t, (ia, ib)) in enumerate(zip(tables, wirings, strict=True)):
        if (
            tuple(t.shape) != (len(ia), 4)
            or t.dtype != jnp.uint32
            or len(ib) != len(ia)
        ):
            raise ShapeError(
                f"lutnet: layer {li} has {len(ia)} gates (wiring), but its table has "
                f"shape {tuple(t.shape)} and dtype {t.dtype}. Fix: pass uint32 masks "
                f"of shape ({len(ia)}, 4), e.g. bits.mask(table).reshape(-1, 4)."
            )
        if len(ia) and max(int(np.max(ia)), int(np.max(ib))) >= n_prev:
            raise ShapeError(
                f"lutnet: layer {li}'s wiring reads row {max(np.max(ia), np.max(ib))},"
                f" but its input has {n_prev} rows. Fix: wiring(n_in={n_prev}, ...)."
            )
        n_prev = len(ia)
    if group_k is not None and (group_k < 1 or n_prev % group_k):
        raise ShapeError(
            f"lutnet: group_k={group_k} does not split the last layer's {n_prev} "
            f"rows into equal groups. Fix: a divisor of {n_prev}."
        )
    words = x.shape[1]
    blk = min(blk, pl.next_power_of_2(words) if on_gpu else words)
    return _layout(backend, x.shape[0], wirings, words, blk, gb, group_k, reverse)
