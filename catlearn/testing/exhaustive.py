"""Checking a law at every point at once: stacks of points and a functor
evaluated pointwise over them.

A *stack* is a pytree whose leaves share a leading axis, entry ``k`` being one
point (or tangent, or cotangent). :class:`Stacked` wraps a functor or a program
so that calls and reverse passes are ``jax.vmap``-ed over that axis: the law
checkers of :mod:`catlearn.testing.laws`, unchanged, then check their equation
at every entry of the stack in one call. :func:`assignments` enumerates every
bit pattern of a shape, so on a small Boolean circuit a law holds
*exhaustively*: at every point, for every (basis) tangent and cotangent.
Stacks are built with numpy (no JAX operation to compile per shape).

>>> import catlearn as cl
>>> from catlearn.testing import laws
>>> prog = cl.Boolean()(cl.logic.AND)
>>> (params, xs), dys = points(prog), assignments(codomain(prog))
>>> xs[0].shape, dys[0].shape              # 4 points, 2 cotangents, batch 1
((4, 1, 1), (2, 1, 1))
>>> (params, xs), dys, dys2 = product((params, xs), dys, basis(codomain(prog)))
>>> laws.rd2_linearity(Stacked(prog), params, xs, dys, dys2)   # all 8 cases
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..functors import Functor, Program
from ._axioms import run

Derivatives = Callable[[Any, Any, Any], tuple[Any, Any]]


class Stacked:
    """A functor or a program at a stack of points: ``Stacked(F)(d)`` is
    ``Stacked(F(d))``; a stacked program's call and ``reverse`` map ``jax.vmap``
    over the leading axis of parameters, inputs and cotangents. The cotangent
    monoid (``add``, ``zeros_like``) acts entrywise, so it is the functor's."""

    def __init__(self, inner: Functor | Program):
        self.inner = inner

    def __repr__(self) -> str:
        return f"Stacked({self.inner!r})"

    # -- as a functor ---------------------------------------------------------------
    def add(self, a: Any, b: Any) -> Any:
        return self._functor.add(a, b)

    def zeros_like(self, x: Any) -> Any:
        return self._functor.zeros_like(x)

    @property
    def _functor(self) -> Functor:
        inner = self.inner
        return inner.functor if isinstance(inner, Program) else inner

    # -- as a program -----------------------------------------------------------------
    @property
    def program(self) -> Program:
        if not isinstance(self.inner, Program):
            raise TypeError(f"{self!r} wraps a functor, not a program")
        return self.inner

    @property
    def functor(self) -> Stacked:
        return Stacked(self._functor)

    @property
    def diagram(self) -> Any:
        return self.program.diagram

    @property
    def param_types(self) -> dict[str, Any]:
        return self.program.param_types

    def __call__(self, *args: Any) -> Any:
        if not isinstance(self.inner, Program):
            return Stacked(self.inner(*args))  # compile a diagram
        params, *xs = args
        return jax.vmap(self.inner.__call__)(params, *xs)

    def reverse(self, params: Any, xs: Any, dys: Any) -> Any:
        return jax.vmap(self.program.reverse)(params, tuple(xs), tuple(dys))

    @staticmethod
    def derivatives(derivatives: Derivatives) -> Derivatives:
        """``derivatives`` (such as ``z2_derivatives``) for stacked programs:
        the ``(D, DD)`` of the first point, ``jax.vmap``-ed over the stack."""

        def stacked(program: Stacked, params: Any, xs: Any) -> tuple[Any, Any]:
            first = jax.tree.map(lambda x: np.asarray(x)[0], (params, tuple(xs)))
            D, DD = derivatives(program.program, *first)
            return jax.vmap(D), jax.vmap(DD)

        return stacked


# -- enumerating points -------------------------------------------------------------
def domain(program: Program, batch: int = 1) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """The shapes of a point ``(params, xs)`` (``jax.ShapeDtypeStruct`` leaves)."""
    params = {k: jax.ShapeDtypeStruct(w.shape, jnp.bool_)
              for k, w in program.param_types.items()}
    xs = tuple(jax.ShapeDtypeStruct((batch, *w.shape), jnp.bool_) for w in program.dom)
    return params, xs


def codomain(program: Program, batch: int = 1) -> tuple[Any, ...]:
    """The shapes of the outputs (and of their cotangents) at such a point."""
    return tuple(jax.eval_shape(lambda a: run(program, *a), domain(program, batch)))


def bits(like: Any) -> int:
    """How many bits a pytree of shapes holds."""
    return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(like))


def _stack(like: Any, table: np.ndarray) -> Any:
    """Rows of a ``(k, bits(like))`` bool table as a stack shaped like ``like``."""
    leaves, treedef = jax.tree.flatten(like)
    cuts = np.cumsum([int(np.prod(x.shape)) for x in leaves])[:-1]
    parts = np.split(table, cuts, axis=1) if leaves else []
    return jax.tree.unflatten(treedef, [
        p.reshape(len(table), *x.shape) for p, x in zip(parts, leaves, strict=True)])


def assignments(like: Any) -> Any:
    """Every bit pattern of the shapes in ``like``: a stack of ``2**bits``
    entries, entry ``k`` holding the binary digits of ``k``."""
    n = bits(like)
    table = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1
    return _stack(like, table.astype(bool))


def basis(like: Any) -> Any:
    """The ``bits(like)`` one-hot patterns: the basis tangents (or cotangents)."""
    return _stack(like, np.eye(bits(like), dtype=bool))


def points(program: Program) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """Every point ``(params, xs)`` of ``program``, one example each."""
    return assignments(domain(program))  # type: ignore[no-any-return]


def product(*stacks: Any) -> tuple[Any, ...]:
    """The cartesian product of stacks: each repeated so that entry ``k`` of
    the results runs over every combination of entries (the last fastest)."""
    sizes = [len(jax.tree.leaves(s)[0]) if jax.tree.leaves(s) else 1 for s in stacks]
    grids = np.meshgrid(*(np.arange(n) for n in sizes), indexing="ij")
    return tuple(jax.tree.map(lambda x, i=g.ravel(): np.asarray(x)[i], s)
                 for s, g in zip(stacks, grids, strict=True))
