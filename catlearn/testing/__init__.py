"""Property-testing tools that ship with catlearn: hypothesis strategies that
draw random well-typed diagrams from a semantics' :class:`Signature`,
checkers for the laws every functor obeys (functoriality, lens composition,
the reverse-derivative axioms RD.1–RD.7), which raise :class:`LawError`, the
table of those laws (:data:`LAWS`) with :func:`check_functor`, which runs all
of them, oracles included, on a functor and its own generators, and
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
from ._check_functor import EXAMPLES as EXAMPLES
from ._check_functor import CoverageError as CoverageError
from ._check_functor import Report as Report
from ._check_functor import Result as Result
from ._check_functor import check_functor as check_functor
from ._check_functor import check_generator as check_generator
from ._check_functor import run_law as run_law
from ._profiles import PROFILES as PROFILES
from ._profiles import register_profiles as register_profiles
from ._semantics import REGISTRY as REGISTRY
from ._semantics import Semantics as Semantics
from ._semantics import semantics_of as semantics_of
from ._signature import boolean_signature as boolean_signature
from ._table import LAWS as LAWS
from ._table import Law as Law
from ._table import laws_for as laws_for
from ._z2 import is_multilinear as is_multilinear
from .laws import LawError as LawError
from .laws import Tolerance as Tolerance
from .strategies import BATCH as BATCH
from .strategies import Generator as Generator
from .strategies import Signature as Signature
from .strategies import smooth_signature as smooth_signature

__all__ = [
    "BATCH", "EXAMPLES", "LAWS", "PROFILES", "REGISTRY", "CoverageError",
    "Generator", "Law", "LawError", "Report", "Result", "Semantics", "Signature",
    "Tolerance", "boolean_signature", "check_functor", "check_generator",
    "exhaustive", "is_multilinear", "laws", "laws_for", "register_profiles",
    "run_law", "semantics_of", "smooth_signature", "strategies",
]
