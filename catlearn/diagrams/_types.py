"""Wire types. A type is a DisCoPy ``Ty`` whose objects are :class:`Wire` s.

A wire carries, per example, a float array of a fixed shape (``real``) or an
array of bits of a fixed shape (``bits``: ``bits(n)`` a vector, ``bits(c, h,
w)`` an image of ``c`` channels). The batch axis is never part of a type.

>>> from catlearn import real, bits
>>> real(3) @ bits(2)
monoidal.Ty(real(3), bits(2))
>>> real(3) == real(3, name="x")   # the name is a label, not part of the type
True
>>> real(2, 2) @ real() == real(2, 2) @ real()
True
>>> bits(2, 8, 8).inside[0].size
128
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from discopy import cat
from discopy.monoidal import Ty

from .._errors import TypeSpecError

KINDS = ("real", "bits")


class Wire(cat.Ob):
    """One wire: a kind (``"real"`` or ``"bits"``) and a per-example shape.

    Equality and hashing use the kind and shape only; ``name`` is a label
    shown in drawings.
    """

    def __init__(self, kind: str, shape: tuple[int, ...], name: str | None = None):
        if kind not in KINDS:
            raise TypeSpecError(
                f"wire kind {kind!r} is not one of {KINDS}. Fix: build wires "
                "with cl.real(...) or cl.bits(n)."
            )
        if not isinstance(shape, tuple | list):
            raise TypeSpecError(
                f"wire shape {shape!r} is not a tuple of sizes. Fix: build wires "
                "with cl.real(...) or cl.bits(n)."
            )
        shape = _check_dims(kind, tuple(shape))
        if kind == "bits" and not shape:
            raise TypeSpecError(
                "a bits wire has at least one dimension, got shape (). Fix: "
                "cl.bits(n) with n the number of bits (cl.bits(1) for one bit)."
            )
        if name is not None and not isinstance(name, str):
            raise TypeSpecError(
                f"{kind}{shape}: the wire name {name!r} is not a str. Fix: "
                f"name=\"x\" or leave it out ({kind}() takes sizes first)."
            )
        self.kind, self.shape, self.label = kind, shape, name
        dims = ", ".join(map(str, self.shape))
        super().__init__(name or f"{kind}({dims})")

    @property
    def size(self) -> int:
        """Number of scalars (or bits) in one example of this wire."""
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Wire) and (self.kind, self.shape) == (
            other.kind,
            other.shape,
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.shape))

    def __repr__(self) -> str:
        args = [str(d) for d in self.shape]
        if self.label:
            args.append(f"name={self.label!r}")
        return f"{self.kind}({', '.join(args)})"

    def __str__(self) -> str:
        return self.name


def _check_dims(what: str, dims: tuple[Any, ...]) -> tuple[int, ...]:
    """Positive ints (numpy integers too, made plain ``int``); never bools."""
    out = []
    for d in dims:
        ok = isinstance(d, numbers.Integral) and not isinstance(d, bool | np.bool_)
        if not ok or d < 1:
            raise TypeSpecError(
                f"{what}{tuple(dims)!r}: every dimension must be a positive int, "
                f"got {d!r}. Fix: pass sizes like {what}(3) or {what}(2, 4)."
            )
        out.append(int(d))
    return tuple(out)


def real(*shape: int, name: str | None = None) -> Ty:
    """One wire of float arrays of the given per-example shape (``real()`` is a
    scalar per example)."""
    return Ty(Wire("real", _check_dims("real", shape), name))


def bits(*shape: int, name: str | None = None) -> Ty:
    """One wire of bits of the given per-example shape: ``bits(n)``, ``n``
    bits; ``bits(c, length)`` or ``bits(c, h, w)``, a signal or an image of
    ``c`` channels. Every semantics reads the bits of a shaped wire in
    row-major (C) order: ``cl.logic.flatten`` and ``cl.logic.reshape``
    change the shape without moving a bit."""
    if not shape:
        raise TypeSpecError(
            "bits() needs at least one size. Fix: cl.bits(n) for n bits, "
            "cl.bits(c, h, w) for an image of c channels."
        )
    return Ty(Wire("bits", _check_dims("bits", shape), name))


def wires(ty: Ty) -> tuple[Wire, ...]:
    """The wires of a type, left to right."""
    return tuple(ty.inside)
