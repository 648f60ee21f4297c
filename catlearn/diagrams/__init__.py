"""Syntax: wire types, generators, parameters and string diagrams.

Imports no JAX: diagrams are pure syntax, given meaning by functors.

A box named after one of catlearn's generators (``lut_layer``, ``group_sum``,
``AND``, ``matmul``, ...) is checked against its wires whenever it is made, by
a builder, by hand or by ``cl.load``: a spec its functors could not read
raises ``TypeSpecError`` naming the field and the fix (:func:`check_spec`).
Boxes of any other name are the user's and pass untouched.
"""

from ._diagram import Box as Box
from ._diagram import Copy as Copy
from ._diagram import Diagram as Diagram
from ._diagram import Discard as Discard
from ._diagram import Id as Id
from ._diagram import Param as Param
from ._diagram import SwapTypes as Swap
from ._diagram import boxes as boxes
from ._diagram import draw as draw
from ._diagram import param_boxes as param_boxes
from ._diagram import params as params
from ._diagram import spec as spec
from ._interop import from_discopy as from_discopy
from ._specs import check_spec as check_spec
from ._types import Wire as Wire
from ._types import bits as bits
from ._types import real as real
from ._types import wires as wires

__all__ = [
    "Box",
    "Copy",
    "Diagram",
    "Discard",
    "Id",
    "Param",
    "Swap",
    "Wire",
    "bits",
    "boxes",
    "check_spec",
    "draw",
    "from_discopy",
    "param_boxes",
    "params",
    "real",
    "spec",
    "wires",
]
