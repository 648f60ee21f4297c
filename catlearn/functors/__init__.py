"""Semantics: functors that compile diagrams into programs."""

from ._functor import Functor as Functor
from ._functor import compile_diagram as compile_diagram
from ._program import Program as Program
from ._program import Slot as Slot
from ._program import Step as Step
from ._rule import Rule as Rule
from ._smooth import SMOOTH_RULES as SMOOTH_RULES
from ._smooth import Smooth as Smooth

__all__ = [
    "SMOOTH_RULES",
    "Functor",
    "Program",
    "Rule",
    "Slot",
    "Smooth",
    "Step",
    "compile_diagram",
]
