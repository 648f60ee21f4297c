"""Structural Verilog: one ``assign`` per gate, with ``& | ^ ~``."""

from __future__ import annotations

from ._names import check_name
from ._netlist import Netlist, header

# The expression of each of the 16 tables on operands a, b.
EXPRESSIONS = (
    "1'b0", "{a} & {b}", "{a} & ~{b}", "{a}", "~{a} & {b}", "{b}", "{a} ^ {b}",
    "{a} | {b}", "~({a} | {b})", "~({a} ^ {b})", "~{b}", "{a} | ~{b}", "~{a}",
    "~{a} | {b}", "~({a} & {b})", "1'b1",
)  # fmt: skip


def verilog(net: Netlist, module: str = "catlearn_net") -> str:
    """The netlist as a Verilog module ``module(x, y)`` with ``input [n-1:0] x``
    and ``output [m-1:0] y``; ``module`` must be an identifier that is not a
    keyword (:func:`~catlearn.export._names.check_name`)."""
    check_name(module, "verilog", "verilog", "module")
    names: list[str] = []
    for i, n in enumerate(net.nodes):
        if n.op == "input":
            names.append(f"x[{n.value}]")
        elif n.op == "const":
            names.append(f"1'b{n.value}")
        else:
            names.append(f"n{i}")
    lines = [f"// {line}" for line in header(net)]
    lines += [f"module {module}(x, y);"]
    lines += [f"  input [{max(net.n_inputs, 1) - 1}:0] x;"]
    lines += [f"  output [{len(net.outputs) - 1}:0] y;"]
    gates = [i for i, n in enumerate(net.nodes) if n.op in ("not", "lut")]
    for start in range(0, len(gates), 16):
        lines.append(
            "  wire " + ", ".join(f"n{i}" for i in gates[start : start + 16]) + ";"
        )
    for i in gates:
        n = net.nodes[i]
        if n.op == "not":
            lines.append(f"  assign n{i} = ~{names[n.ins[0]]};")
        else:
            a, b = (names[j] for j in n.ins)
            lines.append(f"  assign n{i} = {EXPRESSIONS[n.value].format(a=a, b=b)};")
    for k, o in enumerate(net.outputs):
        lines.append(f"  assign y[{k}] = {names[o]};")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"
