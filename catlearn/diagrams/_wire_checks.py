"""The wire checks of the generators with no spec fields (gates, activations,
``add``, ``mul``, ``matmul``): their rows in ``SPEC_CHECKS`` (``_specs.py``)
check only that a box's wires fit the generator, and return no spec."""

from __future__ import annotations

from typing import Any

from ._checks import bit_sizes, wires_error


def bitwise(box: Any) -> None:
    """AND, OR, XOR: ``bits(n) @ bits(n) -> bits(n)``."""
    dom, cod = bit_sizes(box.dom), bit_sizes(box.cod)
    if len(dom) != 2 or dom[0] != dom[1] or cod != dom[:1]:
        n = cod[0] if len(cod) == 1 else 1
        raise wires_error(
            box,
            "bits(n) @ bits(n) -> bits(n): the gate works bit by bit on two "
            "wires of one size",
            f"cl.logic.gate({box.name!r}, {n}) (cl.logic.{box.name} for n = 1)",
        )


def not_gate(box: Any) -> None:
    dom, cod = bit_sizes(box.dom), bit_sizes(box.cod)
    if len(dom) != 1 or cod != dom:
        n = dom[0] if len(dom) == 1 else 1
        raise wires_error(box, "bits(n) -> bits(n)", f"cl.logic.gate('NOT', {n})")


def constant(box: Any) -> None:
    if len(box.dom) or bit_sizes(box.cod) != [1]:
        raise wires_error(box, "Ty() -> bits(1)", f"use cl.logic.{box.name}")


def same_wire(box: Any) -> None:
    """relu, sigmoid, tanh, softmax: one wire to the same wire."""
    if len(box.dom) != 1 or box.dom != box.cod:
        raise wires_error(box, "one wire to the same wire", f"cl.nn.{box.name}(n)")


def broadcast(box: Any) -> None:
    """add, mul: two wires to the wire of their (numpy-broadcast) shape."""
    dom, cod = box.dom.inside, box.cod.inside
    shape = None
    if len(dom) == 2 and len(cod) == 1:
        a, b = dom[0].shape, dom[1].shape
        n = max(len(a), len(b))
        a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
        if all(x == y or 1 in (x, y) for x, y in zip(a, b, strict=True)):
            shape = tuple(max(x, y) for x, y in zip(a, b, strict=True))
    if shape is None or cod[0].shape != shape:
        raise wires_error(
            box, "two wires whose shapes broadcast to the output's, e.g. real(n) "
            "@ real(n) -> real(n)", f"cl.nn.{box.name}(n)"
        )


def matmul(box: Any) -> None:
    """``real(..., n, m) @ real(..., n) -> real(..., m)``."""
    dom, cod = box.dom.inside, box.cod.inside
    ok = len(dom) == 2 and len(cod) == 1 and len(dom[0].shape) >= 2
    if ok:
        (w, x), (y,) = (d.shape for d in dom), cod
        ok = bool(x) and w[-2] == x[-1] and bool(y.shape) and y.shape[-1] == w[-1]
    if not ok:
        raise wires_error(
            box, "real(n, m) @ real(n) -> real(m): weights, then inputs of the "
            "weights' first size", "cl.nn.linear(n, m)"
        )
