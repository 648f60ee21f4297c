"""Compiled training steps kept across ``cl.fit`` calls.

Compiling a training step (tracing plus XLA) costs about a second for a small
MLP, more for a big logic network; a hand-written JAX loop pays it once per
process, because its ``jax.jit`` function lives as long as the script. A
``fit`` builds its step from the diagram, the semantics, the loss and the
optimiser each time it is called, so without this cache every call would
compile again. The cache keys a jitted step by what it computes:

- the semantics (functors compare by their rules and options) and the
  diagram (DisCoPy diagrams compare by their boxes, whose specs hold the
  wiring, seeds and sizes);
- the loss and the optimiser by their settings, read by
  :func:`catlearn.learn._settings.describe` (the learning rate, the betas,
  the code of a user's function and the globals it reads): two
  ``cl.optim.adam(1e-3)`` built in two calls are the same key,
  ``adam(1e-2)`` another;
- the way of learning, the parameter names and ``on_nonfinite``.

What ``describe`` cannot read (it marks it ``<unseen ...>``: an object with
no attributes, a global that is not a plain value) makes the step
uncacheable, and ``fit`` compiles as before. What it never reads is the
state a user's function reaches other than through its closure, defaults
and module globals (an attribute of a mutable object): a loss that reads
such state and changes between calls must be a new function. Data-parallel
steps (``mesh=``) are not cached. The cache holds the last
:data:`CAPACITY` steps.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from ._settings import describe, unseen

CAPACITY = 8
_STEPS: OrderedDict[Hashable, Callable[..., Any]] = OrderedDict()


def key(
    program: Any,
    learning: Any,
    loss: Any,
    optimiser: Any,
    names: Sequence[str],
    on_nonfinite: str,
) -> Hashable | None:
    """The cache key of a fit's step, or ``None`` if it cannot be cached."""
    settings = (describe(loss), describe(optimiser))
    if any(unseen(s) for s in settings):
        return None
    try:
        hash(program.diagram)
    except TypeError:  # a box whose data is not hashable: compile afresh
        return None
    text = json.dumps(settings, sort_keys=True)
    return (type(learning).__name__, program.functor, program.diagram, text,
            tuple(names), on_nonfinite, program.stochastic)


def lookup(k: Hashable | None) -> Callable[..., Any] | None:
    if k is None or k not in _STEPS:
        return None
    _STEPS.move_to_end(k)
    return _STEPS[k]


def store(k: Hashable | None, step: Callable[..., Any]) -> None:
    if k is None:
        return
    _STEPS[k] = step
    _STEPS.move_to_end(k)
    while len(_STEPS) > CAPACITY:
        _STEPS.popitem(last=False)


def clear() -> None:
    """Forget every cached step (e.g. to free their compiled code)."""
    _STEPS.clear()
