"""The logic generators as syntax: the fixed gates, the 16 two-input truth
tables, and the relaxations of a learnable gate's table.

A learnable gate's parameter is its truth table ``t = (t00, t01, t10, t11)``,
``t_ab`` the output on inputs ``(a, b)``. Under ``cl.Smooth()`` it is relaxed
by one of :data:`RELAXATIONS` (``cl.logic`` describes each); the relaxations
in :data:`GATE_CHOICES` hold 16 logits per gate, one per truth table of
:func:`gate_tables`.

>>> gate("XOR", 3)
Box('XOR', monoidal.Ty(bits(3), bits(3)), monoidal.Ty(bits(3)))
>>> gate_tables()[PASS_A].tolist()  # the gate "a": its table 0011
[0.0, 0.0, 1.0, 1.0]
"""

from __future__ import annotations

import math

import numpy as np
from discopy.monoidal import Ty

from .._errors import TypeSpecError
from ._diagram import Box, Diagram
from ._specs import GATE_CHOICES
from ._types import bits

B1 = bits(1)
AND = Box("AND", B1 @ B1, B1)
OR = Box("OR", B1 @ B1, B1)
XOR = Box("XOR", B1 @ B1, B1)
NOT = Box("NOT", B1, B1)
ZERO = Box("ZERO", Ty(), B1)
ONE = Box("ONE", Ty(), B1)
GATES = {"AND": AND, "OR": OR, "XOR": XOR, "NOT": NOT, "ZERO": ZERO, "ONE": ONE}


def gate(op: str, *shape: int) -> Diagram:
    """The fixed gate ``op`` (AND, OR, XOR, NOT) applied bitwise on
    ``bits(*shape)``: ``gate("AND", n)`` on ``bits(n)``, ``gate("XOR", c, h,
    w)`` on images; one bit when no shape is given."""
    if op not in ("AND", "OR", "XOR", "NOT"):
        raise TypeSpecError(f"gate {op!r} is not one of AND, OR, XOR, NOT.")
    ty = bits(*(shape or (1,)))
    if op == "NOT":
        return Box("NOT", ty, ty)
    return Box(op, ty @ ty, ty)


RESIDUAL_CONFIDENCE = 0.9  # a residual-initialised table says "pass a" at 90 %
PASS_A = 3  # index of the gate "a" among the 16: its table 0011 is binary 3


def gate_tables() -> np.ndarray:
    """The truth tables ``(16, 4)`` of the 16 two-input Boolean functions, in
    difflogic's order: gate ``i``'s table ``(t00, t01, t10, t11)`` is ``i`` in
    binary (0 FALSE, 1 AND, 3 a, 5 b, 6 XOR, 7 OR, 8 NOR, 14 NAND, 15 TRUE)."""
    i = np.arange(16)[:, None]
    return ((i >> np.array([3, 2, 1, 0])) & 1).astype(np.float32)


def residual_scale(relax: str) -> float:
    """The real value whose relaxation is ``RESIDUAL_CONFIDENCE``: one table
    entry's (sin, sigmoid), or the logit of the gate ``a`` against 15 zero
    logits (softmax, gumbel)."""
    p = RESIDUAL_CONFIDENCE
    if relax in GATE_CHOICES:
        return math.log(15 * p / (1 - p))
    return math.asin(2 * p - 1) if relax == "sin" else math.log(p / (1 - p))
