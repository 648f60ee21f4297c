"""A compiled program inside equinox code: :meth:`Program.module` gives an
``equinox.Module`` whose leaves are the program's parameters (what
``eqx.partition(m, eqx.is_array)`` trains) and whose call runs the program.

>>> import equinox as eqx, jax, jax.numpy as jnp, catlearn as cl
>>> prog = cl.Smooth()(cl.nn.mlp([3, 4, 2]))
>>> m = prog.module(prog.init(jax.random.key(0)))
>>> m(jnp.ones((5, 3))).shape
(5, 2)
>>> grads = eqx.filter_grad(lambda m, x: m(x).sum())(m, jnp.ones((5, 3)))
>>> sorted(grads.params)
['mlp.0.b', 'mlp.0.w', 'mlp.1.b', 'mlp.1.w']
"""

from __future__ import annotations

from typing import Any

import equinox as eqx


class ProgramModule(eqx.Module):
    """A program and its parameters as one equinox module. ``params`` are the
    module's array leaves (so ``eqx.filter_grad``, ``eqx.filter_jit`` and
    optax see them); the program is a static field (its structure)."""

    params: dict[str, Any]
    program: Any = eqx.field(static=True)

    def __call__(self, *xs: Any, key: Any = None) -> Any:
        """The program on ``xs`` with this module's parameters (the checks of
        :meth:`Program.__call__` run as usual, at trace time under a jit)."""
        return self.program(self.params, *xs, key=key)


def module(program: Any, params: dict[str, Any]) -> ProgramModule:
    """``program`` with ``params`` (checked and restricted to its names, as
    the program holds them) as a :class:`ProgramModule`."""
    return ProgramModule(program.check_params(params, encode=False), program)
