"""The reverse-derivative axioms RD.1–RD.7, checked numerically; stated and
re-exported in :mod:`catlearn.testing.laws`.

>>> import jax, jax.numpy as jnp, catlearn as cl
>>> from catlearn.testing import laws
>>> prog = cl.Smooth()(cl.nn.mul(2))
>>> xs = (jnp.array([[1.0, 2.0]]), jnp.array([[3.0, -1.0]]))
>>> u = ({}, (jnp.ones((1, 2)), jnp.zeros((1, 2))))
>>> v = ({}, (jnp.zeros((1, 2)), jnp.ones((1, 2))))
>>> D, DD = laws.jax_derivatives(prog, {}, xs)
>>> D(({}, xs), u)   # d(a * b) = da * b
(Array([[ 3., -1.]], dtype=float32),)
>>> laws.rd7_symmetry(prog, {}, xs, u, v)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from ..diagrams import Copy, Diagram, Discard, Id, Swap
from ..functors import Functor, Program
from ._check import (
    TOL,
    Tolerance,
    add_params,
    add_values,
    as_tuple,
    close,
    per_program,
    restrict,
)

Params = dict[str, Any]
Derivative = Callable[[Any, Any], Any]


def run(program: Program, params: Params, xs: Any) -> tuple[Any, ...]:
    """The (jitted) forward pass, as a tuple of output wires."""
    return as_tuple(program(params, *xs))


def reverse(program: Program, params: Params, xs: Any, dys: Any) -> Any:
    """``(dparams, dxs)`` from ``program.reverse``, ``dxs`` a tuple."""
    dparams, dxs = program.reverse(params, tuple(xs), tuple(dys))
    return dparams, tuple(dxs)


# -- the syntax the axioms are stated with ------------------------------------------
def plus(f: Diagram, g: Diagram, add: Callable[[Any], Diagram]) -> Diagram:
    """``f + g := Copy >> f @ g >> add``, with ``add(ty)`` the monoid on one
    wire, applied wire by wire on ``f.cod == g.cod``."""
    return Copy(f.dom) >> (f @ g) >> _merge(f.cod, add)


def _merge(ty: Any, add: Callable[[Any], Diagram]) -> Diagram:
    if len(ty) <= 1:
        return add(ty) if len(ty) else Id(ty)
    head, rest = ty[:1], ty[1:]
    return (Id(head) @ Swap(rest, head) @ Id(rest)) >> (add(head) @ _merge(rest, add))


def pairing(f: Diagram, g: Diagram) -> Diagram:
    """``<f, g> := Copy >> f @ g`` for ``f.dom == g.dom``."""
    return Copy(f.dom) >> (f @ g)


# -- RD.1 to RD.5 ---------------------------------------------------------------------
def rd1_additivity(F: Functor, f: Diagram, g: Diagram, add: Callable[[Any], Diagram],
                   params: Params, xs: Any, dys: Any, *, tol: Tolerance = TOL) -> None:
    """RD.1: ``R[f + g] = R[f] + R[g]`` for ``f, g : A -> B``."""
    (dpf, dxf), (dpg, dxg) = reverse(F(f), params, xs, dys), reverse(
        F(g), params, xs, dys)
    close("RD.1 R[f + g] = R[f] + R[g]", {"f": f, "g": g},
          reverse(F(plus(f, g, add)), params, xs, dys),
          (add_params(F, dpf, dpg), add_values(F, dxf, dxg)),
          terms=[(dpf, dxf), (dpg, dxg)], tol=tol)


def rd2_linearity(program: Program, params: Params, xs: Any, dys: Any, dys2: Any,
                  *, tol: Tolerance = TOL) -> None:
    """RD.2: ``R[f](a, 0) = 0`` and
    ``R[f](a, b + b') = R[f](a, b) + R[f](a, b')``."""
    F, ctx = program.functor, {"f": program.diagram}
    dp0, dx0 = reverse(program, params, xs, tuple(F.zeros_like(d) for d in dys))
    close("RD.2 R[f](a, 0) = 0", ctx, (dp0, dx0),
          jax.tree.map(F.zeros_like, (dp0, dx0)), tol=tol)
    (dp1, dx1), (dp2, dx2) = (reverse(program, params, xs, dys),
                              reverse(program, params, xs, dys2))
    close("RD.2 R[f](a, b + b') = R[f](a, b) + R[f](a, b')", ctx,
          reverse(program, params, xs, add_values(F, dys, dys2)),
          (add_params(F, dp1, dp2), add_values(F, dx1, dx2)),
          terms=[(dp1, dx1), (dp2, dx2)], tol=tol)


def rd3_structure(F: Functor, A: Any, B: Any, a: Any, b: Any, da: Any, db: Any,
                  da2: Any, *, tol: Tolerance = TOL) -> None:
    """RD.3: ``R[id] = π1``, ``R[π0]((a, b), c) = (c, 0)``,
    ``R[π1]((a, b), c) = (0, c)``; with the other structural maps of a
    cartesian category: ``R[swap]((a, b), (d, c)) = (c, d)``,
    ``R[copy](a, (c, c')) = c + c'`` and ``R[discard](a, ()) = 0``.
    ``a, da, da2`` are values of ``A``; ``b, db`` of ``B``."""
    a, b, da, db = tuple(a), tuple(b), tuple(da), tuple(db)
    zero_a = tuple(F.zeros_like(x) for x in da)
    zero_b = tuple(F.zeros_like(x) for x in db)
    cases = [
        ("R[id](a, c) = c", Id(A), a, da, da),
        ("R[π0]((a, b), c) = (c, 0)", Id(A) @ Discard(B), a + b, da, da + zero_b),
        ("R[π1]((a, b), c) = (0, c)", Discard(A) @ Id(B), a + b, db, zero_a + db),
        ("R[swap]((a, b), (d, c)) = (c, d)", Swap(A, B), a + b, db + da, da + db),
        ("R[copy](a, (c, c')) = c + c'", Copy(A), a, da + tuple(da2),
         add_values(F, da, da2)),
        ("R[discard](a, ()) = 0", Discard(A), a, (), zero_a),
    ]
    for law, d, xs, dys, want in cases:
        close(f"RD.3 {law}", {"A": A, "B": B}, reverse(F(d), {}, xs, dys),
              ({}, want), tol=tol)


def rd4_pairing(F: Functor, f: Diagram, g: Diagram, params: Params, xs: Any,
                dys_f: Any, dys_g: Any, *, tol: Tolerance = TOL) -> None:
    """RD.4: ``R[<f, g>](a, (b, c)) = R[f](a, b) + R[g](a, c)``."""
    (dpf, dxf), (dpg, dxg) = reverse(F(f), params, xs, dys_f), reverse(
        F(g), params, xs, dys_g)
    close("RD.4 R[<f, g>](a, (b, c)) = R[f](a, b) + R[g](a, c)", {"f": f, "g": g},
          reverse(F(pairing(f, g)), params, xs, tuple(dys_f) + tuple(dys_g)),
          (add_params(F, dpf, dpg), add_values(F, dxf, dxg)),
          terms=[(dpf, dxf), (dpg, dxg)], tol=tol)


def rd5_chain_rule(F: Functor, f: Diagram, g: Diagram, params: Params, xs: Any,
                   dzs: Any, *, tol: Tolerance = TOL) -> None:
    """RD.5: ``R[f ; g](a, c) = R[f](a, R[g](f(a), c))``, through
    ``Program.reverse``."""
    pf = F(f)
    dpg, db = reverse(F(g), params, run(pf, params, xs), dzs)
    dpf, da = reverse(pf, params, xs, db)
    close("RD.5 R[f ; g](a, c) = R[f](a, R[g](f(a), c))", {"f": f, "g": g},
          reverse(F(f >> g), params, xs, dzs), (add_params(F, dpf, dpg), da),
          terms=[(dpf,), (dpg,)], tol=tol)


# -- RD.6 and RD.7: the derivative that a reverse derivative determines ---------------
@per_program
def jax_derivatives(program: Program, params: Params, xs: Any
                    ) -> tuple[Derivative, Derivative]:
    """``(D[f], D[D[f]])`` at points shaped like ``a = (params, xs)``, with
    ``R[R[f]]`` taken as ``jax.vjp`` of ``program.reverse``, and ``R[D[f]]`` as
    ``jax.vjp`` of ``D[f]``. ``D[f](a, v)`` and ``D[D[f]]((a, u), (v, w))``
    are tuples shaped like the outputs. Memoised per program and shape, so
    RD.6 and RD.7 compile them once."""
    zero_b = jax.tree.map(program.functor.zeros_like, run(program, params, xs))

    def derivative(rev: Callable[[Any, Any], Any]) -> Derivative:
        def d(a: Any, v: Any) -> Any:
            _, pullback = jax.vjp(rev, a, zero_b)
            return pullback(v)[1]  # π1 R[R[f]]((a, 0), v)

        return d

    D = derivative(lambda a, b: reverse(program, a[0], a[1], b))

    def reverse_D(x: Any, c: Any) -> Any:
        _, pullback = jax.vjp(lambda x: D(x[0], x[1]), x)
        return pullback(c)[0]

    return D, derivative(reverse_D)


def rd6_linear_derivative(program: Program, params: Params, xs: Any, v: Any, *,
                          derivatives: Any = jax_derivatives,
                          tol: Tolerance = TOL) -> None:
    """RD.6: ``D[D[f]]((a, 0), (0, v)) = D[f](a, v)``, for a tangent
    ``v = (dparams, dxs)`` at ``a = (params, xs)``. ``derivatives(program,
    params, xs)`` gives ``(D[f], D[D[f]])``."""
    a = (restrict(params, program), tuple(xs))
    D, DD = derivatives(program, params, xs)
    zero = jax.tree.map(program.functor.zeros_like, a)
    close("RD.6 D[D[f]]((a, 0), (0, v)) = D[f](a, v)", {"f": program.diagram},
          jax.jit(DD)((a, zero), (zero, v)), jax.jit(D)(a, v), tol=tol)


def rd7_symmetry(program: Program, params: Params, xs: Any, u: Any, v: Any, *,
                 derivatives: Any = jax_derivatives, tol: Tolerance = TOL) -> None:
    """RD.7: ``D[D[f]]((a, u), (v, 0)) = D[D[f]]((a, v), (u, 0))``: second
    derivatives are symmetric (``u``, ``v`` tangents as in RD.6)."""
    a = (restrict(params, program), tuple(xs))
    DD = jax.jit(derivatives(program, params, xs)[1])
    zero = jax.tree.map(program.functor.zeros_like, a)
    close("RD.7 D[D[f]]((a, u), (v, 0)) = D[D[f]]((a, v), (u, 0))",
          {"f": program.diagram}, DD((a, u), (v, zero)), DD((a, v), (u, zero)),
          tol=tol)
