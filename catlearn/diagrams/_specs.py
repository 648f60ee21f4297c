"""One validator per generator: a box's spec checked against its wires.

A generator's functors read its spec (``box.data``: sizes, a seed, a
relaxation) and its wires. When the two disagree, a functor would gather past
the end of an input (clamped, silently), reshape into the wrong number of
gates, or divide by a zero temperature. So every catlearn generator has one
validator here, in one table keyed by the box's name, and ``cl.Box`` runs it
whenever a box is made: by a builder, by hand, or by ``catlearn.io`` loading a
diagram. A box whose name is not in the table (a user's generator) passes.

>>> import catlearn as cl
>>> try:
...     cl.Box("group_sum", cl.bits(4), cl.real(4), data=cl.diagrams.spec(k=2, tau=1.0))
... except cl.TypeSpecError as e:
...     print(str(e)[:71])
box 'group_sum' (bits(4) -> real(4)): spec field 'k' = 2 does not match
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from discopy.monoidal import Ty

from .._errors import ShapeError, TypeSpecError
from ._memory import check_memory
from ._types import Wire

INITS = ("normal", "uniform", "zeros", "ones", "residual")
RELAXATIONS = ("sin", "sigmoid", "softmax", "gumbel")
GATE_CHOICES = ("softmax", "gumbel")  # relaxations with 16 logits per gate
SEEDS = 2**63  # a builder's seed is an int in [0, 2**63): an int64, as numpy takes

# Drawing a lut layer's random wiring repairs each gate that reads one wire
# twice (about n_out / n_in of them) with a shuffle of all n_out gates: about
# n_out**2 / n_in steps of ~10 ns. Past this many steps (~5 minutes of one
# core) a builder refuses the layer instead of running for hours.
WIRING_STEPS = 3 * 10**10


# -- shared checks -----------------------------------------------------------------
def _ty(ty: Ty) -> str:
    return " @ ".join(map(repr, ty.inside)) or "Ty()"


def where(box: Any) -> str:
    """How messages name a box: ``box 'lut_layer' (bits(12) @ bits(4) -> bits(3))``."""
    return f"box {box.name!r} ({_ty(box.dom)} -> {_ty(box.cod)})"


def is_count(n: Any) -> bool:
    """A positive int (numpy ints too), never a bool."""
    return isinstance(n, numbers.Integral) and not isinstance(n, bool) and int(n) >= 1


def is_finite(x: Any) -> bool:
    """A finite real number (numpy floats too), never a bool."""
    if not isinstance(x, numbers.Real) or isinstance(x, bool):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:  # an int too large for a float
        return False


def is_temperature(tau: Any) -> bool:
    """A finite real number > 0: what ``group_sum`` divides its counts by."""
    return is_finite(tau) and tau > 0


def check_seed(seed: Any, what: str, fix: str = "seed=0") -> int:
    """``seed`` as an int if it is one in ``[0, 2**63)``, else ``TypeSpecError``."""
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if 0 <= int(seed) < SEEDS:
            return int(seed)
    raise TypeSpecError(
        f"{what}: seed {seed!r} ({type(seed).__name__}) is not an int from 0 to "
        f"2**63 - 1: the wiring is drawn by numpy from it, and saved with the "
        f"model. Fix: {fix}, or any int in that range."
    )


def _fields(box: Any, names: tuple[str, ...], fix: str) -> dict[str, Any]:
    """The box's spec as a dict with exactly the fields ``names``."""
    data = box.data
    pairs = isinstance(data, tuple) and all(
        isinstance(kv, tuple) and len(kv) == 2 and isinstance(kv[0], str)
        for kv in data
    )
    if not pairs:
        raise TypeSpecError(
            f"{where(box)}: its data {data!r} is not a spec of the fields "
            f"{list(names)}. Fix: {fix}."
        )
    spec = dict(data)
    missing = [n for n in names if n not in spec]
    extra = sorted(k for k in spec if k not in names)
    if missing or extra:
        said = f"lacks {missing}" if missing else f"has unknown fields {extra}"
        raise TypeSpecError(
            f"{where(box)}: the spec {spec} {said}; a {box.name} spec has "
            f"exactly {list(names)}. Fix: {fix}."
        )
    return spec


def _field_error(box: Any, field: str, value: Any, problem: str, fix: str) -> Exception:
    return TypeSpecError(
        f"{where(box)}: spec field {field!r} = {value!r} {problem}. Fix: {fix}."
    )


def _wires_error(box: Any, expected: str, fix: str) -> Exception:
    return TypeSpecError(f"{where(box)}: expected {expected}. Fix: {fix}.")


def _bits(ty: Ty) -> list[int]:
    """The sizes of ``ty``'s wires if they are all ``bits`` (else ``[]``)."""
    if any(w.kind != "bits" for w in ty.inside):
        return []
    return [w.shape[0] for w in ty.inside]


# -- the logic generators ----------------------------------------------------------
def _check_relax(box: Any, relax: Any, fix: str) -> None:
    if not isinstance(relax, str) or relax not in RELAXATIONS:
        raise _field_error(box, "relax", relax, f"is not one of {RELAXATIONS}", fix)


def _bitwise(box: Any) -> None:
    """AND, OR, XOR: ``bits(n) @ bits(n) -> bits(n)``."""
    dom, cod = _bits(box.dom), _bits(box.cod)
    if len(dom) != 2 or dom[0] != dom[1] or cod != dom[:1]:
        n = cod[0] if len(cod) == 1 else 1
        raise _wires_error(
            box,
            "bits(n) @ bits(n) -> bits(n): the gate works bit by bit on two "
            "wires of one size",
            f"cl.logic.gate({box.name!r}, {n}) (cl.logic.{box.name} for n = 1)",
        )


def _not(box: Any) -> None:
    dom, cod = _bits(box.dom), _bits(box.cod)
    if len(dom) != 1 or cod != dom:
        n = dom[0] if len(dom) == 1 else 1
        raise _wires_error(box, "bits(n) -> bits(n)", f"cl.logic.gate('NOT', {n})")


def _constant(box: Any) -> None:
    if len(box.dom) or _bits(box.cod) != [1]:
        raise _wires_error(box, "Ty() -> bits(1)", f"use cl.logic.{box.name}")


def _lut(box: Any) -> None:
    fix = "build it with cl.logic.lut(name, relax=...)"
    if _bits(box.dom) != [4, 1, 1] or _bits(box.cod) != [1]:
        raise _wires_error(box, "bits(4) @ bits(1) @ bits(1) -> bits(1)", fix)
    _check_relax(box, _fields(box, ("relax",), fix)["relax"], fix)


def _lut_layer(box: Any) -> None:
    fix = "build it with cl.logic.lut_layer(n_in, n_out, seed=..., relax=...)"
    s = _fields(box, ("n_in", "n_out", "relax", "seed"), fix)
    for field in ("n_in", "n_out"):
        if not is_count(s[field]):
            raise _field_error(box, field, s[field], "is not a positive int", fix)
    n_in, n_out = int(s["n_in"]), int(s["n_out"])
    check_seed(s["seed"], f"{where(box)}: spec field 'seed'")
    _check_relax(box, s["relax"], fix)
    dom, cod = _bits(box.dom), _bits(box.cod)
    if len(dom) != 2 or len(cod) != 1:
        expected = f"bits({4 * n_out}) @ bits({n_in}) -> bits({n_out})"
        raise _wires_error(box, expected, fix)
    if dom[1] != n_in:
        raise _field_error(
            box, "n_in", n_in, f"does not match its input wire bits({dom[1]}) (the "
            "gates would read wires past its end)", f"n_in={dom[1]}, or {fix}"
        )
    if cod[0] != n_out or dom[0] != 4 * n_out:
        raise _field_error(
            box, "n_out", n_out, f"does not match its wires: {n_out} gates take "
            f"a table bits({4 * n_out}) and give bits({n_out})",
            f"n_out={cod[0]} with a table bits({4 * cod[0]}), or {fix}",
        )
    check_wiring_size(n_in, n_out, where(box))


def _group_sum(box: Any) -> None:
    fix = "build it with cl.logic.group_sum(n, k, tau=...)"
    s = _fields(box, ("k", "tau"), fix)
    k, tau = s["k"], s["tau"]
    if not is_count(k):
        raise _field_error(box, "k", k, "is not a positive int", fix)
    dom, cod = _bits(box.dom), box.cod.inside
    one_real = len(cod) == 1 and cod[0].kind == "real" and len(cod[0].shape) == 1
    if len(dom) != 1 or not one_real:
        raise _wires_error(box, f"bits(n) -> real({k})", fix)
    if cod[0].shape[0] != k:
        raise _field_error(
            box, "k", k, f"does not match its output wire {cod[0]!r} (one count "
            "per group)", f"k={cod[0].shape[0]}, or {fix}"
        )
    if dom[0] % k:
        raise _field_error(
            box, "k", k, f"does not split its input bits({dom[0]}) into equal "
            "groups", f"make the input width a multiple of {k}"
        )
    if not is_temperature(tau):
        raise _field_error(
            box, "tau", tau, "is not a finite temperature > 0 (the counts are "
            "divided by it)", "tau=1.0, or leave it out of cl.logic.network"
        )


# -- the smooth generators (no spec: only their wires) -------------------------------
def _same_wire(box: Any) -> None:
    """relu, sigmoid, tanh, softmax: one wire to the same wire."""
    if len(box.dom) != 1 or box.dom != box.cod:
        raise _wires_error(box, "one wire to the same wire", f"cl.nn.{box.name}(n)")


def _broadcast(box: Any) -> None:
    """add, mul: two wires to the wire of their (numpy-broadcast) shape."""
    dom, cod = box.dom.inside, box.cod.inside
    shape = None
    if len(dom) == 2 and len(cod) == 1:
        a, b = dom[0].shape, dom[1].shape
        n = max(len(a), len(b))
        a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
        if all(x == y or 1 in (x, y) for x, y in zip(a, b, strict=True)):
            shape = tuple(max(x, y) for x, y in zip(a, b, strict=True))
    if shape is None or cod[0].shape != shape:
        raise _wires_error(
            box, "two wires whose shapes broadcast to the output's, e.g. real(n) "
            "@ real(n) -> real(n)", f"cl.nn.{box.name}(n)"
        )


def _matmul(box: Any) -> None:
    """``real(..., n, m) @ real(..., n) -> real(..., m)``."""
    dom, cod = box.dom.inside, box.cod.inside
    ok = len(dom) == 2 and len(cod) == 1 and len(dom[0].shape) >= 2
    if ok:
        (w, x), (y,) = (d.shape for d in dom), cod
        ok = bool(x) and w[-2] == x[-1] and bool(y.shape) and y.shape[-1] == w[-1]
    if not ok:
        raise _wires_error(
            box, "real(n, m) @ real(n) -> real(m): weights, then inputs of the "
            "weights' first size", "cl.nn.linear(n, m)"
        )


SPEC_CHECKS: dict[str, Callable[[Any], None]] = {
    # generator name: validator(box), raising TypeSpecError (ShapeError for sizes)
    "AND": _bitwise,
    "OR": _bitwise,
    "XOR": _bitwise,
    "NOT": _not,
    "ZERO": _constant,
    "ONE": _constant,
    "lut": _lut,
    "lut_layer": _lut_layer,
    "group_sum": _group_sum,
    "relu": _same_wire,
    "sigmoid": _same_wire,
    "tanh": _same_wire,
    "softmax": _same_wire,
    "add": _broadcast,
    "mul": _broadcast,
    "matmul": _matmul,
}


def check_spec(box: Any) -> None:
    """Raise ``TypeSpecError`` if ``box``, a catlearn generator, has a spec or
    wires its functors cannot read (``ShapeError`` if it is too big to build);
    a box of any other name passes."""
    check = SPEC_CHECKS.get(box.name)
    if check is None or getattr(box, "is_dagger", False):
        return  # a user's generator, or a dagger (which no functor reads)
    plain = [w for w in (*box.dom.inside, *box.cod.inside) if not isinstance(w, Wire)]
    if plain:
        raise _wires_error(
            box, f"catlearn wires (cl.real, cl.bits), not {plain[0]!r}",
            f"type the wires of a {box.name!r} box with cl.real(...) or cl.bits(n)",
        )
    check(box)


# -- parameters ----------------------------------------------------------------------
def check_param(name: Any, ty: Ty, init: Any, scale: Any, relax: Any) -> None:
    """Raise ``TypeSpecError`` if a ``Param`` spec does not fit its wire."""
    if init not in INITS:
        raise TypeSpecError(
            f"Param {name!r}: init {init!r} is not one of {INITS}. Fix: pick "
            "one of those."
        )
    if not is_finite(scale):
        raise TypeSpecError(
            f"Param {name!r}: scale {scale!r} is not a finite number. Fix: "
            "pass a float such as scale=0.1."
        )
    if relax is not None and not isinstance(relax, str):
        raise TypeSpecError(
            f"Param {name!r}: relax {relax!r} is not a str. Fix: leave it out, "
            'or name a relaxation such as relax="sigmoid".'
        )
    (wire,) = ty.inside
    if not isinstance(wire, Wire):
        raise TypeSpecError(
            f"Param {name!r}: its wire {wire!r} is not a catlearn wire. Fix: "
            "type it with cl.real(...) or cl.bits(n)."
        )
    if relax is not None and relax not in RELAXATIONS:
        raise TypeSpecError(
            f"Param {name!r} ({wire!r}): relax {relax!r} is not one of "
            f"{RELAXATIONS}. Fix: leave it out, or pick one of those."
        )
    tables = len(wire.shape) == 1 and wire.shape[0] % 4 == 0
    if relax in GATE_CHOICES and not (wire.kind == "bits" and tables):
        raise TypeSpecError(
            f"Param {name!r} ({wire!r}): relax {relax!r} holds 16 logits per "
            "2-input truth table, so it needs a bits(4 n) wire of n tables. Fix: "
            "use such a wire (cl.logic.lut_layer makes one), or relax='sin'."
        )
    if init == "residual" and not tables:
        raise TypeSpecError(
            f"Param {name!r} ({wire!r}): init 'residual' draws 2-input truth "
            "tables of 4 entries each, so it needs a one-dimensional wire of 4 n "
            "entries. Fix: use such a wire, or init='normal'."
        )


# -- the cost of a lut layer's random wiring ------------------------------------
def wiring_steps(n_in: int, n_out: int) -> int:
    """About how many ~10 ns steps ``cl.logic.wiring(n_in, n_out, seed)``
    takes: a shuffle of ``n_in`` per ``n_in`` slots, and, for each of the about
    ``n_out / n_in`` gates that read one wire twice, a shuffle of ``n_out``."""
    reps = -(-2 * n_out // n_in)
    repairs = n_out // n_in if n_in > 1 else 0
    return 200 * reps + 8 * n_out + repairs * n_out


def wiring_bytes(n_in: int, n_out: int) -> tuple[int, int]:
    """``(kept, peak)`` bytes of a lut layer's wiring: what stays cached (the
    gates' inputs and their transpose) and what drawing it takes at most."""
    reps = -(-2 * n_out // n_in)
    return 16 * n_out + 16 * n_in, 48 * n_out + reps * (8 * n_in + 128)


def check_wiring_size(n_in: int, n_out: int, what: str) -> None:
    """Raise ``ShapeError`` if drawing the wiring of ``n_out`` gates over
    ``n_in`` wires would take hours or more memory than is free."""
    steps = wiring_steps(n_in, n_out)
    if steps > WIRING_STEPS:
        most = math.isqrt(WIRING_STEPS * max(n_in, 1))
        raise ShapeError(
            f"{what}: drawing the random wiring of {n_out:,} gates over {n_in:,} "
            f"wires takes about {steps:.1e} steps of ~10 ns ({_duration(steps)} of "
            f"one core): about {n_out // max(n_in, 1):,} gates read one wire "
            f"twice, and each is redrawn by a shuffle of all {n_out:,} gates. The "
            f"limit is {WIRING_STEPS:.0e} steps (~5 minutes). Fix: at most about "
            f"{most:,} gates per layer on {n_in:,} wires, or more input wires."
        )
    kept, peak = wiring_bytes(n_in, n_out)
    check_memory(
        f"{what}: the wiring of {n_out:,} gates over {n_in:,} wires",
        kept + peak,
        "fewer gates per layer",
    )


def _duration(steps: int) -> str:
    seconds = steps * 1e-8
    for unit, size in (("years", 3.15e7), ("days", 86400), ("hours", 3600)):
        if seconds >= size:
            return f"~{seconds / size:,.0f} {unit}"
    return f"~{seconds / 60:,.0f} minutes"
