"""Building diagrams in time linear in their size.

DisCoPy stores a diagram as its layers, one box each, every layer holding the
whole type on its left and on its right. Tensoring ``d @ f`` rebuilds every
layer of ``d`` (its right type grows by ``f.dom``, each new type spelled out
object by object, with its name), so a layer of ``n`` boxes written as ``@`` in
a loop costs ``O(n^3)``; ``d >> f`` copies the tuple of layers, so a chain
written as ``>>`` in a loop costs ``O(n^2)``.

Here the same layers are built once, in time linear in the diagram:

- a :class:`LazyTy` is a type made of slices of shared sequences (the
  concatenated domains on the right of a box, the codomains on its left): O(1)
  to make; its objects and its name are spelled out only when read;
- a :class:`LazyLayer` is a layer whose types are lazy;
- a :class:`Run` records the factors of an n-ary ``@`` or ``>>``: extending
  the run's newest diagram appends one factor in place (amortised O(size of
  the factor)), and the layers are laid out once, when first read.

Each is equal to, hashes as and prints as what DisCoPy builds, so functors,
the codec and drawing see DisCoPy's diagram.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property
from itertools import chain
from typing import Any

from discopy.monoidal import Layer, Ty
from discopy.utils import factory_name

Part = tuple[Sequence[Any], int, int]  # (shared objects, start, stop)

# A lazy type of more slices than this is spelled out into one tuple, so that
# types whiskered again and again stay a few slices each.
MAX_PARTS = 6


class LazyTy(Ty):
    """A type whose objects are the concatenated slices ``seq[start:stop]`` of
    ``parts``; ``len`` is O(1), the objects and the name are read on demand.
    Equal to, hashed and printed as ``Ty`` of the same objects."""

    def __init__(self, parts: tuple[Part, ...], length: int):  # no Ty.__init__
        self._parts, self._length = parts, length

    @cached_property
    def inside(self) -> tuple[Any, ...]:  # type: ignore[override]
        return tuple(chain.from_iterable(seq[a:b] for seq, a, b in self._parts))

    @cached_property
    def name(self) -> str:  # type: ignore[override]
        return str(self)

    def __len__(self) -> int:
        return self._length

    def __str__(self) -> str:
        return " @ ".join(map(str, self.inside)) or "Ty()"

    def __repr__(self) -> str:
        return f"{factory_name(Ty)}({', '.join(map(repr, self.inside))})"

    def __hash__(self) -> int:
        return hash(repr(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Ty, self.inside)


def parts_of(ty: Ty) -> tuple[Part, ...]:
    """The slices that make ``ty`` (none for the empty type)."""
    if isinstance(ty, LazyTy) and "inside" not in ty.__dict__:
        return ty._parts
    return ((ty.inside, 0, len(ty)),) if len(ty) else ()


def lazy_ty(parts: Iterable[Part]) -> Ty:
    """The type made of ``parts``: ``Ty()`` if empty, else a :class:`LazyTy`."""
    kept = tuple(p for p in parts if p[2] > p[1])
    if not kept:
        return Ty()
    length = sum(b - a for _, a, b in kept)
    if len(kept) > MAX_PARTS:
        kept = ((tuple(chain.from_iterable(s[a:b] for s, a, b in kept)), 0, length),)
    return LazyTy(kept, length)


class LazyLayer(Layer):
    """A layer made in O(1) from lazy types (:func:`whisker`); its name is
    spelled out when read. Equal to, hashed and printed as the ``Layer`` of
    the same boxes and types; Layer's own methods return LazyLayers made
    the ordinary way."""

    @cached_property
    def name(self) -> str:  # type: ignore[override]
        name = ""
        for i, x in enumerate(self.boxes_or_types):
            if i % 2 or x:
                name += (" @ " if name else "") + str(x)
        return name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Layer) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"{factory_name(Layer)}({', '.join(map(repr, self))})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Layer, tuple(self.boxes_or_types))


def whisker(layer: Layer, left: tuple[Part, ...], right: tuple[Part, ...]) -> Layer:
    """``left @ layer @ right`` as DisCoPy makes it (the first and the last type
    of the layer grow), in O(1)."""
    if not left and not right:
        return layer
    items = list(layer.boxes_or_types)
    items[0] = lazy_ty(left + parts_of(items[0]))
    items[-1] = lazy_ty(parts_of(items[-1]) + right)
    new = object.__new__(LazyLayer)  # cat.Box.__init__'s fields, set directly
    new.boxes_or_types = tuple(items)
    new.data, new.is_dagger, new.inside = None, False, (new,)
    new.dom = lazy_ty(left + parts_of(layer.dom) + right)
    new.cod = lazy_ty(left + parts_of(layer.cod) + right)
    return new


def box_layer(box: Any) -> Layer:
    """``Layer.cast(box)``, the one layer of a box, made without respelling
    its types: equal to DisCoPy's (``Ty() @ box.dom @ Ty()`` is ``box.dom``)."""
    layer = object.__new__(Layer)
    layer.boxes_or_types = (Ty(), box, Ty())
    layer.name, layer.data, layer.is_dagger = str(box), None, False
    layer.dom, layer.cod, layer.inside = box.dom, box.cod, (layer,)
    return layer


def tensor_layers(factors: Sequence[Any]) -> tuple[Layer, ...]:
    """The layers of ``factors[0] @ factors[1] @ ...`` as DisCoPy's left-nested
    tensor makes them: the layers of factor ``k`` have the codomains of the
    factors before it on their left, the domains of those after on their
    right. Linear in the diagrams."""
    doms = tuple(chain.from_iterable(f.dom.inside for f in factors))
    cods = tuple(chain.from_iterable(f.cod.inside for f in factors))
    layers: list[Layer] = []
    c = d = 0
    for f in factors:
        d += len(f.dom)
        left = ((cods, 0, c),) if c else ()
        right = ((doms, d, len(doms)),) if d < len(doms) else ()
        layers.extend(whisker(layer, left, right) for layer in f.inside)
        c += len(f.cod)
    return tuple(layers)


class Run:
    """The factors of an n-ary ``@`` (``kind="tensor"``) or ``>>``
    (``"then"``), append-only, shared by the diagrams that extend it: the
    diagram of the first ``k`` factors is ``(run, k)``. Appending to the
    newest one is amortised O(size of the factor); an older one is copied."""

    __slots__ = ("kind", "factors", "dom_obs", "cod_obs")

    def __init__(self, kind: str, factors: Iterable[Any] = ()):
        self.kind = kind
        self.factors: list[Any] = []
        self.dom_obs: list[Any] = []  # concatenated domains (tensor only)
        self.cod_obs: list[Any] = []
        for f in factors:
            self.append(f)

    def append(self, factor: Any) -> None:
        self.factors.append(factor)
        if self.kind == "tensor":
            self.dom_obs.extend(factor.dom.inside)
            self.cod_obs.extend(factor.cod.inside)

    def boundary(self) -> tuple[Ty, Ty]:
        """``(dom, cod)`` of the composite of all the factors so far (a list's
        prefix stays as it is: the lists only grow)."""
        if self.kind == "then":
            return self.factors[0].dom, self.factors[-1].cod
        n, m = len(self.dom_obs), len(self.cod_obs)
        return lazy_ty(((self.dom_obs, 0, n),)), lazy_ty(((self.cod_obs, 0, m),))

    def layers(self, k: int) -> tuple[Layer, ...]:
        """The layers of the composite of the first ``k`` factors."""
        factors = self.factors[:k]
        if self.kind == "then":
            return tuple(chain.from_iterable(f.inside for f in factors))
        return tensor_layers(factors)
