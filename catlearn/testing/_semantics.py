"""Semantics under test: a functor with the signature its diagrams are drawn
from, the oracle its reverse derivatives are checked against, and the
semantics it must agree with.

:data:`REGISTRY` holds catlearn's own four; :func:`semantics_of` makes the
entry for any functor, extending its signature with the user's generators.

>>> import catlearn as cl
>>> semantics_of(cl.Kernel(backend="xla"))
Semantics('kernel', Kernel(backend='xla'), oracle='z2', reference=Boolean())
>>> [s.name for s in REGISTRY]
['smooth', 'boolean', 'kernel', 'relaxed-kernel']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .. import logic
from .._errors import SemanticsError
from ..diagrams import Diagram, Param, boxes
from ..functors import Boolean, Functor, Kernel, Program, RelaxedKernel, Smooth
from . import laws
from ._signature import Generator, Signature, boolean_signature, smooth_signature
from ._z2 import is_multilinear

ORACLES = ("jax", "z2")
USER_WEIGHT = 6
"""How much more often than a shipped generator the strategies draw one the
user passed to :func:`semantics_of` (their own rules are the likeliest bugs)."""


def _always(program: Program) -> bool:
    return True


@dataclass(frozen=True)
class Semantics:
    """A functor under test.

    ``oracle`` is ``"jax"`` (the reverse pass against ``jax.vjp`` of the
    forward, ``D[f]`` through ``jax.vjp`` of the reverse) or ``"z2"`` (the
    brute-force Z2 derivative, on circuits where :func:`is_multilinear`
    holds; ``D[f]`` as the transpose of the reverse). ``reference`` is the
    semantics it must agree with (``cross``: ``"relaxed"`` for Smooth at 0/1
    against Boolean, either way round, on the logic generators; ``"equal"``
    for a fused reading against its unfused one, forward and reverse).
    ``readouts`` are generators with no reverse derivative here (``group_sum``
    over Z2): only their forward pass is checked, against the reference."""

    name: str
    functor: Functor
    signature: Signature
    oracle: str
    reference: Functor | None = None
    cross: str = "equal"
    readouts: tuple[Generator, ...] = ()

    def __repr__(self) -> str:
        return (
            f"Semantics({self.name!r}, {self.functor!r}, oracle={self.oracle!r}, "
            f"reference={self.reference!r})"
        )

    # -- the oracle's pieces --------------------------------------------------------
    @property
    def check_reverse(self) -> Callable[..., None]:
        """``(program, params, xs, dys) -> None``: the oracle's law."""
        if self.oracle == "jax":
            return laws.reverse_matches_vjp
        return laws.reverse_matches_brute_force

    @property
    def derivatives(self) -> Callable[..., Any]:
        """``(program, params, xs) -> (D[f], D[D[f]])`` for RD.6 and RD.7."""
        return laws.jax_derivatives if self.oracle == "jax" else laws.z2_derivatives

    def exact(self, program: Program) -> bool:
        """Where the oracle is exact: everywhere for ``jax``; over Z2 on
        circuits with no repeated variable inside a product."""
        return True if self.oracle == "jax" else is_multilinear(program)


def _entry(name: str, functor: Functor) -> Semantics:
    if name in ("smooth", "relaxed-kernel"):
        sig, oracle = smooth_signature(), "jax"
    else:
        sig, oracle = boolean_signature(), "z2"
    # the fused relaxed step (RelaxedKernel's, and Smooth's own for LUT chains)
    # is checked against the rule table box by box: Smooth(fused=False)
    reference: Functor = {"smooth": Boolean(), "boolean": Smooth(fused=False),
                          "kernel": Boolean(),
                          "relaxed-kernel": Smooth(fused=False)}[name]
    cross = "relaxed" if name in ("smooth", "boolean") else "equal"
    readouts = _readouts() if oracle == "z2" else ()
    return Semantics(name, functor, sig, oracle, reference, cross, readouts)


def _readouts() -> tuple[Generator, ...]:
    """``group_sum`` over Z2: alone, and ending a LUT layer (which the Kernel
    fuses into one step); the encoder ``thermometer`` (real inputs), alone and
    feeding a LUT layer, with thresholds at the 0/1 inputs themselves (a
    comparison that flips at equality shows)."""
    thresholds = [[0.0, 0.5], [1.0, 0.0], [0.5, 1.0]]
    enc = logic.thermometer(thresholds=thresholds)
    out = [Generator.box(enc, "thermometer3x2"),
           Generator.box(enc >> logic.lut_layer(6, 3, seed=1, name="encoded"),
                         "thermometer3x2_luts6x3")]
    for n, k in ((3, 1), (3, 3)):
        box = logic.group_sum(n, k)
        layer = logic.lut_layer(n, n, seed=n, name=f"readout{n}x{k}")
        out += [Generator.box(box, f"group_sum{n}x{k}"),
                Generator.box(layer >> box, f"luts{n}x{n}_group_sum{k}")]
    return tuple(out)


REGISTRY: tuple[Semantics, ...] = (
    _entry("smooth", Smooth()),
    _entry("boolean", Boolean()),
    # the Pallas kernel in interpret mode (the C++ one is in test_kernel.py)
    _entry("kernel", Kernel(backend="interpret")),
    _entry("relaxed-kernel", RelaxedKernel()),
)
"""catlearn's own semantics, as the contract suite and ``catlearn laws`` test
them."""


def kind_of(functor: Functor) -> str:
    """Which registered semantics ``functor`` is a kind of (subclasses
    included), or ``SemanticsError``."""
    for cls, name in ((RelaxedKernel, "relaxed-kernel"), (Kernel, "kernel"),
                      (Boolean, "boolean"), (Smooth, "smooth")):
        if isinstance(functor, cls):
            return name
    raise SemanticsError(
        f"{functor!r} is not a kind of Smooth, Boolean, Kernel or RelaxedKernel, "
        "so catlearn.testing does not know its signature and oracle. Fix: "
        "subclass one of them, or pass semantics=Semantics(name, F, signature, "
        "oracle='jax' or 'z2')."
    )


def as_generator(g: Any) -> Generator:
    """A user's generator: a :class:`Generator`, or a box or small diagram
    (its parameters, if any, keep their names)."""
    if isinstance(g, Generator):
        return replace(g, weight=max(g.weight, USER_WEIGHT))
    if isinstance(g, Diagram) or hasattr(g, "dom") and hasattr(g, "cod"):
        label = str(getattr(g, "name", None) or g)
        return replace(Generator.box(g, label), weight=USER_WEIGHT)
    raise SemanticsError(
        f"generator {g!r} is not a box, a diagram or a catlearn.testing.Generator. "
        "Fix: pass e.g. cl.Box('square', cl.real(3), cl.real(3))."
    )


def rule_names(diagram: Any) -> set[str]:
    """The generator names of a diagram (not parameters or wiring)."""
    from discopy import markov

    return {b.name for b in boxes(diagram)
            if not isinstance(b, Param | markov.Copy | markov.Swap)}


def _extra_rules(functor: Functor) -> dict[str, Any]:
    """The rules a user added to or replaced in ``functor``'s table."""
    return {k: v for k, v in functor.rules.items() if functor.RULES.get(k) is not v}


def semantics_of(functor: Functor, generators: Iterable[Any] = (),
                 signature: Signature | None = None) -> Semantics:
    """The entry under which ``functor`` is tested: its kind's signature
    (or ``signature``) with ``generators`` added (drawn more often than the
    shipped ones), oracle and reference. The reference keeps the shipped
    meaning of every generator it knows and borrows the user's new rules for
    the others (so a replaced shipped rule is checked against the original)."""
    kind = kind_of(functor)
    base = _entry(kind, functor)
    sig = signature or base.signature
    extra = tuple(as_generator(g) for g in generators)
    if extra:
        sig = replace(sig, generators=(*sig.generators, *extra))
    reference = base.reference
    if reference is not None:
        new = {k: v for k, v in _extra_rules(functor).items()
               if k not in type(reference).RULES}
        if new and base.cross == "equal":
            reference = reference.extend(new)
    return replace(base, signature=sig, reference=reference)


def drawn_rules(signature: Signature) -> dict[str, list[str]]:
    """``{rule name: labels of the generators that use it}``."""
    out: dict[str, list[str]] = {}
    for g in signature.generators:
        name = f"{g.label}.0" if g.ties > 1 else g.label
        for rule in rule_names(g.build(name)):
            out.setdefault(rule, []).append(g.label)
    return out


def undrawn(functor: Functor, signature: Signature,
            readouts: Iterable[Generator] = ()) -> list[str]:
    """Names in ``functor``'s rule table that no generator of ``signature``
    (or read-out) uses: rules the laws would never check."""
    used = drawn_rules(signature)
    for g in readouts:
        used.update({r: [g.label] for r in rule_names(g.build(g.label))})
    return sorted(k for k in functor.rules if k not in used)


def reference_signature(sem: Semantics) -> Signature:
    """The signature of the cross-semantics law: for Smooth against Boolean
    (either way), the Boolean signature's generators that both functors know
    (with the user's own added where both have a rule)."""
    if sem.cross != "relaxed":
        return sem.signature
    ref = sem.reference
    both: Mapping[str, Any] = {k: v for k, v in sem.functor.rules.items()
                               if ref is not None and k in ref.rules}
    logic = boolean_signature()
    shipped = {g.label for g in logic.generators}
    extra = [g for g in sem.signature.generators if g.label not in shipped
             and all(w.kind == "bits" for w in (*g.dom.inside, *g.cod.inside))]
    gens = [g for g in (*logic.generators, *extra)
            if rule_names(g.build(f"{g.label}.0" if g.ties > 1 else g.label))
            <= set(both)]
    return replace(logic, generators=tuple(gens))
