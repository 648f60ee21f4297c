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

A diagram may mix smooth boxes and logic boxes (``cl.nn.linear`` before a
``cl.logic.thermometer``, say): only ``bits`` parameters have a discrete
reading, so both directions keep every ``real`` parameter as it is. The
discretized logic part then runs exactly under ``cl.relax`` and ``Smooth``;
``Boolean`` refuses the real boxes, naming them (run the logic part alone).

Each side checks that it got the other side's parameters: ``relax`` takes bool
arrays (or ints holding only 0 and 1), ``discretize`` float ones; anything else
is a ``ParamError`` naming the parameter (a float table passed to ``relax``
would otherwise read as all ones).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np

from .._errors import ParamError
from ..diagrams import GATE_CHOICES, ParamSpec, gate_tables, param_boxes
from ._smooth import Smooth

HARD = {"sin": math.pi / 2, "sigmoid": 30.0, "softmax": 100.0, "gumbel": 100.0}


def _bits_params(
    diagram: Any, params: dict[str, Any], what: str, smooth: bool
) -> Any:
    if not isinstance(params, Mapping):
        raise ParamError(
            f"{what} takes a dict of parameters {{name: array}}, got "
            f"{type(params).__name__}. Fix: pass the params dict itself, e.g. "
            "result.params or prog.init(key)."
        )
    for name, box in param_boxes(diagram).items():
        wire = box.cod.inside[0]
        if name not in params:
            raise ParamError(
                f"{what}: parameter {name!r} ({wire!r}) is missing from the params "
                f"dict, which has {sorted(params)}."
            )
        if wire.kind != "bits":  # no discrete reading: kept (see the docstring)
            continue
        value = np.asarray(params[name])
        problem = _kind_problem(what, name, wire, value, smooth)
        if problem is not None:
            raise ParamError(problem)
        shape = Smooth().param_shape(box) if smooth else wire.shape
        if value.shape != shape:
            raise ParamError(
                f"{what}: parameter {name!r} has shape {value.shape}, expected "
                f"{shape} for {wire!r} ({'Smooth' if smooth else 'Boolean'} "
                "parameters). Fix: pass the params of the matching semantics."
            )
        yield name, box, value


def _kind_problem(
    what: str, name: str, wire: Any, value: np.ndarray, smooth: bool
) -> str | None:
    """Why ``value`` is not a parameter of the side ``what`` reads (``None``:
    it is): Smooth tables hold float logits, Boolean ones bits."""
    kind, head = value.dtype.kind, f"{what}: parameter {name!r} ({wire!r})"
    if smooth:
        if kind == "f":
            return None
        if kind in ("b", "i", "u"):
            return (
                f"{head} has dtype {value.dtype}, bits as Boolean parameters "
                "hold, but discretize takes Smooth parameters: float logits "
                "(float32). Fix: Boolean params need no discretizing; use them "
                "under cl.Boolean() as they are, or cl.relax(diagram, params) to "
                "turn them into Smooth ones."
            )
        return (
            f"{head} has dtype {value.dtype}, but discretize takes Smooth "
            "parameters: float logits (float32). Fix: pass the params Smooth "
            "trained, e.g. cl.fit(...).params."
        )
    if kind == "b":
        return None
    if kind in ("i", "u"):
        bad = (value != 0) & (value != 1)
        if not bad.any():
            return None
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        return (
            f"{head} holds {value[where].item()!r} at index {where}, but Boolean "
            "parameters are bits (0 and 1 only). Fix: pass bool params, e.g. "
            "from cl.Boolean()(diagram).init(key) or cl.discretize(diagram, "
            "smooth_params)."
        )
    if kind == "f":
        return (
            f"{head} has dtype {value.dtype}, but relax takes Boolean parameters: "
            "bool arrays (or ints 0/1); read as bits, every nonzero float would "
            "be a 1. Fix: float params are Smooth ones already and need no "
            "relaxing; cl.discretize(diagram, params) turns them into Boolean ones."
        )
    return (
        f"{head} has dtype {value.dtype}, but relax takes Boolean parameters: "
        "bool arrays (or ints 0/1). Fix: pass the params cl.Boolean() uses, "
        "e.g. cl.discretize(diagram, smooth_params)."
    )


def _real_params(diagram: Any, params: Any) -> dict[str, Any]:
    """The parameters on ``real`` wires, which have no discrete reading."""
    if not isinstance(params, Mapping):
        return {}  # _bits_params says what is wrong
    return {name: params[name] for name, box in param_boxes(diagram).items()
            if box.cod.inside[0].kind != "bits" and name in params}


def discretize(diagram: Any, smooth_params: dict[str, Any]) -> dict[str, Any]:
    """Smooth parameters -> Boolean ones: each relaxed table entry > 1/2;
    ``real`` parameters kept as they are."""
    out = _real_params(diagram, smooth_params)
    for name, box, w in _bits_params(diagram, smooth_params, "discretize", True):
        how = ParamSpec.of(box).relax
        if how in GATE_CHOICES and len(box.cod.inside[0].shape) == 2:  # a select's
            w_bits = box.cod.inside[0].shape[1]
            index = np.argmax(w, axis=-1)[:, None]
            out[name] = jnp.asarray((index >> np.arange(w_bits)) & 1 == 1)
            continue
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
    """Boolean parameters -> Smooth ones whose relaxed tables are exactly 0/1;
    ``real`` parameters kept as they are."""
    out = _real_params(diagram, boolean_params)
    for name, box, b in _bits_params(diagram, boolean_params, "relax", False):
        how = ParamSpec.of(box).relax
        if how in GATE_CHOICES and len(box.cod.inside[0].shape) == 2:  # a select's
            index = np.asarray(b, bool).astype(np.int64) @ (1 << np.arange(b.shape[1]))
            hot = np.arange(1 << b.shape[1]) == index[:, None]
            out[name] = jnp.asarray(np.where(hot, HARD[how], -HARD[how]), jnp.float32)
            continue
        if how in GATE_CHOICES:  # the gate whose table this is: its binary value
            gate = np.asarray(b, bool).reshape(-1, 4) @ np.array([8, 4, 2, 1])
            logits = np.where(np.arange(16) == gate[:, None], HARD[how], -HARD[how])
            out[name] = jnp.asarray(logits.reshape(-1), jnp.float32)
            continue
        hi, lo = (HARD[how], -HARD[how]) if how else (1.0, 0.0)
        out[name] = jnp.where(jnp.asarray(b, bool), hi, lo).astype(jnp.float32)
    return out
