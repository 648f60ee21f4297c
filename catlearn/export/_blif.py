"""BLIF: one ``.names`` cover per gate (Berkeley Logic Interchange Format)."""

from __future__ import annotations

from ._names import check_name
from ._netlist import Netlist, header, table_bit


def blif(net: Netlist, model: str = "catlearn_net") -> str:
    """The netlist as a BLIF model with inputs ``x0 ..`` and outputs ``y0 ..``;
    ``model`` must be an identifier (:func:`~catlearn.export._names.check_name`)."""
    check_name(model, "blif", "blif", "model")
    names = [
        f"x{n.value}" if n.op == "input" else f"n{i}" for i, n in enumerate(net.nodes)
    ]
    lines = [f"# {line}" for line in header(net)]
    lines.append(f".model {model}")
    lines.append(".inputs " + " ".join(f"x{i}" for i in range(net.n_inputs)))
    lines.append(".outputs " + " ".join(f"y{k}" for k in range(len(net.outputs))))
    for i, n in enumerate(net.nodes):
        if n.op == "const":
            lines += [f".names n{i}"] + (["1"] if n.value else [])
        elif n.op == "not":
            lines += [f".names {names[n.ins[0]]} n{i}", "0 1"]
        elif n.op == "lut" and n.value == 0:  # ABC rejects an empty 2-input cover
            lines.append(f".names n{i}")
        elif n.op == "lut":
            a, b = (names[j] for j in n.ins)
            lines.append(f".names {a} {b} n{i}")
            lines += [f"{i_}{j} 1" for i_ in (0, 1) for j in (0, 1)
                      if table_bit(n.value, i_, j)]  # fmt: skip
    for k, o in enumerate(net.outputs):
        lines += [f".names {names[o]} y{k}", "1 1"]
    lines.append(".end")
    return "\n".join(lines) + "\n"
