"""A Boolean diagram with its parameters fixed, as a netlist of gate bits.

Every node is one bit: an input ``x[i]``, a constant, a NOT, or a 2-input
gate given by its truth table. The table of a gate is an index ``0 .. 15``,
``8 t00 + 4 t01 + 2 t10 + t11`` with ``t_ab`` its output on inputs ``(a,
b)`` (difflogic's numbering: 1 AND, 6 XOR, 7 OR), so the fixed gates AND, OR,
XOR and every learned LUT are the same kind of node. The netlist computes
exactly what ``cl.Boolean()(diagram)(params, X)`` computes:

>>> import numpy as np, catlearn as cl
>>> from catlearn.export import netlist
>>> d = cl.logic.network(4, [6, 2], None, seed=1)
>>> p = {n: np.random.default_rng(0).random(t.shape) < 0.5
...      for n, t in cl.Boolean()(d).param_types.items()}
>>> X = np.array([[a, b, c, e] for a in (0, 1) for b in (0, 1)
...               for c in (0, 1) for e in (0, 1)], dtype=bool)
>>> net = netlist(d, p)
>>> bool((net.evaluate(X) == np.asarray(cl.Boolean()(d)(p, X))).all())
True
>>> bool((net.fold().evaluate(X) == net.evaluate(X)).all())
True

``fold`` simplifies gates whose table is constant or passes one input
through, whose inputs are constants or the same wire, absorbs NOTs into
tables, merges identical gates, and drops what no output reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .._errors import ExportError as ExportError
from .._errors import ParamError
from ..diagrams import GroupSumSpec, LutLayerSpec, SelectSpec, pooled, tiled
from ..functors import Boolean, unroll

# Gate names of the 16 tables, for printing; the fixed gates' tables.
TABLE_NAMES = (
    "ZERO", "AND", "ANDNOT", "A", "NOTAND", "B", "XOR", "OR",
    "NOR", "XNOR", "NOTB", "ORNOT", "NOTA", "NOTOR", "NAND", "ONE",
)  # fmt: skip
FIXED = {"AND": 1, "XOR": 6, "OR": 7}


class Node(NamedTuple):
    """One bit of the circuit: ``op`` is ``"input"`` (``value`` its index),
    ``"const"`` (``value`` 0 or 1), ``"not"`` or ``"lut"`` (``value`` the
    table index); ``ins`` are the ids of the nodes it reads."""

    op: str
    ins: tuple[int, ...] = ()
    value: int = 0


def table_bit(table: int, a: int, b: int) -> int:
    """``t_ab`` of the table with index ``table``."""
    return (table >> (3 - 2 * a - b)) & 1


def table_index(t00: int, t01: int, t10: int, t11: int) -> int:
    return 8 * t00 + 4 * t01 + 2 * t10 + t11


@dataclass(frozen=True)
class Netlist:
    """Nodes in topological order (inputs first), the ids of the output bits,
    and the read-out: ``groups = ((start, n, k), ...)`` says that outputs
    ``start .. start+n-1`` fed ``group_sum`` into ``k`` counts of ``n/k``
    consecutive bits each (the circuit stops before the counting)."""

    nodes: tuple[Node, ...]
    outputs: tuple[int, ...]
    n_inputs: int
    groups: tuple[tuple[int, int, int], ...] = ()

    @property
    def n_gates(self) -> int:
        """The number of gate nodes (NOT and 2-input tables)."""
        return sum(n.op in ("not", "lut") for n in self.nodes)

    def gate_counts(self) -> dict[str, int]:
        """``{gate name: count}``, e.g. ``{"AND": 3, "NOT": 1}``, sorted."""
        counts: dict[str, int] = {}
        for n in self.nodes:
            if n.op in ("not", "lut"):
                name = "NOT" if n.op == "not" else TABLE_NAMES[n.value]
                counts[name] = counts.get(name, 0) + 1
        return dict(sorted(counts.items()))

    def __repr__(self) -> str:
        return (
            f"Netlist({self.n_inputs} inputs, {len(self.outputs)} outputs, "
            f"{self.n_gates} gates, groups={self.groups})"
        )

    def evaluate(self, x: Any) -> np.ndarray:
        """The outputs ``(batch, n_outputs)`` on bool inputs ``(batch,
        n_inputs)``, by numpy: a reference independent of the writers."""
        x = np.asarray(x).astype(bool)
        vals: list[Any] = []
        for n in self.nodes:
            if n.op == "input":
                vals.append(x[:, n.value])
            elif n.op == "const":
                vals.append(np.full(x.shape[0], bool(n.value)))
            elif n.op == "not":
                vals.append(~vals[n.ins[0]])
            else:
                a, b = vals[n.ins[0]], vals[n.ins[1]]
                t = [bool(table_bit(n.value, i, j)) for i in (0, 1) for j in (0, 1)]
                vals.append(
                    np.where(a, np.where(b, t[3], t[2]), np.where(b, t[1], t[0]))
                )
        return np.stack([vals[o] for o in self.outputs], axis=1)

    def fold(self) -> Netlist:
        """Constant folding, NOT absorption, merging and dead-gate removal."""
        from ._fold import fold  # the folding pass reads this module's nodes

        return fold(self)


# -- from a diagram: one rule per generator ---------------------------------------
class _Circuit:
    """The netlist being built: its nodes, one node per constant, and the
    ``group_sum`` read-outs found so far (slot -> ``(n, k)``)."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.consts: dict[int, int] = {}
        self.groups: dict[int, tuple[int, int]] = {}

    def add(self, node: Node) -> int:
        self.nodes.append(node)
        return len(self.nodes) - 1

    def const(self, v: int) -> int:
        if v not in self.consts:
            self.consts[v] = self.add(Node("const", (), v))
        return self.consts[v]

    def tables(self, ids: list[int], box: Any) -> list[int]:
        """The table indices of the gates whose table bits are nodes ``ids``."""
        bits = self.table_bits(ids, box)
        return [table_index(*bits[4 * g : 4 * g + 4]) for g in range(len(bits) // 4)]

    def table_bits(self, ids: list[int], box: Any) -> list[int]:
        """The table bits that nodes ``ids`` hold (constants, else an error)."""
        if any(self.nodes[i].op != "const" for i in ids):
            raise ExportError(
                f"box {box.name!r} reads a table that is not a constant parameter. "
                "Fix: export diagrams whose tables are parameters (cl.logic.lut, "
                "cl.logic.lut_layer)."
            )
        return [self.nodes[i].value for i in ids]


# A rule: (circuit, step, input wires as lists of node ids) -> the output's nodes.
NetRule = Callable[[_Circuit, Any, list[list[int]]], list[int]]


def _fixed(table: int) -> NetRule:
    def rule(c: _Circuit, st: Any, ins: list[list[int]]) -> list[int]:
        return [c.add(Node("lut", (a, b), table)) for a, b in zip(*ins, strict=True)]

    return rule


def _lut(c: _Circuit, st: Any, ins: list[list[int]]) -> list[int]:
    t, a, b = ins
    return [c.add(Node("lut", (a[0], b[0]), c.tables(t, st.box)[0]))]


def _lut_layer(c: _Circuit, st: Any, ins: list[list[int]]) -> list[int]:
    spec, x = LutLayerSpec.of(st.box), ins[1]
    if spec.k > 2:
        bits, size = c.table_bits(ins[0], st.box), spec.entries
        return [
            _shannon(c, bits[size * g : size * (g + 1)], [x[i[1]], x[i[0]], *(
                x[j] for j in i[2:])])
            for g, i in enumerate(zip(*spec.wiring, strict=True))
        ]
    ia, ib = spec.wiring
    tabs = c.tables(ins[0], st.box)
    return [c.add(Node("lut", (x[a], x[b]), t)) for a, b, t in zip(ia, ib, tabs)]


def _shannon(c: _Circuit, bits: list[int], xs: list[int]) -> int:
    """A table of ``2^m`` bits read at inputs ``xs`` (``xs[p]`` its index's bit
    ``p``) as 2-input gates: split on the highest bit, ``f = f_lo ^ (s & (f_lo
    ^ f_hi))``, down to one gate on the last two bits (``xs[1]`` is its
    first input)."""
    if len(set(bits)) == 1:
        return c.const(bits[0])
    if len(xs) == 2:
        return c.add(Node("lut", (xs[1], xs[0]), table_index(*bits)))
    half = len(bits) // 2
    lo = _shannon(c, bits[:half], xs[:-1])
    if bits[:half] == bits[half:]:  # f does not read xs[-1]
        return lo
    hi = _shannon(c, bits[half:], xs[:-1])
    diff = c.add(Node("lut", (lo, hi), FIXED["XOR"]))
    return c.add(Node("lut", (lo, c.add(Node("lut", (xs[-1], diff), FIXED["AND"]))),
                      FIXED["XOR"]))


def _select(c: _Circuit, st: Any, ins: list[list[int]]) -> list[int]:
    """Learned wiring with constant index bits: each output is the chosen
    input wire (the multiplexer folded away), or constant 0 past the inputs."""
    spec = SelectSpec.of(st.box)
    if any(c.nodes[i].op != "const" for i in ins[0]):
        raise ExportError(
            "box 'select' reads index bits that are not a constant parameter. "
            "Fix: export diagrams whose wiring is a parameter (cl.logic.select)."
        )
    bits = [c.nodes[i].value for i in ins[0]]
    x, out = ins[1], []
    for s in range(spec.n_sel):
        i = sum(bits[s * spec.w + b] << b for b in range(spec.w))
        out.append(x[i] if i < spec.n_in else c.const(0))
    return out


def _or_pool(c: _Circuit, st: Any, ins: list[list[int]]) -> list[int]:
    out = []
    for window in pooled(st.box, ins[0]):
        y = window[0]
        for x in window[1:]:  # a chain of 2-input ORs
            y = c.add(Node("lut", (y, x), FIXED["OR"]))
        out.append(y)
    return out


def _sort(c: _Circuit, st: Any, ins: list[list[int]]) -> list[int]:
    """Odd-even transposition: ``n`` rounds of comparators ``(a, b) -> (a OR
    b, a AND b)`` on neighbours, ones moving first."""
    v = list(ins[0])
    for r in range(len(v)):
        for i in range(r % 2, len(v) - 1, 2):
            a, b = v[i], v[i + 1]
            v[i] = c.add(Node("lut", (a, b), FIXED["OR"]))
            v[i + 1] = c.add(Node("lut", (a, b), FIXED["AND"]))
    return v


def _group_sum(c: _Circuit, st: Any, ins: list[list[int]]) -> list[int]:
    """The circuit stops before the counting: its bits are outputs."""
    c.groups[st.outs[0]] = (len(ins[0]), GroupSumSpec.of(st.box).k)
    return ins[0]


NETLIST_RULES: dict[str, NetRule] = {
    **{name: _fixed(table) for name, table in FIXED.items()},  # AND, XOR, OR
    "NOT": lambda c, st, ins: [c.add(Node("not", (a,))) for a in ins[0]],
    "ZERO": lambda c, st, ins: [c.const(0)],
    "ONE": lambda c, st, ins: [c.const(1)],
    "lut": _lut,
    "lut_layer": _lut_layer,
    "group_sum": _group_sum,
    "select": _select,
    "reshape": lambda c, st, ins: ins[0],  # bits in row-major order: no gates
    "tile": lambda c, st, ins: tiled(st.box, ins[0]),  # wires, no gates
    "or_pool": _or_pool,
    "sort": _sort,
}


def netlist(diagram: Any, params: dict[str, Any]) -> Netlist:
    """The circuit of ``diagram`` under ``cl.Boolean()`` with bool ``params``,
    unfolded: one node per gate bit of the compiled program, each step read by
    its generator's row of :data:`NETLIST_RULES`."""
    prog = unroll(Boolean()(diagram))  # one step per gate box
    c = _Circuit()
    env: list[list[int]] = [[] for _ in prog.slots]
    n_in = 0
    for i in range(prog.n_inputs):
        size = int(np.prod(prog.slots[i].wire.shape))
        env[i] = [c.add(Node("input", (), n_in + j)) for j in range(size)]
        n_in += size
    for name, wire in prog.param_types.items():
        bits = _param(params, name, wire)
        env[prog._params[name][1]] = [c.const(int(v)) for v in bits]
    for st in prog.steps:
        rule = NETLIST_RULES.get(st.box.name)
        if st.box.name == "thermometer":
            raise ExportError(
                "box 'thermometer' compares real features with thresholds: it is "
                "no gate circuit. Fix: export the diagram after the encoder "
                "(encoder >> circuit: export circuit), and feed the circuit the "
                "encoder's bits, cl.Boolean()(encoder)({}, X)."
            )
        if rule is None:
            raise ExportError(
                f"box {st.box.name!r} has no gate reading. Fix: build the circuit "
                "from cl.logic gates (AND, OR, XOR, NOT, ZERO, ONE, lut, lut_layer, "
                "select, reshape, tile, or_pool, sort) and end it in bits or in "
                "group_sum."
            )
        # every gate box has one output wire
        env[st.outs[0]] = list(rule(c, st, [env[s] for s in st.ins]))
    outputs: list[int] = []
    spans: list[tuple[int, int, int]] = []
    for s in prog.outputs:
        if s in c.groups:
            spans.append((len(outputs), *c.groups[s]))
        outputs += env[s]
    return Netlist(tuple(c.nodes), tuple(outputs), n_in, tuple(spans))


def _param(params: dict[str, Any], name: str, wire: Any) -> np.ndarray:
    if not isinstance(params, dict) or name not in params:
        have = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ParamError(
            f"parameter {name!r} ({wire!r}) is missing from the params, which have "
            f"{have}. Fix: pass the trained dict, e.g. cl.fit(...).params."
        )
    value = np.asarray(params[name])
    if value.dtype != np.bool_ and not np.issubdtype(value.dtype, np.integer):
        raise ParamError(
            f"parameter {name!r} has dtype {value.dtype}; a circuit needs bits. Fix: "
            "train under cl.Boolean(), or discretize with cl.discretize first."
        )
    size = int(np.prod(wire.shape))
    if value.size != size:
        raise ParamError(
            f"parameter {name!r} has {value.size} entries, but {wire!r} has {size}."
        )
    return value.ravel() != 0


def header(net: Netlist) -> list[str]:
    """Comment lines (without the comment sign) saying what the circuit is,
    including its ``group_sum`` read-out."""
    lines = [
        f"catlearn.export: {net.n_inputs} inputs x[0..{net.n_inputs - 1}], "
        f"{len(net.outputs)} outputs y[0..{len(net.outputs) - 1}], "
        f"{net.n_gates} gates"
    ]
    for start, n, k in net.groups:
        lines.append(
            f"read-out: group_sum of y[{start}..{start + n - 1}] into {k} groups "
            f"of {n // k} bits; class c counts the ones of "
            f"y[{start} + c*{n // k} .. {start} + (c+1)*{n // k} - 1]"
        )
    return lines
