"""The rules of the wiring generators, ``reshape`` and ``select``, under
``Smooth`` and ``Boolean`` (the Kernels inherit them: a fused chain of LUT
layers may follow a ``select`` and read its output).

``reshape`` changes a wire's shape, row-major, moving no value: ``Smooth``
reshapes the array, ``Boolean`` carries every bits wire flat (``Boolean``'s
layout), so there it is the identity.

``select`` is learned wiring: output ``s`` reads input ``i_s``, whose
``w`` bits ``(bit_0, ..., bit_{w-1})`` (least significant first) are row ``s``
of the parameter; an index past the inputs reads 0.

- ``Boolean``: ``y_s = x[i_s]``. As a polynomial over Z2, ``y_s = sum_j x_j
  prod_b [bit_b = j_b]``, multilinear, so its reverse derivative is
  ``dx_j = XOR_{s: i_s = j} dy_s`` (a scatter-XOR) and, for index bit ``b``,
  ``d bit_b = dy_s (x[i_s] XOR x[i_s XOR 2^b])``. Each example may carry its
  own indices (parameters fed by inputs), so the rule unpacks indices and
  inputs to one column per example.
- ``Smooth``: the multilinear extension of the same polynomial: each index
  bit is relaxed to ``p_b = squash(theta_b)`` (as a LUT's table entries are),
  input ``j`` gets the weight ``P_sj = prod_b (p_b if j_b else 1 - p_b)``,
  a distribution over the ``2^w`` indices, and ``y = P x``. At hard index
  bits (``theta = ±pi/2`` for sin) it is the Boolean gather exactly. The
  reverse is ``jax.vjp`` of that forward pass.

>>> import jax.numpy as jnp, numpy as np, catlearn as cl
>>> d = cl.logic.select(4, 2, name="w")            # choose 2 of 4 wires
>>> idx = np.array([[True, True], [False, False]])  # indices 3 and 0
>>> x = np.array([[1, 0, 0, 0], [0, 0, 0, 1]], bool)
>>> cl.Boolean()(d)({"w.wiring": idx}, x).tolist()
[[False, True], [True, False]]
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ..backends import bits as B
from ..diagrams import SelectSpec, tile_axes, unwindows, windows
from ._rule import Rule
from ._smooth_logic import squash

Array = Any


# -- reshape ------------------------------------------------------------------------
def _reshape(x: Array, old: tuple[int, ...], new: tuple[int, ...]) -> Array:
    return x.reshape(*x.shape[: x.ndim - len(old)], *new)


def _shapes(box: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return box.dom.inside[0].shape, box.cod.inside[0].shape


SMOOTH_RESHAPE = Rule(
    lambda box, x: ((_reshape(x, *_shapes(box)),), None),
    lambda box, r, dy: (_reshape(dy, *reversed(_shapes(box))),),
    "y = x.reshape(new);  R: dx = dy.reshape(old)",
)
BOOLEAN_RESHAPE = Rule(
    lambda box, x: ((x,), None),
    lambda box, r, dy: (dy,),
    "bits are carried flat: the identity",
)


# -- select: Smooth ------------------------------------------------------------------
def choices(theta: Array, spec: SelectSpec) -> Array:
    """Raw index bits ``(..., n_sel, w)`` -> the weight of every input,
    ``(..., n_sel, n_in)`` (each row sums to at most 1: the indices past the
    inputs read 0). ``softmax``: ``theta`` holds ``2^w`` logits per choice."""
    if spec.relax == "softmax":
        return jax.nn.softmax(theta, axis=-1)[..., : spec.n_in]
    p, _ = squash(theta, spec.relax)
    weights = jnp.ones((*theta.shape[:-1], 1), p.dtype)
    for b in range(spec.w):  # bit b: the upper half of the indices so far
        pb = p[..., b : b + 1]
        weights = jnp.concatenate([weights * (1 - pb), weights * pb], axis=-1)
    return weights[..., : spec.n_in]


def _smooth_select(theta: Array, x: Array, spec: SelectSpec) -> Array:
    return jnp.einsum("...si,...i->...s", choices(theta, spec), x)


def _smooth_select_forward(box: Any, theta: Array, x: Array) -> Any:
    return (_smooth_select(theta, x, SelectSpec.of(box)),), (theta, x)


def _smooth_select_reverse(box: Any, res: Any, dy: Array) -> Any:
    spec = SelectSpec.of(box)
    _, pullback = jax.vjp(lambda t, x: _smooth_select(t, x, spec), *res)
    return pullback(dy)


SMOOTH_SELECT = Rule(
    _smooth_select_forward,
    _smooth_select_reverse,
    "y = P x, P_sj = prod_b (p_b if j_b else 1 - p_b);  R: jax.vjp",
)


# -- select: Boolean -------------------------------------------------------------------
def _columns(rows: Array, cols: int) -> Array:
    """Rows of one column per example; a mask's (32 equal columns) widened."""
    if rows.shape[1] == cols:
        return rows
    return jnp.broadcast_to(rows[:, :1], (rows.shape[0], cols))


def _unpacked(box: Any, t: Array, x: Array) -> tuple[Array, Array, SelectSpec]:
    """The indices ``(n_sel, E)`` and the inputs padded to ``2^w`` rows
    ``(2^w, E)``, one column per example (``E``: 32 per word)."""
    spec = SelectSpec.of(box)
    cols = B.WORD * max(t.shape[1], x.shape[1])
    bits = _columns(B.unpack_rows(t), cols).reshape(spec.n_sel, spec.w, cols)
    idx = jnp.sum(bits << jnp.arange(spec.w)[:, None], axis=1)
    xs = _columns(B.unpack_rows(x), cols)
    xs = jnp.pad(xs, ((0, (1 << spec.w) - spec.n_in), (0, 0)))
    return idx, xs, spec


def _boolean_select_forward(box: Any, t: Array, x: Array) -> Any:
    idx, xs, _ = _unpacked(box, t, x)
    return (B.pack_rows(jnp.take_along_axis(xs, idx, axis=0)),), (t, x)


def _boolean_select_reverse(box: Any, res: Any, dy: Array) -> Any:
    idx, xs, spec = _unpacked(box, *res)
    d = _columns(B.unpack_rows(dy), idx.shape[1])
    cols = jnp.arange(idx.shape[1])[None, :]
    dx = jnp.zeros_like(xs).at[idx, cols].add(d) & 1  # XOR of the chosen ones
    here = jnp.take_along_axis(xs, idx, axis=0)
    dbits = jnp.stack(
        [d & (jnp.take_along_axis(xs, idx ^ (1 << b), axis=0) ^ here)
         for b in range(spec.w)], axis=1,
    )  # fmt: skip
    dt = dbits.reshape(spec.n_sel * spec.w, -1)
    return B.pack_rows(dt), B.pack_rows(dx[: spec.n_in])


BOOLEAN_SELECT = Rule(
    _boolean_select_forward,
    _boolean_select_reverse,
    "y_s = x[i_s];  R: dx scatter-XOR, d bit_b = dy (x[i] ^ x[i ^ 2^b])",
)

# -- tile: one value shared by r positions ---------------------------------------------
def _smooth_tile_forward(box: Any, x: Array) -> Any:
    a, r, b = tile_axes(box)
    lead = x.shape[: x.ndim - len(box.dom.inside[0].shape)]
    y = jnp.broadcast_to(x.reshape(*lead, a, 1, b), (*lead, a, r, b))
    return (y.reshape(*lead, *box.cod.inside[0].shape),), None


def _smooth_tile_reverse(box: Any, res: Any, dy: Array) -> Any:
    a, r, b = tile_axes(box)
    lead = dy.shape[: dy.ndim - len(box.cod.inside[0].shape)]
    dx = jnp.sum(dy.reshape(*lead, a, r, b), axis=-2)
    return (dx.reshape(*lead, *box.dom.inside[0].shape),)


def _boolean_tile_forward(box: Any, x: Array) -> Any:
    a, r, b = tile_axes(box)
    y = jnp.broadcast_to(x.reshape(a, 1, b, x.shape[-1]), (a, r, b, x.shape[-1]))
    return (y.reshape(a * r * b, x.shape[-1]),), None


def _boolean_tile_reverse(box: Any, res: Any, dy: Array) -> Any:
    a, r, b = tile_axes(box)
    dx = jnp.bitwise_xor.reduce(dy.reshape(a, r, b, dy.shape[-1]), axis=1)
    return (dx.reshape(a * b, dy.shape[-1]),)


# -- or_pool: the OR of each window ---------------------------------------------------
def _smooth_or(box: Any, x: Array) -> Array:
    lead = x.shape[: x.ndim - len(box.dom.inside[0].shape)]
    return 1 - jnp.prod(1 - windows(box, x, lead), axis=-1)


SMOOTH_OR_POOL = Rule(
    lambda box, x: ((_smooth_or(box, x),), x),
    lambda box, x, dy: jax.vjp(lambda v: _smooth_or(box, v), x)[1](dy),
    "y = 1 - prod (1 - x) over the window;  R: jax.vjp",
)


def _boolean_or_pool_forward(box: Any, x: Array) -> Any:
    w = windows(box, x.T, (x.shape[1],))  # examples' words lead
    return (jnp.bitwise_or.reduce(w, axis=-1).reshape(x.shape[1], -1).T,), x


def _boolean_or_pool_reverse(box: Any, x: Array, dy: Array) -> Any:
    """``d x_i = dy AND (no other bit of the window is 1)``: the formal
    derivative of ``1 + prod (1 + x_j)``."""
    words = max(x.shape[1], dy.shape[1])
    x = jnp.broadcast_to(x, (x.shape[0], words))
    w = windows(box, x.T, (words,))  # (words, c, *m, K)
    zero = ~w
    k = w.shape[-1]
    others = jnp.stack([
        jnp.bitwise_and.reduce(jnp.delete(zero, i, axis=-1, assume_unique_indices=True),
                               axis=-1) if k > 1 else jnp.full(zero.shape[:-1], B.ONES)
        for i in range(k)], axis=-1)  # fmt: skip
    d = jnp.broadcast_to(dy, (dy.shape[0], words)).T.reshape(*others.shape[:-1], 1)
    return (unwindows(box, d & others, (words,)).reshape(words, -1).T,)


BOOLEAN_OR_POOL = Rule(
    _boolean_or_pool_forward,
    _boolean_or_pool_reverse,
    "y = OR of the window;  R: dx_i = dy AND NOR of the others",
)

# -- sort: the count of ones, in unary ------------------------------------------------
def _smooth_sort(x: Array) -> Array:
    """``y_j = P(more than j of the inputs are 1)``, the inputs independent
    with ``P(x_i = 1) = x_i``: the multilinear extension of the Boolean
    sort, by the distribution of the count, one input at a time."""
    n = x.shape[-1]
    q = jnp.zeros((*x.shape[:-1], n + 1), x.dtype).at[..., 0].set(1)
    shift = [(0, 0)] * (x.ndim - 1) + [(1, 0)]

    def one_more(q: Array, xi: Array) -> tuple[Array, None]:
        xi = xi[..., None]  # q_c = P(c ones among the inputs so far)
        return q * (1 - xi) + jnp.pad(q[..., :-1], shift) * xi, None

    q, _ = jax.lax.scan(one_more, q, jnp.moveaxis(x, -1, 0))
    return 1 - jnp.cumsum(q, axis=-1)[..., :n]


SMOOTH_SORT = Rule(
    lambda box, x: ((_smooth_sort(x),), x),
    lambda box, x, dy: jax.vjp(_smooth_sort, x)[1](dy),
    "y_j = P(count > j), the count's distribution by inputs;  R: jax.vjp",
)


def _counts(x: Array) -> Array:
    """The ones of each example ``(E,)``, and the inputs unpacked ``(n, E)``."""
    xs = B.unpack_rows(x)
    return jnp.sum(xs, axis=0), xs


def _boolean_sort_forward(box: Any, x: Array) -> Any:
    c, xs = _counts(x)
    ys = (c[None, :] > jnp.arange(x.shape[0])[:, None]).astype(xs.dtype)
    return (B.pack_rows(ys),), x


def _boolean_sort_reverse(box: Any, x: Array, dy: Array) -> Any:
    """``d x_i = dy_{c'}`` with ``c'`` the ones among the other inputs: output
    ``j`` changes with ``x_i`` exactly when ``j = c'`` (``dy_n = 0``)."""
    words = max(x.shape[1], dy.shape[1])
    c, xs = _counts(jnp.broadcast_to(x, (x.shape[0], words)))
    d = jnp.pad(B.unpack_rows(jnp.broadcast_to(dy, (dy.shape[0], words))),
                ((0, 1), (0, 0)))
    others = c[None, :] - xs  # (n, E)
    return (B.pack_rows(jnp.take_along_axis(d, others, axis=0)),)


BOOLEAN_SORT = Rule(
    _boolean_sort_forward,
    _boolean_sort_reverse,
    "y_j = [count > j];  R: dx_i = dy at the count of the other inputs",
)

SMOOTH_TILE = Rule(_smooth_tile_forward, _smooth_tile_reverse,
                   "y = x repeated r times;  R: dx = sum of the copies' dy")
BOOLEAN_TILE = Rule(_boolean_tile_forward, _boolean_tile_reverse,
                    "y = x repeated r times;  R: dx = XOR of the copies' dy")

SMOOTH_WIRING_RULES = {"reshape": SMOOTH_RESHAPE, "select": SMOOTH_SELECT,
                       "tile": SMOOTH_TILE, "or_pool": SMOOTH_OR_POOL,
                       "sort": SMOOTH_SORT}
BOOLEAN_WIRING_RULES = {"reshape": BOOLEAN_RESHAPE, "select": BOOLEAN_SELECT,
                        "tile": BOOLEAN_TILE, "or_pool": BOOLEAN_OR_POOL,
                        "sort": BOOLEAN_SORT}
