"""The base class of the typed specs (:mod:`._specs`): how a generator's
spec is read off its box data, checked, and saved."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from .._errors import TypeSpecError
from ._checks import fields


@dataclass(frozen=True)
class Spec:
    """The spec of one generator, typed: what its functors read."""

    NAME: ClassVar[str] = ""  # the box name it is the spec of
    FIX: ClassVar[str] = ""  # how to build such a box right
    # fields left out of the data while at their default (files saved before
    # the field existed lack it, and mean the default)
    OPTIONAL: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def parse(cls, box: Any) -> Self:
        """The spec of ``box``, checked against its wires (``TypeSpecError``)."""
        raise NotImplementedError

    @classmethod
    def of(cls, box: Any) -> Self:
        """The spec of ``box``, parsed when the box was made. A spec of this
        class passes through, so a rule reading ``LutLayerSpec.of(box)`` runs
        on a bare spec too."""
        if isinstance(box, cls):
            return box
        from ._specs import spec_of  # the table of every generator's parser

        found = spec_of(box)
        if not isinstance(found, cls):
            name = getattr(box, "name", type(box).__name__)
            raise TypeSpecError(
                f"box {name!r} has no {cls.__name__} (its spec is {found!r}): it "
                f"is not a {cls.NAME!r} box. Fix: read a {cls.__name__} off a box "
                f"that {cls.FIX}."
            )
        return found

    def to_data(self) -> tuple[tuple[str, Any], ...]:
        """The box data this spec is saved as: its fields, sorted by name."""
        pairs = (
            (f.name, getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name not in self.OPTIONAL or getattr(self, f.name) != f.default
        )
        return tuple(sorted(pairs))

    @classmethod
    def _read(cls, box: Any) -> dict[str, Any]:
        data = box.data if isinstance(box.data, tuple) else ()
        given = {kv[0] for kv in data if isinstance(kv, tuple) and len(kv) == 2}
        every = dataclasses.fields(cls)
        names = tuple(sorted(
            f.name for f in every if f.name not in cls.OPTIONAL or f.name in given
        ))
        spec = fields(box, names, cls.FIX)
        return {f.name: spec.get(f.name, f.default) for f in every}
