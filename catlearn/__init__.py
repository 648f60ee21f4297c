"""catlearn: models are string diagrams of parametrised lenses; functors give
them meaning.

>>> import jax, jax.numpy as jnp, catlearn as cl
>>> model = cl.nn.mlp([4, 8, 3])
>>> prog = cl.Smooth()(model)
>>> params = prog.init(jax.random.key(0))
>>> prog(params, jnp.zeros((5, 4))).shape
(5, 3)
"""

from . import datasets as datasets
from . import diagrams as diagrams
from . import functors as functors
from . import io as io
from . import learn as learn
from . import logic as logic
from . import nn as nn
from ._errors import BackendError as BackendError
from ._errors import BackendWarning as BackendWarning
from ._errors import CatlearnError as CatlearnError
from ._errors import CheckpointError as CheckpointError
from ._errors import CompositionError as CompositionError
from ._errors import CoverageError as CoverageError
from ._errors import DatasetError as DatasetError
from ._errors import ExportError as ExportError
from ._errors import FormatError as FormatError
from ._errors import LawError as LawError
from ._errors import MissingFileError as MissingFileError
from ._errors import MissingRuleError as MissingRuleError
from ._errors import NonFiniteError as NonFiniteError
from ._errors import OptimiserError as OptimiserError
from ._errors import ParamError as ParamError
from ._errors import SaveError as SaveError
from ._errors import SemanticsError as SemanticsError
from ._errors import SettingsWarning as SettingsWarning
from ._errors import ShapeError as ShapeError
from ._errors import TypeSpecError as TypeSpecError
from ._errors import VersionError as VersionError
from ._version import __version__ as __version__
from .diagrams import Box as Box
from .diagrams import Copy as Copy
from .diagrams import Diagram as Diagram
from .diagrams import Discard as Discard
from .diagrams import Id as Id
from .diagrams import Param as Param
from .diagrams import Swap as Swap
from .diagrams import bits as bits
from .diagrams import draw as draw
from .diagrams import from_discopy as from_discopy
from .diagrams import params as params
from .diagrams import real as real
from .diagrams import tensor as tensor
from .functors import Boolean as Boolean
from .functors import BooleanKernel as BooleanKernel
from .functors import Functor as Functor
from .functors import Kernel as Kernel
from .functors import Program as Program
from .functors import RelaxedKernel as RelaxedKernel
from .functors import Rule as Rule
from .functors import Smooth as Smooth
from .functors import discretize as discretize
from .functors import relax as relax
from .io import from_json as from_json
from .io import load as load
from .io import save as save
from .io import to_json as to_json
from .learn import FitResult as FitResult
from .learn import evaluate as evaluate
from .learn import fit as fit
from .learn import losses as losses
from .learn import optim as optim
