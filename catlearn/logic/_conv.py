"""Convolutional logic layers (``cl.logic.conv``, ``cl.logic.or_pool``,
``cl.logic.tile``), after "Convolutional Differentiable Logic Gate Networks"
(Petersen et al., NeurIPS 2024): at every position of a receptive field
sliding over an image (or a signal), a small binary tree of learnable 2-input
gates reads ``2^depth`` bits of the field; one tree per output channel, its
tables and its wiring **shared by every position**.

The sharing is in the diagram: each level of the trees is one ``lut_layer``
box (all positions' gates, wiring as data), whose table is the level's one
``Param`` fed through ``tile``, which repeats it for every position. Its
reverse adds the positions' cotangents (XOR under Boolean), so every
semantics trains, runs, fuses and exports the shared gates like any others.

>>> import catlearn as cl
>>> c = cl.logic.conv((1, 8, 8), channels=4, kernel=3, depth=2, name="c")
>>> c.dom, c.cod
(monoidal.Ty(bits(1, 8, 8)), monoidal.Ty(bits(4, 6, 6)))
>>> c.params
{'c.0.table': monoidal.Ty(bits(32)), 'c.1.table': monoidal.Ty(bits(16))}
>>> (c >> cl.logic.or_pool((4, 6, 6), 2)).cod
monoidal.Ty(bits(4, 3, 3))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._errors import TypeSpecError
from ..diagrams import (
    Box,
    Diagram,
    LutLayerSpec,
    Param,
    ThermometerSpec,
    TileSpec,
    bits,
    check_seed,
    is_count,
    real,
    residual_scale,
)


def _sizes(value: Any, n: int, what: str) -> tuple[int, ...]:
    sizes = (value,) * n if not isinstance(value, Sequence) else tuple(value)
    if len(sizes) != n or not all(is_count(v) for v in sizes):
        raise TypeSpecError(
            f"{what}={value!r} must be a positive int or {n} of them (one per "
            f"axis after the channels). Fix: e.g. {what}=2."
        )
    return tuple(int(v) for v in sizes)


def _shape(shape: Any, what: str) -> tuple[int, ...]:
    ok = isinstance(shape, Sequence) and not isinstance(shape, str) and len(shape) >= 2
    if not ok or not all(is_count(v) for v in shape):
        raise TypeSpecError(
            f"{what}: the shape {shape!r} is not (channels, length) or (channels, "
            "height, width) of positive ints. Fix: e.g. (1, 8, 8)."
        )
    return tuple(int(v) for v in shape)


def tile(shape: Sequence[int], r: int, axis: int = 0) -> Diagram:
    """``bits(*shape) -> bits(*shape[:axis], r, *shape[axis:])``: the value
    repeated ``r`` times along a new axis (one parameter shared by ``r``
    positions; the reverse adds the copies' cotangents)."""
    shape = tuple(shape)
    if not is_count(r) or not isinstance(axis, int) or not 0 <= axis <= len(shape):
        raise TypeSpecError(
            f"tile({shape!r}, {r!r}, axis={axis!r}): r must be a positive int and "
            f"axis in 0..{len(shape)}. Fix: e.g. tile((4, 8), 9, axis=1)."
        )
    new = (*shape[:axis], int(r), *shape[axis:])
    return Box("tile", bits(*shape), bits(*new), data=TileSpec(axis).to_data())


def or_pool(shape: Sequence[int], window: int | Sequence[int] = 2) -> Diagram:
    """``bits(c, *n) -> bits(c, *n / window)``: each output bit the OR of a
    ``window`` of inputs along every axis after the channels (non-overlapping;
    "logical OR pooling" of Petersen et al., 2024). Under Smooth the OR of
    the window is relaxed as ``1 - prod(1 - x)``, as the ``OR`` gate is."""
    c, *n = _shape(shape, "or_pool")
    k = _sizes(window, len(n), "window")
    if any(a % b for a, b in zip(n, k, strict=True)):
        raise TypeSpecError(
            f"or_pool({tuple(shape)!r}, window={window!r}): the window does not "
            f"divide the axes {tuple(n)}. Fix: a window dividing each of them."
        )
    out = (c, *(a // b for a, b in zip(n, k, strict=True)))
    return Box("or_pool", bits(c, *n), bits(*out))


def _leaves(field: tuple[int, ...], n_leaves: int, rng: Any) -> np.ndarray:
    """``n_leaves`` offsets into the receptive field ``field = (c, *k)``,
    distinct while the field has room, as rows ``(channel, *offset)``."""
    size = math.prod(field)
    picks = rng.choice(size, n_leaves, replace=n_leaves > size)
    return np.stack(np.unravel_index(picks, field), axis=1)


def conv(
    in_shape: Sequence[int],
    channels: int,
    kernel: int | Sequence[int],
    depth: int = 2,
    stride: int | Sequence[int] = 1,
    seed: int = 0,
    name: str = "conv",
    relax: str = "sin",
    init: str = "residual",
) -> Diagram:
    """A convolutional logic layer ``bits(c, *n) -> bits(channels, *m)``: per
    output channel a tree of ``2^depth - 1`` learnable 2-input gates reading
    ``2^depth`` bits of a ``kernel``-sized receptive field (drawn from
    ``seed``), applied at every position (``m_i = (n_i - k_i) // stride_i +
    1``) with one shared set of tables: parameter ``{name}.{l}.table`` for
    level ``l`` of the trees (``l = 0`` reads the field). ``init``:
    ``"residual"`` (gates start near passing their first input through, so
    deep stacks train) or any ``cl.Param`` init."""
    c, *n = _shape(in_shape, "conv")
    k = _sizes(kernel, len(n), "kernel")
    s = _sizes(stride, len(n), "stride")
    for what, v in (("channels", channels), ("depth", depth)):
        if not is_count(v):
            raise TypeSpecError(
                f"conv: {what}={v!r} must be a positive int. Fix: e.g. {what}=2."
            )
    if any(a < b for a, b in zip(n, k, strict=True)):
        raise TypeSpecError(
            f"conv: the kernel {k} is larger than the input's axes {tuple(n)}. "
            "Fix: a smaller kernel."
        )
    seed = check_seed(seed, f"conv({tuple(in_shape)!r}, {channels}, seed={seed!r})")
    m = tuple((a - b) // st + 1 for a, b, st in zip(n, k, s, strict=True))
    positions = np.stack(np.unravel_index(np.arange(math.prod(m)), m), axis=1)
    rng = np.random.default_rng(seed)
    leaves = [_leaves((c, *k), 2**depth, rng) for _ in range(channels)]
    strides = np.array([math.prod(n[i + 1 :]) for i in range(len(n))])
    origin = positions * np.array(s)  # (P, axes): each field's corner
    first = []  # per (channel, position): the flat input index of each leaf
    for tree in leaves:
        at = (origin[:, None, :] + tree[None, :, 1:]) @ strides  # (P, leaves)
        first.append(tree[None, :, 0] * math.prod(n) + at)
    flat = np.stack(first).reshape(-1, 2**depth)  # rows: (channel, position)
    n_pos, layers = len(positions), []
    width, reads = c * math.prod(n), (flat[:, 0::2], flat[:, 1::2])
    for level in range(depth):
        per_tree = 2 ** (depth - 1 - level)  # gates of one tree at this level
        gates = channels * n_pos * per_tree
        if level:  # gate g of a tree reads gates 2g, 2g + 1 of the level below
            reads = (np.arange(0, 2 * gates, 2), np.arange(1, 2 * gates, 2))
        a, b = (r.reshape(-1) for r in reads)
        table = Param(f"{name}.{level}.table", bits(channels * 4 * per_tree),
                      init=init, scale=residual_scale(relax), relax=relax)
        shared = Diagram.then(
            table,
            Box("reshape", bits(channels * 4 * per_tree), bits(channels, 4 * per_tree)),
            tile((channels, 4 * per_tree), n_pos, axis=1),
            Box("reshape", bits(channels, n_pos, 4 * per_tree), bits(4 * gates)),
        )
        indices = (tuple(a.tolist()), tuple(b.tolist()))
        spec = LutLayerSpec(width, gates, 0, relax, indices)
        layer = Box("lut_layer", bits(4 * gates) @ bits(width), bits(gates),
                    data=spec.to_data())
        layers.append((shared @ bits(width)) >> layer)
        width = gates
    flatten = Box("reshape", bits(c, *n), bits(c * math.prod(n)))
    unflatten = Box("reshape", bits(width), bits(channels, *m))
    return Diagram.then(flatten, *layers, unflatten)


def thermometer(
    levels: int | None = None,
    data: Any = None,
    thresholds: Any = None,
    tau: float = 0.0,
    order: str = "feature",
) -> Diagram:
    """The input encoder ``real(n) -> bits(n * levels)``: bit ``i * levels +
    l`` is ``x_i > thresholds[i][l]``. Give the thresholds (an ``(n,
    levels)`` table), or ``levels`` and ``data`` (examples ``(m, n)``, e.g.
    the training set) to place them at each feature's quantiles ``(l + 1) /
    (levels + 1)``. Exact under Boolean and Kernel (comparisons); under
    Smooth the same step (``tau = 0``, no gradient to the input) or the
    sigmoid ``sigma((x - t) / tau)``. The thresholds are saved with the
    diagram. ``order="level"`` lays the bits out level by level (bit ``l * n
    + i``): an image of ``n = h * w`` pixels becomes ``levels`` channels,
    ``>> cl.logic.reshape((levels * h * w,), (levels, h, w))``.

    >>> import numpy as np
    >>> enc = thermometer(3, data=np.arange(8.0).reshape(4, 2))
    >>> enc.dom, enc.cod
    (monoidal.Ty(real(2)), monoidal.Ty(bits(6)))
    """
    if thresholds is None:
        if not is_count(levels) or data is None:
            raise TypeSpecError(
                f"thermometer: give thresholds=(n, levels) table, or levels (a "
                f"positive int, got {levels!r}) and data (examples, n features). "
                "Fix: e.g. cl.logic.thermometer(8, data=X_train)."
            )
        x = np.asarray(data, dtype=np.float64)
        if x.ndim != 2 or not len(x) or not np.isfinite(x).all():
            raise TypeSpecError(
                f"thermometer: data must be a finite (examples, features) array, "
                f"got shape {x.shape}. Fix: pass the training inputs, e.g. X_train."
            )
        k = int(levels)  # type: ignore[arg-type]  # a count, checked above
        q = np.arange(1, k + 1) / (k + 1)
        thresholds = np.quantile(x, q, axis=0).T  # (features, levels)
    try:
        table = np.asarray(thresholds, dtype=np.float64)
    except (TypeError, ValueError):
        table = np.zeros((0,))
    if table.ndim != 2 or not table.size or not np.isfinite(table).all():
        raise TypeSpecError(
            f"thermometer: thresholds must be a finite (n, levels) table, got "
            f"{thresholds!r:.60}. Fix: one row of as many thresholds per feature."
        )
    rows = tuple(tuple(float(t) for t in r) for r in table)
    n, k = table.shape
    if order not in ("feature", "level"):
        raise TypeSpecError(
            f"thermometer: order={order!r} is not 'feature' or 'level'. Fix: one "
            "of those."
        )
    data_ = ThermometerSpec(rows, float(tau), order).to_data()
    return Box("thermometer", real(n), bits(n * k), data=data_)
