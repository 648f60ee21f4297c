"""The spec of an ``equinox`` box (``cl.nn.from_equinox``): which module of
this process it runs (a token into the functors' registry) and how many of
its inputs are the module's parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from ._checks import field_error, wires_error
from ._spec_base import Spec


@dataclass(frozen=True)
class Entry:
    """A module registered by ``cl.nn.from_equinox``: its static part, the
    tree structure of its arrays and their initial values."""

    static: Any
    treedef: Any
    leaves: tuple[Any, ...]


MODULES: dict[str, Entry] = {}
"""This process's equinox modules, by token (a module's code is not saved)."""


@dataclass(frozen=True)
class EquinoxSpec(Spec):
    """``equinox``: parameters ``real(*leaf.shape)`` (the module's arrays, in
    ``jax.tree`` order), then the data inputs, to the module's outputs;
    ``token`` names the module in :data:`MODULES`."""

    token: str
    params: int
    NAME: ClassVar[str] = "equinox"
    FIX: ClassVar[str] = "build it with cl.nn.from_equinox(module, dom, cod)"

    @classmethod
    def parse(cls, box: Any) -> Self:
        s = cls._read(box)
        token, n = s["token"], s["params"]
        if not isinstance(token, str) or not token:
            raise field_error(box, "token", token, "is not a token", cls.FIX)
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise field_error(box, "params", n, "is not a count", cls.FIX)
        dom, cod = box.dom.inside, box.cod.inside
        real = all(w.kind == "real" for w in (*dom, *cod))
        if not real or len(dom) <= n or not cod:
            raise wires_error(box, f"{n} parameter wires, then at least one input, "
                              "to at least one output, all real", cls.FIX)
        return cls(token, n)
