"""The values in catlearn's files besides the diagram: parameter arrays in
the format's dtypes, and metadata checked to be JSON that loads back equal.
(The diagram's JSON codec lives with the diagrams: ``diagrams/_codec.py``.)
:mod:`catlearn.io` writes them into model files.

>>> as_array("m.npz", "w", [1.0, 2.0]).dtype
dtype('float64')
>>> json_problem({"lr": float("nan")})
"metadata['lr'] is nan"
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._zipfile import DTYPES, FormatError, clip


def as_array(path: str, name: Any, value: Any) -> np.ndarray:
    """A little-endian copy of ``value`` in one of the format's dtypes
    (:data:`catlearn._zipfile.DTYPES`): big-endian arrays are converted, other
    dtypes refused -- as :func:`load` refuses them."""
    try:
        a = np.array(value, copy=True)  # a copy: the caller's params stay untouched
    except (TypeError, ValueError, OverflowError, RuntimeError) as e:
        raise FormatError(
            f"cannot save to {path!r}: parameter {clip(name, 80)} is not an array "
            f"({type(e).__name__}: {clip(str(e), 200)}). Fix: pass numpy or JAX "
            "arrays, e.g. prog.init(key)."
        ) from e
    if a.dtype.kind in "biuf" and a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    if a.dtype.str not in DTYPES or np.dtype(a.dtype.str) != a.dtype:
        raise FormatError(
            f"cannot save to {path!r}: parameter {clip(name, 80)} has dtype "
            f"{clip(str(a.dtype), 80)}, which the save format does not hold (it "
            f"holds {', '.join(DTYPES)}). Fix: convert it to bool, an int or a "
            "float type (e.g. a.astype(np.float32)) before saving."
        )
    return a


def json_problem(value: Any, where: str = "metadata", depth: int = 0) -> str:
    """'' if ``value`` is JSON that :func:`load` gives back equal, else what is
    not: a non-str key, a non-finite float, a type JSON does not hold."""
    if depth > 100:
        return f"{where} is nested more than 100 deep"
    if value is None or isinstance(value, bool | int | str):
        return ""
    if isinstance(value, float):
        return "" if np.isfinite(value) else f"{where} is {value!r}"
    if isinstance(value, list):
        for i, v in enumerate(value):
            problem = json_problem(v, f"{where}[{i}]", depth + 1)
            if problem:
                return problem
        return ""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"{where} has the key {clip(k, 60)} ({type(k).__name__})"
            problem = json_problem(v, f"{where}[{clip(k, 60)!r}]", depth + 1)
            if problem:
                return problem
        return ""
    return f"{where} is a {type(value).__name__}"
