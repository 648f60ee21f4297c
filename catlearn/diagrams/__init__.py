"""Syntax: wire types, generators, parameters and string diagrams.

Imports no JAX: diagrams are pure syntax, given meaning by functors.

A box named after one of catlearn's generators (``lut_layer``, ``group_sum``,
``AND``, ``matmul``, ...) is checked against its wires whenever it is made, by
a builder, by hand or by ``cl.load``: a spec its functors could not read
raises ``TypeSpecError`` naming the field and the fix (:func:`check_spec`).
The checked spec, typed (:class:`LutLayerSpec`, :class:`GroupSumSpec`, ...),
is what functors read: ``LutLayerSpec.of(box)``. Boxes of any other name are
the user's and pass untouched.

The logic generators live here too (the gates, :func:`wiring`, the truth
tables and relaxations), so that functors need only this layer; ``cl.logic``
and ``cl.nn`` build diagrams from them.
"""

from ._checks import SEEDS as SEEDS
from ._checks import check_seed as check_seed
from ._checks import is_count as is_count
from ._checks import is_temperature as is_temperature
from ._codec import decode_diagram as decode_diagram
from ._codec import encode_diagram as encode_diagram
from ._diagram import Box as Box
from ._diagram import Diagram as Diagram
from ._diagram import Id as Id
from ._diagram import Param as Param
from ._diagram import as_diagram as as_diagram
from ._diagram import boxes as boxes
from ._diagram import draw as draw
from ._diagram import param_boxes as param_boxes
from ._diagram import params as params
from ._diagram import spec as spec
from ._diagram import tensor as tensor
from ._equinox_spec import MODULES as EQUINOX_MODULES
from ._equinox_spec import Entry as EquinoxEntry
from ._gates import AND as AND
from ._gates import GATES as GATES
from ._gates import NOT as NOT
from ._gates import ONE as ONE
from ._gates import OR as OR
from ._gates import PASS_A as PASS_A
from ._gates import RESIDUAL_CONFIDENCE as RESIDUAL_CONFIDENCE
from ._gates import XOR as XOR
from ._gates import ZERO as ZERO
from ._gates import gate as gate
from ._gates import gate_tables as gate_tables
from ._gates import residual_scale as residual_scale
from ._interop import from_discopy as from_discopy
from ._memory import SMALL as SMALL_ALLOCATION
from ._memory import check_memory as check_memory
from ._memory import describe_bytes as describe_bytes
from ._memory import free_memory as free_memory
from ._recurrent_spec import RecurrentSpec as RecurrentSpec
from ._recurrent_spec import encode_cell as encode_cell
from ._specs import GATE_CHOICES as GATE_CHOICES
from ._specs import INITS as INITS
from ._specs import RELAXATIONS as RELAXATIONS
from ._specs import SPEC_CHECKS as SPEC_CHECKS
from ._specs import DropoutSpec as DropoutSpec
from ._specs import EquinoxSpec as EquinoxSpec
from ._specs import GroupSumSpec as GroupSumSpec
from ._specs import LutLayerSpec as LutLayerSpec
from ._specs import LutSpec as LutSpec
from ._specs import ParamSpec as ParamSpec
from ._specs import SelectSpec as SelectSpec
from ._specs import Spec as Spec
from ._specs import ThermometerSpec as ThermometerSpec
from ._specs import TileSpec as TileSpec
from ._specs import check_spec as check_spec
from ._specs import index_bits as index_bits
from ._specs import spec_of as spec_of
from ._structure import Copy as Copy
from ._structure import Discard as Discard
from ._structure import Swap as Swap
from ._types import Wire as Wire
from ._types import bits as bits
from ._types import real as real
from ._types import wires as wires
from ._wiring import MAX_LUT_INPUTS as MAX_LUT_INPUTS
from ._wiring import check_indices as check_indices
from ._wiring import check_lut_inputs as check_lut_inputs
from ._wiring import check_wiring_size as check_wiring_size
from ._wiring import wiring as wiring
from ._wiring import wiring_bytes as wiring_bytes
from ._wiring_specs import SELECT_RELAXATIONS as SELECT_RELAXATIONS
from ._wiring_specs import pool_window as pool_window
from ._wiring_specs import pooled as pooled
from ._wiring_specs import tile_axes as tile_axes
from ._wiring_specs import tiled as tiled
from ._wiring_specs import unwindows as unwindows
from ._wiring_specs import windows as windows

__all__ = [
    "AND",
    "EQUINOX_MODULES",
    "EquinoxEntry",
    "EquinoxSpec",
    "DropoutSpec",
    "RecurrentSpec",
    "encode_cell",
    "GATES",
    "GATE_CHOICES",
    "INITS",
    "NOT",
    "ONE",
    "OR",
    "PASS_A",
    "RELAXATIONS",
    "RESIDUAL_CONFIDENCE",
    "SEEDS",
    "SPEC_CHECKS",
    "XOR",
    "ZERO",
    "Box",
    "Copy",
    "Diagram",
    "Discard",
    "GroupSumSpec",
    "Id",
    "LutLayerSpec",
    "LutSpec",
    "Param",
    "ParamSpec",
    "SelectSpec",
    "ThermometerSpec",
    "TileSpec",
    "Spec",
    "Swap",
    "Wire",
    "as_diagram",
    "bits",
    "boxes",
    "SMALL_ALLOCATION",
    "check_memory",
    "describe_bytes",
    "free_memory",
    "check_seed",
    "check_spec",
    "check_indices",
    "SELECT_RELAXATIONS",
    "check_lut_inputs",
    "MAX_LUT_INPUTS",
    "check_wiring_size",
    "decode_diagram",
    "draw",
    "encode_diagram",
    "from_discopy",
    "gate",
    "gate_tables",
    "index_bits",
    "pool_window",
    "pooled",
    "tile_axes",
    "tiled",
    "unwindows",
    "windows",
    "is_count",
    "is_temperature",
    "param_boxes",
    "params",
    "real",
    "residual_scale",
    "spec",
    "spec_of",
    "tensor",
    "wires",
    "wiring",
    "wiring_bytes",
]
