"""Helpers of the fuzz suites (tests/test_fuzz.py, tests/test_fuzz_files.py):
the deterministic settings with a bounded example count, the check that an
error is a CatlearnError naming its object and a fix, and deep snapshots to
prove a call left its inputs alone."""

from __future__ import annotations

import copy
from typing import Any

import jax
import numpy as np
from hypothesis import HealthCheck, event, settings
from hypothesis.control import currently_in_test_context

import catlearn as cl

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


def fuzz(n: int) -> settings:
    """The loaded (deterministic) profile, with ``n`` examples."""
    return settings(max_examples=n, suppress_health_check=SLOW)


def fails_well(err: BaseException, *names: str) -> str:
    """``err`` is a CatlearnError naming ``names`` and a fix; its message."""
    assert isinstance(err, cl.CatlearnError), f"{type(err).__name__}: {err}"
    if currently_in_test_context():
        event(type(err).__name__)
    msg = str(err)
    assert "Fix:" in msg, msg
    for name in names:
        assert name in msg, (name, msg)
    return msg


def snapshot(x: Any) -> Any:
    """A deep copy of arrays, dicts, lists and tuples, to compare after a call."""
    return copy.deepcopy(jax.tree_util.tree_map(np.array, x, is_leaf=_is_leaf))


def _is_leaf(x: Any) -> bool:
    return x is None or isinstance(x, str | bytes)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same(a[k], b[k]) for k in a)
        )
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    a, b = np.asarray(a), np.asarray(b)
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    )


# -- crafted zip files (saved models and checkpoints) --------------------------------
def rezip(
    blob: bytes,
    replace: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
    deflate: tuple[str, ...] = (),
) -> bytes:
    """The zip ``blob`` with entries replaced (or added), dropped or DEFLATEd."""
    import io
    import zipfile

    replace = dict(replace or {})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as zin, zipfile.ZipFile(out, "w") as zout:
        for name in zin.namelist():
            if name not in drop:
                data = replace.pop(name, None)
                data = zin.read(name) if data is None else data
                how = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
                zout.writestr(name, data, compress_type=how)
        for name, data in replace.items():
            zout.writestr(name, data)
    return out.getvalue()


def npy(array: Any) -> bytes:
    """The ``.npy`` bytes of ``array`` (any dtype numpy writes without pickle)."""
    import io

    f = io.BytesIO()
    np.lib.format.write_array(f, np.asarray(array), allow_pickle=False)
    return f.getvalue()


def entries(blob: bytes) -> dict[str, bytes]:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        return {n: z.read(n) for n in z.namelist()}
