"""Copy, discard and swap: the structure of a Markov category, as classes.

``cl.Swap(x, y)``, ``cl.Copy(x, n)`` and ``cl.Discard(x)`` build what DisCoPy
builds (the generator itself, a box, on one wire; the diagram of generators on
a composite type), and each result is an instance of its class:

>>> import catlearn as cl
>>> x, y = cl.real(3), cl.bits(2)
>>> assert isinstance(cl.Swap(x, y), cl.Swap) and isinstance(cl.Swap(x @ y, x), cl.Swap)
>>> assert cl.Swap(x @ y, x) == cl.Diagram.swap(x @ y, x)
>>> assert cl.Discard(x) == cl.Copy(x, 0) and cl.Copy(x, 1) == cl.Id(x)
>>> assert isinstance(cl.Copy(x, 3), cl.Copy)
>>> assert isinstance(cl.Discard(x @ y), cl.Discard)

Functors read the boxes (``markov.Copy`` and ``markov.Swap`` instances) by
class: copy, discard and swap rewire slots and have no rule.
"""

from __future__ import annotations

import numbers
from typing import Any

from discopy import markov
from discopy.monoidal import Ty

from .._errors import TypeSpecError
from ._diagram import Box, Diagram, Id, _check_ty


class _Structural(Diagram):
    """A copy, discard or swap on any type: the generator itself (a box) on
    one wire, else the diagram of generators DisCoPy builds, made once in
    ``__init__``. ``__new__`` picks the box class for one wire; instances of
    both compare, hash and print as the diagram they are."""

    def __init__(self, d: Diagram) -> None:
        Diagram.__init__(self, d.inside, d.dom, d.cod, _scan=False)  # type: ignore[call-arg]

    def __repr__(self) -> str:
        return repr(Diagram(self.inside, self.dom, self.cod, _scan=False))


class Swap(_Structural):
    """``Swap(left, right)``: swap two types, ``left @ right -> right @ left``.
    On two wires it is the generator, a box (functors exchange the two wires'
    slots); on composite types, the diagram of swaps of wires that DisCoPy's
    ``Diagram.swap`` builds."""

    def __new__(cls, left: Any = None, right: Any = None) -> Any:
        if cls is Swap and left is not None:  # not when unpickling
            _check_ty("Swap", left)
            _check_ty("Swap", right)
            if len(left) == 1 and len(right) == 1:
                cls = _Swap
        return object.__new__(cls)

    def __init__(self, left: Ty, right: Ty) -> None:
        super().__init__(Diagram.swap(left, right))


class Copy(_Structural):
    """``Copy(ty, n=2)``: ``n`` copies of ``ty`` (any type; a composite type
    copies wire by wire; ``n=0`` discards, ``n=1`` is the identity). On one
    wire (``n != 1``) it is the generator, a box."""

    def __new__(cls, ty: Any = None, n: Any = 2) -> Any:
        if cls is Copy and ty is not None:  # not when unpickling
            _check_ty("Copy", ty)
            if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
                raise TypeSpecError(
                    f"Copy({ty!r}, n={n!r}): n must be an int >= 0 (0 discards). "
                    "Fix: cl.Copy(ty, 2) for two copies."
                )
            if len(ty) == 1 and n != 1:
                return _Copy.__new__(_Copy, ty, int(n))
        return object.__new__(cls)

    def __init__(self, ty: Ty, n: int = 2) -> None:
        n = int(n)
        super().__init__(Id(ty) if len(ty) == 1 else Diagram.copy(ty, n))


class Discard(Copy):
    """``Discard(ty)``: delete ``ty`` (any type), one discard box per wire.
    Always a diagram (also on one wire), as DisCoPy's tensor of the boxes."""

    def __new__(cls, ty: Any = None) -> Any:
        if cls is Discard and ty is not None:
            _check_ty("Discard", ty)
        return object.__new__(cls)

    def __init__(self, ty: Ty) -> None:  # type: ignore[override]
        boxes = [_Discard(Ty(w)) for w in ty.inside]  # type: ignore[call-arg]
        _Structural.__init__(self, Diagram.tensor(Id(), *boxes))


class _Swap(markov.Swap, Box, Swap):
    """The swap of two wires (a generator)."""

    __ambiguous_inheritance__ = (markov.Swap,)


# DisCoPy names a swap box after its class: ``Swap(x, y)``, as before the
# public name became the class (pickle finds the class by its qualname).
_Swap.__name__ = "Swap"


class _Copy(markov.Copy, Box, Copy):
    """The copy of one wire ``n`` times (a generator)."""

    __ambiguous_inheritance__ = (markov.Copy,)

    def __getnewargs__(self) -> tuple[Ty, int]:  # markov.Copy.__new__ needs them
        return (self.dom, len(self.cod))


class _Discard(markov.Discard, _Copy, Discard):
    """The discard of one wire (a generator)."""

    __ambiguous_inheritance__ = (markov.Discard,)


Diagram.copy_factory = _Copy
Diagram.discard_factory = _Discard
Diagram.braid_factory = _Swap
_Copy.discard_factory = _Discard


def SwapTypes(left: Ty, right: Ty) -> Diagram:  # noqa: N802 - deprecated alias
    """Deprecated: ``cl.Swap(left, right)`` (a class now) does the same."""
    return Swap(left, right)
