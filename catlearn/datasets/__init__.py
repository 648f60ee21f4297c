"""Offline data: tables bundled with the package, deterministic splits, and
Boolean data sets for logic networks (MONK's problems, truth tables, binarized
tables).

Nothing is downloaded. The bundled tables ship as CSV files in
``catlearn/datasets/data``; MONK's problems and truth tables are generated from
their definitions. Only ``load_digits_binary`` and
``load_breast_cancer_binary`` need scikit-learn, for the copies it bundles.
"""

from .._errors import DatasetError as DatasetError
from ._binary import binarize as binarize
from ._binary import load_breast_cancer_binary as load_breast_cancer_binary
from ._binary import load_digits_binary as load_digits_binary
from ._binary import load_iris_binary as load_iris_binary
from ._binary import one_hot as one_hot
from ._monk import MONK_ATTRIBUTES as MONK_ATTRIBUTES
from ._monk import MONK_NOISE as MONK_NOISE
from ._monk import MONK_SIZES as MONK_SIZES
from ._monk import MONK_TRAIN_SIZES as MONK_TRAIN_SIZES
from ._monk import load_monk as load_monk
from ._monk import monk_attributes as monk_attributes
from ._split import stratified_folds as stratified_folds
from ._split import train_test_split as train_test_split
from ._tables import IRIS_CLASSES as IRIS_CLASSES
from ._tables import IRIS_FEATURES as IRIS_FEATURES
from ._tables import load_iris as load_iris
from ._truth import MAX_INPUTS as MAX_INPUTS
from ._truth import adder as adder
from ._truth import boolean_cube as boolean_cube
from ._truth import multiplexer as multiplexer
from ._truth import parity as parity

__all__ = [
    "IRIS_CLASSES",
    "IRIS_FEATURES",
    "MAX_INPUTS",
    "MONK_ATTRIBUTES",
    "MONK_NOISE",
    "MONK_SIZES",
    "MONK_TRAIN_SIZES",
    "DatasetError",
    "adder",
    "binarize",
    "boolean_cube",
    "load_breast_cancer_binary",
    "load_digits_binary",
    "load_iris",
    "load_iris_binary",
    "load_monk",
    "monk_attributes",
    "multiplexer",
    "one_hot",
    "parity",
    "stratified_folds",
    "train_test_split",
]
