"""The rules of the input encoder ``thermometer`` (real features to bits).

- ``Boolean``: ``y_(i, l) = x_i > t_(i, l)``, exactly, on real inputs laid out
  as ``Boolean`` lays out real values (one column per example, padded to
  whole words). It has no Z2 derivative in ``x`` (a real input): its reverse
  is the zero cotangent, so RDA trains what comes after it.
- ``Smooth``: with ``tau = 0`` the same step (its derivative is 0 almost
  everywhere, and the reverse says so); with ``tau > 0`` the sigmoid
  ``sigma((x - t) / tau)``, whose reverse is exact.

>>> import numpy as np, catlearn as cl
>>> enc = cl.logic.thermometer(thresholds=[[0.0, 1.0], [5.0, 6.0]])
>>> x = np.array([[0.5, 7.0], [2.0, 5.5]], np.float32)
>>> cl.Boolean()(enc)({}, x).astype(int).tolist()
[[1, 0, 1, 1], [1, 1, 1, 0]]
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..backends import bits as B
from ..diagrams import ThermometerSpec
from ._rule import Rule

Array = Any


def _table(box: Any) -> tuple[np.ndarray, float]:
    spec = ThermometerSpec.of(box)
    return np.asarray(spec.thresholds, np.float32), spec.tau


def _levels_first(box: Any) -> bool:
    return ThermometerSpec.of(box).order == "level"


def _smooth_forward(box: Any, x: Array) -> Any:
    t, tau = _table(box)
    z = x[..., :, None] - t  # (..., n, levels)
    y = jax.nn.sigmoid(z / tau) if tau > 0 else (z > 0).astype(x.dtype)
    out = jnp.swapaxes(y, -1, -2) if _levels_first(box) else y
    return (out.reshape(*x.shape[:-1], -1),), (x, y)


def _smooth_reverse(box: Any, res: Any, dy: Array) -> Any:
    x, y = res
    t, tau = _table(box)
    if tau == 0:
        return (jnp.zeros_like(x),)
    if _levels_first(box):
        dy = jnp.swapaxes(dy.reshape(*y.shape[:-2], y.shape[-1], y.shape[-2]), -1, -2)
    d = dy.reshape(y.shape) * y * (1 - y) / tau  # y: (..., n, levels)
    return (jnp.sum(d, axis=-1),)


def _boolean_forward(box: Any, x: Array) -> Any:
    t, _ = _table(box)
    cols = -(-x.shape[1] // B.WORD) * B.WORD  # whole words (a mask if unbatched)
    x = jnp.broadcast_to(x, (x.shape[0], cols)) if x.shape[1] == 1 else x
    rows = x[:, None, :] > t[:, :, None]  # (n, levels, examples)
    if _levels_first(box):
        rows = jnp.swapaxes(rows, 0, 1)
    rows = rows.reshape(-1, x.shape[1])
    return (B.pack_rows(rows.astype(jnp.int32)),), x.shape


def _boolean_reverse(box: Any, shape: Any, dy: Array) -> Any:
    return (jnp.zeros(shape, jnp.float32),)


SMOOTH_ENCODER_RULES = {"thermometer": Rule(
    _smooth_forward, _smooth_reverse,
    "y = [x > t] (tau = 0) or sigma((x - t) / tau);  R: 0, or dy y (1 - y) / tau",
)}
BOOLEAN_ENCODER_RULES = {"thermometer": Rule(
    _boolean_forward, _boolean_reverse,
    "y = [x > t];  R: 0 (a real input has no Z2 derivative)",
)}
