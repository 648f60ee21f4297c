"""The fusion pass: a compile-time rewrite of a flat :class:`Program`.

Every chain of ``lut_layer`` steps (each layer feeding only the next), with the
``group_sum`` read-out that ends it, becomes **one** step whose box is a
:class:`FusedLayers` and whose rule the program's functor makes
(``functor.fused_rule(box)``). A functor runs it by listing it in its
``PASSES`` (``cl.Kernel`` does); the program means what it meant before.

A functor whose ``LINKS`` name ``reshape`` and ``or_pool`` (the relaxed
kernel's) lets a chain run on through them: a ``reshape`` moves no value of a
features-first activation, and an ``or_pool`` whose windows hold ``2^j`` bits
is ``j`` layers of fixed ``OR`` gates (:class:`OrGates`), pairwise down each
window. So a stack of convolutions and poolings is one fused step, with no
layout change between its parts.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, Protocol, runtime_checkable

import numpy as np

from .._errors import SemanticsError
from ..diagrams import GroupSumSpec, LutLayerSpec, windows
from ._program import Program, Step
from ._rule import Rule


@dataclass(frozen=True)
class OrGates:
    """A layer of ``n_out`` fixed ``OR`` gates in a fused chain, gate ``g``
    reading rows ``indices[0][g]`` and ``indices[1][g]``: part of an
    ``or_pool`` (:func:`or_layers`). Its table is :attr:`TABLE`, no parameter."""

    n_in: int
    n_out: int
    indices: tuple[tuple[int, ...], tuple[int, ...]]
    TABLE: ClassVar[tuple[float, ...]] = (0.0, 1.0, 1.0, 1.0)  # s00 s01 s10 s11

    @property
    def wiring(self) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.indices
        return np.asarray(a, np.int32), np.asarray(b, np.int32)


def or_layers(box: Any) -> tuple[OrGates, ...] | None:
    """An ``or_pool`` box as layers of ``OR`` gates, each halving every
    window (``1 - prod (1 - x)`` over a window is the relaxed ``OR`` of its
    halves' ORs); ``None`` unless each window holds ``2^j >= 2`` bits.

    >>> import catlearn as cl
    >>> [(g.n_in, g.n_out) for g in or_layers(cl.logic.or_pool((2, 4, 4), 2))]
    [(32, 16), (16, 8)]
    """
    n = math.prod(box.dom.inside[0].shape)
    w = np.asarray(windows(box, np.arange(n), ()))
    w = w.reshape(-1, w.shape[-1])  # one row per output bit: its window
    if w.shape[1] < 2 or w.shape[1] & (w.shape[1] - 1):
        return None
    layers = []
    while w.shape[1] > 1:
        a, b = w[:, 0::2].reshape(-1), w[:, 1::2].reshape(-1)
        layers.append(OrGates(n, len(a), (tuple(a.tolist()), tuple(b.tolist()))))
        n, w = len(a), np.arange(len(a)).reshape(len(w), -1)
    return tuple(layers)


@dataclass(frozen=True)
class FusedLayers:
    """The box of a fused step: a chain of lut layers (their specs) and fixed
    ``OR`` layers, optionally ending in ``group_sum`` into ``k`` groups
    (``tau``). The step reads one table per lut layer, then the input."""

    layers: tuple[LutLayerSpec | OrGates, ...]
    group: tuple[int, float] | None = None

    @property
    def luts(self) -> tuple[LutLayerSpec, ...]:
        """The learnable layers, in order (one table each)."""
        return tuple(s for s in self.layers if isinstance(s, LutLayerSpec))

    @property
    def wirings(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(layer.wiring[0], layer.wiring[1]) for layer in self.layers]

    @property
    def name(self) -> str:
        sizes = [str(self.layers[0].n_in)]
        sizes += [f"{s.n_out}{'' if isinstance(s, LutLayerSpec) else ' or'}"
                  for s in self.layers]
        tail = f" | group_sum {self.group[0]}" if self.group else ""
        return f"fused_luts[{'->'.join(sizes)}{tail}]"


class Counts(NamedTuple):
    """A table's cotangent as the fused reverse kernel returns it: per table
    bit, over how many examples of the batch it is 1 (``int32``)."""

    n: Any


@runtime_checkable
class Fusing(Protocol):
    """A functor that gives fused chains their meaning."""

    def fused_rule(self, box: FusedLayers) -> Rule: ...


SHARING = ("reshape", "tile")  # steps between a parameter and a fused table


def fuse(program: Program) -> Program:
    """``program`` with each chain of ``lut_layer`` steps replaced by one step
    ruled by ``program.functor.fused_rule(chain)``. A layer joins its
    predecessor's chain when it reads that layer's output and nothing else
    does; a layer's table must be a parameter read by that layer only (the
    kernel counts its votes) or, where the functor says ``SHARED_TABLES``
    (the relaxed kernel, whose table cotangents are plain arrays), such a
    parameter shared by positions through ``reshape`` and ``tile`` steps
    only (``cl.logic.conv``). The Boolean kernel's votes count (example,
    position) pairs, where Boolean counts examples whose derivative (the XOR
    over positions) is 1: so it leaves shared tables unfused. Between two
    layers of a chain may stand steps the functor's ``LINKS`` name (each read
    once): ``reshape``, and ``or_pool`` as :func:`or_layers`. A chain whose
    output only feeds a ``group_sum`` absorbs it."""
    functor = program.functor
    if not isinstance(functor, Fusing):
        raise SemanticsError(
            f"fuse: {functor!r} has no fused_rule, so it cannot give fused lut "
            "layers a meaning. Fix: compile with cl.Kernel(...), whose PASSES "
            "include fuse."
        )
    steps, slots = program.steps, program.slots
    readers: Counter[int] = Counter(s for st in steps for s in st.ins)
    readers.update(program.outputs)
    producer = {s: i for i, st in enumerate(steps) for s in st.outs}
    param_slots = {slot for _, slot in program.param_slots.values()}

    shared = getattr(functor, "SHARED_TABLES", False)
    links = getattr(functor, "LINKS", ())
    pools = {
        i: or_layers(st.box)
        for i, st in enumerate(steps)
        if st.box.name == "or_pool" and "or_pool" in links
    }

    def from_param(slot: int) -> bool:
        """A parameter (maybe reshaped and tiled), read once at each step."""
        while shared and slot not in param_slots:
            i = producer.get(slot)
            if i is None or steps[i].box.name not in SHARING or readers[slot] != 1:
                return False
            slot = steps[i].ins[0]
        return readers[slot] == 1

    def fusable(st: Step) -> bool:
        if st.box.name != "lut_layer" or LutLayerSpec.of(st.box).k != 2:
            return False  # the kernels hold gates of 2 inputs
        table, x = st.ins
        return (
            from_param(table)
            and not slots[table].batched
            and slots[x].batched  # the kernels tile a batch of examples
        )

    def passable(i: int) -> bool:
        st = steps[i]
        if st.box.name not in links or not slots[st.ins[0]].batched:
            return False
        return st.box.name != "or_pool" or pools[i] is not None

    def before(slot: int) -> tuple[int, list[int]] | None:
        """The fusable layer whose output reaches ``slot`` through linking
        steps only, each value read once, and those steps (last first)."""
        between: list[int] = []
        while (i := producer.get(slot)) is not None and readers[slot] == 1:
            if fusable(steps[i]):
                return i, between
            if not passable(i):
                return None
            between.append(i)
            slot = steps[i].ins[0]
        return None

    nxt: dict[int, int] = {}
    links_of: dict[int, list[int]] = {}  # layer -> the linking steps before it
    for j, st in enumerate(steps):
        if fusable(st) and (found := before(st.ins[1])) is not None:
            nxt[found[0]], links_of[j] = j, found[1]
    heads = [i for i, st in enumerate(steps) if fusable(st) and i not in nxt.values()]
    replaced: dict[int, Step | None] = {}
    for head in heads:
        chain = [head]
        while chain[-1] in nxt:
            chain.append(nxt[chain[-1]])
        out, group, chain_end = steps[chain[-1]].outs[0], None, chain[-1]
        reader = [k for k, st in enumerate(steps) if out in st.ins]
        if (
            len(reader) == 1
            and readers[out] == 1
            and steps[reader[0]].box.name == "group_sum"
        ):
            gs = GroupSumSpec.of(steps[reader[0]].box)
            group, chain_end, out = (gs.k, gs.tau), reader[0], steps[reader[0]].outs[0]
        specs: list[LutLayerSpec | OrGates] = []
        for k in chain:
            for i in reversed(links_of.get(k, [])):
                replaced[i] = None
                specs += pools.get(i) or ()  # reshapes add no layer
            specs.append(LutLayerSpec.of(steps[k].box))
        box = FusedLayers(tuple(specs), group)
        ins = (*(steps[k].ins[0] for k in chain), steps[head].ins[1])
        replaced.update({k: None for k in chain})
        replaced[chain_end] = Step(box, functor.fused_rule(box), ins, (out,))
    new_steps = [replaced.get(i, st) for i, st in enumerate(steps)]
    return Program(
        functor,
        program.diagram,
        slots,
        [st for st in new_steps if st is not None],
        program.n_inputs,
        program.param_slots,
        program.outputs,
    )
