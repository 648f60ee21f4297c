"""What a trained logic circuit costs, in the units hardware people compare.

:func:`count` builds the circuit ``cl.Boolean()`` runs (the netlist of
:mod:`catlearn.export`) and reports its 2-input gates as built (one per
learned gate, plus the fixed gates) and after constant folding, and, with
yosys installed, the number of ``k``-input LUTs (LUT-6 by default) that yosys
and ABC map it to (``synth; abc -lut 6``), its ``group_sum`` read-out
included: each class's count of ones is synthesised as an adder over its
bits, as a hardware classifier computes it.

>>> import numpy as np, catlearn as cl
>>> d = cl.logic.lut_layer(2, 2, wiring=([0, 0], [1, 1])) >> cl.logic.group_sum(2, 1)
>>> p = {"lut_layer.table": np.array([0, 0, 0, 1, 0, 1, 1, 0], bool)}
>>> c = cl.logic.count(d, p, luts=False)
>>> c.gates, c.gates_folded, c.by_kind
(2, 2, {'AND': 1, 'XOR': 1})
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import ExportError
from ._netlist import Netlist, netlist
from ._verilog import verilog

YOSYS_TIMEOUT_S = 600


@dataclass(frozen=True)
class Count:
    """A circuit's cost. ``gates``: 2-input gates and NOTs as built;
    ``gates_folded``: after :meth:`Netlist.fold`; ``by_kind``: the folded
    gates by kind (``{"AND": 3, ...}``); ``inputs`` and ``outputs``: its bits
    (``outputs`` before the read-out); ``groups``: the classes the read-out
    counts into (0: none). ``luts``: the ``k``-input LUTs yosys and ABC map
    the folded circuit and its read-out counters to, ``luts_logic`` the same
    without the counters (``None`` when not synthesised)."""

    gates: int
    gates_folded: int
    by_kind: dict[str, int] = field(default_factory=dict)
    inputs: int = 0
    outputs: int = 0
    groups: int = 0
    k: int = 6
    luts: int | None = None
    luts_logic: int | None = None

    def __str__(self) -> str:
        text = (f"{self.gates:,} gates ({self.gates_folded:,} after folding), "
                f"{self.inputs} inputs, {self.outputs} output bits")
        if self.groups:
            text += f" counted into {self.groups} classes"
        if self.luts is not None:
            text += (f"; {self.luts:,} LUT-{self.k} ({self.luts_logic:,} without "
                     "the read-out's counters)")
        return text


def count(
    diagram: Any, params: dict[str, Any], luts: bool = True, k: int = 6
) -> Count:
    """The cost of ``diagram`` with Boolean ``params`` (see the module
    docstring). ``luts``: also map it to ``k``-input LUTs with yosys (an
    ``ExportError`` saying how to install yosys if it is missing)."""
    if not isinstance(k, int) or isinstance(k, bool) or not 2 <= k <= 8:
        raise ExportError(
            f"count: k={k!r} is not a LUT size yosys maps to. Fix: an int "
            "from 2 to 8, e.g. k=6 (the LUT-6 of FPGA papers)."
        )
    yosys = _yosys() if luts else None  # before the expensive part
    raw = netlist(diagram, params)
    net = raw.fold()
    out = Count(
        gates=raw.n_gates,
        gates_folded=net.n_gates,
        by_kind=net.gate_counts(),
        inputs=net.n_inputs,
        outputs=len(net.outputs),
        groups=sum(kk for _, _, kk in net.groups),
        k=k,
    )
    if yosys is None:
        return out
    total = _synthesise(yosys, net, k, counters=True)
    logic = _synthesise(yosys, net, k, counters=False) if net.groups else total
    return Count(**{**out.__dict__, "luts": total, "luts_logic": logic})


def _yosys() -> str:
    path = shutil.which("yosys")
    if path is None:
        raise ExportError(
            "count: yosys is not installed, and it maps the circuit to LUTs. "
            "Fix: apt-get install -y yosys (the project's `make tools` does), "
            "or count(..., luts=False) for the gate counts alone."
        )
    return path


def counter_module(net: Netlist, top: str = "catlearn_count") -> str:
    """A Verilog module ``top(x, c)`` around ``catlearn_net``: each read-out
    class's count of ones as an unsigned adder (as wide as the count needs),
    then the output bits that no read-out reads."""
    read = {o for start, n, _ in net.groups for o in range(start, start + n)}
    parts: list[tuple[int, str]] = []  # (width, expression)
    for start, n, kk in net.groups:
        size = n // kk
        width = max(1, size.bit_length())
        for c in range(kk):
            bits = [f"y[{start + c * size + i}]" for i in range(size)]
            # Verilog sizes the sum by its target: a width-bit adder
            parts.append((width, " + ".join(bits)))
    parts += [(1, f"y[{o}]") for o in range(len(net.outputs)) if o not in read]
    total = sum(w for w, _ in parts)
    lines = [
        f"module {top}(x, c);",
        f"  input [{max(net.n_inputs, 1) - 1}:0] x;",
        f"  output [{max(total, 1) - 1}:0] c;",
        f"  wire [{max(len(net.outputs), 1) - 1}:0] y;",
        "  catlearn_net net(.x(x), .y(y));",
    ]
    at = 0
    for width, expr in parts:
        lines.append(f"  assign c[{at + width - 1}:{at}] = {expr};")
        at += width
    return "\n".join([*lines, "endmodule", ""])


def _synthesise(yosys: str, net: Netlist, k: int, counters: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="catlearn-count-") as tmp:
        src = Path(tmp) / "net.v"
        top = "catlearn_net"
        text = verilog(net, "catlearn_net")
        if counters and net.groups:
            text += "\n" + counter_module(net)
            top = "catlearn_count"
        src.write_text(text)
        script = (f"read_verilog {src.name}; synth -top {top} -flatten; "
                  f"abc -lut {k}; opt_clean; stat")
        try:
            done = subprocess.run(
                [yosys, "-p", script], cwd=tmp, capture_output=True, text=True,
                timeout=YOSYS_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise ExportError(
                f"count: yosys took more than {YOSYS_TIMEOUT_S} s to map "
                f"{net.n_gates:,} gates to LUT-{k}. Fix: count(..., luts=False) "
                "for the gate counts alone."
            ) from None
    log = done.stdout + done.stderr
    found = re.findall(r"\$lut\s+(\d+)", log)
    if done.returncode != 0 or not found:
        if done.returncode == 0 and re.search(r"Number of cells:\s+0\b", log):
            return 0  # nothing left to map: every output a wire or a constant
        raise ExportError(
            f"count: yosys could not map the circuit to LUT-{k} (exit status "
            f"{done.returncode}): {log[-600:]}. Fix: check the yosys install "
            "(yosys -V), or count(..., luts=False)."
        )
    return int(found[-1])

