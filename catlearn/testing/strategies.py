"""Hypothesis strategies for random, well-typed diagrams over a signature.

A :class:`Signature` is what a semantics brings to the contract suite: the wire
types its diagrams use, its generators (boxes, or builders of small diagrams
with parameters), the monoid ``add`` on one wire (to build ``f + g``), and a
sampler of values for a wire. :func:`smooth_signature` is the one for
``cl.Smooth()``; a Boolean functor supplies its own (``bits`` wires, XOR as
``add``, bool samples) and inherits every strategy here.

Diagrams are drawn layer by layer: a generator applied to a window of wires,
a copy, a discard, a swap, or two sub-diagrams side by side (``f @ g``).
Parameter names come from a small pool per generator, so the same name often
appears twice: tied weights. Diagrams stay small (a few wires, a few layers);
DisCoPy is slow on large ones.

>>> from hypothesis import given, settings
>>> from catlearn.testing import strategies as cst
>>> sig = cst.smooth_signature()
>>> @settings(max_examples=5, derandomize=True, database=None, deadline=None)
... @given(cst.composable_pairs(sig))
... def check(pair):
...     f, g = pair
...     assert f.cod == g.dom
>>> check()
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
from discopy.monoidal import Ty
from hypothesis import reject
from hypothesis import strategies as st

from ..diagrams import Copy, Diagram, Discard, Id, Param, Swap, Wire, real
from ..functors import Program
from ._signature import Generator as Generator
from ._signature import Signature as Signature
from ._signature import smooth_signature as smooth_signature
from ._z2 import is_multilinear
from .exhaustive import bits, domain

BATCH = 3
"""Default batch size of drawn inputs: one size, so JAX compiles each shape once."""

Used = list[tuple[Generator, str]]  # parameterised generators drawn, with names


# -- types and diagrams -----------------------------------------------------------
def _ty(wires: Sequence[Wire]) -> Ty:
    return Ty(*wires)


@st.composite
def types(
    draw: Any, signature: Signature, min_wires: int = 1, max_wires: int | None = None
) -> Ty:
    """A type of ``min_wires`` to ``max_wires`` wires of the signature."""
    top = signature.max_wires if max_wires is None else max_wires
    one = st.sampled_from(signature.wires)
    tys = draw(st.lists(one, min_size=min_wires, max_size=max(min_wires, top)))
    return _ty([ty.inside[0] for ty in tys])


def _moves(
    signature: Signature,
    wires: list[Wire],
    max_wires: int,
    split: bool,
    used: Used,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The generator moves (a generator or, to tie weights, the same generator
    with a parameter name already used) and the structural moves."""
    n = len(wires)
    gens: list[tuple[Any, ...]] = []
    named = [(g, None) for g in signature.generators] + list(used)
    for g, name in named:
        k, grow = len(g.dom), len(g.cod) - len(g.dom)
        if n + grow > max_wires:
            continue
        for pos in range(n - k + 1):
            if tuple(wires[pos : pos + k]) == tuple(g.dom.inside):
                gens.append(("gen", g, pos, name))
    for g in signature.generators:  # some inputs fed by fresh parameters
        for fed in _feeds(len(g.dom)):
            rest = [w for j, w in enumerate(g.dom.inside) if j not in fed]
            fits = n - len(rest) + len(g.cod) <= max_wires
            gens += [("feed", g, pos, None, fed) for pos in range(n - len(rest) + 1)
                     if fits and wires[pos : pos + len(rest)] == rest]
    structural: list[tuple[Any, ...]] = []
    if n < max_wires:
        structural += [("copy", pos) for pos in range(n)]
    if n > 1:
        structural += [("discard", pos) for pos in range(n)]
        structural += [("swap", pos) for pos in range(n - 1)]
        if split:
            structural += [("split", k) for k in range(1, n)]
    return gens, structural


def _feeds(k: int) -> list[frozenset[int]]:
    """Which inputs of a ``k``-input generator parameters may feed: all of them
    (a wire that depends on parameters only: no batch axis), or one."""
    ones = [frozenset({j}) for j in range(k)] if k > 1 else []
    return [frozenset(range(k)), *ones] if k else []


def fed_param(wire: Wire, k: int = 0) -> Diagram:
    """A parameter that feeds a generator's input wire directly (its name says
    its type, so two of them with one name are one tied parameter)."""
    shape = "x".join(map(str, wire.shape))
    return Param(f"in_{wire.kind}{shape}.{k}", Ty(wire))


def feed(g: Generator, name: str, fed: frozenset[int], ks: Sequence[int] = ()
         ) -> Diagram:
    """Generator ``g`` with the inputs in ``fed`` read from parameters
    (``fed_param``), the others left open: a diagram from the other inputs."""
    ks = tuple(ks) or (0,) * len(g.dom)
    pieces = [fed_param(w, ks[j]) if j in fed else Id(Ty(w))
              for j, w in enumerate(g.dom.inside)]
    return Diagram.then(Id(Ty()).tensor(*pieces), g.build(name))


def _whisker(left: list[Wire], piece: Diagram, right: list[Wire]) -> Diagram:
    return Id(_ty(left)) @ piece @ Id(_ty(right))


@st.composite
def _layer(
    draw: Any,
    signature: Signature,
    wires: list[Wire],
    max_wires: int,
    split: bool,
    used: Used,
) -> tuple[Diagram, list[Wire]]:
    gens, other = _moves(signature, wires, max_wires, split, used)
    if not gens and not other:
        return Id(_ty(wires)), wires
    # A kind of move, then a move of that kind: fresh generators (each equally
    # likely, whatever its number of positions) and reused names (tied
    # weights) twice as often as a copy, a discard, a swap or a split.
    by_gen: dict[str, list[tuple[Any, ...]]] = {}
    for m in gens:
        if m[0] == "gen" and m[3] is None:
            by_gen.setdefault(m[1].label, []).append(m)
    fresh = [grp for grp in by_gen.values() for _ in range(grp[0][1].weight)]
    tied = [[m for m in gens if m[3] is not None]]
    by_fed: dict[str, list[tuple[Any, ...]]] = {}
    for m in gens:
        if m[0] == "feed":
            by_fed.setdefault(m[1].label, []).append(m)
    fed = [grp for grp in by_fed.values() for _ in range(grp[0][1].weight)]
    kinds = [[[m for m in other if m[0] == k]]
             for k in ("copy", "discard", "swap", "split")]
    pools = [p for p in (fresh, fresh, tied, tied, fed, *kinds) if p and p[0]]
    group = draw(st.sampled_from(draw(st.sampled_from(pools))))
    move = draw(st.sampled_from(group))
    kind, pos = move[0], move[1]
    if kind == "feed":
        g, pos, which = move[1], move[2], move[4]
        k = draw(st.integers(0, g.ties - 1)) if g.ties > 1 else 0
        name = f"{g.label}.{k}" if g.ties > 1 else g.label
        ks = [draw(st.integers(0, 1)) for _ in g.dom.inside]
        n_open = len(g.dom) - len(which)
        left, right = wires[:pos], wires[pos + n_open :]
        new = left + list(g.cod.inside) + right
        return _whisker(left, feed(g, name, which, ks), right), new
    if kind == "gen":
        g, pos, name = move[1], move[2], move[3]
        if name is None:
            k = draw(st.integers(0, g.ties - 1)) if g.ties > 1 else 0
            name = f"{g.label}.{k}" if g.ties > 1 else g.label
            if g.ties > 1 and (g, name) not in used:
                used.append((g, name))
        left, right = wires[:pos], wires[pos + len(g.dom) :]
        new = left + list(g.cod.inside) + right
        return _whisker(left, g.build(name), right), new
    if kind == "split":  # two sub-diagrams side by side, within the width
        left_ty, right_ty = _ty(wires[:pos]), _ty(wires[pos:])
        budget = max_wires - len(right_ty)
        ld = draw(_diagram(signature, left_ty, None, 2, budget, False, used))
        budget = max_wires - len(ld.cod)
        rd = draw(_diagram(signature, right_ty, None, 2, budget, False, used))
        return ld @ rd, list((ld.cod @ rd.cod).inside)
    one, left = _ty(wires[pos : pos + 1]), wires[:pos]
    if kind == "copy":
        return _whisker(left, Copy(one), wires[pos + 1 :]), (
            left + [wires[pos]] + wires[pos:]
        )
    if kind == "discard":
        return _whisker(left, Discard(one), wires[pos + 1 :]), (left + wires[pos + 1 :])
    swap = Swap(one, _ty(wires[pos + 1 : pos + 2]))  # kind == "swap"
    return _whisker(left, swap, wires[pos + 2 :]), (
        left + [wires[pos + 1], wires[pos]] + wires[pos + 2 :]
    )


def _cast(signature: Signature, src: Wire, dst: Wire) -> Generator | None:
    for g in signature.generators:
        if tuple(g.dom.inside) == (src,) and tuple(g.cod.inside) == (dst,):
            return g
    return None


@st.composite
def _diagram(
    draw: Any,
    signature: Signature,
    dom: Ty | None,
    cod: Ty | None,
    max_layers: int,
    max_wires: int | None,
    split: bool,
    used: Used,
) -> Diagram:
    top = signature.max_wires if max_wires is None else max_wires
    if dom is None:
        dom = draw(types(signature, max_wires=top))
    wires = list(dom.inside)
    top = max(top, len(wires))
    layers: list[Diagram] = []
    for _ in range(draw(st.integers(0, max_layers))):
        layer, wires = draw(_layer(signature, wires, top, split, used))
        layers.append(layer)
    if cod is None:
        return Diagram.then(Id(dom), *layers)
    target = list(cod.inside)
    while len(wires) > len(target):
        pos = draw(st.integers(0, len(wires) - 1))
        layers.append(
            _whisker(wires[:pos], Discard(_ty(wires[pos : pos + 1])), wires[pos + 1 :])
        )
        wires = wires[:pos] + wires[pos + 1 :]
    while len(wires) < len(target):
        if not wires:
            reject()  # nothing left to copy from
        pos = draw(st.integers(0, len(wires) - 1))
        layers.append(
            _whisker(wires[:pos], Copy(_ty(wires[pos : pos + 1])), wires[pos + 1 :])
        )
        wires = wires[:pos] + [wires[pos]] + wires[pos:]
    for i, (src, dst) in enumerate(zip(wires, target, strict=True)):
        g = None if src == dst else _cast(signature, src, dst)
        if src != dst and g is None:
            reject()  # the signature cannot turn src into dst
        if g is not None:
            name = f"{g.label}.0" if g.ties > 1 else g.label
            layers.append(_whisker(wires[:i], g.build(name), wires[i + 1 :]))
            wires = wires[:i] + [dst] + wires[i + 1 :]
    return Diagram.then(Id(dom), *layers)


@st.composite
def diagrams(
    draw: Any,
    signature: Signature,
    dom: Ty | None = None,
    cod: Ty | None = None,
    max_layers: int = 4,
    max_wires: int | None = None,
) -> Diagram:
    """Diagrams from ``dom`` (drawn when ``None``) of up to
    ``max_layers`` layers, at most ``max_wires`` wires wide: generators on a
    window of wires, copies, discards, swaps, and two smaller diagrams side by
    side. Parameterised generators reuse names already in the diagram (tied
    weights). With ``cod``, a few more layers discard, copy and cast wires
    (with the signature's one-wire generators) until the codomain is ``cod``."""
    return draw(_diagram(signature, dom, cod, max_layers, max_wires, True, []))


@st.composite
def circuits(
    draw: Any,
    signature: Signature,
    functor: Any,
    max_bits: int | None = 6,
    multilinear: bool = False,
    max_layers: int = 3,
) -> Diagram:
    """Small Boolean circuits: diagrams whose points ``(params, xs)`` hold at
    most ``max_bits`` bits (so that :mod:`~catlearn.testing.exhaustive` can
    enumerate them all), and, with ``multilinear``, only those where
    :func:`~catlearn.testing.is_multilinear` holds under ``functor`` (no
    repeated variable inside a product)."""

    def fits(d: Diagram) -> bool:
        program = functor(d)
        small = max_bits is None or bits(domain(program)) <= max_bits
        return small and (not multilinear or is_multilinear(program))

    return draw(diagrams(signature, max_layers=max_layers).filter(fits))


@st.composite
def composable_pairs(
    draw: Any, signature: Signature, max_layers: int = 3
) -> tuple[Diagram, Diagram]:
    """``(f, g)`` with ``f.cod == g.dom``, so that ``f >> g`` is defined; ``g``
    may reuse ``f``'s parameters."""
    used: Used = []
    f = draw(_diagram(signature, None, None, max_layers, None, True, used))
    g = draw(_diagram(signature, f.cod, None, max_layers, None, True, used))
    return f, g


@st.composite
def parallel_pairs(
    draw: Any, signature: Signature, max_layers: int = 3
) -> tuple[Diagram, Diagram]:
    """``(f, g)`` to put side by side as ``f @ g``, each at most two wires wide
    on input; ``g`` may reuse ``f``'s parameters."""
    used: Used = []
    doms = [draw(types(signature, max_wires=2)) for _ in range(2)]
    f, g = (draw(_diagram(signature, dom, None, max_layers, None, True, used))
            for dom in doms)
    return f, g


@st.composite
def hom_pairs(
    draw: Any, signature: Signature, same_cod: bool = True, max_layers: int = 3
) -> tuple[Diagram, Diagram]:
    """``(f, g)`` with the same domain, and the same codomain when
    ``same_cod`` (for ``f + g``); otherwise for the pairing ``<f, g>``."""
    used: Used = []
    f = draw(_diagram(signature, None, None, max_layers, None, True, used))
    cod = f.cod if same_cod else None
    g = draw(_diagram(signature, f.dom, cod, max_layers, None, True, used))
    return f, g


# -- values -------------------------------------------------------------------------
def sample_values(signature: Signature, wires: Sequence[Wire], key: jax.Array,
                  batch: int | None = BATCH) -> tuple[Any, ...]:
    """One value per wire from ``signature.sample``, the i-th from
    ``fold_in(key, i)`` (without hypothesis: for fixed examples)."""
    return tuple(signature.sample(jax.random.fold_in(key, i), w, batch)
                 for i, w in enumerate(wires))


@st.composite
def values(
    draw: Any, signature: Signature, wires: Sequence[Wire], batch: int | None = BATCH
) -> tuple[Any, ...]:
    """One value per wire from ``signature.sample``, deterministic in a drawn
    seed (``jax.random``), so a failing example replays exactly."""
    key = jax.random.key(draw(st.integers(0, 2**32 - 1)))
    return sample_values(signature, wires, key, batch)


def inputs(signature: Signature, program: Program, batch: int = BATCH) -> Any:
    """A strategy for a batch of inputs of ``program`` (a tuple, one per wire)."""
    return values(signature, program.dom, batch)


def cotangents(signature: Signature, program: Program, batch: int = BATCH) -> Any:
    """A strategy for output cotangents of ``program`` (a tuple, one per wire;
    without a batch axis when the program has no inputs, as its outputs)."""
    return values(signature, program.cod, batch if program.dom else None)


@st.composite
def parameters(
    draw: Any, program: Program, signature: Signature | None = None
) -> dict[str, Any]:
    """``program.init(key)`` for a drawn seed; with a ``signature``, each
    parameter from ``signature.sample`` instead (random truth tables rather
    than the residual initialisation, say)."""
    key = jax.random.key(draw(st.integers(0, 2**32 - 1)))
    if signature is None:
        return program.init(key)
    wires = param_wires(program)
    return dict(zip(program.param_types, sample_values(signature, wires, key, None),
                    strict=True))


def param_wires(program: Program) -> list[Wire]:
    """The wire of each parameter, or a ``real`` wire of the array's shape where
    the semantics holds a parameter in more numbers than its wire has (16
    logits per gate of a softmax table under ``Smooth``)."""
    shapes = program.param_shapes
    return [w if shapes[n] == w.shape else real(*shapes[n]).inside[0]
            for n, w in program.param_types.items()]


@st.composite
def tangents(
    draw: Any, signature: Signature, program: Program, batch: int = BATCH
) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """A tangent ``(dparams, dxs)`` at a point ``(params, xs)`` of ``program``:
    parameters are inputs too (Para)."""
    names = list(program.param_types)
    ps = draw(values(signature, param_wires(program), None))
    xs = draw(values(signature, program.dom, batch))
    return dict(zip(names, ps, strict=True)), xs
