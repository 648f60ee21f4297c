"""Real-valued tables made Boolean, for logic networks and Reverse Derivative
Ascent.

``binarize`` scales each feature to [0, 1] by its minimum and maximum and keeps
the bits ``scaled > t`` for each threshold ``t`` (strictly greater, so a value
exactly at a threshold gives 0). ``levels=k`` is the thermometer code: ``k``
bits per feature with thresholds ``(i + 1) / (k + 1)``; ``levels=1`` is the
single threshold 0.5.

>>> import numpy as np
>>> from catlearn.datasets import binarize, load_iris_binary, one_hot
>>> X = np.array([[0.0, 10.0], [1.0, 20.0], [2.0, 40.0]])
>>> binarize(X).astype(int).tolist()
[[0, 0], [0, 0], [1, 1]]
>>> binarize(X, levels=3).astype(int).tolist()  # thresholds 1/4, 1/2, 3/4
[[0, 0, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0], [1, 1, 1, 1, 1, 1]]
>>> one_hot(np.array([2, 0]), 3).astype(int).tolist()
[[0, 0, 1], [1, 0, 0]]

Iris as Wilson & Zanasi binarize it (features min-max scaled, one bit each at
0.5), and their two-class task, setosa against versicolor, trained on the first
25 examples of each class and tested on the other 25:

>>> X, y = load_iris_binary()
>>> X.shape, X.dtype, np.bincount(y).tolist()
((150, 4), dtype('bool'), [50, 50, 50])
>>> X, y = load_iris_binary(classes=(0, 1))
>>> X.shape, np.bincount(y).tolist()
((100, 4), [50, 50])
>>> train = np.concatenate([np.flatnonzero(y == c)[:25] for c in (0, 1)])
>>> test = np.setdiff1d(np.arange(len(y)), train)
>>> len(train), len(test)
(50, 50)
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .._errors import DatasetError
from ._tables import IRIS_CLASSES, load_iris

_SCALES = ("minmax", "none")


def _thresholds(caller: str, thresholds: Any, levels: Any) -> np.ndarray:
    """The thresholds as a strictly increasing 1-D float64 array."""
    if levels is not None:
        if thresholds is not None:
            raise DatasetError(
                f"{caller}: got both thresholds={thresholds!r} and "
                f"levels={levels!r}; levels=k sets the thresholds to "
                "(i + 1) / (k + 1). Fix: pass one of them."
            )
        if isinstance(levels, bool) or not isinstance(levels, int | np.integer):
            raise DatasetError(
                f"{caller}: levels={levels!r} must be a positive int (bits per "
                "feature). Fix: e.g. levels=1, or levels=4 for a thermometer code."
            )
        if levels < 1:
            raise DatasetError(
                f"{caller}: levels={levels!r} must be at least 1 (bits per "
                "feature). Fix: e.g. levels=1."
            )
        return np.arange(1, levels + 1, dtype=np.float64) / (levels + 1)
    if thresholds is None:
        return np.array([0.5])
    try:
        ts = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    except (TypeError, ValueError):
        ts = np.array([np.nan])
    if ts.ndim != 1 or ts.size == 0 or not np.isfinite(ts).all():
        raise DatasetError(
            f"{caller}: thresholds={thresholds!r} must be a finite number or a "
            "non-empty 1-D sequence of them. Fix: e.g. thresholds=0.5 or "
            "thresholds=[0.25, 0.5, 0.75]."
        )
    if (np.diff(ts) <= 0).any():
        raise DatasetError(
            f"{caller}: thresholds={thresholds!r} must be strictly increasing, "
            f"so bit i of a feature means 'above threshold i'. Fix: "
            f"thresholds={sorted(set(ts.tolist()))}."
        )
    return ts


def binarize(
    X: Any,
    thresholds: Any = None,
    *,
    levels: int | None = None,
    scale: str = "minmax",
    bounds: tuple[Any, Any] | None = None,
) -> np.ndarray:
    """Turn a real table ``X`` of shape ``(n, d)`` into bits of shape
    ``(n, d * k)``, ``k`` bits per feature.

    With ``scale="minmax"`` feature ``f`` becomes ``(X[:, f] - lo[f]) /
    (hi[f] - lo[f])``, where ``(lo, hi)`` is ``bounds`` if given (scalars or
    arrays of shape ``(d,)``: pass a training set's ``(X.min(0), X.max(0))`` to
    binarize its test set alike) and otherwise ``X``'s own column minima and
    maxima; a constant feature scales to 0. With ``scale="none"`` ``X`` is
    used as it is.

    Column ``f * k + i`` is ``scaled[:, f] > thresholds[i]``: ``thresholds`` is
    a number (default 0.5) or a strictly increasing sequence, and ``levels=k``
    instead picks ``thresholds = (i + 1) / (k + 1)``, ``i < k`` (the thermometer
    code, monotone in the feature).
    """
    ts = _thresholds("binarize", thresholds, levels)
    X = np.asarray(X)
    if X.ndim != 2:
        raise DatasetError(
            f"binarize: X has shape {X.shape}; it needs shape (n_examples, "
            "n_features). Fix: X.reshape(-1, 1) for a single feature."
        )
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise DatasetError(
            f"binarize: X has dtype {X.dtype}; it needs numbers. Fix: convert "
            "the table with X.astype(float) after encoding text columns."
        )
    X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise DatasetError(
            f"binarize: X has {int((~np.isfinite(X)).sum())} NaN or infinite "
            "entries. Fix: drop or impute them first."
        )
    if scale == "minmax":
        X = _minmax(X, bounds)
    elif scale == "none":
        if bounds is not None:
            raise DatasetError(
                "binarize: bounds are given with scale='none', which does not "
                "scale. Fix: use scale='minmax' with bounds, or drop bounds."
            )
    else:
        raise DatasetError(
            f"binarize: scale={scale!r} is not a scaling; the valid values are "
            f"{_SCALES}. Fix: scale='minmax', or scale='none' for data already "
            "in the thresholds' range."
        )
    bits = X[:, :, None] > ts
    return bits.reshape(X.shape[0], X.shape[1] * ts.size)


def _minmax(X: np.ndarray, bounds: tuple[Any, Any] | None) -> np.ndarray:
    if bounds is None:
        if X.shape[0] == 0:
            raise DatasetError(
                "binarize: X has no rows, so it has no minimum and maximum to "
                "scale by. Fix: pass bounds=(lo, hi), or scale='none'."
            )
        lo, hi = X.min(axis=0), X.max(axis=0)
    else:
        try:
            lo, hi = bounds
            lo = np.broadcast_to(np.asarray(lo, dtype=np.float64), X.shape[1:])
            hi = np.broadcast_to(np.asarray(hi, dtype=np.float64), X.shape[1:])
        except (TypeError, ValueError) as error:
            raise DatasetError(
                f"binarize: bounds={bounds!r} must be a pair (lo, hi) of numbers "
                f"or arrays of shape ({X.shape[1]},), one per feature of X "
                f"({error}). Fix: bounds=(X_train.min(0), X_train.max(0))."
            ) from None
        if not (np.isfinite(lo).all() and np.isfinite(hi).all()) or (hi < lo).any():
            raise DatasetError(
                f"binarize: bounds={bounds!r} need finite lo <= hi for every "
                "feature. Fix: bounds=(X_train.min(0), X_train.max(0))."
            )
    span = hi - lo
    return np.divide(X - lo, span, out=np.zeros_like(X), where=span > 0)


def one_hot(y: Any, k: int) -> np.ndarray:
    """Class ids ``y`` of shape ``(n,)``, each in ``0 .. k-1``, as bool rows of
    shape ``(n, k)`` with the bit of its class set."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise DatasetError(
            f"one_hot: k={k!r} must be a positive int, the number of classes. "
            "Fix: e.g. one_hot(y, int(y.max()) + 1)."
        )
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise DatasetError(
            f"one_hot: y has shape {y.shape} and dtype {y.dtype}; it needs "
            "integer class ids of shape (n,). Fix: y.astype(int).ravel() for "
            "integral labels, or y.argmax(axis=1) for scores."
        )
    bad = (y < 0) | (y >= k)
    if bad.any():
        raise DatasetError(
            f"one_hot: y holds class {int(y[bad][0])}, outside 0 .. {k - 1} for "
            f"k={k}. Fix: k={max(int(y.max()) + 1, k)}, or remap the labels."
        )
    return y[:, None] == np.arange(k)


def load_iris_binary(
    levels: int = 1, classes: tuple[int, ...] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Iris binarized as in Wilson & Zanasi, "Reverse Derivative Ascent: A
    Categorical Approach to Learning Boolean Circuits" (ACT 2020): each feature
    min-max scaled over the table, then one bit ``scaled > 0.5``
    (``levels=1``), or a thermometer code of ``levels`` bits.

    Returns ``X`` bool of shape ``(n, 4 * levels)`` (features in the order of
    ``IRIS_FEATURES``) and ``y`` int32 class ids. ``classes`` keeps only those
    iris classes, relabelled ``0 .. len(classes)-1`` in the order given, and
    scales over what is kept; ``classes=(0, 1)`` (setosa against versicolor,
    virginica dropped) is the paper's two-class task. The paper's experiment
    code uses the UCI file, whose setosa rows 35 and 38 differ from this
    (corrected, scikit-learn) copy; binarized, that is one sepal-width bit.
    """
    _thresholds("load_iris_binary", None, levels)
    X, y = load_iris()
    if classes is not None:
        valid = tuple(range(len(IRIS_CLASSES)))
        kept = tuple(classes) if isinstance(classes, tuple | list) else ()
        ok = all(
            isinstance(c, int | np.integer) and not isinstance(c, bool) and c in valid
            for c in kept
        )
        if not ok or len(kept) < 2 or len(set(kept)) != len(kept):
            raise DatasetError(
                f"load_iris_binary: classes={classes!r} must be two or more "
                f"distinct class ids from {valid} ({', '.join(IRIS_CLASSES)}). "
                "Fix: e.g. classes=(0, 1) for setosa against versicolor."
            )
        relabel = np.full(len(IRIS_CLASSES), -1, dtype=np.int32)
        relabel[list(kept)] = np.arange(len(kept), dtype=np.int32)
        rows = relabel[y] >= 0
        X, y = X[rows], relabel[y[rows]]
    return binarize(X, levels=levels), y


def _sklearn_datasets(caller: str) -> ModuleType:
    try:
        from sklearn import datasets
    except ImportError as error:
        raise DatasetError(
            f"{caller} reads the copy bundled with scikit-learn, an optional "
            f"dependency that is not installed ({error}). Fix: pip install "
            "scikit-learn."
        ) from None
    return datasets


def load_digits_binary(levels: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 handwritten digits (1797 images, offline) as bits:
    ``X`` bool of shape ``(1797, 64 * levels)``, ``y`` int32 digits 0..9.

    Pixels are scaled by their full range 0..16 (not each pixel's own extremes,
    so every pixel means the same ink level): ``levels=1`` keeps intensity > 8.
    Needs scikit-learn.
    """
    _thresholds("load_digits_binary", None, levels)
    data = _sklearn_datasets("load_digits_binary").load_digits()
    X = binarize(data.data, levels=levels, bounds=(0.0, 16.0))
    return X, np.asarray(data.target, dtype=np.int32)


def load_breast_cancer_binary(levels: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The Wisconsin diagnostic breast cancer table as scikit-learn bundles it
    (569 examples, 30 features, offline), each feature min-max scaled and
    binarized: ``X`` bool of shape ``(569, 30 * levels)``, ``y`` int32 with
    0 malignant and 1 benign (scikit-learn's coding). Needs scikit-learn.
    """
    _thresholds("load_breast_cancer_binary", None, levels)
    data = _sklearn_datasets("load_breast_cancer_binary").load_breast_cancer()
    X = binarize(data.data, levels=levels)
    return X, np.asarray(data.target, dtype=np.int32)
