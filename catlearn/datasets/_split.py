"""Deterministic train / test splits (numpy ``Generator``, no global state).

A stratified split keeps each class's share: iris (50 per class) split 70/30
gives 15 test examples of every class.

>>> import numpy as np
>>> from catlearn.datasets import load_iris, train_test_split
>>> X, y = load_iris()
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, seed=0)
>>> len(y_train), len(y_test), np.bincount(y_test).tolist()
(105, 45, [15, 15, 15])
>>> again = train_test_split(X, y, seed=0)
>>> bool((again[3] == y_test).all())
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._errors import DatasetError, ShapeError


def train_test_split(
    X: Any,
    y: Any,
    test_fraction: float = 0.3,
    seed: int = 0,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split ``(X, y)`` into ``(X_train, X_test, y_train, y_test)``.

    ``round(test_fraction * n)`` examples go to the test set; with
    ``stratify=True`` that rounding is done per class (``y`` holds class ids),
    so both sets keep the class proportions. Both sets come shuffled. The same
    ``seed`` gives the same split.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0]:
        raise ShapeError(
            f"train_test_split: X has shape {X.shape} and y {y.shape}; they need "
            "the same number of examples on axis 0. Fix: give one label per row "
            "of X."
        )
    if not isinstance(test_fraction, int | float) or not 0 < test_fraction < 1:
        raise DatasetError(
            f"train_test_split: test_fraction={test_fraction!r} must be a number "
            "strictly between 0 and 1. Fix: e.g. test_fraction=0.3."
        )
    rng = np.random.default_rng(seed)
    if stratify:
        if y.ndim != 1:
            raise DatasetError(
                f"train_test_split(stratify=True) needs class ids of shape "
                f"({y.shape[0]},), got y of shape {y.shape}. Fix: pass "
                "y.argmax(axis=1) for one-hot labels, or stratify=False."
            )
        groups = [np.flatnonzero(y == c) for c in np.unique(y)]
    else:
        groups = [np.arange(y.shape[0])]
    test, train = [], []
    for members in groups:
        members = rng.permutation(members)
        n_test = math.floor(len(members) * test_fraction + 0.5)
        test.append(members[:n_test])
        train.append(members[n_test:])
    test_idx = rng.permutation(np.concatenate(test))
    train_idx = rng.permutation(np.concatenate(train))
    if len(test_idx) == 0 or len(train_idx) == 0:
        raise DatasetError(
            f"train_test_split: test_fraction={test_fraction} of {y.shape[0]} "
            f"examples leaves {len(train_idx)} for training and {len(test_idx)} "
            "for testing; both need at least one. Fix: choose a test_fraction "
            "nearer 0.5 or pass more examples."
        )
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


def stratified_folds(y: Any, k: int = 10, seed: int = 0) -> np.ndarray:
    """Assign each example to one of ``k`` folds, keeping class proportions.

    Returns ``fold`` of shape ``(n,)``; fold ``i`` is the test set of round ``i``
    of k-fold cross-validation (``fold == i``), the rest its training set. The
    same ``seed`` gives the same folds.

    >>> import numpy as np
    >>> from catlearn.datasets import load_iris, stratified_folds
    >>> _, y = load_iris()
    >>> fold = stratified_folds(y, k=10, seed=0)
    >>> np.bincount(fold).tolist() == [15] * 10
    True
    >>> np.bincount(y[fold == 3]).tolist()
    [5, 5, 5]
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise DatasetError(
            f"stratified_folds needs class ids of shape (n,), got y of shape "
            f"{y.shape}. Fix: pass y.argmax(axis=1) for one-hot labels."
        )
    if not isinstance(k, int) or not 2 <= k <= y.shape[0]:
        raise DatasetError(
            f"stratified_folds: k={k!r} must be an int from 2 to the number of "
            f"examples ({y.shape[0]}). Fix: e.g. k=10."
        )
    rng = np.random.default_rng(seed)
    fold = np.empty(y.shape[0], dtype=np.int64)
    start = 0  # continue the round-robin across classes so folds stay balanced
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        fold[members] = (start + np.arange(len(members))) % k
        start = (start + len(members)) % k
    return fold
