"""The checks that generator specs and builders share: counts, temperatures,
seeds, a spec's fields, and messages that name the box.

>>> is_count(3), is_count(True), is_count(0)
(True, False, False)
>>> check_seed(7, "lut_layer")
7
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from discopy.monoidal import Ty

from .._errors import TypeSpecError

SEEDS = 2**63  # a builder's seed is an int in [0, 2**63): an int64, as numpy takes


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


def fields(box: Any, names: tuple[str, ...], fix: str) -> dict[str, Any]:
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


def field_error(box: Any, field: str, value: Any, problem: str, fix: str) -> Exception:
    return TypeSpecError(
        f"{where(box)}: spec field {field!r} = {value!r} {problem}. Fix: {fix}."
    )


def wires_error(box: Any, expected: str, fix: str) -> Exception:
    shaped = [w for w in (*box.dom.inside, *box.cod.inside)
              if getattr(w, "kind", None) == "bits" and len(w.shape) > 1]  # fmt: skip
    if shaped:  # most generators read flat bits
        dims = ", ".join(map(str, shaped[0].shape))
        fix += f" (flatten a shaped wire first: cl.logic.flatten({dims}))"
    return TypeSpecError(f"{where(box)}: expected {expected}. Fix: {fix}.")


def bit_sizes(ty: Ty) -> list[int]:
    """The sizes of ``ty``'s wires if they are all flat ``bits(n)`` (else
    ``[]``: a ``real`` wire or a shaped ``bits(c, h, w)`` one)."""
    if any(w.kind != "bits" or len(w.shape) != 1 for w in ty.inside):
        return []
    return [w.shape[0] for w in ty.inside]


def bit_shapes(ty: Ty) -> list[tuple[int, ...]]:
    """The shapes of ``ty``'s wires if they are all ``bits`` (else ``[]``)."""
    if any(w.kind != "bits" for w in ty.inside):
        return []
    return [w.shape for w in ty.inside]
