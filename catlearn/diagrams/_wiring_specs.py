"""The specs of the generators that move bits without computing on them:
``select`` (learned wiring), ``tile`` (one value shared by many positions)
and ``or_pool`` (OR over windows). Their rows in ``SPEC_CHECKS``
(:mod:`._specs`) check a box's wires when it is made."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np

from .._errors import TypeSpecError
from ._checks import bit_shapes, field_error, is_count, where, wires_error
from ._memory import check_memory
from ._spec_base import Spec


def index_bits(n_in: int) -> int:
    """Bits of one learned choice among ``n_in`` wires: ``ceil(log2 n_in)``,
    at least 1."""
    return max(1, (n_in - 1).bit_length())


SELECT_RELAXATIONS = ("sin", "sigmoid", "softmax")


@dataclass(frozen=True)
class SelectSpec(Spec):
    """``select``: learned wiring, ``bits(n_sel, w) @ bits(n_in) -> bits(n_sel)``.
    Row ``s`` of the parameter holds the ``w = index_bits(n_in)`` bits of an
    index ``i_s = sum_b bit_b 2^b``; output ``s`` is input ``i_s`` (0 where
    ``i_s >= n_in``). Under Smooth each index bit is squashed by ``relax``
    (``"sin"``, ``"sigmoid"``), or (``"softmax"``) the parameter holds
    ``2^w`` logits per choice, one per index."""

    n_in: int
    n_sel: int
    relax: str = "sin"
    NAME: ClassVar[str] = "select"
    FIX: ClassVar[str] = "build it with cl.logic.select(n_in, n_sel, relax=...)"

    @property
    def w(self) -> int:
        return index_bits(self.n_in)

    @classmethod
    def parse(cls, box: Any) -> Self:
        fix, s = cls.FIX, cls._read(box)
        for field in ("n_in", "n_sel"):
            if not is_count(s[field]):
                raise field_error(box, field, s[field], "is not a positive int", fix)
        n_in, n_sel, relax = int(s["n_in"]), int(s["n_sel"]), s["relax"]
        if relax not in SELECT_RELAXATIONS:
            what = f"is not one of {SELECT_RELAXATIONS}"
            raise field_error(box, "relax", relax, what, fix)
        w, dom, cod = index_bits(n_in), bit_shapes(box.dom), bit_shapes(box.cod)
        if dom != [(n_sel, w), (n_in,)] or cod != [(n_sel,)]:
            raise wires_error(
                box, f"bits({n_sel}, {w}) @ bits({n_in}) -> bits({n_sel}) (the "
                f"{w} index bits of each of {n_sel} choices among {n_in} wires, "
                "then the wires)", fix
            )
        check_memory(
            f"{where(box)}: the relaxed choices of {n_sel:,} wires among {n_in:,}",
            4 * n_sel * (1 << w), "fewer choices, or fewer input wires",
        )
        return cls(n_in, n_sel, relax)


@dataclass(frozen=True)
class TileSpec(Spec):
    """``tile``: ``bits(*s) -> bits(*s[:axis], r, *s[axis:])``, the value
    repeated ``r`` times along a new axis: one parameter shared by ``r``
    positions (a convolution's gates). Its reverse adds the ``r`` copies'
    cotangents (XOR under Boolean). ``real`` wires tile the same way."""

    axis: int
    NAME: ClassVar[str] = "tile"
    FIX: ClassVar[str] = "build it with cl.logic.tile(shape, r, axis)"

    @classmethod
    def parse(cls, box: Any) -> Self:
        axis = cls._read(box)["axis"]
        dom, cod = box.dom.inside, box.cod.inside
        ok = len(dom) == len(cod) == 1 and dom[0].kind == cod[0].kind
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise field_error(box, "axis", axis, "is not an int", cls.FIX)
        if ok:
            s, t = dom[0].shape, cod[0].shape
            ok = 0 <= axis <= len(s) and t[:axis] + t[axis + 1 :] == s
        if not ok:
            raise wires_error(
                box, f"one wire of shape s to one of shape s with a new axis at "
                f"{axis}, e.g. bits(4, 8) -> bits(4, 9, 8) for axis=1", cls.FIX
            )
        return cls(axis)


def or_pool(box: Any) -> None:
    """``or_pool``: ``bits(c, *n) -> bits(c, *m)``, each output bit the OR of
    a window of ``n_i / m_i`` inputs along each axis after the channels."""
    dom, cod = bit_shapes(box.dom), bit_shapes(box.cod)
    ok = len(dom) == len(cod) == 1 and len(dom[0]) == len(cod[0]) >= 2
    if ok:
        (c, *n), (d, *m) = dom[0], cod[0]
        ok = c == d and all(a % b == 0 for a, b in zip(n, m, strict=True))
    if not ok:
        raise TypeSpecError(
            f"{where(box)}: expected bits(c, h, w) -> bits(c, h / k, w / k) (or "
            "bits(c, n) -> bits(c, n / k)): the channels, then each axis divided "
            "by its window. Fix: cl.logic.or_pool(shape, window)."
        )


def sort_wires(box: Any) -> None:
    """``sort``: ``bits(n) -> bits(n)``, the input's bits sorted ones first:
    output ``j`` is 1 when more than ``j`` inputs are (a count, in unary)."""
    dom, cod = bit_shapes(box.dom), bit_shapes(box.cod)
    if not (len(dom) == len(cod) == 1 and len(dom[0]) == 1 and dom == cod):
        raise TypeSpecError(
            f"{where(box)}: expected bits(n) -> bits(n) (one flat wire of bits, "
            "sorted), got "
            f"{box.dom} -> {box.cod}. Fix: cl.logic.sort(n), after "
            "cl.logic.flatten(...) for a shaped wire."
        )


def pool_window(box: Any) -> tuple[int, ...]:
    """The window of an ``or_pool`` box: ``n_i / m_i`` along each axis after
    the channels."""
    (_, *n), (_, *m) = box.dom.inside[0].shape, box.cod.inside[0].shape
    return tuple(a // b for a, b in zip(n, m, strict=True))


# -- which entries a tile copies and an or_pool window reads (every semantics,
# the netlist and the Z2 oracle index the same way) ------------------------------
def tile_axes(box: Any) -> tuple[int, int, int]:
    """``(A, r, B)``: the tiled wire is ``(A, r, B)``, its source ``(A, B)``."""
    axis, new = TileSpec.of(box).axis, box.cod.inside[0].shape
    return math.prod(new[:axis]), new[axis], math.prod(new[axis + 1 :])


def windows(box: Any, x: Any, lead: tuple[int, ...]) -> Any:
    """``x`` as ``(*lead, c, *m, K)``: each output's window on the last axis
    (``K`` bits), from ``(*lead, c, *n)`` with ``n_i = m_i k_i``."""
    c, *m = box.cod.inside[0].shape
    k = pool_window(box)
    split = [d for mi, ki in zip(m, k, strict=True) for d in (mi, ki)]
    x = x.reshape(*lead, c, *split)
    n, axes = len(lead) + 1, len(m)
    order = [*range(n), *(n + 2 * i for i in range(axes)),
             *(n + 2 * i + 1 for i in range(axes))]  # fmt: skip
    return x.transpose(order).reshape(*lead, c, *m, -1)


def unwindows(box: Any, w: Any, lead: tuple[int, ...]) -> Any:
    """The inverse of :func:`windows`."""
    c, *m = box.cod.inside[0].shape
    k = pool_window(box)
    x = w.reshape(*lead, c, *m, *k)
    n, axes = len(lead) + 1, len(m)
    order = [*range(n)]
    for i in range(axes):
        order += [n + i, n + axes + i]
    return x.transpose(order).reshape(*lead, *box.dom.inside[0].shape)


def tiled(box: Any, ids: list[Any]) -> list[Any]:
    """The entries of a ``tile`` box's output, from those of its input (any
    Python objects: netlist nodes, variables)."""
    a, r, b = tile_axes(box)
    return [ids[i * b + j] for i in range(a) for _ in range(r) for j in range(b)]


def pooled(box: Any, ids: list[Any]) -> list[list[Any]]:
    """The window of each output bit of an ``or_pool`` box (lists of input
    entries, any Python objects)."""
    order = windows(box, np.arange(len(ids)), ())
    return [[ids[i] for i in row] for row in order.reshape(-1, order.shape[-1])]
