"""The wire checks of the generators with no spec fields (gates, activations,
``add``, ``mul``, ``matmul``): their rows in ``SPEC_CHECKS`` (``_specs.py``)
check only that a box's wires fit the generator, and return no spec."""

from __future__ import annotations

from typing import Any

from .._errors import TypeSpecError
from ._checks import bit_shapes, bit_sizes, where, wires_error


def _dims(shapes: list[tuple[int, ...]]) -> str:
    return ", ".join(map(str, shapes[0])) if len(shapes) == 1 else "1"


def bitwise(box: Any) -> None:
    """AND, OR, XOR: ``bits(*s) @ bits(*s) -> bits(*s)``, any one shape."""
    dom, cod = bit_shapes(box.dom), bit_shapes(box.cod)
    if len(dom) != 2 or dom[0] != dom[1] or cod != dom[:1]:
        raise TypeSpecError(
            f"{where(box)}: expected bits(n) @ bits(n) -> bits(n) (or one shape "
            "bits(c, h, w) throughout): the gate works bit by bit on two wires "
            f"of one shape. Fix: cl.logic.gate({box.name!r}, {_dims(cod)}) "
            f"(cl.logic.{box.name} for one bit)."
        )


def not_gate(box: Any) -> None:
    dom, cod = bit_shapes(box.dom), bit_shapes(box.cod)
    if len(dom) != 1 or cod != dom:
        raise TypeSpecError(
            f"{where(box)}: expected bits(n) -> bits(n) (any one shape). Fix: "
            f"cl.logic.gate('NOT', {_dims(dom)})."
        )


def reshape(box: Any) -> None:
    """``reshape``: one wire to one wire of the same kind and size."""
    dom, cod = box.dom.inside, box.cod.inside
    if not (len(dom) == len(cod) == 1 and dom[0].kind == cod[0].kind
            and dom[0].size == cod[0].size):  # fmt: skip
        sizes = " vs ".join(str(getattr(w, "size", "?")) for w in (*dom, *cod))
        raise TypeSpecError(
            f"{where(box)}: expected one wire to one wire of the same kind and "
            f"size (entries: {sizes}), e.g. bits(2, 4, 4) -> bits(32). Fix: shapes "
            "with the same number of entries: cl.logic.flatten(*shape) or "
            "cl.logic.reshape(shape, new_shape) (cl.nn.reshape for real wires)."
        )


def constant(box: Any) -> None:
    if len(box.dom) or bit_sizes(box.cod) != [1]:
        raise wires_error(box, "Ty() -> bits(1)", f"use cl.logic.{box.name}")


def same_wire(box: Any) -> None:
    """The activations (relu, ..., log_softmax): one wire to the same wire."""
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


def layer_norm_wires(box: Any) -> None:
    """``layer_norm``: gain, shift and input of one real shape, to it."""
    dom, cod = box.dom.inside, box.cod.inside
    ok = len(dom) == 3 and len(cod) == 1 and all(w.kind == "real" for w in dom)
    if not ok or not dom[0] == dom[1] == dom[2] == cod[0]:
        raise wires_error(box, "real(n) @ real(n) @ real(n) -> real(n) (gain, shift, "
                          "input)", "cl.nn.layer_norm(n)")


def embedding_wires(box: Any) -> None:
    """``embedding``: a table ``real(v, d)`` and ids ``real(k)`` to ``real(k, d)``."""
    dom, cod = box.dom.inside, box.cod.inside
    ok = len(dom) == 2 and len(cod) == 1 and all(w.kind == "real" for w in dom)
    if ok:
        (t, ids), y = (w.shape for w in dom), cod[0].shape
        ok = len(t) == 2 and len(ids) == 1 and y == (ids[0], t[1])
    if not ok:
        raise wires_error(box, "real(v, d) @ real(k) -> real(k, d) (table, ids)",
                          "cl.nn.embedding(v, d, k)")
