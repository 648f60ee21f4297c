"""Diagrams: DisCoPy Markov diagrams whose wires are catlearn :class:`Wire` s.

A catlearn diagram *is* a ``discopy.markov.Diagram`` (a subclass that keeps
DisCoPy's layers, equality and drawing), composed with ``>>`` and ``@``, with
copy, discard and swap. Boxes are generators; ``Param`` boxes (no inputs) are
the learnable parameters, and lifting them to inputs gives the Para map
``P ⊗ A → B``.

The axioms of a monoidal category hold on the nose:

>>> import catlearn as cl
>>> x, y = cl.real(3), cl.real(2)
>>> f, g, h = cl.Box("f", x, y), cl.Box("g", y, x), cl.Box("h", x, x)
>>> assert (f >> g) >> h == f >> (g >> h)
>>> assert cl.Id(x) >> f == f == f >> cl.Id(y)
>>> assert (f @ g) @ h == f @ (g @ h)
>>> assert f @ g == (f @ cl.Id(y)) >> (cl.Id(y) @ g)

Parameters are read off by name:

>>> d = cl.Param("w", cl.real(3, 2)) @ x >> cl.Box("matmul", cl.real(3, 2) @ x, y)
>>> d.params
{'w': monoidal.Ty(real(3, 2))}
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

from discopy import cat, markov
from discopy.monoidal import Ty

from .._errors import CompositionError, ParamError, TypeSpecError
from ._specs import INITS as INITS
from ._specs import check_param, check_spec


def _short(d: Any, limit: int = 80) -> str:
    text = str(d)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@cat.factory
class Diagram(markov.Diagram):
    """A catlearn string diagram (a ``discopy.markov.Diagram``)."""

    def then(self, *others: Any) -> Diagram:
        others = tuple(as_diagram(o) for o in others)
        left: Any = self
        for right in others:
            if left.cod != right.dom:
                raise CompositionError(
                    f"{_short(left)} does not compose with {_short(right)}: "
                    f"codomain {left.cod!r} != domain {right.dom!r}. "
                    "Fix: insert a diagram from the first type to the second, or "
                    "change the sizes so that they agree."
                )
            left = right
        return super().then(*others)

    def tensor(self, other: Any = None, *others: Any) -> Diagram:
        if other is None:
            return self
        others = tuple(as_diagram(o) for o in others)
        return super().tensor(as_diagram(other), *others)

    def __matmul__(self, other: Any) -> Diagram:
        if isinstance(other, Ty):  # whiskering: f @ x
            return self.tensor(self.id(other))
        return self.tensor(as_diagram(other))

    def __rrshift__(self, other: Any) -> Diagram:
        # A plain DisCoPy diagram on the left: Python tries this first because
        # our class is a subclass of DisCoPy's.
        return as_diagram(other).then(self)

    def __rmatmul__(self, other: Any) -> Diagram:
        if isinstance(other, Ty):  # whiskering: x @ f
            return self.id(other).tensor(self)
        return as_diagram(other).tensor(self)

    @property
    def params(self) -> dict[str, Ty]:
        """``{name: type}`` of the diagram's ``Param`` boxes, in order of first
        appearance."""
        return params(self)

    def draw(self, path: str | None = None, **kwargs: Any) -> None:  # type: ignore[override]
        """Draw the diagram; with ``path``, write a PNG/SVG file (headless)."""
        draw(self, path, **kwargs)


class Box(markov.Box, Diagram):
    """A generator ``Box(name, dom, cod)``. Functors map it by ``name``, so a
    functor needs a rule for that name. ``data`` holds a small hashable spec
    (sizes, names, seeds), never arrays. A box named after a catlearn
    generator (``lut_layer``, ``AND``, ``matmul``, ...) is checked against its
    wires when it is made (:func:`catlearn.diagrams.check_spec`).
    """

    __ambiguous_inheritance__ = (markov.Box,)

    def __init__(self, name: str, dom: Ty, cod: Ty, data: Any = None, **params: Any):
        if not isinstance(name, str):
            raise TypeSpecError(f"Box name must be a str, got {name!r}.")
        for side, ty in (("dom", dom), ("cod", cod)):
            if not isinstance(ty, Ty):
                raise TypeSpecError(
                    f"Box {name!r}: {side} must be a type such as cl.real(3) or "
                    f"cl.bits(4) (combined with @), got {ty!r}."
                )
        markov.Box.__init__(self, name, dom, cod, data=data, **params)
        self._check_spec()

    def _check_spec(self) -> None:
        check_spec(self)

    @property
    def spec(self) -> dict[str, Any]:
        """The box's data as a dict (data is stored as sorted key-value pairs)."""
        return dict(self.data or ())

    def __repr__(self) -> str:
        data = f", data={self.data!r}" if self.data is not None else ""
        return f"Box({self.name!r}, {self.dom!r}, {self.cod!r}{data})"


def spec(**kwargs: Any) -> tuple[tuple[str, Any], ...]:
    """A hashable box spec from keyword arguments (sorted key-value pairs)."""
    return tuple(sorted(kwargs.items()))


class Param(Box):
    """A learnable parameter: a box from the unit type to one wire ``ty``.

    ``init`` names how ``Program.init`` draws it: ``"normal"`` (scale
    ``scale``), ``"uniform"`` (on ``[-scale, scale]``), ``"zeros"`` or
    ``"ones"``, or ``"residual"`` (a truth table that passes its first input
    through). ``relax`` names how a ``bits`` parameter is relaxed under
    ``Smooth`` (``"sin"`` or ``"sigmoid"``: the real value ``w`` stands for the
    probability ``(1 + sin w) / 2`` or ``sigmoid(w)`` of a 1).
    Parameters never carry the batch dimension. Two ``Param``
    boxes with the same name are the same parameter (tied weights).
    """

    def __init__(
        self,
        name: str,
        ty: Ty,
        init: str = "normal",
        scale: float = 1.0,
        relax: str | None = None,
    ):
        if not isinstance(ty, Ty) or len(ty) != 1:
            raise TypeSpecError(
                f"Param {name!r}: the type must be one wire such as cl.real(3, 2), "
                f"got {ty!r}. Fix: use one Param per wire."
            )
        if not isinstance(name, str):
            raise TypeSpecError(
                f"Param name must be a str, got {name!r}. Fix: cl.Param(\"w\", ty)."
            )
        check_param(name, ty, init, scale, relax)
        Box.__init__(
            self,
            name,
            Ty(),
            ty,
            data=spec(init=init, scale=float(scale), relax=relax),
            color="green",
        )

    def _check_spec(self) -> None:
        pass  # checked before the box was made: check_param

    @property
    def ty(self) -> Ty:
        return self.cod

    def __repr__(self) -> str:
        s = self.spec
        relax = f", relax={s['relax']!r}" if s["relax"] else ""
        return (
            f"Param({self.name!r}, {self.cod!r}, init={s['init']!r}, "
            f"scale={s['scale']!r}{relax})"
        )


class Swap(markov.Swap, Box):
    """Swap of two wires."""

    __ambiguous_inheritance__ = (markov.Swap,)


class _Copy(markov.Copy, Box):
    __ambiguous_inheritance__ = (markov.Copy,)


class _Discard(markov.Discard, _Copy):
    __ambiguous_inheritance__ = (markov.Discard,)


Diagram.copy_factory = _Copy
Diagram.discard_factory = _Discard
Diagram.braid_factory = Swap
_Copy.discard_factory = _Discard


def _check_ty(what: str, ty: Any) -> Ty:
    if not isinstance(ty, Ty):
        raise TypeSpecError(
            f"{what} takes a type such as cl.real(3) or cl.bits(4), got {ty!r}."
        )
    return ty


def Id(ty: Ty = Ty()) -> Diagram:  # noqa: N802 - categorical name
    """The identity diagram on a type."""
    return Diagram.id(_check_ty("Id", ty))


def Copy(ty: Ty, n: int = 2) -> Diagram:  # noqa: N802
    """``n`` copies of ``ty`` (any type; composite types copy wire by wire)."""
    _check_ty("Copy", ty)
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
        raise TypeSpecError(
            f"Copy({ty!r}, n={n!r}): n must be an int >= 0 (0 discards). "
            "Fix: cl.Copy(ty, 2) for two copies."
        )
    n = int(n)
    if len(ty) == 1:
        return _Copy(ty, n) if n != 1 else Id(ty)  # type: ignore[call-arg]
    return Diagram.copy(ty, n)


def Discard(ty: Ty) -> Diagram:  # noqa: N802
    """Delete ``ty`` (any type)."""
    _check_ty("Discard", ty)
    return Diagram.tensor(Id(), *(_Discard(Ty(w)) for w in ty.inside))  # type: ignore[call-arg]


def SwapTypes(left: Ty, right: Ty) -> Diagram:  # noqa: N802
    """Swap two (possibly composite) types."""
    _check_ty("Swap", left)
    _check_ty("Swap", right)
    if len(left) == 1 and len(right) == 1:
        return Swap(left, right)  # type: ignore[call-arg]
    return Diagram.swap(left, right)


def as_diagram(d: Any) -> Diagram:
    """Cast a plain ``discopy.markov`` diagram (or box) into a catlearn one."""
    if isinstance(d, Diagram):
        return d
    if isinstance(d, markov.Diagram):
        return Diagram(d.inside, d.dom, d.cod)
    raise CompositionError(
        f"{_short(d)} is not a diagram (got {type(d).__name__}). Fix: compose "
        "catlearn or discopy.markov diagrams, e.g. cl.Box, cl.Id, cl.nn.linear."
    )


def boxes(d: Diagram) -> Iterator[Any]:
    """The boxes of a diagram, in layer order."""
    for layer in d.inside:
        yield from layer.boxes


def params(d: Diagram) -> dict[str, Ty]:
    """``{name: type}`` of the ``Param`` boxes of ``d``, in order of first
    appearance. Raises ``ParamError`` if one name has two types."""
    return {name: p.cod for name, p in param_boxes(d).items()}


def param_boxes(d: Diagram) -> dict[str, Param]:
    """``{name: Param box}``; the first box of each name."""
    found: dict[str, Param] = {}
    for box in boxes(as_diagram(d)):
        if not isinstance(box, Param):
            continue
        seen = found.setdefault(box.name, box)
        if seen.cod != box.cod:
            raise ParamError(
                f"parameter {box.name!r} appears with two types: {seen.cod!r} and "
                f"{box.cod!r}. Fix: give the layers distinct names (name=...)."
            )
    return found


def draw(d: Diagram, path: str | None = None, **kwargs: Any) -> None:
    """Draw ``d`` with DisCoPy; with ``path``, write the picture to that file
    (PNG, SVG or PDF by extension) without needing a display. Parameter boxes
    (:class:`Param`) are filled green, data boxes white."""
    if path is not None:
        import matplotlib

        if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg"):
            import matplotlib.pyplot as plt

            plt.switch_backend("Agg")
    kwargs.setdefault("figsize", _figsize(d))
    markov.Diagram.draw(d, path=path, **kwargs)


def _figsize(d: Diagram) -> tuple[float, float]:
    width = max(len(d.dom), len(d.cod), *(len(layer) for layer in d.inside), 1)
    return (min(4 + 1.5 * width, 30), min(2 + 0.9 * len(d.inside), 40))
