"""Array kernels that the functors call.

- :mod:`catlearn.backends.jax_ops`: dense JAX kernels of the smooth
  generators (forward and reverse), written for a batch on axis 0.
- :mod:`catlearn.backends.bits`: bit-packed Boolean values and their kernels.
- :mod:`catlearn.backends.lutnet_cpu`, :mod:`~catlearn.backends.lutnet_pallas`,
  :mod:`~catlearn.backends.lutnet_relaxed`: fused kernels of LUT networks.
- The LUT maths they all share, once (``backends/_lut.py``): :func:`anf` (a
  table's algebraic normal form), :func:`fan_in` (the wiring transposed),
  :func:`popcount_words` and :func:`count_row` (counting ones).
"""

from ._lut import anf as anf
from ._lut import count_row as count_row
from ._lut import fan_in as fan_in
from ._lut import popcount_words as popcount_words
