"""The spec of ``recurrent``: a cell ``h @ x -> h`` fed back into itself
``steps`` times, as one box (a feedback loop unrolled in time).

The box is ``P_1 @ ... @ P_k @ h @ x^steps -> h``: its first inputs are the
cell's parameters, fed by ``Param`` boxes of the same names outside it, so
the weights every step shares are drawn as wires into the one box and are
parameters of the diagram like any other (saved, checkpointed, trained). The
cell itself travels in the box's data as its JSON (:mod:`catlearn.io`'s
format), so a diagram with a recurrent box saves and loads.

A functor with a native reading (``Smooth``: ``jax.lax.scan`` over the
steps, the reverse a scan backwards) runs the box as one step; every other
functor compiles :meth:`RecurrentSpec.unrolled` in its place: the cell
``steps`` times in a row, its ``Param`` boxes (same names, so the same
slots) inside each copy, the box's parameter wires discarded.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from discopy.monoidal import Ty

from ._checks import field_error, wires_error
from ._diagram import Diagram, Id, as_diagram, param_boxes
from ._spec_base import Spec
from ._structure import Discard


@dataclass(frozen=True)
class RecurrentSpec(Spec):
    """``recurrent``: the cell (as JSON), the number of steps, and the names
    of the cell's parameters in the order of the box's first inputs."""

    cell: str
    steps: int
    params: tuple[str, ...]
    NAME: ClassVar[str] = "recurrent"
    FIX: ClassVar[str] = "build it with cl.nn.recurrent(cell, steps, scan=True)"

    @property
    def body(self) -> Diagram:
        """The cell, decoded from its JSON."""
        return _decode(self.cell)

    def unrolled(self) -> Diagram:
        """``P @ h @ x^steps -> h``: the parameter wires discarded (the cell's
        own ``Param`` boxes hold the same names), then the cell ``steps``
        times, each copy reading the state before it and its step's input."""
        cell = self.body
        ps = Ty()
        for box in param_boxes(cell).values():
            ps = ps @ box.cod
        x = cell.dom[1:]
        parts = [Discard(ps) @ Id(cell.dom[:1] @ x ** self.steps)]
        for t in range(self.steps):
            rest = self.steps - 1 - t
            parts.append(cell @ Id(x ** rest) if rest else cell)
        return Diagram.then(*parts)

    @classmethod
    def parse(cls, box: Any) -> Self:
        s = cls._read(box)
        text, steps, names = s["cell"], s["steps"], s["params"]
        if not isinstance(text, str):
            raise field_error(box, "cell", type(text).__name__, "is not the cell's "
                              "JSON text", cls.FIX)
        try:
            cell = _decode(text)
        except Exception as e:  # the cell's own error, named
            raise field_error(box, "cell", text[:40] + "...", f"does not decode "
                              f"({e})", cls.FIX) from e
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise field_error(box, "steps", steps, "is not a positive int", cls.FIX)
        found = param_boxes(cell)
        if not isinstance(names, tuple) or names != tuple(found):
            raise field_error(box, "params", names, f"is not the cell's parameter "
                              f"names in order, {tuple(found)}", cls.FIX)
        dom, cod = cell.dom, cell.cod
        if len(dom) != 2 or len(cod) != 1 or dom[:1] != cod:
            raise wires_error(box, "a cell h @ x -> h", cls.FIX)
        ps = Ty()
        for p in found.values():
            ps = ps @ p.cod
        want = ps @ dom[:1] @ dom[1:] ** steps
        if box.dom != want or box.cod != cod:
            raise wires_error(box, f"{want} -> {cod} (the cell's parameters, its "
                              f"state, {steps} inputs)", cls.FIX)
        return cls(text, steps, tuple(names))


def encode_cell(cell: Any) -> str:
    """The cell's JSON text (the box's ``cell`` field)."""
    from ._codec import encode_diagram

    return json.dumps(encode_diagram(as_diagram(cell)), sort_keys=True,
                      separators=(",", ":"))


@functools.lru_cache(maxsize=64)
def _decode(text: str) -> Diagram:
    from ._codec import decode_diagram

    return decode_diagram(json.loads(text), "the recurrent box's cell")
