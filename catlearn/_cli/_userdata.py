"""The user's own data for ``catlearn train --data FILE``: a CSV file with a
header row, or a NumPy ``.npz`` archive, split into training and validation
examples (stratified, seeded). Classification: the target holds class labels
(ints, or any text, numbered in sorted order). Features whose every value is
0 or 1 make a ``"bits"`` data set (logic networks read them as bits).

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "toy.csv")
>>> rows = [f"{i % 2},{i % 3},{'yes' if i % 2 else 'no'}" for i in range(20)]
>>> with open(path, "w") as f:
...     _ = f.write("\\n".join(["a,b,label", *rows]) + "\\n")
>>> data = load_user_data(path, "label", 0.25, 0)
>>> data.name, data.kind, data.train[0].shape, len(data.test[1])
('toy.csv', 'real', (16, 2), 4)
>>> data.classes
('no', 'yes')
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass

import numpy as np

from ._usage import UsageError


@dataclass(frozen=True)
class UserData:
    """A data set read from the user's file (the fields of ``Data``, plus the
    class names in id order)."""

    name: str
    kind: str
    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    classes: tuple[str, ...]


def load_user_data(path: str, target: str | None, val_split: float,
                   seed: int) -> UserData:
    """Read ``path`` (``.csv`` or ``.npz``), take the ``target`` column (CSV:
    a header name or a column number; NPZ: an array name, default ``y``,
    the features being ``X`` or the one other array), and hold out
    ``val_split`` of the examples (at least one of each class where it can)
    as the validation split."""
    if not os.path.isfile(path):
        raise UsageError(f"--data {path!r}: no such file; give a .csv or .npz file")
    if not 0 < val_split < 1:
        raise UsageError(f"--val-split must be between 0 and 1 (a fraction of the "
                         f"examples), got {val_split}; e.g. 0.2")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".csv":
        X, labels = _read_csv(path, target)
    elif ext == ".npz":
        X, labels = _read_npz(path, target)
    else:
        raise UsageError(f"--data {path!r}: unknown file type {ext or '(none)'!r}; "
                         "give a .csv file (with a header row) or a .npz archive")
    if len(X) < 2:
        raise UsageError(f"--data {path!r} holds {len(X)} example(s); training and "
                         "validation need at least 2")
    if not np.isfinite(X).all():
        row, col = (int(i) for i in np.argwhere(~np.isfinite(X))[0])
        raise UsageError(f"--data {path!r}: example {row} has {X[row, col]} in "
                         f"feature {col}; drop or fill in such values first")
    classes, y = np.unique(labels, return_inverse=True)
    train, test = _split(len(y), y, val_split, seed)
    kind = "bits" if np.isin(X, (0.0, 1.0)).all() else "real"
    X = X.astype(np.float32)
    return UserData(os.path.basename(path), kind, (X[train], y[train].astype(np.int32)),
                    (X[test], y[test].astype(np.int32)),
                    tuple(str(c) for c in classes))


def _read_csv(path: str, target: str | None) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [r for r in csv.reader(f) if r]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise UsageError(f"--data {path!r} cannot be read as CSV: {e}") from None
    if len(rows) < 2:
        raise UsageError(f"--data {path!r} needs a header row and examples")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if target is None:
        raise UsageError(f"--data {path!r}: name the target column with --target "
                         f"(one of {header})")
    col = _column(target, header, path)
    features = [i for i in range(len(header)) if i != col]
    X = np.empty((len(body), len(features)), np.float64)
    labels = []
    for n, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise UsageError(f"--data {path!r}: line {n} has {len(row)} fields, the "
                             f"header {len(header)}")
        labels.append(row[col].strip())
        for j, i in enumerate(features):
            try:
                X[n - 2, j] = float(row[i])
            except ValueError:
                raise UsageError(
                    f"--data {path!r}: line {n}, column {header[i]!r} holds "
                    f"{row[i]!r}, not a number; features must be numbers (encode "
                    "categories as numbers first)") from None
    return X, _labels(np.asarray(labels))


def _column(target: str, header: list[str], path: str) -> int:
    if target in header:
        return header.index(target)
    if target.lstrip("-").isdigit() and -len(header) <= int(target) < len(header):
        return int(target) % len(header)
    raise UsageError(f"--target {target!r} is not a column of {path!r} (columns: "
                     f"{header}); give a name or a column number")


def _labels(raw: np.ndarray) -> np.ndarray:
    """Integer-looking labels as ints (so ``10`` sorts after ``9``)."""
    try:
        as_float = raw.astype(np.float64)
    except ValueError:
        return raw
    if np.all(as_float == np.round(as_float)):
        return as_float.astype(np.int64)
    raise UsageError("the target holds non-integer numbers "
                     f"(e.g. {raw[as_float != np.round(as_float)][0]}); catlearn "
                     "train classifies: give class labels")


def _read_npz(path: str, target: str | None) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise UsageError(f"--data {path!r} cannot be read as .npz: {e}") from None
    name = target or "y"
    if name not in arrays:
        raise UsageError(f"--data {path!r} has no array {name!r} (it has "
                         f"{sorted(arrays)}); name the target with --target")
    rest = [k for k in arrays if k != name]
    features = "X" if "X" in rest else (rest[0] if len(rest) == 1 else None)
    if features is None:
        raise UsageError(f"--data {path!r}: which array holds the features? Name "
                         f"it X (arrays: {sorted(arrays)})")
    X, y = arrays[features], arrays[name]
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise UsageError(f"--data {path!r}: {features} must be (examples, features) "
                         f"and {name} one label per example; got {X.shape} and "
                         f"{y.shape}")
    if X.dtype.kind not in "biuf":
        raise UsageError(f"--data {path!r}: {features} holds {X.dtype}, not numbers")
    return X.astype(np.float64), _labels(y)


def _split(n: int, y: np.ndarray, frac: float,
           seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified: ``frac`` of each class (rounded, at least one where the
    class has two or more examples) to the validation split."""
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = int(round(frac * len(idx)))
        k = min(max(k, 1 if len(idx) > 1 else 0), len(idx) - 1)
        held.extend(idx[:k].tolist())
    test = np.sort(np.asarray(held, np.int64))
    if len(test) == 0:
        raise UsageError(f"--val-split {frac} holds out no example of {n}; raise it")
    train = np.setdiff1d(np.arange(n), test)
    return train, test
