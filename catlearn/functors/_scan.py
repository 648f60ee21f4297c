"""The ``recurrent`` box read by ``jax.lax.scan`` (``Smooth`` and the
functors built on it): the cell compiled once, by the same functor, into a
sub-program; the forward scans it over the steps, carrying the state and
stacking each step's residuals; the reverse scans the sub-program's reverse
backwards over them, carrying the state's cotangent and adding up the shared
parameters' cotangents. Compile time and program size do not grow with the
number of steps. (Functors without this reading unroll the box:
:meth:`~catlearn.diagrams.RecurrentSpec.unrolled`.)

A cell whose residuals are not all arrays (a rule keeping a Python value)
cannot be stacked: it runs step by step in a Python loop instead, meaning the
same.

>>> import catlearn as cl
>>> cell = (cl.nn.linear(3, 3, name="hh") @ cl.nn.linear(2, 3, name="xh")
...         ) >> cl.nn.add(3) >> cl.nn.tanh(3)
>>> program = cl.Smooth()(cl.nn.recurrent(cell, 50))
>>> [step.box.name for step in program.steps]  # one step, whatever the length
['recurrent']
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ..diagrams import RecurrentSpec
from ._program import Program
from ._rule import Rule


class _Unscannable(Exception):
    """A residual is not an array: run the steps in a Python loop."""


def _arrays(tree: Any) -> Any:
    if not all(isinstance(v, jax.Array) for v in jax.tree_util.tree_leaves(tree)):
        raise _Unscannable
    return tree


def scan_rule(functor: Any, box: Any) -> Rule:
    """The rule of one ``recurrent`` box under ``functor``."""
    spec = RecurrentSpec.of(box)
    sub: Program = functor(spec.body)
    names, k, steps = spec.params, len(spec.params), spec.steps
    wires = list(box.dom.inside[k:])  # the state, then each step's input
    pslots = {sub._params[n][1] for n in names}

    def forward(box: Any, *ins: Any, key: Any = None) -> Any:
        params = dict(zip(names, ins[:k], strict=True))
        flags = [v.ndim > len(w.shape) for v, w in zip(ins[k:], wires, strict=True)]
        batch = next((v.shape[0] for v, b in zip(ins[k:], flags, strict=True) if b),
                     1)
        vals = [v if b else jnp.broadcast_to(v, (batch, *v.shape))
                for v, b in zip(ins[k:], flags, strict=True)]
        h, xs = vals[0], jnp.stack(vals[1:])
        keys = None if key is None else jax.random.split(key, steps)

        def step(h: Any, inp: Any) -> Any:
            x, kt = inp
            outs, res, env, _ = sub._forward(params, (h, x), kt)
            env = [None if i in pslots else v for i, v in enumerate(env)]
            return outs[0], _arrays((res, env))

        try:
            h, stacked = jax.lax.scan(step, h, (xs, keys))
            looped = False
        except _Unscannable:
            looped, stacked = True, []
            for t in range(steps):
                h, kept = step(h, (xs[t], None if keys is None else keys[t]))
                stacked.append(kept)
        y = h if any(flags) else h[0]
        return (y,), (params, stacked, looped, flags, batch)

    def reverse(box: Any, r: Any, dy: Any) -> tuple[Any, ...]:
        params, stacked, looped, flags, batch = r
        dh = dy if any(flags) else dy[None]
        zero = {n: jnp.zeros_like(v) for n, v in params.items()}

        def back(carry: Any, kept: Any) -> Any:
            dh, dp = carry
            res, env = kept
            env = list(env)
            for n in names:
                env[sub._params[n][1]] = params[n]
            dps, (dh, dx) = sub._backward(env, res, (dh,), batch)
            return (dh, {n: dp[n] + dps[n] for n in names}), dx

        if looped:
            carry, dxs = (dh, zero), []
            for kept in reversed(stacked):
                carry, dx = back(carry, kept)
                dxs.append(dx)
            (dh, dp), dxs = carry, dxs[::-1]
        else:
            (dh, dp), stacked_dx = jax.lax.scan(back, (dh, zero), stacked,
                                                reverse=True)
            dxs = [stacked_dx[t] for t in range(steps)]
        outs = [dh, *dxs]
        outs = [d if b else jnp.sum(d, axis=0)
                for d, b in zip(outs, flags, strict=True)] if not any(flags) \
            else outs  # all unbatched: the batch of one summed away
        return (*(dp[n] for n in names), *outs)

    keyed = sub.stochastic
    return Rule(forward, reverse, f"lax.scan of the cell over {steps} steps", keyed)
