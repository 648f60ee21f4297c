"""The rule of ``equinox`` boxes (``cl.nn.from_equinox``): an
``equinox.Module`` run as a generator under ``Smooth``.

The box's parameters are the module's arrays (``eqx.partition(module,
eqx.is_inexact_array)``), its other inputs the module's arguments. The
module acts on one example, as equinox layers do, so the forward maps it
over the batch (``jax.vmap``; an input with no batch axis, e.g. fed by a
parameter, is passed whole) and the reverse is ``jax.vjp`` of that forward,
parameters included. A module's code cannot be saved: the diagram holds a
token into :data:`MODULES` (this process's registry), and a diagram loaded
in another process must be rebuilt with ``from_equinox``.
"""

from __future__ import annotations

from typing import Any

import jax

from .._errors import MissingRuleError
from ..diagrams import EQUINOX_MODULES as MODULES
from ..diagrams import EquinoxEntry as Entry
from ..diagrams import EquinoxSpec
from ._rule import Rule


def entry(token: str, what: str) -> Entry:
    if token not in MODULES:
        raise MissingRuleError(
            f"{what}: the equinox module {token!r} was not built in this process "
            "(a module's code is not saved with a diagram). Fix: build the box "
            "again with cl.nn.from_equinox(module, dom, cod)."
        )
    return MODULES[token]


def initial(init: str) -> Any:
    """The initial value of a parameter whose ``init`` is ``equinox:TOKEN:I``:
    leaf ``I`` of the module as it was given."""
    _, token, i = init.split(":")
    return entry(token, f"Param init {init!r}").leaves[int(i)]


def _apply(box: Any, ins: tuple[Any, ...]) -> tuple[Any, ...]:
    import equinox as eqx

    spec = EquinoxSpec.of(box)
    e = entry(spec.token, f"box {box.name!r}")
    params, xs = ins[: spec.params], ins[spec.params :]
    module = eqx.combine(jax.tree.unflatten(e.treedef, params), e.static)
    wires = box.dom.inside[spec.params :]
    axes = tuple(0 if x.ndim > len(w.shape) else None
                 for x, w in zip(xs, wires, strict=True))
    call = module
    out = jax.vmap(call, in_axes=axes)(*xs) if any(a == 0 for a in axes) else call(*xs)
    return tuple(out) if isinstance(out, tuple | list) else (out,)


def _forward(box: Any, *ins: Any) -> tuple[tuple[Any, ...], Any]:
    return _apply(box, ins), ins


def _reverse(box: Any, ins: Any, *dys: Any) -> tuple[Any, ...]:
    _, pullback = jax.vjp(lambda *a: _apply(box, a), *ins)
    return tuple(pullback(tuple(dys)))


EQUINOX_RULES = {"equinox": Rule(
    _forward, _reverse,
    "y = module(x) per example (jax.vmap);  R: jax.vjp of that, parameters included")}
