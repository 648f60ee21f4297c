"""``catlearn laws``: the contract suite of ``catlearn.testing`` as a command.

Each law runs as a hypothesis property over random well-typed diagrams drawn
from the semantics' signature (as ``tests/test_contract.py`` runs it on every
registered functor): functoriality, the reverse pass against the oracle
(``jax.vjp`` for the smooth semantics, brute force over Z2 for the Boolean
ones), lens composition, RD.1-RD.7 and agreement with the reference
semantics. The result is one table row per law.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp

from ..functors import Boolean, Functor, Program, Smooth, relax
from . import _specs as specs
from ._commands import CommandError, table
from ._specs import UsageError


@dataclass(frozen=True)
class Entry:
    """A semantics under test: its functor, its signature's name and its
    oracle (``"jax"`` or ``"z2"``)."""

    name: str
    functor: Functor
    oracle: str

    def signature(self) -> Any:
        from ..testing import boolean_signature, smooth_signature

        return smooth_signature() if self.oracle == "jax" else boolean_signature()


ORACLE = {"smooth": "jax", "relaxed-kernel": "jax", "boolean": "z2", "kernel": "z2"}


@dataclass(frozen=True)
class Law:
    name: str
    check: Callable[[Entry, Any], None]  # (entry, hypothesis data) -> None
    few: bool = False  # RD.6, RD.7 differentiate three times over: half the examples


def _as_tuple(y: Any) -> tuple[Any, ...]:
    return tuple(y) if isinstance(y, tuple | list) else (y,)


def _setup(e: Entry, data: Any, d: Any) -> tuple[Program, Any, Any, Any]:
    from ..testing import strategies as cst

    sig, prog = e.signature(), e.functor(d)
    params = data.draw(cst.parameters(prog, sig), label="params")
    xs = data.draw(cst.inputs(sig, prog), label="xs")
    dys = data.draw(cst.cotangents(sig, prog), label="dys")
    return prog, params, xs, dys


# -- the laws, each as test_contract.py states it -------------------------------------
def _composition(e: Entry, data: Any) -> None:
    from ..testing import laws
    from ..testing import strategies as cst

    f, g = data.draw(cst.composable_pairs(e.signature()), label="f, g")
    _, params, xs, _ = _setup(e, data, f >> g)
    laws.composition(e.functor, f, g, params, xs)


def _tensor(e: Entry, data: Any) -> None:
    from ..testing import laws
    from ..testing import strategies as cst

    f, g = data.draw(cst.parallel_pairs(e.signature()), label="f, g")
    _, params, xs, dys = _setup(e, data, f @ g)
    laws.tensor(e.functor, f, g, params, xs, dys)


def _identity(e: Entry, data: Any) -> None:
    from ..testing import laws
    from ..testing import strategies as cst

    ty = data.draw(cst.types(e.signature()), label="ty")
    laws.identity(e.functor, ty, data.draw(cst.values(e.signature(), ty.inside)))


def _unit(e: Entry, data: Any) -> None:
    from ..testing import laws
    from ..testing import strategies as cst

    f = data.draw(cst.diagrams(e.signature()), label="f")
    _, params, xs, dys = _setup(e, data, f)
    laws.unit(e.functor, f, params, xs, dys)


def _oracle(e: Entry, data: Any) -> None:
    from hypothesis import assume

    from ..testing import is_multilinear, laws
    from ..testing import strategies as cst

    d = data.draw(cst.diagrams(e.signature()), label="d")
    prog, params, xs, dys = _setup(e, data, d)
    if e.oracle == "jax":
        laws.reverse_matches_vjp(prog, params, xs, dys)
    else:  # exact on circuits with no repeated variable inside a product
        assume(is_multilinear(prog))
        laws.reverse_matches_brute_force(prog, params, xs, dys)


def _lens(e: Entry, data: Any) -> None:
    from ..testing import laws
    from ..testing import strategies as cst

    f, g = data.draw(cst.composable_pairs(e.signature()), label="f, g")
    _, params, xs, dzs = _setup(e, data, f >> g)
    laws.lens_composition(e.functor, f, g, params, xs, dzs)


def _rd1(e: Entry, data: Any) -> None:
    from ..testing import laws
    from ..testing import strategies as cst

    sig = e.signature()
    f, g = data.draw(cst.hom_pairs(sig, same_cod=True), label="f, g")
    _, params, xs, dys = _setup(e, data, laws.plus(f, g, sig.add))
    laws.rd1_additivity(e.functor, f, g, sig.add, params, xs, dys)


def _rd2(e: Entry, data: Any) -> None:
    from ..testing import laws
    from ..testing import strategies as cst

    f = data.draw(cst.diagrams(e.signature()), label="f")
    prog, params, xs, dys = _setup(e, data, f)
    dys2 = data.draw(cst.cotangents(e.signature(), prog), label="dys2")
    laws.rd2_linearity(prog, params, xs, dys, dys2)


def _rd3(e: Entry, data: Any) -> None:
    from ..testing import laws
    from ..testing import strategies as cst

    sig = e.signature()
    A = data.draw(cst.types(sig, max_wires=2), label="A")
    B = data.draw(cst.types(sig, max_wires=2), label="B")
    a, da, da2 = (data.draw(cst.values(sig, A.inside)) for _ in range(3))
    b, db = (data.draw(cst.values(sig, B.inside)) for _ in range(2))
    laws.rd3_structure(e.functor, A, B, a, b, da, db, da2)


def _rd4(e: Entry, data: Any) -> None:
    from ..testing import laws
    from ..testing import strategies as cst

    f, g = data.draw(cst.hom_pairs(e.signature(), same_cod=False), label="f, g")
    _, params, xs, dys = _setup(e, data, laws.pairing(f, g))
    laws.rd4_pairing(e.functor, f, g, params, xs, dys[: len(f.cod)],
                     dys[len(f.cod):])


def _rd5(e: Entry, data: Any) -> None:
    from ..testing import laws
    from ..testing import strategies as cst

    f, g = data.draw(cst.composable_pairs(e.signature()), label="f, g")
    _, params, xs, dzs = _setup(e, data, f >> g)
    laws.rd5_chain_rule(e.functor, f, g, params, xs, dzs)


def _derivatives(e: Entry) -> Any:
    from ..testing import laws

    return laws.jax_derivatives if e.oracle == "jax" else laws.z2_derivatives


def _rd6(e: Entry, data: Any) -> None:
    from ..testing import laws
    from ..testing import strategies as cst

    f = data.draw(cst.diagrams(e.signature(), max_layers=3), label="f")
    prog, params, xs, _ = _setup(e, data, f)
    v = data.draw(cst.tangents(e.signature(), prog), label="v")
    laws.rd6_linear_derivative(prog, params, xs, v, derivatives=_derivatives(e))


def _rd7(e: Entry, data: Any) -> None:
    from hypothesis import assume

    from ..testing import is_multilinear, laws
    from ..testing import strategies as cst

    f = data.draw(cst.diagrams(e.signature(), max_layers=3), label="f")
    prog, params, xs, _ = _setup(e, data, f)
    assume(e.oracle == "jax" or is_multilinear(prog))
    u = data.draw(cst.tangents(e.signature(), prog), label="u")
    v = data.draw(cst.tangents(e.signature(), prog), label="v")
    laws.rd7_symmetry(prog, params, xs, u, v, derivatives=_derivatives(e))


def _cross(e: Entry, data: Any) -> None:
    """Boolean vs Smooth at 0/1 with relaxed hard tables (smooth, boolean);
    Kernel vs Boolean and RelaxedKernel vs Smooth, forward and reverse."""
    from ..testing import boolean_signature, laws
    from ..testing import strategies as cst

    if e.name in ("smooth", "boolean"):
        sig = boolean_signature()
        d = data.draw(cst.diagrams(sig), label="d")
        B = (e.functor if e.name == "boolean" else Boolean())(d)
        S = (e.functor if e.name == "smooth" else Smooth())(d)
        params = data.draw(cst.parameters(B, sig), label="params")
        xs = data.draw(cst.inputs(sig, B), label="xs")
        want = tuple(jnp.asarray(y, jnp.float32) for y in _as_tuple(B(params, *xs)))
        got = _as_tuple(S(relax(d, params), *(jnp.asarray(x, jnp.float32)
                                              for x in xs)))
        laws.close("Smooth(relax(p)) at 0/1 = Boolean(p)", {"d": d}, got, want)
        return
    reference = Boolean() if e.oracle == "z2" else Smooth()
    d = data.draw(cst.diagrams(e.signature()), label="d")
    prog, params, xs, dys = _setup(e, data, d)
    ref = reference(d)
    for side, lhs, rhs in (
        ("forward", _as_tuple(prog(params, *xs)), _as_tuple(ref(params, *xs))),
        ("reverse", prog.reverse(params, xs, dys), ref.reverse(params, xs, dys)),
    ):
        laws.close(f"{e.name} = {reference!r}, {side}", {"d": d}, lhs, rhs)


def _cross_name(e: Entry) -> str:
    return {"smooth": "cross: Smooth at 0/1 = Boolean",
            "boolean": "cross: Boolean = Smooth at 0/1",
            "kernel": "cross: Kernel = Boolean bit for bit",
            "relaxed-kernel": "cross: RelaxedKernel = Smooth"}.get(e.name, "cross")


def laws_for(e: Entry) -> list[Law]:
    oracle = "jax.vjp" if e.oracle == "jax" else "brute force over Z2"
    return [
        Law("functoriality F(f >> g) = F(f) ; F(g)", _composition),
        Law("functoriality F(f @ g) = F(f) x F(g)", _tensor),
        Law("functoriality F(Id) = id", _identity),
        Law("functoriality F(f >> Id) = F(f) = F(Id >> f)", _unit),
        Law(f"reverse pass = oracle ({oracle})", _oracle),
        Law("lens composition R[f ; g] = R[f] . R[g]", _lens),
        Law("RD.1 R[f + g] = R[f] + R[g]", _rd1),
        Law("RD.2 R[f](a, -) is linear", _rd2),
        Law("RD.3 identity and projections", _rd3),
        Law("RD.4 R[<f, g>] = R[f] + R[g]", _rd4),
        Law("RD.5 chain rule", _rd5),
        Law("RD.6 D[f] is linear", _rd6, few=True),
        Law("RD.7 D[D[f]] is symmetric", _rd7, few=True),
        Law(_cross_name(e), _cross),
    ]


# -- running -------------------------------------------------------------------------
def _load_functor(text: str) -> Functor:
    module, _, attr = text.partition(":")
    if not module or not attr:
        raise UsageError(f"bad --functor {text!r}: write MODULE:NAME, e.g. "
                         "mylib.semantics:F")
    here = os.getcwd()  # like python -m: modules in the current folder import
    added = here not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        obj = getattr(importlib.import_module(module), attr)
    except ImportError as err:
        raise UsageError(f"--functor {text!r}: cannot import {module!r} ({err})"
                         ) from None
    except AttributeError:
        raise UsageError(f"--functor {text!r}: module {module!r} has no {attr!r}"
                         ) from None
    finally:
        if added:
            sys.path.remove(here)
    if not isinstance(obj, Functor) and callable(obj):
        obj = obj()
    if not isinstance(obj, Functor):
        raise UsageError(f"--functor {text!r} is {obj!r}, not a catlearn Functor")
    return obj


@contextlib.contextmanager
def _storage() -> Iterator[None]:
    """Hypothesis caches what it learns in ``./.hypothesis`` unless told
    otherwise: point it at ``~/.cache/catlearn/hypothesis`` for the run (where
    neither ``HYPOTHESIS_STORAGE_DIRECTORY`` nor the caller has chosen)."""
    from hypothesis import configuration

    before = getattr(configuration, "__hypothesis_home_directory", None)
    if before is not None or os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        yield
        return
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    configuration.set_hypothesis_home_dir(os.path.join(cache, "catlearn",
                                                       "hypothesis"))
    try:
        yield
    finally:
        configuration.set_hypothesis_home_dir(before)


def run_law(law: Law, entry: Entry, examples: int, seed: int, shrink: bool = False
            ) -> tuple[int, BaseException | None]:
    """Run one law; return the examples checked and the error, if any. With
    ``shrink``, a failure is shrunk to a minimal counterexample (slow: each
    try compiles programs)."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as fixed_seed
    from hypothesis import strategies as st

    checked = 0

    @fixed_seed(seed)
    @settings(
        max_examples=(examples + 1) // 2 if law.few else examples,
        database=None, deadline=None, derandomize=False, print_blob=False,
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, *((Phase.shrink,) if shrink else ())),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                               HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def prop(data: Any) -> None:
        nonlocal checked
        law.check(entry, data)
        checked += 1

    try:
        prop()
    except Exception as err:  # a law that fails, or a check that cannot run
        return checked, err
    return checked, None


def _one_line(err: BaseException, name: str) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    text = text.removeprefix(f"law {name} fails ")  # the row names the law
    return text if len(text) <= 60 else text[:57] + "..."


def laws(args: argparse.Namespace) -> int:
    try:
        importlib.import_module("hypothesis")
    except ImportError:
        raise CommandError(
            'catlearn laws needs hypothesis: pip install "catlearn[testing]"'
        ) from None
    from ..testing import LawError

    if args.examples < 1:
        raise UsageError(f"--examples must be positive, got {args.examples}")
    kind = specs.semantics(args.semantics)  # checks the name
    functor = _load_functor(args.functor) if args.functor else kind
    entry = Entry(args.semantics, functor, ORACLE[args.semantics])
    print(f"laws of {functor!r} on random diagrams of the {args.semantics} "
          f"signature, {args.examples} examples each (seed {args.seed})")
    chosen = [law for law in laws_for(entry)
              if not args.law or any(t.lower() in law.name.lower() for t in args.law)]
    if not chosen:
        raise UsageError(f"no law matches --law {' '.join(args.law)} (the laws: "
                         f"{', '.join(law.name for law in laws_for(entry))})")
    rows, failures = [], []
    with _storage():
        results = [run_law(law, entry, args.examples, args.seed, args.shrink)
                   for law in chosen]
    for law, (n, err) in zip(chosen, results, strict=True):
        if err is None:
            result = "ok"
        else:
            what = "FAILED" if isinstance(err, LawError) else \
                f"ERROR ({type(err).__name__})"
            result = f"{what}: {_one_line(err, law.name)}"
            failures.append((law, err))
        rows.append((law.name, n, result))
    print(table(rows, ("law", "examples", "result")))
    for law, err in failures:
        notes = "\n".join(getattr(err, "__notes__", []))
        print(f"\n{law.name}:\n{err}" + (f"\n{notes}" if notes else ""))
    bad = len(failures)
    print(f"\n{len(rows) - bad} of {len(rows)} laws hold" +
          (f"; {bad} FAILED" if bad else ""))
    return 1 if bad else 0
