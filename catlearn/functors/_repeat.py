"""The repeat pass: runs of one generator become one step.

A program with many steps is slow to jit: JAX traces, lowers and compiles
each step. Most of them, in a big diagram, are the same generator over and
over. :func:`repeat` rewrites a compiled :class:`Program` so that

- a **chain**, at least ``MIN_RUN`` steps of one box and one rule (one input,
  one output each), each reading the one before, whose inner values nobody
  else reads, becomes one step of a :class:`Repeated` box (``relu×10000``),
  run by ``jax.lax.scan``; its reverse scans the inner reverse backwards over
  the residuals the forward stacked;
- a **layer**, at least ``MIN_RUN`` steps of one box and one rule, none of
  which reads another's output, becomes one step of a :class:`Stacked` box
  (``relu@10000``), placed where the first of them was, that runs the rule
  once under ``jax.vmap``: inputs stacked (an input every member reads from
  the same slot is passed once, and its cotangents summed with the functor's
  monoid), outputs unstacked into the members' slots.

Only steps with batched inputs and no key are grouped, and only after the last
keyed step (so every keyed step keeps its index, hence its random key). The
program means what it meant before, value for value and cotangent for
cotangent; smaller programs are returned as they were. A rule whose values
change dtype from step to step, or whose residuals are not all arrays, still
runs, member by member. :func:`unroll` undoes the pass (for readers of the
step list, such as the netlist export).

>>> import catlearn as cl
>>> chain = cl.Diagram.then(*[cl.nn.relu(2)] * 20)
>>> prog = cl.Smooth()(chain)
>>> print(prog.describe())
Smooth()(<diagram [real(2)] -> [real(2)], 1 steps>)
  s20 = relu×20(s0)
  return s20
>>> len(unroll(prog).steps)
20
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ._program import Program, Step
from ._repeat_rules import chain_rule, layer_rule
from ._rule import Rule

MIN_RUN = 16
"""The fewest steps a chain or a layer needs to become one step."""

_MIN_RUN: ContextVar[int] = ContextVar("min_run", default=MIN_RUN)


@contextmanager
def small_runs(n: int = 2) -> Iterator[None]:
    """Within the block, runs of ``n`` steps already become one step, so that
    the law checkers can test the pass on small programs (the generator stage
    of :func:`~catlearn.testing.check_functor` runs each generator repeated).
    Per thread and per task (a ``contextvars`` variable)."""
    token = _MIN_RUN.set(n)
    try:
        yield
    finally:
        _MIN_RUN.reset(token)


@dataclass(frozen=True)
class Repeated:
    """The box of a chain: ``box`` composed with itself ``k`` times. The
    original ``members`` steps (for :func:`unroll`) do not count in ``==``."""

    box: Any
    k: int
    members: tuple[Step, ...] = field(default=(), compare=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.box.name}×{self.k}"


@dataclass(frozen=True)
class Stacked:
    """The box of a layer: ``k`` copies of ``box`` side by side. ``shared[j]``:
    every copy reads its input ``j`` from one slot (listed once)."""

    box: Any
    k: int
    shared: tuple[bool, ...]
    members: tuple[Step, ...] = field(default=(), compare=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.box.name}@{self.k}"


def repeat(program: Program) -> Program:
    """``program`` with its chains and layers of one generator each run as one
    step (module docstring); the program itself if there are none."""
    keyed = [i for i, st in enumerate(program.steps) if st.rule.keyed]
    start = keyed[-1] + 1 if keyed else 0
    rules: dict[tuple[Any, int], Rule] = {}
    steps = _chains(program, list(program.steps), start, rules)
    steps = _layers(program, steps, start, rules)
    if len(steps) == len(program.steps):
        return program
    return _with_steps(program, steps)


def unroll(program: Program) -> Program:
    """``program`` with every step :func:`repeat` made replaced by the steps
    it stands for (a layer's, one after another, where the layer stood)."""

    def expand(st: Step) -> list[Step]:
        if isinstance(st.box, Repeated | Stacked):
            return [s for m in st.box.members for s in expand(m)]
        return [st]

    if not any(isinstance(st.box, Repeated | Stacked) for st in program.steps):
        return program
    return _with_steps(program, [s for st in program.steps for s in expand(st)])


def _with_steps(program: Program, steps: Sequence[Step]) -> Program:
    return Program(
        program.functor,
        program.diagram,
        program.slots,
        steps,
        program.n_inputs,
        program.param_slots,
        program.outputs,
    )


def _groupable(program: Program, st: Step) -> bool:
    slots = program.slots
    return (
        bool(st.ins)
        and bool(st.outs)
        and not st.rule.keyed
        and all(slots[s].batched for s in st.ins)
    )


def _chains(
    program: Program, steps: list[Step], start: int, rules: dict[Any, Rule]
) -> list[Step]:
    readers: Counter[int] = Counter(s for st in steps for s in st.ins)
    readers.update(program.outputs)
    producer = {s: i for i, st in enumerate(steps) for s in st.outs}

    def link(st: Step) -> bool:
        return len(st.ins) == len(st.outs) == 1 and _groupable(program, st)

    nxt: dict[int, int] = {}
    for j, st in enumerate(steps):
        i = producer.get(st.ins[0], -1) if j >= start and link(st) else -1
        if i < start:
            continue
        prev = steps[i]
        if link(prev) and prev.rule is st.rule and readers[prev.outs[0]] == 1:
            if prev.box == st.box:
                nxt[i] = j
    linked = set(nxt.values())
    new: list[Step | None] = list(steps)
    for head in (i for i in nxt if i not in linked):
        chain = [head]
        while chain[-1] in nxt:
            chain.append(nxt[chain[-1]])
        if len(chain) < _MIN_RUN.get():
            continue
        members = tuple(steps[i] for i in chain)
        inner = members[0]
        box = Repeated(inner.box, len(chain), members)
        rule = _cached(rules, box, inner.rule, lambda: chain_rule(program, inner))
        for i in chain:
            new[i] = None
        new[chain[-1]] = Step(box, rule, inner.ins, members[-1].outs)
    return [st for st in new if st is not None]


def _layers(
    program: Program, steps: list[Step], start: int, rules: dict[Any, Rule]
) -> list[Step]:
    producer = {s: i for i, st in enumerate(steps) for s in st.outs}
    kinds: defaultdict[Any, list[int]] = defaultdict(list)
    kind = _Kinds()
    for j in range(start, len(steps)):
        st = steps[j]
        if _groupable(program, st) and type(st.box).__hash__ is not None:
            kinds[(kind(st.box), id(st.rule))].append(j)
    new: list[Step | None] = list(steps)
    # kinds in order of their first step; a grouped step's outputs then count
    # as written where its group stands, so later kinds may group around them
    for members in sorted(kinds.values()):
        for group in _groups(members, steps, producer):
            if len(group) < _MIN_RUN.get():
                continue
            inner = steps[group[0]]
            chosen = tuple(steps[i] for i in group)
            shared = tuple(
                all(m.ins[j] == inner.ins[j] for m in chosen)
                for j in range(len(inner.ins))
            )
            box = Stacked(inner.box, len(group), shared, chosen)
            ins = tuple(
                s
                for j, one in enumerate(shared)
                for s in ((inner.ins[j],) if one else (m.ins[j] for m in chosen))
            )
            outs = tuple(s for m in chosen for s in m.outs)
            rule = _cached(rules, box, inner.rule, lambda: layer_rule(program, inner))
            for i in group:
                new[i] = None
            new[group[0]] = Step(box, rule, ins, outs)
            producer.update((s, group[0]) for s in outs)
    return [st for st in new if st is not None]


class _Kinds:
    """One key per class of equal boxes. Boxes are looked up by name first and
    compared with ``==``: hashing a DisCoPy box spells its repr, which for
    10,000 boxes costs more than the rest of the pass."""

    def __init__(self) -> None:
        self.by_name: defaultdict[Any, list[Any]] = defaultdict(list)
        self.by_hash: dict[Any, Any] = {}

    def __call__(self, box: Any) -> int:
        bucket = self.by_name[(type(box), getattr(box, "name", None))]
        for seen in bucket:
            if seen == box:
                return id(seen)
        if len(bucket) < 8:
            bucket.append(box)
            return id(box)
        return id(self.by_hash.setdefault(box, box))  # many distinct: hash them


def _groups(
    members: list[int], steps: list[Step], producer: dict[int, int]
) -> list[list[int]]:
    """``members`` (positions, in order) split into groups that may run as one
    step at their first position: each reads only slots written before it.
    Greedy, first position first; O(n log n)."""
    ready = {j: max((producer.get(s, -1) for s in steps[j].ins), default=-1)
             for j in members}
    by_ready = sorted(members, key=lambda j: ready[j])
    heap, taken, k, groups = list(members), set(), 0, []
    heapq.heapify(heap)
    while heap:
        head = heapq.heappop(heap)
        if head in taken:
            continue
        group = []
        while k < len(by_ready) and ready[by_ready[k]] < head:
            if by_ready[k] not in taken:
                group.append(by_ready[k])
                taken.add(by_ready[k])
            k += 1
        groups.append(sorted(group))
    return groups


def _cached(
    rules: dict[Any, Rule], box: Any, inner: Rule, make: Callable[[], Rule]
) -> Rule:
    key = (box, id(inner))
    if key not in rules:
        rules[key] = make()
    return rules[key]
