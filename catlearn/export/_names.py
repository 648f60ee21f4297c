"""The user's strings that reach a circuit file: the module / model name and the
file path, checked before anything is computed or written.

A name is written unquoted into the file (``module NAME(x, y);``, ``.model
NAME``), so an unchecked one could end the module early and add code of its
own. A name is therefore an identifier: a letter or ``_``, then letters,
digits, ``_`` or ``$``, at most 1024 characters (the least limit IEEE
1364-2005 lets tools set), and for Verilog not one of its keywords (nor one of
SystemVerilog's, which many tools read ``.v`` files as). The same
rule serves BLIF, whose names cannot hold whitespace, ``#`` or ``\\`` and
whose keywords start with ``.`` (``.model``, ``.end``). An AIGER file holds
no name; it is checked all the same, so that one name serves every format.

>>> check_name("net_2$a", "verilog", "export")
'net_2$a'
>>> check_name("module", "verilog", "export")
Traceback (most recent call last):
...
catlearn.export.ExportError: export: name 'module' is a Verilog keyword...
"""

from __future__ import annotations

import os
import pathlib
import re
import shlex
from typing import Any

from ._netlist import ExportError

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
MAX_LENGTH = 1024

# IEEE 1364-2005, Annex B: the reserved words of Verilog-2005.
VERILOG_KEYWORDS = frozenset(
    """
    always and assign automatic begin buf bufif0 bufif1 case casex casez cell
    cmos config deassign default defparam design disable edge else end endcase
    endconfig endfunction endgenerate endmodule endprimitive endspecify endtable
    endtask event for force forever fork function generate genvar highz0 highz1
    if ifnone incdir include initial inout input instance integer join large
    liblist library localparam macromodule medium module nand negedge nmos nor
    noshowcancelled not notif0 notif1 or output parameter pmos posedge primitive
    pull0 pull1 pulldown pullup pulsestyle_ondetect pulsestyle_onevent rcmos real
    realtime reg release repeat rnmos rpmos rtran rtranif0 rtranif1 scalared
    showcancelled signed small specify specparam strong0 strong1 supply0 supply1
    table task time tran tranif0 tranif1 tri tri0 tri1 triand trior trireg
    unsigned use uwire vectored wait wand weak0 weak1 while wire wor xnor xor
    """.split()
)

# IEEE 1800-2017, Annex B: the words SystemVerilog adds. Verilator, yosys -sv
# and most simulators read a ``.v`` file as SystemVerilog too, so a module
# named ``logic`` or ``class`` would break there.
SYSTEMVERILOG_KEYWORDS = frozenset(
    """
    accept_on alias always_comb always_ff always_latch assert assume before bind
    bins binsof bit break byte chandle checker class clocking const constraint
    context continue cover covergroup coverpoint cross dist do endchecker
    endclass endclocking endgroup endinterface endpackage endprogram endproperty
    endsequence enum eventually expect export extends extern final first_match
    foreach forkjoin global iff ignore_bins illegal_bins implements implies
    import inside int interconnect interface intersect join_any join_none let
    local logic longint matches modport nettype new nexttime null package packed
    priority program property protected pure rand randc randcase randsequence ref
    reject_on restrict return s_always s_eventually s_nexttime s_until
    s_until_with sequence shortint shortreal soft solve static string strong
    struct super sync_accept_on sync_reject_on tagged this throughout
    timeprecision timeunit type typedef union unique unique0 until until_with
    untyped var virtual void wait_order weak wildcard with within
    """.split()
)


def _lead(where: str) -> str:
    return f"{where}: " if where else ""


def _setting(what: str, value: str) -> str:
    """``name='net'`` in Python, ``--name net`` on the command line."""
    return f"{what} {value}" if what.startswith("--") else f"{what}={value!r}"


def _makedirs(directory: str, where: str) -> str:
    """How to create ``directory``: in Python, or on the command line (whose
    messages have no ``where``)."""
    if where:
        return f"os.makedirs({directory!r}, exist_ok=True)"
    return f"mkdir -p {shlex.quote(directory)}"


def check_name(name: Any, format: str, where: str, what: str = "name") -> str:
    """``name`` if it can name the Verilog module / BLIF model of a circuit
    in ``format``, else :class:`ExportError` naming the rule and a fix;
    ``what`` is the argument as the caller spells it (``module``,
    ``--name``)."""
    fix = f"Fix: e.g. {_setting(what, 'catlearn_net')} (letters, digits, _ and $)."
    if not isinstance(name, str):
        raise ExportError(
            f"{_lead(where)}{what} must be a str, got {type(name).__name__} "
            f"{name!r}. {fix}"
        )
    shown = name if len(name) <= 80 else f"{name[:77]}..."
    if len(name) > MAX_LENGTH:
        raise ExportError(
            f"{_lead(where)}{what} {shown!r} has {len(name)} characters, more than "
            f"the {MAX_LENGTH} tools must accept. Fix: e.g. "
            f"{_setting(what, 'catlearn_net')}, or any identifier of at most "
            f"{MAX_LENGTH} characters."
        )
    if not IDENTIFIER.fullmatch(name):
        bad = sorted({c for c in name if not re.fullmatch(r"[A-Za-z0-9_$]", c)})
        problem = (
            "is empty" if not name
            else f"contains {''.join(bad)!r}" if bad
            else f"starts with {name[0]!r}"
        )  # fmt: skip
        raise ExportError(
            f"{_lead(where)}{what} {shown!r} {problem}; it is written unquoted into "
            "the "
            "circuit file, so it must be an identifier: a letter or _, then "
            f"letters, digits, _ or $. {fix}"
        )
    if format == "verilog" and name in VERILOG_KEYWORDS | SYSTEMVERILOG_KEYWORDS:
        kind = "Verilog" if name in VERILOG_KEYWORDS else "SystemVerilog"
        raise ExportError(
            f"{_lead(where)}{what} {name!r} is a {kind} keyword, which cannot "
            f"name a module. Fix: e.g. {_setting(what, name + '_net')}."
        )
    return name


def check_path(path: Any, where: str) -> pathlib.Path:
    """``path`` as a ``pathlib.Path`` of a file that can be written, else
    :class:`ExportError`: not a text path, a NUL character, a missing or
    read-only directory, a directory."""
    value = os.fspath(path) if isinstance(path, os.PathLike) else path
    if not isinstance(value, str):
        example = os.fsdecode(value) if isinstance(value, bytes) else "net.v"
        raise ExportError(
            f"{_lead(where)}the path must be a str or os.PathLike, got "
            f"{type(value).__name__} {value!r}. Fix: pass a str path, e.g. "
            f"{example!r}."
        )
    if not value:
        raise ExportError(f"{_lead(where)}the path is empty. Fix: e.g. 'net.v'.")
    if "\0" in value:
        raise ExportError(
            f"{_lead(where)}the path {value!r} contains a NUL character, which no file "
            f"name can hold. Fix: remove it, e.g. {value.replace(chr(0), '')!r}."
        )
    directory = os.path.dirname(os.path.abspath(value))
    if os.path.isdir(value):
        raise ExportError(
            f"{_lead(where)}cannot write {value!r}: it is a directory. Fix: a file "
            f"inside it, e.g. {os.path.join(value, 'net.v')!r}."
        )
    if not os.path.isdir(directory):
        raise ExportError(
            f"{_lead(where)}cannot write {value!r}: the directory {directory!r} does "
            f"not exist. Fix: create it first ({_makedirs(directory, where)}) or "
            "choose another path."
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ExportError(
            f"{_lead(where)}cannot write {value!r}: the directory {directory!r} is "
            "not writable. Fix: choose a writable directory."
        )
    return pathlib.Path(value)
