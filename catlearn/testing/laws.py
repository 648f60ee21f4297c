"""The laws every functor obeys, each stated once and checked on concrete values.

Each checker takes a functor ``F`` (or a compiled program), diagrams and values,
returns ``None`` when the law holds, and raises :class:`LawError` naming the
law, the diagrams, and where and by how much the two sides differ.

Functoriality: a functor maps diagrams to programs preserving the structure,

    F(f >> g) = F(f) ; F(g)          F(f @ g) = F(f) ⊗ F(g)
    F(Id(A)) = id                     F(f >> Id) = F(f) = F(Id >> f)

and the lens it gives is the composite of the generators' lenses,
``R[f ; g](a, dc) = R[f](a, R[g](f(a), dc))``. Parameters are inputs (Para):
``a = (params, xs)``, so the cotangents of a name used twice add up.

The reverse-derivative axioms (Cockett, Cruttwell, Gallagher, Lemay, MacAdam,
Plotkin, Pronk, "Reverse Derivative Categories", CSL 2020, arXiv:1910.07065),
with ``+`` and ``0`` the functor's cotangent monoid (``F.add``, ``F.zeros_like``):

    RD.1  R[f + g] = R[f] + R[g]                  f + g := Copy >> f @ g >> add
    RD.2  R[f](a, b + b') = R[f](a, b) + R[f](a, b'),   R[f](a, 0) = 0
    RD.3  R[id](a, b) = b,  R[π0]((a, b), c) = (c, 0),  R[π1]((a, b), c) = (0, c)
    RD.4  R[<f, g>](a, (b, c)) = R[f](a, b) + R[g](a, c)    <f, g> := Copy >> f @ g
    RD.5  R[f ; g](a, c) = R[f](a, R[g](f(a), c))
    RD.6  D[D[f]]((a, 0), (0, v)) = D[f](a, v)
    RD.7  D[D[f]]((a, u), (v, 0)) = D[D[f]]((a, v), (u, 0))

where ``D[f](a, v) := π1 R[R[f]]((a, 0), v)`` is the forward derivative that a
reverse derivative determines. :func:`jax_derivatives` takes ``R[R[f]]`` as
``jax.vjp`` of the program's own ``reverse`` (numerical, for ``Smooth``);
:func:`z2_derivatives` takes ``D[f]`` as the transpose of the program's own
``reverse`` over Z2, and ``D[D[f]]`` as the Z2 derivative of that function
(exact; symmetric on circuits with no repeated variable inside a product).
The reverse pass's oracle is ``jax.vjp`` of the forward
(:func:`reverse_matches_vjp`) for ``Smooth`` and the brute-force Z2 derivative
(:func:`reverse_matches_brute_force`) for ``Boolean``. ``R[0] = 0`` (RD.1) is not
checked: a signature need not contain the zero map. Floats agree within
:class:`Tolerance` (``rtol=1e-4`` of the magnitudes involved, ``atol=1e-5``);
bools exactly.

>>> import jax, jax.numpy as jnp, catlearn as cl
>>> from catlearn.testing import laws
>>> F = cl.Smooth()
>>> f, g = cl.nn.dense(3, 2, activation=None, name="f"), cl.nn.tanh(2)
>>> params = F(f >> g).init(jax.random.key(0))
>>> xs, dzs = (jnp.linspace(-1.0, 1.0, 12).reshape(4, 3),), (jnp.ones((4, 2)),)
>>> laws.composition(F, f, g, params, xs)
>>> laws.rd5_chain_rule(F, f, g, params, xs, dzs)
>>> bad = F.extend({"tanh": cl.Rule(lambda box, x: ((jnp.tanh(x),), x),
...                                 lambda box, x, dy: (dy,))})
>>> laws.reverse_matches_vjp(bad(f >> g), params, xs, dzs)
Traceback (most recent call last):
...
catlearn.testing.LawError: law reverse = jax.vjp of the forward fails ...
"""

from __future__ import annotations

from typing import Any

import jax

from ..diagrams import Diagram, Id
from ..functors import Functor, Program, small_runs, unroll
from ._axioms import jax_derivatives as jax_derivatives
from ._axioms import pairing as pairing
from ._axioms import plus as plus
from ._axioms import rd1_additivity as rd1_additivity
from ._axioms import rd2_linearity as rd2_linearity
from ._axioms import rd3_structure as rd3_structure
from ._axioms import rd4_pairing as rd4_pairing
from ._axioms import rd5_chain_rule as rd5_chain_rule
from ._axioms import rd6_linear_derivative as rd6_linear_derivative
from ._axioms import rd7_symmetry as rd7_symmetry
from ._axioms import reverse, run
from ._check import TOL, LawError, Tolerance, add_params, as_tuple, close, restrict
from ._z2 import reverse_matches_brute_force as reverse_matches_brute_force
from ._z2 import z2_derivatives as z2_derivatives

__all__ = [
    "TOL", "LawError", "Tolerance", "close", "composition", "identity",
    "jax_derivatives", "lens_composition", "pairing", "plus", "rd1_additivity",
    "rd2_linearity", "rd3_structure", "rd4_pairing", "rd5_chain_rule",
    "rd6_linear_derivative", "rd7_symmetry", "repeat_pass",
    "reverse_matches_brute_force", "reverse_matches_vjp", "tensor", "unit",
    "z2_derivatives",
]

Params = dict[str, Any]


# -- functoriality ----------------------------------------------------------------
def composition(F: Functor, f: Diagram, g: Diagram, params: Params, xs: Any, *,
                tol: Tolerance = TOL) -> None:
    """``F(f >> g) = F(f) ; F(g)`` on the forward pass."""
    close("functoriality F(f >> g) = F(f) ; F(g)", {"f": f, "g": g},
          run(F(f >> g), params, xs), run(F(g), params, run(F(f), params, xs)),
          tol=tol)


def tensor(F: Functor, f: Diagram, g: Diagram, params: Params, xs: Any, dys: Any,
           *, tol: Tolerance = TOL) -> None:
    """``F(f @ g) = F(f) ⊗ F(g)``, forward and reverse: inputs, outputs and
    cotangents split at ``len(f.dom)`` and ``len(f.cod)``."""
    fg, pf, pg, ctx = F(f @ g), F(f), F(g), {"f": f, "g": g}
    xf, xg = tuple(xs[: len(f.dom)]), tuple(xs[len(f.dom) :])
    df, dg = tuple(dys[: len(f.cod)]), tuple(dys[len(f.cod) :])
    close("functoriality F(f @ g) = F(f) ⊗ F(g)", ctx, run(fg, params, xs),
          run(pf, params, xf) + run(pg, params, xg), tol=tol)
    (dpf, dxf), (dpg, dxg) = reverse(pf, params, xf, df), reverse(pg, params, xg, dg)
    close("functoriality R[F(f @ g)] = R[F(f)] × R[F(g)]", ctx,
          reverse(fg, params, xs, dys), (add_params(F, dpf, dpg), dxf + dxg),
          terms=[(dpf,), (dpg,)], tol=tol)


def identity(F: Functor, ty: Any, xs: Any, *, tol: Tolerance = TOL) -> None:
    """``F(Id(ty)) = id`` on the forward pass (``R[id]`` is RD.3)."""
    close("functoriality F(Id) = id", {"ty": ty}, run(F(Id(ty)), {}, xs),
          tuple(xs), tol=tol)


def unit(F: Functor, f: Diagram, params: Params, xs: Any, dys: Any, *,
         tol: Tolerance = TOL) -> None:
    """``F(f >> Id) = F(f) = F(Id >> f)``, forward and reverse."""
    pf = F(f)
    want = (run(pf, params, xs), reverse(pf, params, xs, dys))
    for name, d in (("F(f >> Id) = F(f)", f >> Id(f.cod)),
                    ("F(Id >> f) = F(f)", Id(f.dom) >> f)):
        prog = F(d)
        got = (run(prog, params, xs), reverse(prog, params, xs, dys))
        close(f"functoriality {name}", {"f": f}, got, want, tol=tol)


# -- the reverse pass ---------------------------------------------------------------
def reverse_matches_vjp(program: Program, params: Params, xs: Any, dys: Any, *,
                        tol: Tolerance = TOL) -> None:
    """``program.reverse`` equals ``jax.vjp`` of the un-jitted forward
    ``program.apply`` (the independent oracle for ``Smooth``), parameters
    included. A stochastic program (dropout, Gumbel-noised gates) is checked
    twice: without a key (its evaluation mode) and with a fixed key (its
    training mode, the same draws on both sides)."""
    p = restrict(params, program)
    keys = (None, jax.random.key(7)) if program.stochastic else (None,)
    for key in keys:
        def forward(p: Params, xs: tuple[Any, ...], key: Any = key) -> tuple[Any, ...]:
            return as_tuple(program.apply(p, *xs, key=key))

        _, pullback = jax.vjp(forward, p, tuple(xs))
        dparams, dxs = program.reverse(p, tuple(xs), tuple(dys), key=key)
        law = "reverse = jax.vjp of the forward" + (" (keyed)" if key is not None
                                                    else "")
        close(law, {"program": program.diagram}, (dparams, tuple(dxs)),
              tuple(pullback(tuple(dys))), tol=tol)


def lens_composition(F: Functor, f: Diagram, g: Diagram, params: Params, xs: Any,
                     dzs: Any, *, tol: Tolerance = TOL) -> None:
    """The lens of ``f >> g`` is the composite of the lenses of ``f`` and
    ``g``: the same view ``g(f(a))`` and the backward map
    ``R[f ; g](a, dc) = R[f](a, R[g](f(a), dc))``, with Para cotangents of
    shared parameter names added. (RD.5 states the same through
    ``Program.reverse``; this one goes through ``Program.lens``.)"""
    ctx = {"f": f, "g": g}
    value, backward = F(f >> g).lens(params, tuple(xs))
    b, back_f = F(f).lens(params, tuple(xs))
    c, back_g = F(g).lens(params, as_tuple(b))
    close("lens composition (view) F(f >> g)(a) = F(g)(F(f)(a))", ctx,
          as_tuple(value), as_tuple(c), tol=tol)
    dpg, db = back_g(tuple(dzs))
    dpf, da = back_f(db)
    dp, dxs = backward(tuple(dzs))
    close("lens composition R[f ; g](a, dc) = R[f](a, R[g](f(a), dc))", ctx,
          (dp, tuple(dxs)), (add_params(F, dpf, dpg), tuple(da)),
          terms=[(dpf,), (dpg,)], tol=tol)


# -- compile passes -----------------------------------------------------------------
def repeat_pass(F: Functor, d: Diagram, params: Params, xs: Any, dys: Any, *,
                tol: Tolerance = TOL) -> None:
    """``F``'s repeat pass, run with runs of two steps already grouped
    (:func:`~catlearn.functors.small_runs`), means what the steps mean one by
    one (:func:`~catlearn.functors.unroll`): the same outputs, through the
    jitted call (where a layer's inputs and outputs cross ``jax.jit``
    stacked) and through the lens, and the same reverse derivative (the
    lenses' backward maps, run eagerly)."""
    with small_runs(2):
        prog = F(d)
    plain, ctx = unroll(prog), {"d": d}
    if plain is prog:  # nothing was grouped: the same program
        return
    xs, dys = tuple(xs), tuple(dys)
    want, back = plain.lens(params, xs)  # eager: no compile per side
    close("repeat pass: F(d) = F(d) step by step, forward", ctx,
          as_tuple(prog(params, *xs)), as_tuple(want), tol=tol)
    value, back_prog = prog.lens(params, xs)
    close("repeat pass: F(d) = F(d) step by step, forward (lens)", ctx,
          as_tuple(value), as_tuple(want), tol=tol)
    close("repeat pass: F(d) = F(d) step by step, reverse", ctx,
          back_prog(dys), back(dys), tol=tol)
