"""Small tables bundled with catlearn, read offline with ``importlib.resources``.

>>> import numpy as np
>>> from catlearn.datasets import load_iris
>>> X, y = load_iris()
>>> X.shape, X.dtype, y.shape, y.dtype
((150, 4), dtype('float32'), (150,), dtype('int32'))
>>> np.bincount(y).tolist()
[50, 50, 50]
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np

IRIS_FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
"""The iris feature columns, in centimetres, in the order of ``X``."""

IRIS_CLASSES = ("setosa", "versicolor", "virginica")
"""The iris species: ``IRIS_CLASSES[y[i]]`` names example ``i``."""


def load_iris() -> tuple[np.ndarray, np.ndarray]:
    """Fisher's iris table (UCI; the copy scikit-learn bundles): ``X`` float32
    of shape ``(150, 4)`` with columns ``IRIS_FEATURES``, and ``y`` int32 class
    ids 0, 1, 2 (``IRIS_CLASSES``), 50 of each. Fresh arrays on every call."""
    X, y = _read_table("iris.csv")
    return X.astype(np.float32), y.astype(np.int32)


@cache
def _read_table(filename: str) -> tuple[np.ndarray, np.ndarray]:
    """Features and last-column labels of ``data/{filename}`` (one header line).
    Cached: callers must copy (``astype`` does)."""
    text = resources.files(__package__).joinpath("data", filename).read_text()
    table = np.loadtxt(text.splitlines(), delimiter=",", skiprows=1, ndmin=2)
    return table[:, :-1], table[:, -1]
