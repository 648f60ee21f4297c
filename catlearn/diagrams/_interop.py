"""Diagrams drawn with plain DisCoPy, given catlearn meaning.

``from_discopy(diagram, mapping)`` takes a ``discopy.markov`` (or
``symmetric``) diagram whose boxes are DisCoPy's own, and a mapping from its box
names to catlearn diagrams. The wires get their catlearn types from the boxes
they meet (or from ``types``, by object name); copies, discards, swaps and
identities come along. The result is a catlearn diagram every functor accepts.

>>> from discopy import markov, symmetric
>>> import catlearn as cl
>>> x, y = markov.Ty("x"), markov.Ty("y")
>>> f, g = markov.Box("f", x, y), markov.Box("g", y, y)
>>> plain = f >> markov.Copy(y) >> g @ markov.Id(y)
>>> d = cl.from_discopy(plain, {"f": cl.nn.linear(3, 2, name="f"),
...                             "g": cl.nn.relu(2)})
>>> d.dom, d.cod
(monoidal.Ty(real(3)), monoidal.Ty(real(2), real(2)))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from discopy import markov, symmetric
from discopy.monoidal import Layer, Ty

from .._errors import CompositionError
from ._diagram import Box, Diagram, Id, as_diagram, boxes
from ._structure import Copy, Discard, SwapTypes
from ._types import Wire


def from_discopy(
    diagram: Any,
    mapping: Mapping[str, Any] | None = None,
    types: Mapping[str, Any] | None = None,
) -> Diagram:
    """A catlearn diagram from a plain DisCoPy one: each box named ``n`` becomes
    ``mapping[n]`` (a catlearn diagram with as many input and output wires as
    the box), each DisCoPy object the catlearn wire it meets there (or
    ``types[name]``). Without ``mapping``, the diagram must already be made of
    catlearn boxes and is only cast."""
    if mapping is None:
        return _catlearn_boxes(as_diagram(diagram))
    if not isinstance(diagram, markov.Diagram | symmetric.Diagram):
        raise CompositionError(
            f"from_discopy takes a discopy.markov or symmetric diagram, got "
            f"{type(diagram).__name__}. Fix: build it with discopy.markov."
        )
    wires: dict[str, Wire] = {}
    for name, given in (types or {}).items():
        wires[name] = _one_wire(given, f"types[{name!r}]")
    structural = (markov.Copy, symmetric.Swap)
    for layer in diagram.inside:
        for box in layer.boxes:
            if isinstance(box, structural) or box.name not in mapping:
                continue
            target = as_diagram(mapping[box.name])
            for side in ("dom", "cod"):
                plain, mapped = getattr(box, side), getattr(target, side)
                if len(plain) != len(mapped):
                    raise CompositionError(
                        f"from_discopy: box {box.name!r} has {side} {plain!r} "
                        f"({len(plain)} wires) but mapping[{box.name!r}] has "
                        f"{side} {mapped!r} ({len(mapped)} wires). Fix: map it "
                        "to a diagram with one wire per object."
                    )
                for ob, wire in zip(plain.inside, mapped.inside, strict=True):
                    seen = wires.setdefault(ob.name, wire)
                    if seen != wire:
                        raise CompositionError(
                            f"from_discopy: object {ob.name!r} meets {seen!r} "
                            f"and, at box {box.name!r}, {wire!r}. Fix: map the "
                            "boxes so that each object has one catlearn type."
                        )

    def ty(plain: Any) -> Ty:
        out = Ty()
        for ob in plain.inside:
            if ob.name not in wires:
                raise CompositionError(
                    f"from_discopy: object {ob.name!r} meets no mapped box, so "
                    f"its catlearn type is unknown. Fix: pass types={{"
                    f"{ob.name!r}: cl.real(...)}} or map a box it meets."
                )
            out = out @ Ty(wires[ob.name])
        return out

    def image(box: Any) -> Diagram:
        if isinstance(box, symmetric.Swap):
            return SwapTypes(ty(box.dom[:1]), ty(box.dom[1:]))
        if isinstance(box, markov.Copy):
            return Discard(ty(box.dom)) if len(box.cod) == 0 else Copy(
                ty(box.dom), len(box.cod) // max(1, len(box.dom))
            )
        if box.name not in mapping:
            known = ", ".join(sorted(mapping)) or "none"
            raise CompositionError(
                f"from_discopy: the mapping has no image for box {box.name!r} "
                f"({box.dom!r} -> {box.cod!r}); it maps: {known}. Fix: add "
                f"{box.name!r}: <a catlearn diagram> to the mapping."
            )
        return as_diagram(mapping[box.name])

    parts: list[Diagram] = [Id(ty(diagram.dom))]
    for layer in diagram.inside:
        left, *rest = tuple(layer)
        piece = Id(ty(left))
        for i, item in enumerate(rest):
            piece = piece @ (image(item) if i % 2 == 0 else Id(ty(item)))
        parts.append(piece)
    return Diagram.then(*parts)


def _is_plain(box: Any) -> bool:
    """A DisCoPy box that is not catlearn's (nor a copy, discard or swap)."""
    structural = (Box, markov.Copy, symmetric.Swap)
    return not isinstance(box, structural) and not getattr(box, "is_dagger", False)


def _catlearn_boxes(d: Diagram) -> Diagram:
    """``d`` with each plain DisCoPy box (composed in with ``>>``, or cast)
    remade as a ``cl.Box`` of the same name, wires and data: so that it has a
    ``spec`` and, if it is named after a catlearn generator, its spec is
    checked against its wires (``check_spec``) like any other box."""
    if not any(_is_plain(b) for b in boxes(d)):
        return d
    layers = []
    for layer in d.inside:
        items = [
            Box(x.name, x.dom, x.cod, data=x.data) if j % 2 and _is_plain(x) else x
            for j, x in enumerate(layer)
        ]
        layers.append(Layer(*items))
    return Diagram(tuple(layers), d.dom, d.cod)


def _one_wire(ty: Any, where: str) -> Wire:
    inside: Any = getattr(ty, "inside", ())
    if len(inside) != 1 or not isinstance(inside[0], Wire):
        raise CompositionError(
            f"from_discopy: {where} must be one catlearn wire such as "
            f"cl.real(3) or cl.bits(8), got {ty!r}."
        )
    return inside[0]
