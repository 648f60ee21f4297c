"""The public writers: diagram and parameters in, circuit text or file out."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from typing import Any

from ._aiger import aiger
from ._blif import blif
from ._names import check_name, check_path
from ._netlist import ExportError, Netlist, netlist
from ._verilog import verilog

FORMATS = {".v": "verilog", ".blif": "blif", ".aag": "aiger"}


@dataclass(frozen=True)
class ExportReport:
    """What ``export`` wrote: the file, its format, the circuit's size before
    and after constant folding, and the ``group_sum`` read-out it stopped
    before (``(start, n, k)`` per read-out, as ``Netlist.groups``)."""

    path: str
    format: str
    n_inputs: int
    n_outputs: int
    gates_before: int
    gates_after: int
    groups: tuple[tuple[int, int, int], ...]


def circuit(diagram: Any, params: dict[str, Any], fold: bool = True) -> Netlist:
    """The netlist of ``diagram`` with ``params``, folded unless ``fold=False``."""
    net = netlist(diagram, params)
    return net.fold() if fold else net


def to_verilog(
    diagram: Any,
    params: dict[str, Any],
    module: str = "catlearn_net",
    fold: bool = True,
) -> str:
    """Structural Verilog of the circuit: ``module(x, y)``, inputs ``x[i]``
    in the order of the diagram's input bits, outputs ``y[k]``. ``module``
    is an identifier (letters, digits, ``_``, ``$``), not a Verilog keyword."""
    check_name(module, "verilog", "to_verilog", "module")
    return verilog(circuit(diagram, params, fold), module)


def to_blif(
    diagram: Any, params: dict[str, Any], model: str = "catlearn_net", fold: bool = True
) -> str:
    """BLIF of the circuit: inputs ``x0 ..``, outputs ``y0 ..``; ``model``
    is an identifier (letters, digits, ``_``, ``$``)."""
    check_name(model, "blif", "to_blif", "model")
    return blif(circuit(diagram, params, fold), model)


def to_aiger(diagram: Any, params: dict[str, Any], fold: bool = True) -> str:
    """ASCII AIGER (``.aag``) of the circuit, as an AND-inverter graph."""
    return aiger(circuit(diagram, params, fold))


def file_format(path: pathlib.Path, format: str | None) -> str:
    """``format``, or the one of the suffix of ``path`` when ``None``."""
    if format is None:
        if path.suffix not in FORMATS:
            raise ExportError(
                f"export: cannot tell the format of {str(path)!r} from its suffix "
                f"{path.suffix!r}; known suffixes are {sorted(FORMATS)}. Fix: name "
                "the file e.g. 'net.v', or pass format='verilog'."
            )
        return FORMATS[path.suffix]
    if format not in FORMATS.values():
        raise ExportError(
            f"export: format {format!r} is not one of {sorted(FORMATS.values())}. "
            "Fix: e.g. format='verilog', or leave it out to follow the suffix."
        )
    return format


def export(
    path: str | pathlib.Path,
    diagram: Any,
    params: dict[str, Any],
    format: str | None = None,
    fold: bool = True,
    name: str = "catlearn_net",
) -> ExportReport:
    """Write the circuit to ``path``; ``format`` (``"verilog"``, ``"blif"``,
    ``"aiger"``) defaults to the one of the suffix (``.v``, ``.blif``,
    ``.aag``). ``name`` is the Verilog module or BLIF model: an identifier
    (letters, digits, ``_``, ``$``; for Verilog not a keyword). The name, the
    format and the path are checked before the circuit is built; nothing is
    written if any is wrong (:class:`ExportError`)."""
    path = check_path(path, "export")
    format = file_format(path, format)
    check_name(name, format, "export")
    raw = netlist(diagram, params)
    net = raw.fold() if fold else raw
    if format == "verilog":
        text = verilog(net, name)
    elif format == "blif":
        text = blif(net, name)
    else:
        text = aiger(net)
    path.write_text(text)
    return ExportReport(
        str(path), format, net.n_inputs, len(net.outputs), raw.n_gates, net.n_gates,
        net.groups,
    )  # fmt: skip
