"""The rules of the steps :func:`~catlearn.functors._repeat.repeat` makes: a
chain's inner rule run ``k`` times by ``jax.lax.scan`` (the reverse scans
backwards over the stacked residuals), a layer's run once under ``jax.vmap``.
A rule whose values change dtype, or whose residuals are not all arrays,
runs member by member instead; a rule that breaks its contract (wrong count
or shape) raises ``ShapeError`` naming its box.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp

from .._errors import ShapeError
from ._program import Program, Step
from ._rows import LayerRule, Rows, column, value
from ._rule import Rule
from ._rule_checks import check_pair

if TYPE_CHECKING:
    from ._repeat import Repeated, Stacked


class _Unscannable(Exception):
    """The rule's values cannot be stacked: run it member by member."""


def _arrays(tree: Any) -> Any:
    """``tree`` if every leaf is a JAX array (so it can be stacked)."""
    if not all(isinstance(v, jax.Array) for v in jax.tree_util.tree_leaves(tree)):
        raise _Unscannable
    return tree


def _tuple(
    values: Any, n: int, what: str, step: Step, program: Program
) -> tuple[Any, ...]:
    if isinstance(values, tuple | list) and len(values) == n:
        return tuple(values)
    raise ShapeError(
        f"the {what} rule of box {step.box.name!r} under {program.functor!r} "
        f"returned {values!r:.60} where the box's {n} "
        f"{'outputs' if what == 'forward' else 'inputs'} need one array each. "
        "Fix: return a tuple, e.g. ((y,), residuals) or (dx,)."
    )


def _carry(old: Any, new: Any, what: str, step: Step, program: Program) -> Any:
    """``new``, the next value (or cotangent) of a chain, if it can take the
    place of ``old`` in a scan."""
    if getattr(new, "shape", None) != old.shape:
        raise ShapeError(
            f"the {what} rule of box {step.box.name!r} under {program.functor!r} "
            f"gave the shape {getattr(new, 'shape', None)} where its "
            f"{'input' if what == 'forward' else 'output cotangent'} has the "
            f"shape {tuple(old.shape)} (the box maps a wire to itself). Fix: "
            f"return arrays laid out as {program.functor!r} lays out its wire."
        )
    if new.dtype != old.dtype:
        raise _Unscannable
    return new


def chain_rule(program: Program, inner: Step) -> Rule:
    F, rule, box = program.functor, inner.rule, inner.box

    def one(x: Any) -> tuple[Any, Any]:
        ys, res = check_pair(rule.forward(box, x), inner, F)
        return _tuple(ys, 1, "forward", inner, program)[0], res

    def back(res: Any, d: Any) -> Any:
        (d_in,) = _tuple(rule.reverse(box, res, d), 1, "reverse", inner, program)
        return d_in

    def forward(rep: Repeated, x: Any) -> tuple[tuple[Any, ...], Any]:
        def body(x: Any, _: Any) -> tuple[Any, Any]:
            y, res = one(x)
            return _carry(x, y, "forward", inner, program), _arrays(res)

        try:
            y, stacked = jax.lax.scan(body, x, None, length=rep.k)
            return (y,), ("scan", stacked)
        except _Unscannable:
            kept = []
            for _ in range(rep.k):
                x, res = one(x)
                kept.append(res)
            return (x,), ("loop", kept)

    def reverse(rep: Repeated, r: Any, dy: Any) -> tuple[Any, ...]:
        mode, res = r
        if mode == "scan":
            def body(d: Any, res_i: Any) -> tuple[Any, None]:
                d_in = back(res_i, d)
                d_in = F.zeros_like(d) if d_in is None else d_in
                return _carry(d, d_in, "reverse", inner, program), None

            try:
                return (jax.lax.scan(body, dy, res, length=rep.k, reverse=True)[0],)
            except _Unscannable:
                res = [jax.tree_util.tree_map(lambda a, i=i: a[i], res)
                       for i in range(rep.k)]
        for res_i in reversed(res):
            if dy is None:  # R[f](x, 0) = 0
                break
            dy = back(res_i, dy)
        return (dy,)

    return Rule(forward, reverse, f"{rule.doc or box.name}, scanned")


def _stack(values: Sequence[Any]) -> Any:
    first = values[0]
    if not all(
        isinstance(v, jax.Array) and v.shape == first.shape and v.dtype == first.dtype
        for v in values
    ):
        raise _Unscannable
    return jnp.stack(values)


def layer_rule(program: Program, inner: Step) -> Rule:
    F, rule, box = program.functor, inner.rule, inner.box
    m, n = len(inner.ins), len(inner.outs)

    def one(*xs: Any) -> tuple[tuple[Any, ...], Any]:
        ys, res = check_pair(rule.forward(box, *xs), inner, F)
        return _tuple(ys, n, "forward", inner, program), res

    def back(res: Any, *ds: Any) -> tuple[Any, ...]:
        return _tuple(rule.reverse(box, res, *ds), m, "reverse", inner, program)

    def body(*xs: Any) -> tuple[tuple[Any, ...], Any]:
        ys, res = one(*xs)
        return ys, _arrays(res)

    def forward(rep: Stacked, *xs: Any) -> tuple[Any, Any]:  # outputs: Rows
        cols: list[list[Any]] = []  # per input position, the k members' values
        for one_slot in rep.shared:
            width = 1 if one_slot else rep.k
            cols.append(list(xs[:width]) * (rep.k if one_slot else 1))
            xs = xs[width:]
        try:
            args = [value(c[0]) if s else column(c, _stack)
                    for c, s in zip(cols, rep.shared)]
            axes = [None if s else 0 for s in rep.shared]
            ys, res = jax.vmap(body, in_axes=axes, axis_size=rep.k)(*args)
            return Rows(ys, rep.k), ("vmap", res)
        except _Unscannable:
            kept: list[Any] = []
            outs: list[Any] = []
            for member in zip(*cols, strict=True):
                ys, res = one(*map(value, member))
                outs += ys
                kept.append(res)
            return tuple(outs), ("loop", kept)

    def reverse(rep: Stacked, r: Any, *dys: Any) -> tuple[Any, ...]:
        mode, res = r
        per_member: list[tuple[Any, ...]] = []
        if mode == "vmap":
            try:
                ds = [_stack(dys[i::n]) for i in range(n)]
                d_ins = jax.vmap(back)(res, *ds)
                return _gather(F, rep, d_ins, stacked=True)
            except _Unscannable:
                res = [jax.tree_util.tree_map(lambda a, g=g: a[g], res)
                       for g in range(rep.k)]
        for g in range(rep.k):
            per_member.append(back(res[g], *dys[g * n : (g + 1) * n]))
        return _gather(F, rep, per_member, stacked=False)

    return LayerRule(forward, reverse, f"{rule.doc or box.name}, vmapped")


def _gather(F: Any, rep: Stacked, d_ins: Any, stacked: bool) -> tuple[Any, ...]:
    """The step's input cotangents from the members' (stacked along axis 0 or
    one tuple per member): one per listed slot, a shared slot's summed."""
    out: list[Any] = []
    for j, one_slot in enumerate(rep.shared):
        if stacked:
            d = d_ins[j]
            if d is None:
                out += [None] * (1 if one_slot else rep.k)
            else:
                out += [_halve(F, d)] if one_slot else list(jnp.unstack(d))
            continue
        ds = [member[j] for member in d_ins]
        out += [_total(F, ds)] if one_slot else ds
    return tuple(out)


def _halve(F: Any, d: Any) -> Any:
    """The sum of ``d`` over axis 0 in the functor's cotangent monoid, added
    pairwise (log2 of the length in operations)."""
    while d.shape[0] > 1:
        h = d.shape[0] // 2
        top = F.add(d[:h], d[h : 2 * h])
        d = jnp.concatenate([top, d[2 * h :]]) if d.shape[0] % 2 else top
    return d[0]


def _total(F: Any, parts: list[Any]) -> Any:
    """The sum of ``parts`` in the functor's cotangent monoid (``None``: zero)."""
    parts = [p for p in parts if p is not None]
    return reduce(F.add, parts) if parts else None
