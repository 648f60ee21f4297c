"""Moving parameters between the smooth and the Boolean readings of a diagram.

``discretize`` thresholds each relaxed truth table at 1/2; ``relax`` sends each
Boolean bit to the real value whose relaxation is exactly 0 or 1 (``±π/2``
under the sin squashing; ``±30`` under sigmoid, exact after rounding). A
``bits`` parameter with no squashing (``Param(..., relax=None)``) holds its
relaxed bit itself: 0.0 or 1.0, thresholded at 1/2.
A table relaxed by gate choice (``relax="softmax"`` or ``"gumbel"``, 16 logits
per gate) discretizes to the truth table of its most likely gate, and relaxes
to logits ``+100`` for its gate and ``-100`` for the other 15 (a softmax
exactly one-hot in float32).
``discretize(d, relax(d, p)) == p`` for every Boolean parameter dict ``p``.
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
import numpy as np

from .._errors import ParamError, SemanticsError
from ..diagrams import param_boxes
from ..logic import GATE_CHOICES, gate_tables
from ._smooth import Smooth

HARD = {"sin": math.pi / 2, "sigmoid": 30.0, "softmax": 100.0, "gumbel": 100.0}


def _bits_params(
    diagram: Any, params: dict[str, Any], what: str, smooth: bool
) -> Any:
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
        shape = Smooth().param_shape(box) if smooth else wire.shape
        if value.shape != shape:
            raise ParamError(
                f"{what}: parameter {name!r} has shape {value.shape}, expected "
                f"{shape} for {wire!r} ({'Smooth' if smooth else 'Boolean'} "
                "parameters). Fix: pass the params of the matching semantics."
            )
        yield name, box, value


def discretize(diagram: Any, smooth_params: dict[str, Any]) -> dict[str, Any]:
    """Smooth parameters -> Boolean ones: each relaxed table entry > 1/2."""
    out = {}
    for name, box, w in _bits_params(diagram, smooth_params, "discretize", True):
        how = box.spec["relax"]
        if how in GATE_CHOICES:
            gate = np.argmax(w.reshape(-1, 16), axis=-1)
            hard = gate_tables()[gate].reshape(-1) > 0.5
        elif how == "sin":
            hard = np.sin(w) > 0
        else:
            hard = w > (0 if how == "sigmoid" else 0.5)
        out[name] = jnp.asarray(hard)
    return out


def relax(diagram: Any, boolean_params: dict[str, Any]) -> dict[str, Any]:
    """Boolean parameters -> Smooth ones whose relaxed tables are exactly 0/1."""
    out = {}
    for name, box, b in _bits_params(diagram, boolean_params, "relax", False):
        how = box.spec["relax"]
        if how in GATE_CHOICES:  # the gate whose table this is: its binary value
            gate = np.asarray(b, bool).reshape(-1, 4) @ np.array([8, 4, 2, 1])
            logits = np.where(np.arange(16) == gate[:, None], HARD[how], -HARD[how])
            out[name] = jnp.asarray(logits.reshape(-1), jnp.float32)
            continue
        hi, lo = (HARD[how], -HARD[how]) if how else (1.0, 0.0)
        out[name] = jnp.where(jnp.asarray(b, bool), hi, lo).astype(jnp.float32)
    return out
