"""The wiring builders of ``cl.logic``: learned wiring (:func:`select`),
counting (:func:`sort`), and the shape of a wire of bits (:func:`reshape`,
:func:`flatten`). Their specs are in :mod:`catlearn.diagrams`; their rules
in :mod:`catlearn.functors._wiring_rules`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from .._errors import TypeSpecError
from ..diagrams import (
    SELECT_RELAXATIONS,
    Box,
    Diagram,
    Param,
    SelectSpec,
    bits,
    index_bits,
    is_count,
)


def select(
    n_in: int, n_sel: int, name: str = "select", relax: str = "sin"
) -> Diagram:
    """Learned wiring: ``bits(n_in) -> bits(n_sel)``, output ``s`` a copy of the
    input wire parameter ``{name}.wiring`` chooses for it (row ``s`` of type
    ``bits(n_sel, w)``: the ``w = ceil(log2 n_in)`` bits of an index, least
    significant first; an index past the inputs reads 0). Under ``Smooth``
    the choice is relaxed: each index bit squashed by ``relax`` (``"sin"``
    or ``"sigmoid"``), the output a weighted mix of the inputs
    (:mod:`catlearn.functors._wiring_rules`); ``cl.discretize`` fixes it.
    ``relax="softmax"``: the Smooth parameter holds ``2^w`` logits per
    choice, one per index, and the mix is their softmax (the relaxed choice
    of LILogicNet); ``cl.discretize`` takes the argmax.

    >>> select(10, 3, name="pick").params
    {'pick.wiring': monoidal.Ty(bits(3, 4))}
    """
    for what, n in (("n_in", n_in), ("n_sel", n_sel)):
        if not is_count(n):
            raise TypeSpecError(
                f"select: {what} must be a positive int, got {n!r}. Fix: e.g. "
                "cl.logic.select(16, 8) to choose 8 of 16 wires."
            )
    if relax not in SELECT_RELAXATIONS:
        raise TypeSpecError(
            f"select: relax={relax!r} is not one of {SELECT_RELAXATIONS} (each "
            "index bit squashed like a table entry, or a softmax over the "
            "indices). Fix: one of those."
        )
    n_in, n_sel = int(n_in), int(n_sel)
    index = bits(n_sel, index_bits(n_in))
    data = SelectSpec(n_in, n_sel, relax).to_data()
    box = Box("select", index @ bits(n_in), bits(n_sel), data=data)
    # softmax logits start small: every input about equally likely
    scale = 0.1 if relax == "softmax" else 1.0
    wiring_param = Param(f"{name}.wiring", index, init="normal", scale=scale,
                         relax=relax)
    return (wiring_param @ bits(n_in)) >> box


def sort(n: int) -> Diagram:
    """``bits(n) -> bits(n)``: the input bits sorted ones first, so output
    ``j`` is 1 when more than ``j`` inputs are: the count of ones in unary
    (thermometer code). "At least k", "exactly k" (``y_{k-1} AND NOT y_k``)
    and majority read off one or two outputs. Under Smooth output ``j`` is the
    probability that more than ``j`` of independent inputs ``P(x_i = 1) =
    x_i`` are 1 (the multilinear extension); the exported circuit is a
    sorting network of 2-input ORs and ANDs.

    >>> import numpy as np, catlearn as cl
    >>> x = np.array([[1, 0, 1, 0], [0, 0, 0, 1]], bool)
    >>> cl.Boolean()(sort(4))({}, x).astype(int).tolist()
    [[1, 1, 0, 0], [1, 0, 0, 0]]
    """
    if not is_count(n):
        raise TypeSpecError(
            f"sort: n must be a positive int, got {n!r}. Fix: e.g. "
            "cl.logic.sort(6) to count the ones among 6 bits."
        )
    return Box("sort", bits(int(n)), bits(int(n)))


def reshape(shape: Sequence[int], new_shape: Sequence[int]) -> Diagram:
    """``bits(*shape) -> bits(*new_shape)``, the same bits in row-major order
    (no gates: every semantics moves no bit). The box's check refuses shapes
    of different sizes."""
    return Box("reshape", bits(*_dims(shape)), bits(*_dims(new_shape)))


def flatten(*shape: int) -> Diagram:
    """``bits(*shape) -> bits(n)``, ``n`` the number of bits (row-major)."""
    return reshape(shape, (math.prod(_dims(shape)),))


def _dims(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, int) and not isinstance(shape, bool):
        return (shape,)
    if isinstance(shape, str) or not isinstance(shape, Iterable):
        raise TypeSpecError(
            f"the shape {shape!r} is not a sequence of sizes. Fix: e.g. (2, 8, 8)."
        )
    return tuple(shape)
