"""Constant folding of a netlist (:meth:`Netlist.fold`): gates whose table
is constant or passes one input through, whose inputs are constants or the
same wire, become that constant or wire; NOTs are absorbed into the tables
that read them; identical gates merge; what no output reads is dropped."""

from __future__ import annotations

from typing import Any

from ._netlist import Netlist, Node, table_bit, table_index


def fold(net: Netlist) -> Netlist:
    """``net`` simplified (:meth:`Netlist.fold`): constants folded, NOTs
    absorbed into tables, identical gates merged, dead gates dropped."""
    nodes: list[Node] = []
    memo: dict[Node, int] = {}

    def add(node: Node) -> int:
        if node not in memo:
            memo[node] = len(nodes)
            nodes.append(node)
        return memo[node]

    def neg(x: int) -> int:
        n = nodes[x]
        if n.op == "const":
            return add(Node("const", (), 1 - n.value))
        if n.op == "lut":  # the complemented table: no NOT gate
            return add(n._replace(value=15 - n.value))
        return n.ins[0] if n.op == "not" else add(Node("not", (x,)))

    def unary(f0: int, f1: int, x: int) -> int:  # the function with f(0), f(1)
        return add(Node("const", (), f0)) if f0 == f1 else (x if f1 else neg(x))

    def lut(t: int, a: int, b: int) -> int:
        if nodes[a].op == "not":  # t'_ab = t_(~a)b
            a, t = nodes[a].ins[0], _permute(t, lambda i, j: (1 - i, j))
        if nodes[b].op == "not":
            b, t = nodes[b].ins[0], _permute(t, lambda i, j: (i, 1 - j))
        if nodes[a].op == "const":
            v = nodes[a].value
            return unary(table_bit(t, v, 0), table_bit(t, v, 1), b)
        if nodes[b].op == "const":
            v = nodes[b].value
            return unary(table_bit(t, 0, v), table_bit(t, 1, v), a)
        if a == b:
            return unary(table_bit(t, 0, 0), table_bit(t, 1, 1), a)
        if all(table_bit(t, i, 0) == table_bit(t, i, 1) for i in (0, 1)):
            return unary(table_bit(t, 0, 0), table_bit(t, 1, 0), a)
        if all(table_bit(t, 0, j) == table_bit(t, 1, j) for j in (0, 1)):
            return unary(table_bit(t, 0, 0), table_bit(t, 0, 1), b)
        if a > b:  # one order of the inputs, so that merging finds equal gates
            a, b, t = b, a, _permute(t, lambda i, j: (j, i))
        return add(Node("lut", (a, b), t))

    new: list[int] = []
    for n in net.nodes:
        if n.op in ("input", "const"):
            new.append(add(n))
        elif n.op == "not":
            new.append(neg(new[n.ins[0]]))
        else:
            new.append(lut(n.value, new[n.ins[0]], new[n.ins[1]]))
    return _sweep(Netlist(tuple(nodes), tuple(new[o] for o in net.outputs),
                          net.n_inputs, net.groups))  # fmt: skip


def _permute(t: int, f: Any) -> int:
    """The table ``t'`` with ``t'_ij = t_f(i,j)``."""
    return table_index(*(table_bit(t, *f(i, j)) for i in (0, 1) for j in (0, 1)))


def _sweep(net: Netlist) -> Netlist:
    """Drop the nodes no output reads (inputs stay: they are the ports)."""
    live = [n.op == "input" for n in net.nodes]
    for o in net.outputs:
        live[o] = True
    for i in range(len(net.nodes) - 1, -1, -1):
        if live[i]:
            for j in net.nodes[i].ins:
                live[j] = True
    ids: dict[int, int] = {}
    nodes: list[Node] = []
    for i, n in enumerate(net.nodes):
        if live[i]:
            ids[i] = len(nodes)
            nodes.append(n._replace(ins=tuple(ids[j] for j in n.ins)))
    outputs = tuple(ids[o] for o in net.outputs)
    return Netlist(tuple(nodes), outputs, net.n_inputs, net.groups)
