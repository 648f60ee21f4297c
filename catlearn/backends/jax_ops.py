"""JAX kernels of the smooth generators: forward and reverse, batch on axis 0.

Each reverse kernel takes the forward residuals and the output cotangent and
returns the input cotangents. Parameters arrive without the batch axis; the
weight gradient of a batched matmul is one matrix product (``x.T @ dy``), never
a batch of outer products.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

Array = Any


def matmul(w: Array, x: Array) -> Array:
    """``y = x @ w`` for ``w`` of shape ``(n_in, n_out)``, batched or not."""
    if w.ndim == 2:
        return x @ w
    return jnp.einsum("...i,...io->...o", x, w)


def matmul_reverse(w: Array, x: Array, dy: Array) -> tuple[Array, Array]:
    """``(dw, dx)`` for ``y = x @ w``."""
    if w.ndim == 2:
        dx = dy @ w.T
        dw = x.T @ dy if x.ndim == 2 else jnp.outer(x, dy)
        return dw, dx
    dx = jnp.einsum("...o,...io->...i", dy, w)
    dw = jnp.einsum("...i,...o->...io", x, dy)
    return dw, dx


def relu_reverse(y: Array, dy: Array) -> Array:
    return jnp.where(y > 0, dy, jnp.zeros_like(dy))


def sigmoid_reverse(y: Array, dy: Array) -> Array:
    return dy * y * (1 - y)


def tanh_reverse(y: Array, dy: Array) -> Array:
    return dy * (1 - y * y)


def softmax_reverse(y: Array, dy: Array) -> Array:
    return y * (dy - jnp.sum(dy * y, axis=-1, keepdims=True))


relu = jax.nn.relu
sigmoid = jax.nn.sigmoid
tanh = jnp.tanh


def softmax(x: Array) -> Array:
    return jax.nn.softmax(x, axis=-1)
