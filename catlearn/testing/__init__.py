"""Property-testing tools that ship with catlearn: hypothesis strategies that
draw random well-typed diagrams from a semantics' :class:`Signature`, and
checkers for the laws every functor obeys (functoriality, lens composition,
the reverse-derivative axioms RD.1–RD.7), which raise :class:`LawError`, and
:mod:`~catlearn.testing.exhaustive`, which checks a law at every point of a
small Boolean circuit at once.

>>> import jax, catlearn as cl
>>> from catlearn.testing import laws, smooth_signature, strategies as cst
>>> sig, prog = smooth_signature(), cl.Smooth()(cl.nn.dense(2, 3, name="f"))
>>> params = prog.init(jax.random.key(0))
>>> xs = cst.sample_values(sig, prog.dom, jax.random.key(1))
>>> dys = cst.sample_values(sig, prog.cod, jax.random.key(2))
>>> laws.reverse_matches_vjp(prog, params, xs, dys)
>>> laws.rd2_linearity(prog, params, xs, dys, dys)
"""

from . import exhaustive as exhaustive
from . import laws as laws
from . import strategies as strategies
from ._profiles import PROFILES as PROFILES
from ._profiles import register_profiles as register_profiles
from ._signature import boolean_signature as boolean_signature
from ._z2 import is_multilinear as is_multilinear
from .laws import LawError as LawError
from .laws import Tolerance as Tolerance
from .strategies import BATCH as BATCH
from .strategies import Generator as Generator
from .strategies import Signature as Signature
from .strategies import smooth_signature as smooth_signature

__all__ = [
    "BATCH", "PROFILES", "Generator", "LawError", "Signature", "Tolerance",
    "boolean_signature", "exhaustive", "is_multilinear", "laws",
    "register_profiles", "smooth_signature", "strategies",
]
