"""Outputs kept stacked: the outputs of a layer step, one stacked array per
output position instead of one array per wire.

A layer of ``k`` copies of one box (the repeat pass's ``Stacked`` step) computes
its ``k * n`` outputs as ``n`` arrays with a leading axis of ``k``. Cutting them
into ``k * n`` arrays inside ``jax.jit`` is what makes a wide program slow to
compile: XLA compiles a function with 10,000 outputs in seconds, whatever it
computes, and the same holds for its inputs. So a layer rule
(:class:`LayerRule`) returns :class:`Rows`, and when the program is called
(``prog(params, *xs)``, jitted):

- a run of the program's inputs that a layer reads as one of its columns, in
  order, is stacked before the jitted function (:func:`pack_inputs`) and enters
  it as one array;
- a slot holds a :class:`Part` of such rows, cut out only if a step other than
  a layer reads it; a layer reading a whole column of parts in order gets the
  stacked array itself;
- a run of the program's outputs that is exactly a layer's outputs, in order,
  leaves the jitted function as the stacked arrays and is cut into rows after
  it (:func:`unpack`).

Everything else (the lens, the reverse pass, ``prog.apply``) sees one array per
wire as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from ._rule import Rule


@dataclass(frozen=True)
class LayerRule(Rule):
    """The rule of a layer step, ``k`` copies of one box (``step.box.k``;
    ``step.box.shared[j]``: every copy reads input ``j`` from one slot). Its
    forward gets the slots' values as they are, :class:`Part` included (see
    :func:`column`), and may return :class:`Rows`."""


def column(values: Sequence[Any], stack: Callable[[Sequence[Any]], Any]) -> Any:
    """The values of one input of a layer's ``k`` members, stacked on axis 0:
    the rows' own array when they are its parts in order, else
    ``stack([value(v) for v in values])``."""
    head = values[0]
    if isinstance(head, Part) and head.g == 0:
        rows, j = head.rows, head.j
        if len(values) == rows.k and all(
            isinstance(v, Part) and v.rows is rows and v.j == j and v.g == g
            for g, v in enumerate(values)
        ):
            return rows.stacked[j]
    return stack([value(v) for v in values])


def value(v: Any) -> Any:
    """``v``, cut out of its rows if it is a :class:`Part`."""
    return v.rows.stacked[v.j][v.g] if isinstance(v, Part) else v


class Rows:
    """``k`` members' outputs, ``n`` each, as ``n`` arrays stacked on axis 0:
    output ``g * n + j`` of the step is ``stacked[j][g]``."""

    __slots__ = ("k", "stacked")

    def __init__(self, stacked: Sequence[Any], k: int):
        self.stacked, self.k = tuple(stacked), k

    def __len__(self) -> int:
        return self.k * len(self.stacked)

    def first(self) -> tuple[Any, ...]:
        """Shapes and dtypes of the first member's outputs (for the checks)."""
        return tuple(jax.ShapeDtypeStruct(a.shape[1:], a.dtype) for a in self.stacked)

    def parts(self) -> tuple[Any, ...]:
        """The ``k * n`` outputs, one array each, member by member."""
        cols = [_cut(a) for a in self.stacked]
        return tuple(c[g] for g in range(self.k) for c in cols)

    def lazy(self) -> tuple[Part, ...]:
        n = len(self.stacked)
        return tuple(Part(self, j, g) for g in range(self.k) for j in range(n))


class Part:
    """Output ``g * n + j`` of :class:`Rows`, not cut out yet."""

    __slots__ = ("g", "j", "rows")

    def __init__(self, rows: Rows, j: int, g: int):
        self.rows, self.j, self.g = rows, j, g


def read(env: list[Any], slot: int) -> Any:
    """The value in ``slot``, cut out of its rows (once) if it is a part."""
    v = env[slot]
    if isinstance(v, Part):
        v = env[slot] = value(v)
    return v


def input_groups(steps: Sequence[Any], n_inputs: int) -> tuple[tuple[int, int], ...]:
    """``(first input, k)`` for each run of program inputs ``first .. first+k-1``
    that a layer step reads, in order, as one of its columns (no two overlap)."""
    groups: list[tuple[int, int]] = []
    taken: set[int] = set()
    for st in steps:
        if not isinstance(st.rule, LayerRule):
            continue
        pos = 0
        for one_slot in st.box.shared:
            width = 1 if one_slot else st.box.k
            col = st.ins[pos : pos + width]
            pos += width
            first = col[0]
            if (
                not one_slot
                and col == tuple(range(first, first + width))
                and first + width <= n_inputs
                and taken.isdisjoint(col)
            ):
                groups.append((first, width))
                taken.update(col)
    return tuple(sorted(groups))


def pack_inputs(xs: Sequence[Any], groups: Sequence[tuple[int, int]]) -> list[Any]:
    """``xs`` with each group of :func:`input_groups` stacked into a 1-tuple,
    where its arrays are concrete, on the CPU (or NumPy) and of one shape and
    dtype: stacked in NumPy, before ``jax.jit``, they cost one transfer."""
    out: list[Any] = []
    i = 0
    for first, k in groups:
        out += xs[i:first]
        run = xs[first : first + k]
        i = first + k
        stacked = _stack_host(run)
        if stacked is None:
            out += run
        else:
            out.append((stacked,))
    return out + list(xs[i:])


def _stack_host(run: Sequence[Any]) -> Any:
    head = run[0]
    if not all(_on_host(x) and x.shape == head.shape and x.dtype == head.dtype
               for x in run):
        return None
    return np.stack([np.asarray(x) for x in run])


def _on_host(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        return True
    if isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer):
        return all(d.platform == "cpu" for d in x.devices())
    return False


def enter(
    env: list[Any], entries: Sequence[Any], encode: Callable[[int, Any], Any]
) -> int | None:
    """Fill the input slots of ``env`` from the entries :func:`pack_inputs`
    made (``encode(slot, x)`` each; a stacked group under ``jax.vmap``, its
    slots holding parts); returns the batch size (``None``: no inputs)."""
    i, batch = 0, None
    for entry in entries:
        if isinstance(entry, tuple):
            (stacked,) = entry
            enc = jax.vmap(lambda v, s=i: encode(s, v))(stacked)
            rows = Rows((enc,), stacked.shape[0])
            env[i : i + rows.k] = rows.lazy()
            batch = stacked.shape[1] if batch is None else batch
            i += rows.k
        else:
            env[i] = encode(i, entry)
            batch = entry.shape[0] if batch is None else batch
            i += 1
    return batch


def pack(
    env: list[Any], outputs: Sequence[int], decode: Callable[[int, Any], Any]
) -> list[Any]:
    """The program's outputs: ``decode(slot, value)`` each, except that a run
    of them that is a whole :class:`Rows` in order becomes one tuple of its
    stacked arrays (each decoded member by member, under ``jax.vmap``)."""
    out: list[Any] = []
    i = 0
    while i < len(outputs):
        value = env[outputs[i]]
        if isinstance(value, Part) and value.g == value.j == 0:
            rows = value.rows
            run = outputs[i : i + len(rows)]
            if len(run) == len(rows) and all(
                isinstance(v, Part) and v.rows is rows and (v.g, v.j) == (g, j)
                for v, g, j in zip(
                    (env[s] for s in run), _members(rows), _positions(rows),
                    strict=True,
                )
            ):
                out.append(tuple(
                    jax.vmap(lambda v, s=run[j]: decode(s, v))(a)
                    for j, a in enumerate(rows.stacked)
                ))
                i += len(rows)
                continue
        out.append(decode(outputs[i], read(env, outputs[i])))
        i += 1
    return out


def _members(rows: Rows) -> list[int]:
    return [g for g in range(rows.k) for _ in rows.stacked]


def _positions(rows: Rows) -> list[int]:
    return [j for _ in range(rows.k) for j in range(len(rows.stacked))]


def unpack(packed: Sequence[Any]) -> list[Any]:
    """The outputs :func:`pack` gave, one array per output wire again."""
    out: list[Any] = []
    for entry in packed:
        if not isinstance(entry, tuple):
            out.append(entry)
            continue
        cols = [_cut(a) for a in entry]
        out += [c[g] for g in range(len(cols[0])) for c in cols]
    return out


def _cut(a: Any) -> list[Any]:
    """``a`` cut along axis 0 into arrays. A concrete array on the CPU goes
    through one NumPy view and one batched transfer (3x faster than indexing
    it 10,000 times); anything else (a tracer, a GPU array) is indexed."""
    if isinstance(a, jax.Array) and not isinstance(a, jax.core.Tracer):
        devices = a.devices()
        if len(devices) == 1:
            (device,) = devices
            if device.platform == "cpu":
                return list(jax.device_put(list(np.asarray(a)), device))
    return [a[g] for g in range(a.shape[0])]
