"""MONK's problems (Thrun et al., 1991), generated offline from their rules.

A robot has six attributes ``a1 .. a6`` with 3, 3, 2, 3, 4 and 2 values
(numbered from 1), so there are 3·3·2·3·4·2 = 432 robots. Each problem is a
rule over them:

- MONK-1: ``a1 == a2`` or ``a5 == 1``;
- MONK-2: exactly two of the six attributes take their first value (``== 1``);
- MONK-3: (``a5 == 3`` and ``a4 == 1``) or (``a5 != 4`` and ``a2 != 3``),
  trained with 5 % label noise.

The UCI files (``monks-{1,2,3}.train``) are one particular random sample of
sizes 124, 169 and 122. ``load_monk`` is a generator of the same distribution,
not those files: ``split="test"`` is all 432 robots (as ``monks-*.test``),
``split="train"`` a seeded sample of the canonical size, for MONK-3 with
``round(0.05 · 122) = 6`` labels flipped.

Inputs are one-hot: 3 + 3 + 2 + 3 + 4 + 2 = 17 bits, attribute by attribute.

>>> import numpy as np
>>> from catlearn.datasets import load_monk, monk_attributes
>>> X, y = load_monk(1, split="test")
>>> X.shape, X.dtype, y.shape, y.dtype
((432, 17), dtype('bool'), (432,), dtype('int32'))
>>> int(y.sum())  # MONK-1 is balanced on the full set
216
>>> bool((X.sum(axis=1) == 6).all())  # one hot bit per attribute
True
>>> a = monk_attributes()
>>> a[0].tolist(), a[-1].tolist()
([1, 1, 1, 1, 1, 1], [3, 3, 2, 3, 4, 2])
>>> X_train, y_train = load_monk(3, split="train", seed=0)
>>> X_train.shape
(122, 17)
>>> again = load_monk(3, split="train", seed=0)
>>> bool((again[0] == X_train).all() and (again[1] == y_train).all())
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._errors import DatasetError

MONK_ATTRIBUTES = (
    "head_shape",
    "body_shape",
    "is_smiling",
    "holding",
    "jacket_color",
    "has_tie",
)
"""The names of attributes ``a1 .. a6``, in the order of the one-hot blocks."""

MONK_SIZES = (3, 3, 2, 3, 4, 2)
"""How many values each attribute ``a1 .. a6`` takes (values are 1-based)."""

MONK_TRAIN_SIZES = {1: 124, 2: 169, 3: 122}
"""The canonical training-set size of each problem (the UCI ``.train`` files)."""

MONK_NOISE = {1: 0.0, 2: 0.0, 3: 0.05}
"""The canonical share of flipped training labels of each problem."""

_SPLITS = ("train", "test")


def _monk1(a: np.ndarray) -> np.ndarray:
    return (a[:, 0] == a[:, 1]) | (a[:, 4] == 1)


def _monk2(a: np.ndarray) -> np.ndarray:
    return (a == 1).sum(axis=1) == 2


def _monk3(a: np.ndarray) -> np.ndarray:
    return ((a[:, 4] == 3) & (a[:, 3] == 1)) | ((a[:, 4] != 4) & (a[:, 1] != 3))


_RULES: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    1: _monk1,
    2: _monk2,
    3: _monk3,
}


def monk_attributes() -> np.ndarray:
    """All 432 robots as decoded attribute values: int32 of shape ``(432, 6)``,
    column ``j`` holding ``a{j+1}`` in ``1 .. MONK_SIZES[j]``. Rows are in
    lexicographic order over ``a1 .. a6`` (``a6`` varies fastest), the order of
    ``load_monk(problem, split="test")``."""
    grid = np.indices(MONK_SIZES, dtype=np.int32).reshape(len(MONK_SIZES), -1)
    return np.ascontiguousarray(grid.T) + 1


def _encode(attributes: np.ndarray) -> np.ndarray:
    """One-hot bits of shape ``(n, 17)``, one block per attribute, in order."""
    offsets = np.cumsum((0,) + MONK_SIZES[:-1])
    X = np.zeros((attributes.shape[0], sum(MONK_SIZES)), dtype=bool)
    rows = np.arange(attributes.shape[0])[:, None]
    X[rows, offsets + attributes - 1] = True
    return X


def load_monk(
    problem: int,
    split: str = "train",
    seed: int = 0,
    noise: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """MONK's problem ``problem`` (1, 2 or 3) as ``(X, y)``: ``X`` bool one-hot
    inputs of shape ``(n, 17)`` and ``y`` int32 class ids 0/1 of shape ``(n,)``.

    ``split="test"``: all 432 robots, in the order of ``monk_attributes()``,
    labelled by the rule without noise. ``split="train"``: a sample without
    replacement of ``MONK_TRAIN_SIZES[problem]`` robots (rows kept in that
    canonical order) drawn from ``numpy.random.default_rng([seed, problem])``;
    then ``round(noise · n)`` of its labels, chosen by the same generator, are
    flipped. ``noise`` defaults to ``MONK_NOISE[problem]`` (5 % for MONK-3,
    none otherwise). The same ``problem``, ``seed`` and ``noise`` give the same
    sample; this is not the UCI ``.train`` file, only the same distribution.
    """
    if isinstance(problem, bool) or problem not in _RULES:
        raise DatasetError(
            f"load_monk: problem={problem!r} is not a MONK's problem; the valid "
            f"values are {sorted(_RULES)}. Fix: e.g. load_monk(1)."
        )
    if split not in _SPLITS:
        raise DatasetError(
            f"load_monk: split={split!r} is not a split; the valid values are "
            f"{_SPLITS}. Fix: load_monk({problem}, split='train') or "
            f"split='test'."
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DatasetError(
            f"load_monk: seed={seed!r} must be a non-negative int. Fix: e.g. seed=0."
        )
    if noise is None:
        noise = MONK_NOISE[problem]
    elif split == "test" and noise != 0:
        raise DatasetError(
            f"load_monk: noise={noise!r} with split='test'; the test split is "
            "always noise-free. Fix: drop noise, or use split='train'."
        )
    if isinstance(noise, bool) or not isinstance(noise, int | float):
        noise_ok = False
    else:
        noise_ok = 0 <= noise <= 1
    if not noise_ok:
        raise DatasetError(
            f"load_monk: noise={noise!r} must be a share of labels from 0 to 1. "
            f"Fix: e.g. noise=0.05, or leave it out for MONK-{problem}'s own "
            f"({MONK_NOISE[problem]})."
        )
    attributes = monk_attributes()
    y = _RULES[problem](attributes).astype(np.int32)
    if split == "test":
        return _encode(attributes), y
    rng = np.random.default_rng([seed, problem])
    size = MONK_TRAIN_SIZES[problem]
    rows = np.sort(rng.choice(attributes.shape[0], size=size, replace=False))
    y = y[rows]
    flips = rng.choice(size, size=round(noise * size), replace=False)
    y[flips] ^= 1
    return _encode(attributes[rows]), y
