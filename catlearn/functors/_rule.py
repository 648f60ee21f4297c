"""A generator's meaning in a functor: its forward rule and its reverse-derivative
rule, side by side.

``forward(box, *xs) -> (ys, residuals)`` computes the outputs (a tuple, one
array per output wire) and whatever the backward pass needs. ``reverse(box,
residuals, *dys) -> dxs`` is the reverse derivative ``R[f](x, dy)``: one
cotangent per input wire (``None`` for a zero cotangent). The forward pass keeps
the residuals, so the backward pass never recomputes the forward.

A rule built with ``keyed=True`` is stochastic: its forward also takes
``key=`` (a ``jax.random`` key, or ``None`` for its deterministic evaluation
mode), which the program derives from the key the caller passes, one per step.

Activations arrive batched along axis 0; parameters arrive unbatched. A rule
may return a batched cotangent for an unbatched input: the program sums it over
the batch (the reverse derivative of copying the parameter to every example).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Forward = Callable[..., tuple[tuple[Any, ...], Any]]
Reverse = Callable[..., tuple[Any, ...]]


@dataclass(frozen=True)
class Rule:
    """The forward and reverse-derivative rules of one generator."""

    forward: Forward
    reverse: Reverse
    doc: str = ""
    keyed: bool = False

    def __repr__(self) -> str:
        return f"Rule({self.doc!r})" if self.doc else "Rule(...)"
