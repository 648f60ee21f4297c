"""Numerical faults in training: a step whose loss, new parameters or new
optimiser state are not finite (nan or inf) is not applied.

The check runs inside the jitted step (no device sync per step): a faulty
step leaves parameters and state as they were, and the first fault's place
(epoch, batch offset) and which parameters went non-finite are recorded in a
small :class:`Faults` record that the epoch loop reads now and then. With
``on_nonfinite="raise"`` (``fit``'s default) the first fault stops every later
step too and ``fit`` raises :class:`NonFiniteError` carrying the last finite
parameters; with ``"skip"`` faulty batches are skipped and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

MODES = ("raise", "skip")


class Faults(NamedTuple):
    """Where the first non-finite step happened (``epoch = -1``: none yet), what
    was non-finite there, and how many steps were not applied."""

    epoch: jax.Array
    offset: jax.Array
    loss_ok: jax.Array
    params_ok: jax.Array  # one flag per parameter, in the params' order
    state_ok: jax.Array
    skipped: jax.Array

    @classmethod
    def none(cls, n_params: int) -> Faults:
        return cls(
            jnp.int32(-1),
            jnp.int32(-1),
            jnp.bool_(True),
            jnp.ones((n_params,), bool),
            jnp.bool_(True),
            jnp.int32(0),
        )


def _finite(tree: Any) -> jax.Array:
    flags = [
        jnp.all(jnp.isfinite(leaf))
        for leaf in jax.tree_util.tree_leaves(tree)
        if jnp.issubdtype(leaf.dtype, jnp.inexact)
    ]
    return jnp.all(jnp.stack(flags)) if flags else jnp.bool_(True)


def guard(
    step: Callable[..., tuple[Any, ...]], names: Sequence[str], stop: bool
) -> Callable[..., tuple[Any, ...]]:
    """``step(params, state, x, t[, key]) -> (params, state, loss, correct)``
    made fault-proof: ``guarded(params, state, faults, epoch, offset, x, t[,
    key]) -> (params, state, faults, loss * batch, correct, examples)``, the
    last three zero for a step that was not applied. ``stop``: after the first
    fault, apply no further step."""

    def guarded(
        params: Any, state: Any, faults: Faults, epoch: Any, offset: Any, *args: Any
    ) -> tuple[Any, ...]:
        new_params, new_state, value, right = step(params, state, *args)
        loss_ok = jnp.isfinite(value)
        params_ok = jnp.stack([_finite(new_params[n]) for n in names])
        state_ok = _finite(new_state)
        ok = loss_ok & jnp.all(params_ok) & state_ok
        first = (faults.epoch < 0) & ~ok
        if stop:
            ok = ok & (faults.epoch < 0)
        params, state = jax.lax.cond(
            ok, lambda: (new_params, new_state), lambda: (params, state)
        )
        faults = Faults(
            jnp.where(first, epoch, faults.epoch),
            jnp.where(first, offset, faults.offset),
            jnp.where(first, loss_ok, faults.loss_ok),
            jnp.where(first, params_ok, faults.params_ok),
            jnp.where(first, state_ok, faults.state_ok),
            faults.skipped + (~ok).astype(jnp.int32),
        )
        examples = jax.tree_util.tree_leaves(args[1])[0].shape[0]
        return (
            params,
            state,
            faults,
            jnp.where(ok, value * examples, 0.0),
            jnp.where(ok, right, jnp.zeros_like(right)),
            jnp.where(ok, examples, 0),
        )

    return guarded


def describe(faults: Faults, names: Sequence[str], batch_size: int) -> str:
    """The message for the first fault recorded in ``faults``."""
    epoch, offset = int(faults.epoch), int(faults.offset)
    what = [] if bool(faults.loss_ok) else ["the loss"]
    bad = [n for n, ok in zip(names, faults.params_ok.tolist(), strict=True) if not ok]
    if bad:
        shown = ", ".join(repr(n) for n in bad[:5]) + (" ..." if len(bad) > 5 else "")
        what.append(f"parameter(s) {shown}")
    if not bool(faults.state_ok):
        what.append("the optimiser state")
    return (
        f"training went non-finite in epoch {epoch + 1}, at the batch starting at "
        f"example {offset} of that epoch's order (step {offset // batch_size + 1} "
        f"of the epoch): {' and '.join(what) or 'a value'} became nan or inf. "
        "Training stopped; this error's .params and .opt_state are the last "
        "finite ones (before that step) and .history the finished epochs. Fix: "
        "lower the learning rate, check the data for nan/inf or huge values, "
        "or pass on_nonfinite='skip' to skip such batches."
    )
