"""The fusion pass: a compile-time rewrite of a flat :class:`Program`.

Every chain of ``lut_layer`` steps (each layer feeding only the next), with the
``group_sum`` read-out that ends it, becomes **one** step whose box is a
:class:`FusedLayers` and whose rule the program's functor makes
(``functor.fused_rule(box)``). A functor runs it by listing it in its
``PASSES`` (``cl.Kernel`` does); the program means what it meant before.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from .._errors import SemanticsError
from ..diagrams import GroupSumSpec, LutLayerSpec
from ._program import Program, Step
from ._rule import Rule


@dataclass(frozen=True)
class FusedLayers:
    """The box of a fused step: a chain of lut layers (their specs), optionally
    ending in ``group_sum`` into ``k`` groups (``tau``)."""

    layers: tuple[LutLayerSpec, ...]
    group: tuple[int, float] | None = None

    @property
    def wirings(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(layer.wiring[0], layer.wiring[1]) for layer in self.layers]

    @property
    def name(self) -> str:
        sizes = [self.layers[0].n_in, *(s.n_out for s in self.layers)]
        tail = f" | group_sum {self.group[0]}" if self.group else ""
        return f"fused_luts[{'->'.join(map(str, sizes))}{tail}]"


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
    over positions) is 1: so it leaves shared tables unfused. A chain whose
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

    nxt: dict[int, int] = {}
    for j, st in enumerate(steps):
        if not fusable(st):
            continue
        i = producer.get(st.ins[1])
        if i is not None and fusable(steps[i]) and readers[steps[i].outs[0]] == 1:
            nxt[i] = j
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
        specs = tuple(LutLayerSpec.of(steps[k].box) for k in chain)
        box = FusedLayers(specs, group)
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
