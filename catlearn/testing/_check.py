"""Comparing the two sides of a law, and the error raised when they differ.

Floats are compared leaf by leaf against ``atol + rtol * scale``, where
``scale`` is the largest magnitude in that leaf on either side (or in the terms
that were summed to make one side): float32 sums lose precision relative to
their terms, not to their result. Bools and integers (Z2 semantics) must be
equal exactly.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import LawError as LawError

T = TypeVar("T")


class Tolerance(NamedTuple):
    """How close two float sides must be: ``atol + rtol * scale``. The
    defaults suit float32 with inputs of magnitude about one."""

    rtol: float = 1e-4
    atol: float = 1e-5


TOL = Tolerance()


def _short(d: Any, limit: int = 400) -> str:
    text = str(d)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _leaf_error(a: Any, b: Any, terms: Sequence[Any], tol: Tolerance
                ) -> tuple[float, str]:
    """``(ratio, detail)``: how many tolerances apart ``a`` and ``b`` are."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return np.inf, f"shapes differ: {a.shape} != {b.shape}"
    if a.dtype.kind in "biu" and b.dtype.kind in "biu":
        wrong = int(np.sum(a != b))
        return (np.inf if wrong else 0.0), f"{wrong} of {a.size} entries differ"
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    if not np.array_equal(np.isnan(a64), np.isnan(b64)):
        return np.inf, "NaN on one side only"
    diff = float(np.nanmax(np.abs(a64 - b64), initial=0.0))
    if diff == 0.0:
        return 0.0, "equal"
    scale = max(float(np.nanmax(np.abs(x), initial=0.0)) for x in (a64, b64, *terms))
    bound = tol.atol + tol.rtol * scale
    detail = f"max |lhs - rhs| = {diff:.3g} > {bound:.3g} (scale {scale:.3g})"
    return diff / bound, detail


def close(law: str, context: Mapping[str, Any], lhs: Any, rhs: Any, *,
          terms: Sequence[Any] = (), tol: Tolerance = TOL) -> None:
    """Raise :class:`LawError` unless the pytrees ``lhs`` and ``rhs`` agree.

    ``context`` names what the law was checked on (diagrams, types);
    ``terms`` are pytrees whose leaves, matched to ``rhs`` by key path, also
    set the scale of the tolerance (the summands of a sum).

    >>> import numpy as np
    >>> close("x = x", {}, {"a": np.ones(2)}, {"a": np.ones(2)})
    >>> close("x = 2x", {"x": "ones"}, np.ones(2), 2 * np.ones(2))
    Traceback (most recent call last):
    ...
    catlearn.testing.LawError: law x = 2x fails for
      x = ones
    at (value): max |lhs - rhs| = 1 > 0.00021 (scale 2)
    ...
    """
    flat = jax.tree_util.tree_flatten_with_path
    (lhs_leaves, lhs_def), (rhs_leaves, rhs_def) = flat(lhs), flat(rhs)
    if str(lhs_def) != str(rhs_def):
        _fail(law, context, "the two sides have different structures:\n"
              f"  lhs: {lhs_def}\n  rhs: {rhs_def}")
    keystr = jax.tree_util.keystr
    by_path = [{keystr(k): x for k, x in flat(t)[0]} for t in terms]
    worst: tuple[float, str, str, Any, Any] = (0.0, "", "", None, None)
    for (path, a), (_, b) in zip(lhs_leaves, rhs_leaves, strict=True):
        key = keystr(path)
        extra = [np.abs(np.asarray(t[key], np.float64)) for t in by_path
                 if key in t and np.asarray(t[key]).dtype.kind == "f"]
        ratio, detail = _leaf_error(a, b, extra, tol)
        if ratio > worst[0]:
            worst = (ratio, detail, key or "(value)", a, b)
    ratio, detail, at, a, b = worst
    if ratio > 1.0:
        _fail(law, context, f"at {at}: {detail}\n  lhs{at} = "
              f"{_short(np.asarray(a))}\n  rhs{at} = {_short(np.asarray(b))}")


def _fail(law: str, context: Mapping[str, Any], detail: str) -> None:
    where = "".join(f"\n  {k} = {_short(v)}" for k, v in context.items())
    raise LawError(f"law {law} fails{' for' if where else ''}{where}\n{detail}")


# -- helpers shared by the laws ---------------------------------------------------
def as_tuple(v: Any) -> tuple[Any, ...]:
    """A program's value as a tuple of wires (one output is a bare array)."""
    return tuple(v) if isinstance(v, tuple | list) else (v,)


def restrict(params: Mapping[str, Any], program: Any) -> dict[str, Any]:
    """The entries of ``params`` that ``program`` uses, in its order."""
    return {name: params[name] for name in program.param_types}


def add_params(functor: Any, *dparams: Mapping[str, Any]) -> dict[str, Any]:
    """Sum parameter cotangents by name with the functor's monoid (a name used
    by several parts of a diagram collects all their cotangents)."""
    out: dict[str, Any] = {}
    for dp in dparams:
        for name, d in dp.items():
            out[name] = functor.add(out[name], d) if name in out else d
    return out


def add_values(functor: Any, a: Sequence[Any], b: Sequence[Any]) -> tuple[Any, ...]:
    """Wire-wise sum of two tuples of values with the functor's monoid."""
    return tuple(functor.add(x, y) for x, y in zip(a, b, strict=True))


_PER_PROGRAM: weakref.WeakKeyDictionary[Any, dict[Any, Any]] = (
    weakref.WeakKeyDictionary())


def per_program(build: Callable[[Any, Any, Any], T]) -> Callable[[Any, Any, Any], T]:
    """Memoise ``build(program, params, xs)`` per program and per shape of
    ``(params, xs)`` (not their values): functions of the point such as
    ``(D[f], D[D[f]])`` are then the same Python objects for every law that
    asks, so ``jax.jit`` compiles them once."""

    @functools.wraps(build)
    def memoised(program: Any, params: Any, xs: Any) -> T:
        point = (restrict(params, program), tuple(xs))
        leaves, treedef = jax.tree.flatten(point)
        key = (treedef, tuple((np.shape(x), str(jnp.asarray(x).dtype)) for x in leaves))
        cache = _PER_PROGRAM.setdefault(program, {}).setdefault(build, {})
        if key not in cache:
            cache[key] = build(program, params, xs)
        return cache[key]  # type: ignore[no-any-return]

    return memoised
