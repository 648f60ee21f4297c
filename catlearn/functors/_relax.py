"""Moving parameters between the smooth and the Boolean readings of a diagram.

``discretize`` thresholds each relaxed truth table at 1/2; ``relax`` sends each
Boolean bit to the real value whose relaxation is exactly 0 or 1 (``±π/2``
under the sin squashing; ``±30`` under sigmoid, exact after rounding). A
``bits`` parameter with no squashing (``Param(..., relax=None)``) holds its
relaxed bit itself: 0.0 or 1.0, thresholded at 1/2.
``discretize(d, relax(d, p)) == p`` for every Boolean parameter dict ``p``.
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
import numpy as np

from .._errors import ParamError, SemanticsError
from ..diagrams import param_boxes

HARD = {"sin": math.pi / 2, "sigmoid": 30.0}


def _bits_params(diagram: Any, params: dict[str, Any], what: str) -> Any:
    for name, box in param_boxes(diagram).items():
        wire = box.cod.inside[0]
        if wire.kind != "bits":
            raise SemanticsError(
                f"{what}: parameter {name!r} is a {wire!r} wire, which has no "
                "Boolean reading. Fix: discretize only diagrams whose parameters "
                "are bits (e.g. cl.logic networks)."
            )
        if name not in params:
            raise ParamError(
                f"{what}: parameter {name!r} ({wire!r}) is missing from the params "
                f"dict, which has {sorted(params)}."
            )
        value = np.asarray(params[name])
        if value.shape != wire.shape:
            raise ParamError(
                f"{what}: parameter {name!r} has shape {value.shape}, expected "
                f"{wire.shape} for {wire!r}."
            )
        yield name, box, value


def discretize(diagram: Any, smooth_params: dict[str, Any]) -> dict[str, Any]:
    """Smooth parameters -> Boolean ones: each relaxed table entry > 1/2."""
    out = {}
    for name, box, w in _bits_params(diagram, smooth_params, "discretize"):
        how = box.spec["relax"]
        hard = np.sin(w) > 0 if how == "sin" else w > (0 if how == "sigmoid" else 0.5)
        out[name] = jnp.asarray(hard)
    return out


def relax(diagram: Any, boolean_params: dict[str, Any]) -> dict[str, Any]:
    """Boolean parameters -> Smooth ones whose relaxed tables are exactly 0/1."""
    out = {}
    for name, box, b in _bits_params(diagram, boolean_params, "relax"):
        how = box.spec["relax"]
        hi, lo = (HARD[how], -HARD[how]) if how else (1.0, 0.0)
        out[name] = jnp.where(jnp.asarray(b, bool), hi, lo).astype(jnp.float32)
    return out
