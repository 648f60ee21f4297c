"""Signatures: the generators, wire types and values a semantics is tested on.

A semantics brings its :class:`Signature` to the contract suite; the strategies
in :mod:`catlearn.testing.strategies` draw diagrams and values from it.

>>> sig = smooth_signature(logic_sizes=())
>>> sig
Signature('smooth', wires=[monoidal.Ty(real(2)), monoidal.Ty(real(3))], 35 generators)
>>> sorted({g.label for g in sig.generators if len(g.dom) == 2})
['add2', 'add3', 'mul2', 'mul3', 'recurrent3x2']

The logic generators are shared: ``Smooth`` relaxes the very generators that
``Boolean`` computes exactly, and adds the ``group_sum`` read-out.

>>> logic = {g.label for g in boolean_signature(sizes=(1, 2)).generators}
>>> smooth = {g.label for g in smooth_signature().generators}
>>> sorted(logic) == sorted(logic & smooth), sorted(smooth - logic)[:3]
(True, ['add2', 'add3', 'bias2'])
>>> [g for g in smooth_signature().generators if g.label.startswith("group_sum")]
[Generator('group_sum2x2': monoidal.Ty(bits(2)) -> monoidal.Ty(real(2)))]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from discopy.monoidal import Ty

from .. import logic, nn
from .._errors import TypeSpecError
from ..diagrams import Box, Diagram, Param, Wire, bits, real

Sampler = Callable[[jax.Array, Wire, "int | None"], Any]


@dataclass(frozen=True)
class Generator:
    """A generator of a signature: ``build(name)`` is a diagram ``dom -> cod``.

    ``name`` prefixes the parameters the diagram introduces; strategies draw it
    from ``f"{label}.{k}"`` for ``k < ties``, so the label must fix the types
    of those parameters (put the sizes in it). A generator without parameters
    ignores the name (``ties=1``). ``weight`` makes the strategies draw it
    that many times as often as a generator of weight 1.
    """

    label: str
    dom: Ty
    cod: Ty
    build: Callable[[str], Diagram]
    ties: int = 2
    weight: int = 1  # how often strategies draw it, relative to the others

    def __post_init__(self) -> None:
        if self.ties < 1:
            raise TypeSpecError(
                f"generator {self.label!r}: ties={self.ties} must be at least 1 "
                "(1: one name for its parameters; k: k names, reused at random)."
            )

    @classmethod
    def box(cls, box: Diagram, label: str | None = None) -> Generator:
        """A generator that is one fixed box (or diagram) without parameters."""
        name = label or str(getattr(box, "name", box))
        return cls(name, box.dom, box.cod, lambda _: box, ties=1)

    def __repr__(self) -> str:
        return f"Generator({self.label!r}: {self.dom!r} -> {self.cod!r})"


@dataclass(frozen=True)
class Signature:
    """The generators, wire types and values a semantics is tested on.

    ``wires`` are one-wire types; ``add(ty)`` is the diagram ``ty @ ty -> ty``
    of the cotangent monoid on one wire; ``sample(key, wire, batch)`` draws a
    value of ``wire`` (shape ``(batch, *wire.shape)``, or ``wire.shape`` when
    ``batch`` is ``None``), used for inputs, parameters' tangents and
    cotangents alike. ``max_wires`` bounds how wide a drawn diagram gets.
    """

    name: str
    wires: tuple[Ty, ...]
    generators: tuple[Generator, ...]
    add: Callable[[Ty], Diagram]
    sample: Sampler
    max_wires: int = 3

    def __post_init__(self) -> None:
        for ty in self.wires:
            if not isinstance(ty, Ty) or len(ty) != 1:
                raise TypeSpecError(
                    f"signature {self.name!r}: wires must be one-wire types such "
                    f"as cl.real(3), got {ty!r}."
                )

    def __repr__(self) -> str:
        return (
            f"Signature({self.name!r}, wires={list(self.wires)}, "
            f"{len(self.generators)} generators)"
        )


# -- the signature of cl.Smooth() ------------------------------------------------
def _smooth_sample(key: jax.Array, wire: Wire, batch: int | None) -> Any:
    """Batched ``bits`` values are relaxed bits, uniform in [0, 1]; everything
    else (``real`` values; unbatched values such as a LUT's raw table, its
    tangents and cotangents) is standard normal."""
    shape = wire.shape if batch is None else (batch, *wire.shape)
    if wire.kind == "bits" and batch is not None:
        return jax.random.uniform(key, shape, jnp.float32)
    return jax.random.normal(key, shape, jnp.float32)


def _smooth_add(ty: Ty) -> Diagram:
    return Box("add", ty @ ty, ty)


def _param(n: int, name: str) -> Diagram:
    return Param(name, real(n))


def _bias(n: int, name: str) -> Diagram:
    return nn.bias(n, name=name, init="normal")


def _linear(n: int, m: int, name: str) -> Diagram:
    return nn.linear(n, m, name=name)


def _dense(n: int, m: int, name: str) -> Diagram:
    return nn.dense(n, m, "relu", name=name)


def _layer_norm(n: int, name: str) -> Diagram:
    return nn.layer_norm(n, name=name)


def _embedding(n: int, name: str) -> Diagram:
    return nn.embedding(3, 1, n, name=name) >> nn.reshape((n, 1), (n,))


def _recurrent(n: int, name: str) -> Diagram:
    cell = (nn.linear(n, n, name=f"{name}.hh") @ nn.linear(n, n, name=f"{name}.xh")
            ) >> nn.add(n) >> nn.tanh(n)
    return nn.recurrent(cell, 2, name=name, init="normal")


def _equinox(n: int, m: int, name: str) -> Diagram:
    import equinox as eqx

    mlp = eqx.nn.MLP(n, m, 3, 1, activation=jax.numpy.tanh, key=jax.random.key(n))
    return nn.from_equinox(mlp, real(n), real(m), name=name)


def smooth_signature(
    sizes: Sequence[int] = (2, 3), logic_sizes: Sequence[int] = (1, 2)
) -> Signature:
    """Generators of ``cl.Smooth()``: on ``real(n)`` wires, ``n`` in ``sizes``,
    relu, sigmoid, tanh, softmax (and at the last size gelu, silu, softplus,
    elu, leaky_relu, log_softmax, layer_norm, an embedding, dropout, a tanh
    cell recurrent over two steps), add, mul, a free
    parameter, bias, and linear
    and dense layers between every two sizes, an equinox MLP
    (``cl.nn.from_equinox``) between the first two; on ``bits(n)`` wires, ``n`` in
    ``logic_sizes``, the logic generators of :func:`boolean_signature`
    (relaxed: bits carry floats in [0, 1], LUT tables are raw reals squashed
    into [0, 1]), lut layers with difflogic's 16-gate softmax tables, a
    ``select`` relaxed by a softmax over the indices, a convolution then OR
    pooling (one fused step under ``Kernel(relaxed=True)``), a LUT layer with
    its ``group_sum`` (fused into one step, read-out included), and the read-out
    ``group_sum`` from ``bits(n)`` to every ``real(k)`` with ``k`` dividing
    ``n`` (temperature 2)."""
    gens: list[Generator] = []
    for n in sizes:
        for i, act in enumerate(nn.ACTIVATIONS):
            if i < 4 or n == sizes[-1]:  # jax.nn's (after softmax): one size
                gens.append(Generator.box(nn.activation_box(act, n), f"{act}{n}"))
        gens.append(Generator.box(nn.add(n), f"add{n}"))
        gens.append(Generator.box(nn.mul(n), f"mul{n}"))
        gens.append(Generator(f"p{n}", Ty(), real(n), partial(_param, n)))
        gens.append(Generator(f"bias{n}", real(n), real(n), partial(_bias, n)))
        for m in sizes:
            gens.append(
                Generator(f"linear{n}x{m}", real(n), real(m), partial(_linear, n, m))
            )
            gens.append(
                Generator(f"dense{n}x{m}", real(n), real(m), partial(_dense, n, m))
            )
    n = sizes[-1]  # layer norm; an embedding of n ids (3 rows of 1), flattened
    gens.append(Generator(f"layer_norm{n}", real(n), real(n),
                          partial(_layer_norm, n)))
    gens.append(Generator(f"embedding3x1x{n}", real(n), real(n),
                          partial(_embedding, n)))
    gens.append(Generator.box(nn.dropout(0.5, n), f"dropout{n}"))  # keyed too
    gens.append(Generator(f"recurrent{n}x2", real(n) @ real(n), real(n),
                          partial(_recurrent, n)))  # a tanh cell, lax.scan
    if len(sizes) >= 2:  # an equinox module as a box (cl.nn.from_equinox)
        n, m = sizes[0], sizes[1]
        gens.append(Generator(f"equinox_mlp{n}x{m}", real(n), real(m),
                              partial(_equinox, n, m)))
    gens += _logic_generators(logic_sizes)
    for n in logic_sizes:  # difflogic's 16-gate softmax tables
        for m in logic_sizes:
            make = partial(_lut_layer, n, m, relax="softmax")
            gens.append(Generator(f"softmax_luts{n}x{m}", bits(n), bits(m), make))
    if logic_sizes:  # a conv then OR pooling: Kernel(relaxed) fuses them in one step
        gens.append(Generator("conv_pool3", bits(1, 3), bits(1), _conv_pool))
    if 2 in logic_sizes and 2 in sizes:  # a LUT layer and its read-out, fused into
        # one step (Smooth's pass, Kernel(relaxed)): groups of two gates
        gens.append(Generator("luts2x4_group_sum2", bits(2), real(2), _luts_readout))
    for n in sorted(logic_sizes)[-1:]:  # learned wiring relaxed by a softmax
        make = partial(_select, n, n, relax="softmax")
        gens.append(Generator(f"select{n}x{n}softmax", bits(n), bits(n), make))
    for n in logic_sizes:  # the encoder, relaxed by a sigmoid (tau > 0)
        if n in sizes:
            table = [[0.5 * i - 0.25] for i in range(n)]
            box = logic.thermometer(thresholds=table, tau=0.5)
            gens.append(Generator.box(box, f"thermometer{n}"))
    for n in logic_sizes:
        for k in sizes:
            if n % k == 0:
                box = logic.group_sum(n, k, tau=2.0)  # a rule forgetting tau shows
                gens.append(Generator.box(box, f"group_sum{n}x{k}"))
    wires = (*(real(n) for n in sizes), *(bits(n) for n in logic_sizes))
    return Signature("smooth", wires, tuple(gens), _smooth_add, _smooth_sample)


# -- the signature of cl.Boolean() ------------------------------------------------
def _boolean_sample(key: jax.Array, wire: Wire, batch: int | None) -> Any:
    shape = wire.shape if batch is None else (batch, *wire.shape)
    return jax.random.bernoulli(key, 0.5, shape)


def _xor(ty: Ty) -> Diagram:
    return logic.gate("XOR", *ty.inside[0].shape)


def _bits_param(n: int, name: str) -> Diagram:
    return Param(name, bits(n))


def _lut_layer(
    n: int, m: int, name: str, relax: str = "sin", n_inputs: int = 2
) -> Diagram:
    return logic.lut_layer(n, m, seed=n * 7 + m, name=name, relax=relax,
                           n_inputs=n_inputs)


def _wired_lut_layer(n: int, m: int, name: str) -> Diagram:
    """A lut layer with its wiring given: gate ``g`` reads wires ``g`` and
    ``g + 1`` (mod ``n``), in the reverse order of the layer's gates."""
    a = [(m - 1 - g) % n for g in range(m)]
    return logic.lut_layer(n, m, name=name, wiring=(a, [(i + 1) % n for i in a]))


def _logic_generators(sizes: Sequence[int]) -> list[Generator]:
    """Bitwise AND, OR, XOR, NOT on ``bits(n)``, a free ``bits(n)`` parameter,
    lut layers between every two sizes, at the largest size a lut layer with
    given wiring, one of gates with 3 inputs, learned wiring (``select``), a
    reshape to ``bits(1, n)``, ``tile`` to ``bits(2, n)``, ``or_pool`` of
    ``bits(1, n)``, ``sort`` of ``bits(n)`` and a convolution of one gate over
    ``bits(1, n)``, and, on ``bits(1)``, the gate ``lut`` and the constants
    ``ZERO`` and ``ONE``."""
    gens: list[Generator] = []
    for n in sizes:
        for op in ("AND", "OR", "XOR", "NOT"):
            gens.append(Generator.box(logic.gate(op, n), f"{op}{n}"))
        gens.append(Generator(f"b{n}", Ty(), bits(n), partial(_bits_param, n)))
        for m in sizes:
            gens.append(
                Generator(f"luts{n}x{m}", bits(n), bits(m), partial(_lut_layer, n, m))
            )
    if 1 in sizes:
        gens.append(Generator("lut", bits(1) @ bits(1), bits(1), logic.lut))
        gens += [Generator.box(logic.ZERO), Generator.box(logic.ONE)]
    # given wiring is read like drawn wiring, learned wiring and reshaping work
    # alike at every size: one size is enough (the largest)
    for n in sorted(sizes)[-1:]:
        make = partial(_wired_lut_layer, n, n)
        gens.append(Generator(f"wired_luts{n}x{n}", bits(n), bits(n), make))
        make = partial(_lut_layer, n, n, n_inputs=3)
        gens.append(Generator(f"luts{n}x{n}k3", bits(n), bits(n), make))
        make = partial(_select, n, n)
        gens.append(Generator(f"select{n}x{n}", bits(n), bits(n), make))
        # one reshape: flatten is the same generator, reshape((1, n), (n,))
        gens.append(Generator.box(logic.reshape((n,), (1, n)), f"unflatten{n}"))
        gens.append(Generator.box(logic.tile((n,), 2), f"tile{n}"))
        gens.append(Generator.box(logic.or_pool((1, n), n), f"or_pool{n}"))
        gens.append(Generator.box(logic.sort(n), f"sort{n}"))
        if n >= 2:  # one gate shared by n - 1 positions (the Kernel fuses it)
            make = partial(_conv, n)
            gens.append(Generator(f"conv{n}", bits(1, n), bits(1, n - 1), make))
    return gens


def _conv(n: int, name: str) -> Diagram:
    return logic.conv((1, n), channels=1, kernel=2, depth=1, seed=n, name=name)


def _conv_pool(name: str) -> Diagram:
    """A conv, OR pooling and a gate: one fused chain under Kernel(relaxed)."""
    conv = logic.conv((1, 3), channels=1, kernel=2, depth=1, seed=3, name=f"{name}.c")
    pooled = conv >> logic.or_pool((1, 2), 2) >> logic.flatten(1, 1)
    return pooled >> logic.lut_layer(1, 1, name=f"{name}.g", wiring=([0], [0]))


def _luts_readout(name: str) -> Diagram:
    """A LUT layer then group_sum (2 classes of 2 gates): one fused step."""
    layer = logic.lut_layer(2, 4, seed=1, name=name, init="normal")
    return layer >> logic.group_sum(4, 2, tau=2.0)


def _select(n: int, m: int, name: str, relax: str = "sin") -> Diagram:
    return logic.select(n, m, name=name, relax=relax)


def boolean_signature(sizes: Sequence[int] = (1, 3), max_wires: int = 3) -> Signature:
    """Generators of ``cl.Boolean()`` on ``bits(n)`` wires, ``n`` in ``sizes``:
    bitwise AND, OR, XOR, NOT, a free parameter, the learnable gate ``lut`` on
    ``bits(1)``, and lut layers between every two sizes. XOR is the cotangent
    monoid; values (inputs, parameters, tangents, cotangents) are fair coins."""
    wires = tuple(bits(n) for n in sizes)
    return Signature(
        "boolean", wires, tuple(_logic_generators(sizes)), _xor, _boolean_sample,
        max_wires,
    )
