"""AIGER ASCII (``.aag``): the netlist as an AND-inverter graph.

Literal ``2 v`` is variable ``v``, ``2 v + 1`` its negation, ``0`` false and
``1`` true. A 2-input table is the multiplexer ``a ? f1(b) : f0(b)`` of its
two rows, ``OR(p, q) = ~AND(~p, ~q)``, with constants folded as the ANDs are
made, so AND costs one AND node, OR two and XOR three.
"""

from __future__ import annotations

from ._netlist import Netlist, header, table_bit


def aiger(net: Netlist) -> str:
    """The netlist as an ASCII AIGER file, with symbols ``x<i>`` / ``y<k>``."""
    ands: list[tuple[int, int, int]] = []
    memo: dict[tuple[int, int], int] = {}
    first = 2 * (net.n_inputs + 1)  # the literal of the first AND variable

    def and_(p: int, q: int) -> int:
        p, q = min(p, q), max(p, q)
        if p == 0 or p == q ^ 1:
            return 0
        if p == 1 or p == q:
            return q
        if (p, q) not in memo:
            memo[p, q] = first + 2 * len(ands)
            ands.append((memo[p, q], q, p))
        return memo[p, q]

    def or_(p: int, q: int) -> int:
        return and_(p ^ 1, q ^ 1) ^ 1

    def row(f0: int, f1: int, b: int) -> int:  # the literal of f(b)
        return f0 if f0 == f1 else (b if f1 else b ^ 1)

    lits: list[int] = []
    for n in net.nodes:
        if n.op == "input":
            lits.append(2 * (n.value + 1))
        elif n.op == "const":
            lits.append(n.value)
        elif n.op == "not":
            lits.append(lits[n.ins[0]] ^ 1)
        else:
            a, b, t = lits[n.ins[0]], lits[n.ins[1]], n.value
            r0 = row(table_bit(t, 0, 0), table_bit(t, 0, 1), b)
            r1 = row(table_bit(t, 1, 0), table_bit(t, 1, 1), b)
            lits.append(or_(and_(a, r1), and_(a ^ 1, r0)))
    outs = [lits[o] for o in net.outputs]
    m = net.n_inputs + len(ands)
    lines = [f"aag {m} {net.n_inputs} 0 {len(outs)} {len(ands)}"]
    lines += [str(2 * (i + 1)) for i in range(net.n_inputs)]
    lines += [str(o) for o in outs]
    lines += [f"{lhs} {r0} {r1}" for lhs, r0, r1 in ands]
    lines += [f"i{i} x{i}" for i in range(net.n_inputs)]
    lines += [f"o{k} y{k}" for k in range(len(outs))]
    lines += ["c", *header(net)]
    return "\n".join(lines) + "\n"
