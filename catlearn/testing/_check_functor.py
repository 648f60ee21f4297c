"""``check_functor``: every law, the oracle included, on a functor with its own
generators, in one call (and, as a command, ``catlearn laws``).

Two stages. First **every generator** of the signature, the user's own and
changed ones first: alone, with all its inputs fed by parameters (a wire with
no batch axis), and with one input so fed; at each, the rule's shapes (checked
by the program as it traces), the reverse pass against the oracle, RD.2, RD.6,
RD.7 (where the oracle is exact) and agreement with the reference semantics;
and **repeated**, three copies side by side and (where it maps its type to
itself) three in a row, compiled with the repeat pass grouping runs of two
(:func:`~catlearn.testing.laws.repeat_pass`: the grouped program means what
its steps mean one by one). This stage is deterministic and sees each
generator, so a wrong rule cannot hide behind random draws that miss it. Then
**every law of the table** (:data:`~catlearn.testing.LAWS`) as a hypothesis
property over random diagrams, where generators meet copies, discards, swaps,
tied weights and each other.

A rule in the functor's table that no generator of the signature uses fails
loudly (:class:`CoverageError`): the laws would never see it.

>>> import jax.numpy as jnp, catlearn as cl
>>> from catlearn.testing import check_functor
>>> square = cl.Rule(lambda box, x: ((x * x,), x),
...                  lambda box, x, dy: (2 * x * dy,))
>>> F = cl.Smooth().extend({"square": square})
>>> box = cl.Box("square", cl.real(2), cl.real(2))
>>> small = cl.testing.smooth_signature(sizes=(2,), logic_sizes=())  # quicker
>>> report = check_functor(F, [box], examples=1, laws=["chain rule"],
...                        signature=small)
>>> report.ok, report.results[0].law
(True, 'every generator: alone, fed by parameters, repeated')
>>> wrong = cl.Rule(lambda box, x: ((x * x,), x), lambda box, x, dy: (x * dy,))
>>> check_functor(cl.Smooth().extend({"square": wrong}), [box])
Traceback (most recent call last):
...
catlearn.testing.LawError: generator 'square' alone: law reverse = jax.vjp ...
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np

from .._errors import CoverageError as CoverageError
from ..diagrams import tensor
from ..functors import Functor, small_runs, unroll
from . import laws
from . import strategies as cst
from ._check import LawError
from ._semantics import (
    Semantics,
    _extra_rules,
    reference_signature,
    rule_names,
    semantics_of,
    undrawn,
)
from ._signature import Generator
from ._table import Law, agree_equal, agree_relaxed, laws_for

EXAMPLES = 3
"""Random diagrams per law by default (RD.6 and RD.7: half, at least one)."""
GENERATORS_ROW = "every generator: alone, fed by parameters, repeated"
BATCH = 32
"""Examples per point in the generator stage: over Z2 one packed word, so a
rule wrong on one pattern of two input bits and the cotangent bit shows with
probability at least ``1 - (7/8)^32`` (98.6 %) per output bit and variant,
more with every further output bit."""


@dataclass(frozen=True)
class Result:
    """One row of a report: a law, how many examples it checked, and the
    error it raised (``None``: it holds)."""

    law: str
    examples: int
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Report:
    """What :func:`check_functor` found, row by row."""

    semantics: Semantics
    results: list[Result] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if not r.ok]

    def __str__(self) -> str:
        ok = sum(r.ok for r in self.results)
        return f"{ok} of {len(self.results)} laws hold for {self.semantics.functor!r}"


# -- the generator stage -------------------------------------------------------------
def _ordered(sem: Semantics) -> list[tuple[Generator, bool]]:
    """``(generator, is a read-out)``: the user's generators and those whose
    rules were replaced first, then (under a fused semantics) those its
    fusion pass rewrites, then the rest, then the other read-outs."""
    changed = set(_extra_rules(sem.functor))
    fused = sem.name in ("kernel", "relaxed-kernel")

    def rank(item: tuple[Generator, bool]) -> int:
        g, readout = item
        names = rule_names(g.build(_name(g)))
        if g.weight > 1 or names & changed:
            return 0
        if readout:
            return 3
        return 1 if fused and "lut_layer" in names else 2

    items = [(g, False) for g in representatives(sem.signature.generators)]
    return sorted(items + [(g, True) for g in sem.readouts], key=rank)


def representatives(generators: Sequence[Generator]) -> list[Generator]:
    """One or two generators of each kind (a label up to its sizes, as
    ``linear`` for ``linear2x3``): the largest, and the largest whose input
    and output shapes differ (where a transposed or mis-sized rule shows).
    The user's own generators (weight > 1) are all kept."""
    groups: dict[str, list[Generator]] = {}
    kept = []
    for g in generators:
        if g.weight > 1:
            kept.append(g)
        else:
            groups.setdefault(re.sub(r"[0-9x]+$", "", g.label), []).append(g)
    for group in groups.values():
        def size(g: Generator) -> int:
            return sum(int(np.prod(w.shape)) for w in (*g.dom.inside, *g.cod.inside))

        def shapes(ty: Any) -> list[tuple[int, ...]]:
            return [tuple(w.shape) for w in ty.inside]

        big = max(group, key=size)
        odd = [g for g in group if shapes(g.dom) != shapes(g.cod)]
        kept += [big] + ([max(odd, key=size)] if odd and max(odd, key=size)
                         is not big else [])
    return kept


def _name(g: Generator) -> str:
    return f"{g.label}.0" if g.ties > 1 else g.label


def variants(g: Generator) -> list[tuple[str, Any]]:
    """``(what, diagram)``: the generator alone, with every input fed by a
    parameter, and (two inputs or more) with one input so fed."""
    k = len(g.dom)
    out = [("alone", g.build(_name(g)))]
    if k:
        out.append(("fed by parameters", cst.feed(g, _name(g), frozenset(range(k)))))
    if k > 1:
        out += [(f"input {j} fed by a parameter",
                 cst.feed(g, _name(g), frozenset({j}))) for j in range(k)]
    return out


def _point(sem: Semantics, prog: Any, key: jax.Array) -> tuple[Any, ...]:
    sig = sem.signature
    wires = cst.param_wires(prog)
    keys = [jax.random.fold_in(key, i) for i in range(6)]
    params = dict(zip(prog.param_types,
                      cst.sample_values(sig, wires, keys[0], None), strict=True))
    xs = cst.sample_values(sig, prog.dom, keys[1], BATCH)
    batch = BATCH if prog.dom else None
    dys, dys2 = (cst.sample_values(sig, prog.cod, k, batch) for k in keys[2:4])
    u, v = ((dict(zip(prog.param_types, cst.sample_values(sig, wires, k, None),
                      strict=True)),
             cst.sample_values(sig, prog.dom, jax.random.fold_in(k, 1), BATCH))
            for k in keys[4:6])
    return params, xs, dys, dys2, u, v


def _agrees(sem: Semantics, d: Any, key: jax.Array, reverse: bool = True) -> None:
    """The cross-semantics law at one point, where the reference knows every
    generator of ``d`` (with ``reverse``, reverse passes too)."""
    ref = sem.reference
    if ref is None or not rule_names(d) <= set(ref.rules):
        return
    if sem.cross == "equal":
        params, xs, dys, *_ = _point(sem, sem.functor(d), key)
        agree_equal(sem, d, params, xs, dys, reverse)
        return
    # Smooth against Boolean: bits in, except an encoder's features (drawn as
    # 0/1 too); bits out, except a read-out's counts
    wires = (*d.dom.inside, *d.cod.inside) if reverse else ()
    if not all(w.kind == "bits" for w in wires):
        return
    sig = reference_signature(sem)
    if reverse and not rule_names(d) <= {
            r for g in sig.generators for r in rule_names(g.build(_name(g)))}:
        return
    B = (sem.functor if sem.oracle == "z2" else ref)(d)
    params = dict(zip(B.param_types, cst.sample_values(
        sig, cst.param_wires(B), key, None), strict=True))
    xs = cst.sample_values(sig, B.dom, jax.random.fold_in(key, 1), BATCH)
    agree_relaxed(sem, d, params, xs)


def check_readout(sem: Semantics, g: Generator, seed: int = 0) -> int:
    """A read-out (a generator with no reverse derivative in ``sem``, such as
    ``group_sum``'s integer counts over Z2): its forward pass against the
    reference semantics."""
    try:
        _agrees(sem, g.build(_name(g)), jax.random.key(seed), reverse=False)
    except Exception as err:
        raise _failure(f"read-out {g.label!r}", err) from err
    return 1


def check_generator(sem: Semantics, g: Generator, seed: int = 0) -> int:
    """Every law that one generator can break, at a random point of each of
    its :func:`variants`; returns how many variants were checked. Raises
    :class:`LawError` (naming the generator and the variant) on the first
    that fails, whatever the rule raised."""
    checks = 0
    for i, (what, d) in enumerate(variants(g)):
        key = jax.random.fold_in(jax.random.key(seed), i)
        try:
            prog = sem.functor(d)
            params, xs, dys, dys2, u, v = _point(sem, prog, key)
            exact = sem.exact(prog)
            if exact:
                sem.check_reverse(prog, params, xs, dys)
            laws.rd2_linearity(prog, params, xs, dys, dys2)
            if what == "alone":
                laws.rd6_linear_derivative(prog, params, xs, v,
                                           derivatives=sem.derivatives)
                if exact:
                    laws.rd7_symmetry(prog, params, xs, u, v,
                                      derivatives=sem.derivatives)
            _agrees(sem, d, jax.random.fold_in(key, 99))
            if what == "alone":
                _repeated(sem, d, jax.random.fold_in(key, 98))
        except Exception as err:  # a failing law, or a rule that raised
            raise _failure(f"generator {g.label!r} {what}", err) from err
        checks += 1
    return checks


def _repeated(sem: Semantics, d: Any, key: jax.Array) -> None:
    """The repeat pass on the generator three times side by side and (where
    it maps its type to itself) three times in a row (:func:`laws.repeat_pass`)."""
    chain = [d >> d >> d] if d.dom == d.cod else []
    for k, many in enumerate([tensor(d, d, d), *chain]):
        with small_runs(2):
            prog = sem.functor(many)
        if unroll(prog) is prog:  # nothing to group: nothing to compare
            continue
        params, xs, dys, *_ = _point(sem, prog, jax.random.fold_in(key, k))
        laws.repeat_pass(sem.functor, many, params, xs, dys)


def _failure(where: str, err: BaseException) -> LawError:
    if isinstance(err, LawError):
        return type(err)(f"{where}: {err}")
    return LawError(f"{where}: the check could not run: {type(err).__name__}: {err}")


# -- the random-diagram stage ----------------------------------------------------------
def run_law(law: Law, sem: Semantics, examples: int = EXAMPLES, seed: int = 0,
            shrink: bool = False) -> Result:
    """One law as a hypothesis property over ``examples`` random diagrams
    (seeded: the same draws every run). With ``shrink``, a failure is shrunk
    to a minimal counterexample (slow: each try compiles programs)."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as fixed_seed
    from hypothesis import strategies as st

    checked = 0

    @fixed_seed(seed)
    @settings(
        max_examples=max(1, (examples + 1) // 2) if law.few else examples,
        database=None, deadline=None, derandomize=False, print_blob=False,
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, *((Phase.shrink,) if shrink else ())),
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def prop(data: Any) -> None:
        nonlocal checked
        law.check(sem, data)
        checked += 1

    try:
        prop()
    except Exception as err:  # a law that fails, or a rule that raised
        if not isinstance(err, LawError):
            err = _failure(f"law {law.name!r}", err)
        return Result(law.name, checked, err)
    return Result(law.name, checked)


def _chosen(sem: Semantics, names: Sequence[str] | None) -> list[Law]:
    table = laws_for(sem)
    if not names:
        return list(table)
    chosen = [law for law in table
              if any(t.lower() in law.name.lower() for t in names)]
    if not chosen:
        raise LawError(f"no law matches {list(names)}; the laws: "
                       f"{', '.join(law.name for law in table)}.")
    return chosen


def check_functor(
    functor: Functor,
    generators: Iterable[Any] = (),
    *,
    examples: int = EXAMPLES,
    seed: int = 0,
    laws: Sequence[str] | None = None,
    signature: Any = None,
    semantics: Semantics | None = None,
    keep_going: bool = False,
    shrink: bool = False,
    on_result: Callable[[Result], None] | None = None,
) -> Report:
    """Check every law of ``functor`` on diagrams that include its own
    ``generators`` (boxes, small diagrams or :class:`Generator` s, added to
    its kind's signature; see the module docstring for the two stages).

    ``signature``: draw from this one instead of the kind's (the rules the
    user added must still be drawn; the shipped ones are then not required).
    ``laws``: only the table's laws whose names contain one of these (the
    generator stage always runs). Raises :class:`LawError` at the first
    failure, or, with ``keep_going``, runs everything and returns the
    :class:`Report` (``report.ok``). ``on_result`` sees each row as it is
    done (``catlearn laws`` prints them)."""
    sem = semantics or semantics_of(functor, generators, signature)
    missing = undrawn(sem.functor, sem.signature, sem.readouts)
    if signature is not None:  # a smaller signature: the user's own rules
        missing = [k for k in missing if k in _extra_rules(sem.functor)]
    if missing:
        raise CoverageError(
            f"{sem.functor!r} has rules for {missing}, but no generator of the "
            f"{sem.signature.name} signature uses them, so no law would check "
            f"them. Fix: pass the generators, e.g. check_functor(F, "
            f"[cl.Box({missing[0]!r}, dom, cod)]) (catlearn laws: --generators "
            "MODULE:NAME)."
        )
    chosen = _chosen(sem, laws)
    report = Report(sem)

    def record(result: Result) -> None:
        report.results.append(result)
        if on_result is not None:
            on_result(result)
        if result.error is not None and not keep_going:
            raise result.error

    checks, error = 0, None
    try:
        for g, readout in _ordered(sem):
            check = check_readout if readout else check_generator
            checks += check(sem, g, seed)
    except LawError as err:
        error = err
    record(Result(GENERATORS_ROW, checks, error))
    for law in chosen:
        record(run_law(law, sem, examples, seed, shrink))
    return report
