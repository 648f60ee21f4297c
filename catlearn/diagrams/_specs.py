"""One typed spec per generator: a box's data parsed, and checked against its
wires, once, when the box is made.

A generator's functors read its spec (``box.data``: sizes, a seed, a
relaxation) and its wires. When the two disagree, a functor would gather past
the end of an input (clamped, silently), reshape into the wrong number of
gates, or divide by a zero temperature. So every catlearn generator has one
parser here, in one table keyed by the box's name (:data:`SPEC_CHECKS`), and
``cl.Box`` runs it whenever a box is made: by a builder, by hand, or by
``catlearn.io`` loading a diagram. It returns the generator's typed spec
(:class:`LutLayerSpec`, :class:`GroupSumSpec`, ...; ``None`` for generators
with no spec fields), which functors read with ``LutLayerSpec.of(box)``. A box
whose name is not in the table (a user's generator) passes. ``box.data`` (the
sorted key-value pairs saved with the diagram) and ``box.spec`` (a dict of
them) stay as they are.

>>> import catlearn as cl
>>> layer = cl.Box("lut_layer", cl.bits(12) @ cl.bits(4), cl.bits(3),
...                data=cl.diagrams.spec(n_in=4, n_out=3, seed=0, relax="sin"))
>>> LutLayerSpec.of(layer)
LutLayerSpec(n_in=4, n_out=3, seed=0, relax='sin', indices=None, k=2)
>>> LutLayerSpec.of(layer).to_data() == layer.data
True
>>> try:
...     cl.Box("group_sum", cl.bits(4), cl.real(4), data=cl.diagrams.spec(k=2, tau=1.0))
... except cl.TypeSpecError as e:
...     print(str(e)[:71])
box 'group_sum' (bits(4) -> real(4)): spec field 'k' = 2 does not match
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
from discopy.monoidal import Ty

from .._errors import TypeSpecError
from ._checks import (
    bit_sizes,
    check_seed,
    field_error,
    is_count,
    is_finite,
    is_temperature,
    where,
    wires_error,
)
from ._encoder_specs import DropoutSpec as DropoutSpec
from ._encoder_specs import ThermometerSpec
from ._equinox_spec import EquinoxSpec as EquinoxSpec
from ._spec_base import Spec
from ._types import Wire
from ._wire_checks import (
    bitwise,
    broadcast,
    constant,
    embedding_wires,
    layer_norm_wires,
    matmul,
    not_gate,
    reshape,
    same_wire,
)
from ._wiring import (
    MAX_LUT_INPUTS,
    Indices,
    check_indices,
    check_wiring_size,
    given_wiring,
    wiring,
)
from ._wiring_specs import SelectSpec as SelectSpec
from ._wiring_specs import TileSpec, or_pool, sort_wires
from ._wiring_specs import index_bits as index_bits

INITS = ("normal", "uniform", "zeros", "ones", "residual")
RELAXATIONS = ("sin", "sigmoid", "softmax", "gumbel")
GATE_CHOICES = ("softmax", "gumbel")  # relaxations with 16 logits per gate


# -- the typed specs (Spec, the base class: _spec_base.py) ---------------------
def _check_relax(box: Any, relax: Any, fix: str) -> None:
    if not isinstance(relax, str) or relax not in RELAXATIONS:
        raise field_error(box, "relax", relax, f"is not one of {RELAXATIONS}", fix)


@dataclass(frozen=True)
class LutSpec(Spec):
    """``lut``: one learnable 2-input gate ``bits(4) @ bits(1) @ bits(1) ->
    bits(1)`` (its table, then its inputs), relaxed under Smooth by ``relax``."""

    relax: str = "sin"
    NAME: ClassVar[str] = "lut"
    FIX: ClassVar[str] = "build it with cl.logic.lut(name, relax=...)"

    @classmethod
    def parse(cls, box: Any) -> Self:
        if bit_sizes(box.dom) != [4, 1, 1] or bit_sizes(box.cod) != [1]:
            raise wires_error(box, "bits(4) @ bits(1) @ bits(1) -> bits(1)", cls.FIX)
        relax = cls._read(box)["relax"]
        _check_relax(box, relax, cls.FIX)
        return cls(relax)


@dataclass(frozen=True)
class LutLayerSpec(Spec):
    """``lut_layer``: ``n_out`` learnable gates ``bits(2^k n_out) @ bits(n_in)
    -> bits(n_out)`` of ``k`` inputs each (2 unless given), reading the
    inputs :attr:`wiring`: ``indices`` if given (``(a, b)``, gate ``g`` reads
    wires ``a[g]`` and ``b[g]``; ``k`` sequences for ``k`` inputs), else drawn
    from ``seed``. Gate ``g``'s table is entries ``2^k g .. 2^k g + 2^k - 1``;
    on inputs ``x_0 .. x_{k-1}`` it reads entry ``2 x_0 + x_1 + sum_{j >= 2}
    2^j x_j`` (for ``k = 2``: ``t00, t01, t10, t11``)."""

    n_in: int
    n_out: int
    seed: int = 0
    relax: str = "sin"
    indices: Indices | None = None
    k: int = 2
    NAME: ClassVar[str] = "lut_layer"
    FIX: ClassVar[str] = (
        "build it with cl.logic.lut_layer(n_in, n_out, seed=..., relax=..., "
        "wiring=..., n_inputs=...)"
    )
    OPTIONAL: ClassVar[tuple[str, ...]] = ("indices", "k")

    @property
    def entries(self) -> int:
        """Table entries per gate: ``2^k``."""
        return 1 << self.k

    @property
    def wiring(self) -> tuple[np.ndarray, ...]:
        """The gates' inputs ``(a, b)`` (``k`` arrays): the given ``indices``,
        or ``cl.logic.wiring(n_in, n_out, seed, k)``."""
        if self.indices is not None:
            return given_wiring(self.indices)
        return wiring(self.n_in, self.n_out, self.seed, self.k)

    @classmethod
    def parse(cls, box: Any) -> Self:
        fix, s = cls.FIX, cls._read(box)
        for field in ("n_in", "n_out"):
            if not is_count(s[field]):
                raise field_error(box, field, s[field], "is not a positive int", fix)
        n_in, n_out = int(s["n_in"]), int(s["n_out"])
        seed = check_seed(s["seed"], f"{where(box)}: spec field 'seed'")
        _check_relax(box, s["relax"], fix)
        k = s["k"]
        bad_k = isinstance(k, bool) or not isinstance(k, int)
        if bad_k or not 2 <= k <= MAX_LUT_INPUTS:
            what = f"is not an int from 2 to {MAX_LUT_INPUTS}"
            raise field_error(box, "k", k, what, fix)
        if k > 2 and s["relax"] in GATE_CHOICES:
            raise field_error(
                box, "relax", s["relax"], f"chooses among the 16 gates of 2 inputs, "
                f"but the gates have k={k} inputs", f"relax='sin', or {fix}"
            )
        size = 1 << k
        dom, cod = bit_sizes(box.dom), bit_sizes(box.cod)
        if len(dom) != 2 or len(cod) != 1:
            expected = f"bits({size * n_out}) @ bits({n_in}) -> bits({n_out})"
            raise wires_error(box, expected, fix)
        if dom[1] != n_in:
            raise field_error(
                box, "n_in", n_in, f"does not match its input wire bits({dom[1]}) "
                "(the gates would read wires past its end)", f"n_in={dom[1]}, or {fix}"
            )
        if cod[0] != n_out or dom[0] != size * n_out:
            raise field_error(
                box, "n_out", n_out, f"does not match its wires: {n_out} gates take "
                f"a table bits({size * n_out}) and give bits({n_out})",
                f"n_out={cod[0]} with a table bits({size * cod[0]}), or {fix}",
            )
        indices = s["indices"]
        if indices is None:
            check_wiring_size(n_in, n_out, where(box), k)
        else:
            indices = check_indices(indices, n_in, n_out, where(box), k)
        return cls(n_in, n_out, seed, s["relax"], indices, k)


@dataclass(frozen=True)
class GroupSumSpec(Spec):
    """``group_sum``: ``bits(n) -> real(k)``, the ones in each of ``k`` equal
    groups, divided by ``tau`` under Smooth."""

    k: int
    tau: float = 1.0
    NAME: ClassVar[str] = "group_sum"
    FIX: ClassVar[str] = "build it with cl.logic.group_sum(n, k, tau=...)"

    @classmethod
    def parse(cls, box: Any) -> Self:
        fix, s = cls.FIX, cls._read(box)
        k, tau = s["k"], s["tau"]
        if not is_count(k):
            raise field_error(box, "k", k, "is not a positive int", fix)
        dom, cod = bit_sizes(box.dom), box.cod.inside
        one_real = len(cod) == 1 and cod[0].kind == "real" and len(cod[0].shape) == 1
        if len(dom) != 1 or not one_real:
            raise wires_error(box, f"bits(n) -> real({k})", fix)
        if cod[0].shape[0] != k:
            raise field_error(
                box, "k", k, f"does not match its output wire {cod[0]!r} (one count "
                "per group)", f"k={cod[0].shape[0]}, or {fix}"
            )
        if dom[0] % k:
            raise field_error(
                box, "k", k, f"does not split its input bits({dom[0]}) into equal "
                "groups", f"make the input width a multiple of {k}"
            )
        if not is_temperature(tau):
            raise field_error(
                box, "tau", tau, "is not a finite temperature > 0 (the counts are "
                "divided by it)", "tau=1.0, or leave it out of cl.logic.network"
            )
        return cls(int(k), float(tau))


@dataclass(frozen=True)
class ParamSpec(Spec):
    """A ``Param`` box (any name): how ``Program.init`` draws it, and how a
    ``bits`` parameter is relaxed under Smooth. ``cl.Param`` checks the
    values before it makes the box (:func:`check_param`)."""

    init: str = "normal"
    scale: float = 1.0
    relax: str | None = None
    FIX: ClassVar[str] = "is a cl.Param"

    @classmethod
    def parse(cls, box: Any) -> Self:
        s = cls._read(box)
        return cls(s["init"], s["scale"], s["relax"])


def _recurrent(box: Any) -> Spec:
    from ._recurrent_spec import RecurrentSpec  # it reads diagrams: imported late

    return RecurrentSpec.parse(box)


SPEC_CHECKS: dict[str, Callable[[Any], Spec | None]] = {
    # generator name: parse(box) -> its typed spec (None: no spec fields), raising
    # TypeSpecError (ShapeError for sizes)
    "AND": bitwise,
    "OR": bitwise,
    "XOR": bitwise,
    "NOT": not_gate,
    "ZERO": constant,
    "ONE": constant,
    "lut": LutSpec.parse,
    "lut_layer": LutLayerSpec.parse,
    "group_sum": GroupSumSpec.parse,
    "select": SelectSpec.parse,
    "reshape": reshape,
    "tile": TileSpec.parse,
    "or_pool": or_pool,
    "sort": sort_wires,
    "thermometer": ThermometerSpec.parse,
    "dropout": DropoutSpec.parse,
    "recurrent": _recurrent,
    "equinox": EquinoxSpec.parse,
    "layer_norm": layer_norm_wires,
    "embedding": embedding_wires,
    "relu": same_wire,
    "sigmoid": same_wire,
    "tanh": same_wire,
    "softmax": same_wire,
    **{name: same_wire for name in ("gelu", "silu", "softplus", "elu", "leaky_relu",
                                    "log_softmax")},
    "add": broadcast,
    "mul": broadcast,
    "matmul": matmul,
}


def parse_spec(box: Any) -> Spec | None:
    """The typed spec of ``box``, a catlearn generator, checked against its
    wires; ``None`` for a generator with no spec fields, a box of any other
    name (a user's generator) or a dagger (which no functor reads)."""
    parse = SPEC_CHECKS.get(box.name)
    if parse is None or getattr(box, "is_dagger", False):
        return None
    plain = [w for w in (*box.dom.inside, *box.cod.inside) if not isinstance(w, Wire)]
    if plain:
        raise wires_error(
            box, f"catlearn wires (cl.real, cl.bits), not {plain[0]!r}",
            f"type the wires of a {box.name!r} box with cl.real(...) or cl.bits(n)",
        )
    return parse(box)


def check_spec(box: Any) -> None:
    """Raise ``TypeSpecError`` if ``box``, a catlearn generator, has a spec or
    wires its functors cannot read (``ShapeError`` if it is too big to build);
    a box of any other name passes."""
    parse_spec(box)


def spec_of(box: Any) -> Spec | None:
    """The typed spec of ``box``: ``box.typed_spec`` for a catlearn box (parsed
    when it was made), else parsed now (:func:`parse_spec`)."""
    if hasattr(type(box), "typed_spec"):
        return box.typed_spec  # type: ignore[no-any-return]
    return parse_spec(box)


# -- parameters ----------------------------------------------------------------------
def check_param(name: Any, ty: Ty, init: Any, scale: Any, relax: Any) -> None:
    """Raise ``TypeSpecError`` if a ``Param`` spec does not fit its wire."""
    if init not in INITS and not str(init).startswith("equinox:"):
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
    indices = len(wire.shape) == 2 and relax == "softmax"  # a select's choices
    if relax in GATE_CHOICES and not (wire.kind == "bits" and (tables or indices)):
        raise TypeSpecError(
            f"Param {name!r} ({wire!r}): relax {relax!r} holds 16 logits per "
            "2-input truth table, so it needs a bits(4 n) wire of n tables (or, "
            "softmax only, a select's bits(n_sel, w) of index bits). Fix: use "
            "such a wire (cl.logic.lut_layer makes one), or relax='sin'."
        )
    if init == "residual" and not tables:
        raise TypeSpecError(
            f"Param {name!r} ({wire!r}): init 'residual' draws 2-input truth "
            "tables of 4 entries each, so it needs a one-dimensional wire of 4 n "
            "entries. Fix: use such a wire, or init='normal'."
        )
