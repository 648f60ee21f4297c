"""The logic generators under ``Smooth``: relaxed to [0, 1] by the product
t-norm, each with its reverse derivative beside it.

    AND  a b            R = (dz b, dz a)
    OR   a + b - a b    R = (dz (1 - b), dz (1 - a))
    XOR  a + b - 2 a b  R = (dz (1 - 2b), dz (1 - 2a))
    NOT  1 - a          R = -dz
    LUT  s00 (1-a)(1-b) + s01 (1-a) b + s10 a (1-b) + s11 a b,   s = squash(w)

By default a LUT's table is the input-wise parametrization of "Light
Differentiable Logic Gate Networks" (Rüttgers et al., 2025): four real
parameters ``w`` per gate, each truth-table entry squashed into [0, 1] by
``(1 + sin w) / 2`` (default) or ``sigmoid(w)``. With ``relax="softmax"`` the
table is difflogic's mixture of the 16 gates, ``softmax(w) @ GATES``; with
``relax="gumbel"`` it is the hard gate picked by Gumbel-noised logits, trained
straight through (:func:`tables`). At 0/1 inputs with hard tables (``w =
±π/2`` for sin) the LUT computes its Boolean gate exactly.

A lut layer of ``k > 2`` inputs (``n_inputs=k``) reads its ``2^k`` squashed
entries by their multilinear extension, one relaxed multiplexer ``(1 - x) lo
+ x hi`` per input (:func:`multilinear`); its reverse is ``jax.vjp``.

>>> import jax.numpy as jnp, catlearn as cl
>>> prog = cl.Smooth()(cl.logic.XOR)
>>> prog({}, jnp.array([[0.0], [1.0], [1.0]]), jnp.array([[1.0], [0.5], [1.0]]))
Array([[1. ],
       [0.5],
       [0. ]], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ..diagrams import GATE_CHOICES, GroupSumSpec, LutLayerSpec, LutSpec, gate_tables
from ._rule import Rule

Array = Any


def squash(w: Array, relax: str) -> tuple[Array, Array]:
    """The relaxed table ``s`` and its derivative ``ds/dw``, entry by entry
    (``sin`` and ``sigmoid``)."""
    if relax == "sigmoid":
        s = jax.nn.sigmoid(w)
        return s, s * (1 - s)
    return 0.5 + 0.5 * jnp.sin(w), 0.5 * jnp.cos(w)


GATES = jnp.asarray(gate_tables())  # (16, 4): the 16 gates' truth tables


def tables(w: Array, n: int, relax: str, key: Any = None) -> tuple[Array, Array]:
    """Raw parameters ``w`` of ``n`` gates -> the tables ``(..., n, 4)`` the
    forward pass uses, and what :func:`pullback` needs.

    ``softmax``: ``s = softmax(w) @ GATES`` over 16 logits per gate (a LUT is
    linear in its table, so this is difflogic's mixture of 16 relaxed gates).
    ``gumbel``: the forward table is the hard gate ``GATES[argmax(w + g)]``
    with Gumbel noise ``g`` drawn from ``key`` (none without a key); the
    backward pass is the softmax's (straight-through)."""
    if relax not in GATE_CHOICES:
        s, ds_dw = squash(w.reshape(*w.shape[:-1], n, 4), relax)
        return s, ds_dw
    logits = w.reshape(*w.shape[:-1], n, 16)
    if relax == "gumbel" and key is not None:
        logits = logits + jax.random.gumbel(key, logits.shape, logits.dtype)
    p = jax.nn.softmax(logits, axis=-1)
    if relax == "softmax":
        return p @ GATES, p
    hard = jax.nn.one_hot(jnp.argmax(logits, axis=-1), 16, dtype=p.dtype)
    return hard @ GATES, p


def pullback(relax: str, aux: Array, dt: Array) -> Array:
    """Table cotangents ``dt (..., n, 4)`` -> raw parameter cotangents, flat."""
    if relax not in GATE_CHOICES:
        dw = dt * aux
    else:  # through s = p @ GATES and p = softmax(logits)
        dp = dt @ GATES.T
        dw = aux * (dp - jnp.sum(dp * aux, axis=-1, keepdims=True))
    return dw.reshape(*dw.shape[:-2], dw.shape[-2] * dw.shape[-1])


def _minterms(a: Array, b: Array) -> tuple[Array, Array, Array, Array]:
    na, nb = 1 - a, 1 - b
    return na * nb, na * b, a * nb, a * b


def _lut(s: Array, a: Array, b: Array) -> Array:
    """``s`` of shape ``(..., g, 4)`` (tables), ``a, b`` of shape ``(..., g)``."""
    m = _minterms(a, b)
    return sum(s[..., i] * m[i] for i in range(4))


def _lut_reverse(
    s: Array, a: Array, b: Array, dz: Array
) -> tuple[Array, Array, Array]:
    """Cotangents of the tables and of the inputs. Each is summed down to the
    shape of its primal (:func:`sum_to`): tables shared by a batch get the sum
    over it, per-example tables their own, and inputs fed only by parameters
    (no batch axis) stay unbatched."""
    m = _minterms(a, b)
    dt = jnp.stack([sum_to(dz * mi, s.shape[:-1]) for mi in m], axis=-1)
    s0, s1, s2, s3 = (s[..., i] for i in range(4))
    da = dz * ((s2 - s0) * (1 - b) + (s3 - s1) * b)
    db = dz * ((s1 - s0) * (1 - a) + (s3 - s2) * a)
    return dt, sum_to(da, a.shape), sum_to(db, b.shape)


def sum_to(d: Array, shape: tuple[int, ...]) -> Array:
    """``d`` summed over the axes that broadcasting added to an array of
    ``shape``: the reverse derivative of that broadcast (leading axes, then
    axes of size 1)."""
    lead = d.ndim - len(shape)
    if lead > 0:
        d = jnp.sum(d, axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and d.shape[i] != 1)
    return jnp.sum(d, axis=axes, keepdims=True) if axes else d


def bit_order(ins: Any) -> list[Any]:
    """A gate's inputs ``x_0 .. x_{k-1}`` in the order of the bits of its table
    index ``2 x_0 + x_1 + sum_{j>=2} 2^j x_j``: ``x_1, x_0, x_2, ...``."""
    return [ins[1], ins[0], *ins[2:]]


def multilinear(s: Array, xs: list[Array]) -> Array:
    """Tables ``s (..., g, 2^k)`` read at inputs ``xs`` (``k`` arrays ``(...,
    g)``, ``xs[p]`` the index's bit ``p``): the multilinear extension, one
    multiplexer ``(1 - x) lo + x hi`` per table bit, highest bit first."""
    for p in reversed(range(len(xs))):
        s = s.reshape(*s.shape[:-1], 2, 1 << p)
        x = xs[p][..., None]
        s = s[..., 0, :] * (1 - x) + s[..., 1, :] * x
    return s[..., 0]


def _lut_k(sp: LutLayerSpec, w: Array, x: Array) -> Array:
    s, _ = squash(w.reshape(*w.shape[:-1], sp.n_out, sp.entries), sp.relax)
    return multilinear(s, bit_order([x[..., i] for i in sp.wiring]))


def _lut_layer_forward(
    box: Any, w: Array, x: Array, key: Any = None
) -> tuple[tuple[Array], Any]:
    sp = LutLayerSpec.of(box)
    if sp.k > 2:  # gates of k inputs: the reverse is jax.vjp of this
        return (_lut_k(sp, w, x),), (w, x)
    ia, ib = sp.wiring
    s, aux = tables(w, sp.n_out, sp.relax, key)
    a, b = x[..., ia], x[..., ib]
    return (_lut(s, a, b),), (s, aux, a, b)


def _lut_layer_reverse(box: Any, res: Any, dz: Array) -> tuple[Array, Array]:
    sp = LutLayerSpec.of(box)
    if sp.k > 2:
        _, pull = jax.vjp(lambda w, x: _lut_k(sp, w, x), *res)
        dw, dx = pull(dz)
        return dw, dx
    s, aux, a, b = res
    dt, da, db = _lut_reverse(s, a, b, dz)
    ia, ib = sp.wiring
    dx = jnp.zeros((*da.shape[:-1], sp.n_in), da.dtype)
    dx = dx.at[..., ia].add(da).at[..., ib].add(db)
    return pullback(sp.relax, aux, dt), dx


def _lut_gate_forward(box: Any, w: Array, a: Array, b: Array, key: Any = None) -> Any:
    s, aux = tables(w, 1, LutSpec.of(box).relax, key)
    return (_lut(s, a, b),), (s, aux, a, b)


def _lut_gate_reverse(box: Any, res: Any, dz: Array) -> tuple[Array, Array, Array]:
    s, aux, a, b = res
    dt, da, db = _lut_reverse(s, a, b, dz)
    return pullback(LutSpec.of(box).relax, aux, dt), da, db


def _group_sum_forward(box: Any, x: Array) -> tuple[tuple[Array], Any]:
    g = GroupSumSpec.of(box)
    k, tau = g.k, g.tau
    groups = x.reshape(*x.shape[:-1], k, x.shape[-1] // k)
    return (jnp.sum(groups, axis=-1) / tau,), x.shape[-1] // k


def _group_sum_reverse(box: Any, size: int, dz: Array) -> tuple[Array]:
    return (jnp.repeat(dz / GroupSumSpec.of(box).tau, size, axis=-1),)


def _const(value: float) -> Rule:
    return Rule(
        lambda box: ((jnp.full((1,), value, jnp.float32),), None),
        lambda box, r, dz: (),
        f"constant {value}",
    )


LOGIC_RULES: dict[str, Rule] = {
    "AND": Rule(
        lambda box, a, b: ((a * b,), (a, b)),
        lambda box, r, dz: (dz * r[1], dz * r[0]),
        "a b",
    ),
    "OR": Rule(
        lambda box, a, b: ((a + b - a * b,), (a, b)),
        lambda box, r, dz: (dz * (1 - r[1]), dz * (1 - r[0])),
        "a + b - a b",
    ),
    "XOR": Rule(
        lambda box, a, b: ((a + b - 2 * a * b,), (a, b)),
        lambda box, r, dz: (dz * (1 - 2 * r[1]), dz * (1 - 2 * r[0])),
        "a + b - 2 a b",
    ),
    "NOT": Rule(lambda box, a: ((1 - a,), None), lambda box, r, dz: (-dz,), "1 - a"),
    "ZERO": _const(0.0),
    "ONE": _const(1.0),
    "lut": Rule(
        _lut_gate_forward, _lut_gate_reverse, "relaxed 2-input table", keyed=True
    ),
    "lut_layer": Rule(
        _lut_layer_forward, _lut_layer_reverse, "relaxed tables", keyed=True
    ),
    "group_sum": Rule(_group_sum_forward, _group_sum_reverse, "counts / tau"),
}
