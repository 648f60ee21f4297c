"""Semantics: functors that compile diagrams into programs."""

from ._boolean import BOOLEAN_RULES as BOOLEAN_RULES
from ._boolean import Boolean as Boolean
from ._eqx import ProgramModule as ProgramModule
from ._functor import Functor as Functor
from ._functor import compile_diagram as compile_diagram
from ._fuse import fuse as fuse
from ._kernel import BooleanKernel as BooleanKernel
from ._kernel import Kernel as Kernel
from ._kernel import RelaxedKernel as RelaxedKernel
from ._program import Program as Program
from ._program import Slot as Slot
from ._program import Step as Step
from ._relax import discretize as discretize
from ._relax import relax as relax
from ._repeat import repeat as repeat
from ._repeat import small_runs as small_runs
from ._repeat import unroll as unroll
from ._rule import Rule as Rule
from ._sizes import native as native  # byte order, for the data fit reads
from ._smooth import SMOOTH_RULES as SMOOTH_RULES
from ._smooth import Smooth as Smooth

__all__ = [
    "BOOLEAN_RULES",
    "Boolean",
    "BooleanKernel",
    "Kernel",
    "RelaxedKernel",
    "discretize",
    "relax",
    "SMOOTH_RULES",
    "Functor",
    "Program",
    "ProgramModule",
    "Rule",
    "Slot",
    "Smooth",
    "Step",
    "compile_diagram",
    "fuse",
    "repeat",
    "small_runs",
    "unroll",
]
