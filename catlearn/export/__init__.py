"""Export a trained Boolean diagram as a circuit: structural Verilog, BLIF or
ASCII AIGER, after constant folding.

The circuit is the one ``cl.Boolean()`` runs, bit for bit. A diagram that
ends in ``group_sum`` is exported up to the bits that feed the read-out; the
groups are written in a comment and kept in ``Netlist.groups``.

>>> import numpy as np, catlearn as cl
>>> from catlearn.export import to_verilog, to_aiger
>>> print(to_verilog(cl.logic.XOR >> cl.logic.NOT, {}), end="")
// catlearn.export: 2 inputs x[0..1], 1 outputs y[0..0], 1 gates
module catlearn_net(x, y);
  input [1:0] x;
  output [0:0] y;
  wire n2;
  assign n2 = ~(x[0] ^ x[1]);
  assign y[0] = n2;
endmodule
>>> to_aiger(cl.logic.AND, {}).splitlines()[0]   # M I L O A
'aag 3 2 0 1 1'
"""

from ._count import Count as Count
from ._count import count as count
from ._export import ExportReport as ExportReport
from ._export import circuit as circuit
from ._export import export as export
from ._export import file_format as file_format
from ._export import to_aiger as to_aiger
from ._export import to_blif as to_blif
from ._export import to_verilog as to_verilog

# checks the command line runs before training (not part of the documented API)
from ._names import check_name as check_name
from ._names import check_path as check_path
from ._netlist import ExportError as ExportError
from ._netlist import Netlist as Netlist
from ._netlist import Node as Node
from ._netlist import netlist as netlist
