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

from collections.abc import Iterator
from functools import cached_property
from typing import Any

from discopy import cat, markov
from discopy.config import DRAWING_ATTRIBUTES
from discopy.monoidal import Ty

from .._errors import CompositionError, ParamError, TypeSpecError
from ._layers import Run, box_layer
from ._specs import INITS as INITS
from ._specs import ParamSpec, Spec, check_param, parse_spec


def _short(d: Any, limit: int = 80) -> str:
    text = str(d)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@cat.factory
class Diagram(markov.Diagram):
    """A catlearn string diagram (a ``discopy.markov.Diagram``).

    ``>>`` and ``@`` build the same layers as DisCoPy, in time linear in the
    diagram: ``d = d @ f`` in a loop appends ``f`` to a record of the factors
    (amortised O(size of f)), and the layers are laid out once, when first
    read (:mod:`catlearn.diagrams._layers`).
    """

    @cached_property
    def inside(self) -> tuple[Any, ...]:  # type: ignore[override]
        # Only diagrams made by _extend lack ``inside``: lay their layers out.
        run, k = self._run
        return run.layers(k)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if state.pop("_run", None) is not None:
            state["inside"] = self.inside
        return state

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
        if any(isinstance(o, cat.Sum) for o in (self, *others)):
            return super().then(*others)
        return _extend(self, others, "then")

    def tensor(self, other: Any = None, *others: Any) -> Diagram:
        if other is None:
            return self
        others = (as_diagram(other), *(as_diagram(o) for o in others))
        if any(isinstance(o, cat.Sum) for o in (self, *others)):
            return super().tensor(*others)
        return _extend(self, others, "tensor")

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
    wires when it is made (:func:`catlearn.diagrams.check_spec`), and its
    spec, typed, is :attr:`typed_spec`.
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
        # markov.Box.__init__, without respelling the types of its one layer
        for attr in DRAWING_ATTRIBUTES:
            if attr in params:
                setattr(self, attr, params.pop(attr))
        cat.Box.__init__(self, name, dom, cod, data=data, **params)
        self.inside = (box_layer(self),)
        self.typed_spec  # parsed and checked once, here (cached)

    def _parse_spec(self) -> Spec | None:
        return parse_spec(self)

    @cached_property
    def typed_spec(self) -> Spec | None:
        """The generator's spec, typed (``LutLayerSpec``, ``GroupSumSpec``,
        ...; ``ParamSpec`` for a ``Param``), parsed and checked against the
        wires when the box was made; ``None`` for a box with no spec fields."""
        return self._parse_spec()

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

    def _parse_spec(self) -> ParamSpec:
        return ParamSpec.parse(self)  # checked before the box was made

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


def _check_ty(what: str, ty: Any) -> Ty:
    if not isinstance(ty, Ty):
        raise TypeSpecError(
            f"{what} takes a type such as cl.real(3) or cl.bits(4), got {ty!r}."
        )
    return ty


def Id(ty: Ty = Ty()) -> Diagram:  # noqa: N802 - categorical name
    """The identity diagram on a type."""
    return Diagram.id(_check_ty("Id", ty))


def tensor(*diagrams: Any) -> Diagram:
    """``d0 @ d1 @ ...`` of diagrams (or types, as identities), in time linear
    in their size; ``Id()`` for none. Equal to DisCoPy's left-nested tensor.

    >>> import catlearn as cl
    >>> x = cl.real(1)
    >>> boxes = [cl.Box(f"f{i}", x, x) for i in range(3)]
    >>> assert cl.tensor(*boxes) == boxes[0] @ boxes[1] @ boxes[2]
    """
    if not diagrams:
        return Id()
    ds = [Diagram.id(d) if isinstance(d, Ty) else as_diagram(d) for d in diagrams]
    return ds[0].tensor(*ds[1:]) if len(ds) > 1 else ds[0]


def _factors(d: Diagram, kind: str) -> list[Diagram]:
    """The factors of ``d`` as a composite of ``kind`` (itself if it is none)."""
    run = d.__dict__.get("_run")
    if run is not None and run[0].kind == kind:
        return run[0].factors[: run[1]]
    d.inside  # lay out a composite of the other kind now: runs never nest deep
    return [d]


def _extend(d: Diagram, others: tuple[Diagram, ...], kind: str) -> Diagram:
    """``d >> o1 >> ...`` or ``d @ o1 @ ...``, its layers laid out when read.
    If ``d`` is the newest composite of its run, the others are appended to
    the run in place: amortised O(their size), so a loop stays linear."""
    own = d.__dict__.get("_run")
    if own is not None and own[0].kind == kind and len(own[0].factors) == own[1]:
        run = own[0]
    else:
        run = Run(kind, _factors(d, kind))
    for other in others:
        for factor in _factors(other, kind):
            run.append(factor)
    new = object.__new__(d.factory)
    new._run = (run, len(run.factors))
    new.dom, new.cod = run.boundary()
    return new


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
