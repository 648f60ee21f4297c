"""The table of laws: each law of :mod:`catlearn.testing.laws` as a property of
a :class:`Semantics` over random diagrams drawn from its signature.

One row per law, read by the contract suite (``tests/test_contract.py``), by
:func:`~catlearn.testing.check_functor` and by ``catlearn laws``: a law is
stated here once. ``check(sem, data)`` draws what it needs with hypothesis's
``data.draw`` and raises :class:`LawError` when the law fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
from hypothesis import assume, reject

from ..functors import relax
from . import laws
from . import strategies as cst
from ._check import LawError, as_tuple
from ._semantics import ORACLES, Semantics, reference_signature


@dataclass(frozen=True)
class Law:
    """A row of the table: its name, the property, whether it takes half the
    examples (RD.6 and RD.7 differentiate three times over) and the oracles
    of the semantics it applies to."""

    name: str
    check: Callable[[Semantics, Any], None]
    few: bool = False
    oracles: tuple[str, ...] = ORACLES

    def __repr__(self) -> str:
        return f"Law({self.name!r})"


def setup(sem: Semantics, data: Any, diagram: Any) -> tuple[Any, ...]:
    """Compile ``diagram``; draw its parameters, inputs and output cotangents."""
    sig, prog = sem.signature, sem.functor(diagram)
    params = data.draw(cst.parameters(prog, sig), label="params")
    xs = data.draw(cst.inputs(sig, prog), label="xs")
    dys = data.draw(cst.cotangents(sig, prog), label="dys")
    return prog, params, xs, dys


# -- functoriality ------------------------------------------------------------------
def _composition(sem: Semantics, data: Any) -> None:
    f, g = data.draw(cst.composable_pairs(sem.signature), label="f, g")
    _, params, xs, _ = setup(sem, data, f >> g)
    laws.composition(sem.functor, f, g, params, xs)


def _tensor(sem: Semantics, data: Any) -> None:
    f, g = data.draw(cst.parallel_pairs(sem.signature), label="f, g")
    _, params, xs, dys = setup(sem, data, f @ g)
    laws.tensor(sem.functor, f, g, params, xs, dys)


def _identity(sem: Semantics, data: Any) -> None:
    ty = data.draw(cst.types(sem.signature), label="ty")
    xs = data.draw(cst.values(sem.signature, ty.inside), label="xs")
    laws.identity(sem.functor, ty, xs)


def _unit(sem: Semantics, data: Any) -> None:
    f = data.draw(cst.diagrams(sem.signature), label="f")
    _, params, xs, dys = setup(sem, data, f)
    laws.unit(sem.functor, f, params, xs, dys)


# -- the reverse pass ------------------------------------------------------------------
def _oracle(sem: Semantics, data: Any) -> None:
    d = data.draw(cst.diagrams(sem.signature), label="d")
    prog, params, xs, dys = setup(sem, data, d)
    assume(sem.exact(prog))
    sem.check_reverse(prog, params, xs, dys)


def _grad(sem: Semantics, data: Any) -> None:
    """The parameter cotangents are ``jax.grad`` of ``<forward, dys>``."""
    import jax

    d = data.draw(cst.diagrams(sem.signature), label="d")
    prog, params, xs, dys = setup(sem, data, d)
    assume(prog.param_types)  # a model with something to learn
    dparams, _ = prog.reverse(params, xs, dys)

    def pairing(p: Any) -> Any:
        ys = as_tuple(prog.apply(p, *xs))
        return sum(jnp.sum(y * dy) for y, dy in zip(ys, dys, strict=True))

    laws.close("dparams of reverse = jax.grad of <forward, dys>", {"d": d},
               dparams, jax.grad(pairing)(laws.restrict(params, prog)))


def _lens(sem: Semantics, data: Any) -> None:
    f, g = data.draw(cst.composable_pairs(sem.signature), label="f, g")
    _, params, xs, dzs = setup(sem, data, f >> g)
    laws.lens_composition(sem.functor, f, g, params, xs, dzs)


# -- the reverse-derivative axioms -----------------------------------------------------
def _rd1(sem: Semantics, data: Any) -> None:
    sig = sem.signature
    f, g = data.draw(cst.hom_pairs(sig, same_cod=True), label="f, g")
    _, params, xs, dys = setup(sem, data, laws.plus(f, g, sig.add))
    laws.rd1_additivity(sem.functor, f, g, sig.add, params, xs, dys)


def _rd2(sem: Semantics, data: Any) -> None:
    f = data.draw(cst.diagrams(sem.signature), label="f")
    prog, params, xs, dys = setup(sem, data, f)
    dys2 = data.draw(cst.cotangents(sem.signature, prog), label="dys2")
    laws.rd2_linearity(prog, params, xs, dys, dys2)


def _rd3(sem: Semantics, data: Any) -> None:
    sig = sem.signature
    A = data.draw(cst.types(sig, max_wires=2), label="A")
    B = data.draw(cst.types(sig, max_wires=2), label="B")
    a, da, da2 = (data.draw(cst.values(sig, A.inside)) for _ in range(3))
    b, db = (data.draw(cst.values(sig, B.inside)) for _ in range(2))
    laws.rd3_structure(sem.functor, A, B, a, b, da, db, da2)


def _rd4(sem: Semantics, data: Any) -> None:
    f, g = data.draw(cst.hom_pairs(sem.signature, same_cod=False), label="f, g")
    _, params, xs, dys = setup(sem, data, laws.pairing(f, g))
    laws.rd4_pairing(sem.functor, f, g, params, xs, dys[: len(f.cod)],
                     dys[len(f.cod):])


def _rd5(sem: Semantics, data: Any) -> None:
    f, g = data.draw(cst.composable_pairs(sem.signature), label="f, g")
    _, params, xs, dzs = setup(sem, data, f >> g)
    laws.rd5_chain_rule(sem.functor, f, g, params, xs, dzs)


def _rd6(sem: Semantics, data: Any) -> None:
    f = data.draw(cst.diagrams(sem.signature, max_layers=3), label="f")
    prog, params, xs, _ = setup(sem, data, f)
    v = data.draw(cst.tangents(sem.signature, prog), label="v")
    laws.rd6_linear_derivative(prog, params, xs, v, derivatives=sem.derivatives)


def _rd7(sem: Semantics, data: Any) -> None:
    f = data.draw(cst.diagrams(sem.signature, max_layers=3), label="f")
    prog, params, xs, _ = setup(sem, data, f)
    assume(sem.exact(prog))
    u = data.draw(cst.tangents(sem.signature, prog), label="u")
    v = data.draw(cst.tangents(sem.signature, prog), label="v")
    laws.rd7_symmetry(prog, params, xs, u, v, derivatives=sem.derivatives)


# -- agreement with the reference semantics --------------------------------------------
def _reference(sem: Semantics) -> Any:
    if sem.reference is None:
        raise LawError(f"{sem!r} has no reference semantics to agree with.")
    return sem.reference


def agree_relaxed(sem: Semantics, d: Any, params: Any, xs: Any) -> None:
    """Smooth, with the Boolean parameters ``params`` relaxed to hard tables,
    equals Boolean at the 0/1 inputs ``xs`` (``sem`` either of the two)."""
    ref = _reference(sem)
    smooth, boolean = (sem.functor, ref) if sem.oracle == "jax" else (
        ref, sem.functor)
    want = tuple(jnp.asarray(y, jnp.float32)
                 for y in as_tuple(boolean(d)(params, *xs)))
    got = as_tuple(smooth(d)(relax(d, params), *(jnp.asarray(x, jnp.float32)
                                                 for x in xs)))
    laws.close(f"{smooth!r}(relax(p)) at 0/1 = {boolean!r}(p)", {"d": d}, got, want)


def agree_equal(sem: Semantics, d: Any, params: Any, xs: Any, dys: Any,
                reverse: bool = True) -> None:
    """The semantics equals its reference at one point: forward, and (with
    ``reverse``) the reverse pass."""
    ref = _reference(sem)
    prog, other = sem.functor(d), ref(d)
    laws.close(f"{sem.functor!r} = {ref!r}, forward", {"d": d},
               as_tuple(prog(params, *xs)), as_tuple(other(params, *xs)))
    if reverse:
        laws.close(f"{sem.functor!r} = {ref!r}, reverse", {"d": d},
                   prog.reverse(params, xs, dys), other.reverse(params, xs, dys))


def _cross(sem: Semantics, data: Any) -> None:
    """Smooth at 0/1 with relaxed hard parameters equals Boolean (either way
    round); a fused reading equals its unfused one, forward and reverse."""
    if sem.reference is None:
        reject()  # nothing to agree with
    if sem.cross == "relaxed":
        sig = reference_signature(sem)
        d = data.draw(cst.diagrams(sig), label="d")
        boolean = sem.functor if sem.oracle == "z2" else sem.reference
        B = boolean(d)  # type: ignore[misc]
        params = data.draw(cst.parameters(B, sig), label="params")
        agree_relaxed(sem, d, params, data.draw(cst.inputs(sig, B), label="xs"))
        return
    d = data.draw(cst.diagrams(sem.signature), label="d")
    _, params, xs, dys = setup(sem, data, d)
    agree_equal(sem, d, params, xs, dys)


LAWS: tuple[Law, ...] = (
    Law("functoriality F(f >> g) = F(f) ; F(g)", _composition),
    Law("functoriality F(f @ g) = F(f) x F(g)", _tensor),
    Law("functoriality F(Id) = id", _identity),
    Law("functoriality F(f >> Id) = F(f) = F(Id >> f)", _unit),
    Law("reverse pass = oracle", _oracle),
    Law("parameter cotangents = jax.grad", _grad, oracles=("jax",)),
    Law("lens composition R[f ; g] = R[f] . R[g]", _lens),
    Law("RD.1 R[f + g] = R[f] + R[g]", _rd1),
    Law("RD.2 R[f](a, -) is linear", _rd2),
    Law("RD.3 identity and projections", _rd3),
    Law("RD.4 R[<f, g>] = R[f] + R[g]", _rd4),
    Law("RD.5 chain rule", _rd5),
    Law("RD.6 D[f] is linear", _rd6, few=True),
    Law("RD.7 D[D[f]] is symmetric", _rd7, few=True),
    Law("cross: agrees with the reference semantics", _cross),
)
"""Every law, in the order ``catlearn laws`` prints them."""


def laws_for(sem: Semantics) -> tuple[Law, ...]:
    """The rows of :data:`LAWS` that apply to ``sem`` (by its oracle)."""
    return tuple(law for law in LAWS if sem.oracle in law.oracles)
