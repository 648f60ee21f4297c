"""The static plan of the Pallas LUT-network kernel
(:mod:`catlearn.backends.lutnet_pallas`): its arguments checked, the padded
sizes and offsets of every layer, and the index data (wirings, fan-in tables,
group starts) as one flat array the kernel loads from.

>>> import numpy as np, jax.numpy as jnp
>>> x = jnp.zeros((3, 2), jnp.uint32)
>>> t = jnp.zeros((2, 4), jnp.uint32)
>>> lay = setup(x, [t], [(np.array([0, 1]), np.array([2, 2]))], None, None,
...             "interpret", None, reverse=True)
>>> lay.widths, lay.pad, lay.fan_width
((2,), (2,), (2,))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax.experimental import pallas as pl

from .._errors import BackendError, ShapeError
from ._lut import fan_in

Array = Any
Wiring = tuple[np.ndarray, np.ndarray]

BACKENDS = ("interpret", "triton")
WORD = 32
# Interpret mode pays per grid step and per loop iteration: whole batch, big
# chunks. Triton: a tile of gate_block x block_words words per load, one warp
# per 512 of them (4 to 16). Tuned on an H100 (network(400, [8000] * 6, 10),
# 2^16 examples): (32, 256), 16 warps 0.77 ms; (32, 128), 8 warps 0.84 ms;
# (64, 64), 4 warps 2.0 ms.
_BLOCK_WORDS = {"interpret": 1 << 16, "triton": 32}
_GATE_BLOCK = {"interpret": 1 << 12, "triton": 256}


def default_block_words(backend: str) -> int:
    """Words of examples (32 each) one program handles by default."""
    return _BLOCK_WORDS[check_backend(backend)]


# -- the static plan: padded sizes, offsets, and the index data -------------------
@dataclass(frozen=True)
class Layout:
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


def layout(
    backend: str,
    n_in: int,
    wirings: Sequence[Wiring],
    words: int,
    blk: int,
    gate_block: int,
    group_k: int | None,
    keep_all: bool,
) -> Layout:
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
        fan = fan_in(ia, ib, widths[li - 1] if li else n_in, half=dab_half)
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
    return Layout(
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


def check_backend(backend: str) -> str:
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


def setup(
    x: Array,
    tables: Sequence[Array],
    wirings: Sequence[Wiring],
    group_k: int | None,
    block_words: int | None,
    backend: str,
    gate_block: int | None,
    reverse: bool = False,
) -> Layout:
    """Check the arguments; return the layout."""
    on_gpu = check_backend(backend) == "triton"
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
    return layout(backend, x.shape[0], wirings, words, blk, gb, group_k, reverse)
