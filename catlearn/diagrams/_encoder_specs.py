"""The specs of real-wire generators with fields: the input encoder
``thermometer`` (real features to bits by fixed thresholds, the front end of
logic-gate networks) and ``dropout``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from ._checks import field_error, is_finite, wires_error
from ._spec_base import Spec


@dataclass(frozen=True)
class ThermometerSpec(Spec):
    """``thermometer``: ``real(n) -> bits(n * levels)``; bit ``i * levels + l``
    is ``x_i > thresholds[i][l]`` (``order="feature"``), or bit ``l * n + i``
    (``order="level"``: ``levels`` planes of ``n`` bits, e.g. the channels
    of an encoded image, ``cl.logic.reshape((levels * h * w,), (levels, h,
    w))``). Under Smooth, ``tau = 0`` (default) is
    the same step (its derivative 0 almost everywhere: the encoder passes no
    gradient to its input), ``tau > 0`` the sigmoid ``sigma((x - t) / tau)``."""

    thresholds: tuple[tuple[float, ...], ...]
    tau: float = 0.0
    order: str = "feature"
    NAME: ClassVar[str] = "thermometer"
    OPTIONAL: ClassVar[tuple[str, ...]] = ("order",)
    FIX: ClassVar[str] = (
        "build it with cl.logic.thermometer(levels, data=X) or "
        "cl.logic.thermometer(thresholds=...)"
    )

    @property
    def levels(self) -> int:
        return len(self.thresholds[0])

    @classmethod
    def parse(cls, box: Any) -> Self:
        fix, s = cls.FIX, cls._read(box)
        rows, tau = s["thresholds"], s["tau"]
        ok = isinstance(rows, tuple) and len(rows) > 0 and all(
            isinstance(r, tuple) and len(r) == len(rows[0]) > 0 for r in rows)
        if not ok or not all(is_finite(t) for r in rows for t in r):
            raise field_error(
                box, "thresholds", _short(rows), "is not a nonempty table of "
                "finite numbers, one row of the same length per feature", fix
            )
        if not is_finite(tau) or tau < 0:
            raise field_error(box, "tau", tau, "is not a finite number >= 0", fix)
        if s["order"] not in ("feature", "level"):
            raise field_error(box, "order", s["order"], "is not 'feature' or 'level'",
                              fix)
        n, levels = len(rows), len(rows[0])
        dom, cod = box.dom.inside, box.cod.inside
        if not (len(dom) == len(cod) == 1 and dom[0].kind == "real"
                and dom[0].shape == (n,) and cod[0].kind == "bits"
                and cod[0].shape == (n * levels,)):  # fmt: skip
            raise wires_error(box, f"real({n}) -> bits({n * levels}) ({n} features, "
                              f"{levels} thresholds each)", fix)
        table = tuple(tuple(float(t) for t in r) for r in rows)
        return cls(table, float(tau), s["order"])


@dataclass(frozen=True)
class DropoutSpec(Spec):
    """``dropout``: ``real(*s) -> real(*s)``. Given a key (training), each
    value is kept with probability ``1 - rate`` and scaled by ``1 / (1 -
    rate)``, else zeroed; without one (evaluation) the identity."""

    rate: float
    NAME: ClassVar[str] = "dropout"
    FIX: ClassVar[str] = "build it with cl.nn.dropout(rate, *shape)"

    @classmethod
    def parse(cls, box: Any) -> Self:
        rate = cls._read(box)["rate"]
        if not is_finite(rate) or not 0 <= rate < 1:
            raise field_error(box, "rate", rate, "is not a number in [0, 1)", cls.FIX)
        dom, cod = box.dom.inside, box.cod.inside
        if not (len(dom) == 1 and dom == cod and dom[0].kind == "real"):
            raise wires_error(box, "one real wire to the same wire", cls.FIX)
        return cls(float(rate))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
