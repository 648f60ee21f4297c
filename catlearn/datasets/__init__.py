"""Offline data: tables bundled with the package and deterministic splits.

No download and no scikit-learn at run time: the tables ship as CSV files in
``catlearn/datasets/data``.
"""

from .._errors import DatasetError as DatasetError
from ._split import stratified_folds as stratified_folds
from ._split import train_test_split as train_test_split
from ._tables import IRIS_CLASSES as IRIS_CLASSES
from ._tables import IRIS_FEATURES as IRIS_FEATURES
from ._tables import load_iris as load_iris

__all__ = [
    "IRIS_CLASSES",
    "IRIS_FEATURES",
    "DatasetError",
    "load_iris",
    "stratified_folds",
    "train_test_split",
]
