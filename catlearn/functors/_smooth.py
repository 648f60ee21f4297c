"""``Smooth``: the functor into JAX. Wires carry float arrays (bits relaxed to
[0, 1]); each generator's forward rule and reverse-derivative rule sit side by
side in one table.

Functoriality, on the nose (``F(f >> g) = F(f) ; F(g)``):

>>> import jax, jax.numpy as jnp, catlearn as cl
>>> F = cl.Smooth()
>>> f, g = cl.nn.dense(3, 4, name="f"), cl.nn.dense(4, 2, name="g")
>>> p = F(f >> g).init(jax.random.key(0))
>>> x = jnp.ones((5, 3))
>>> assert jnp.allclose(F(f >> g)(p, x), F(g)(p, F(f)(p, x)))
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ..backends import jax_ops as ops
from ..diagrams import (
    GATE_CHOICES,
    PASS_A,
    DropoutSpec,
    LutLayerSpec,
    LutSpec,
    Param,
    ParamSpec,
    Wire,
    spec_of,
)
from ._encoder_rules import SMOOTH_ENCODER_RULES
from ._eqx_rules import EQUINOX_RULES, initial
from ._functor import Functor
from ._fuse import FusedLayers, fuse
from ._fused_rules import relaxed_backend, relaxed_rule
from ._program import Program
from ._repeat import repeat
from ._rule import Rule
from ._scan import scan_rule
from ._smooth_logic import LOGIC_RULES
from ._wiring_rules import SMOOTH_WIRING_RULES


def _unary(fn: Any, rev: Any, doc: str) -> Rule:
    """An elementwise generator whose reverse needs only its output."""

    def forward(box: Any, x: Any) -> tuple[tuple[Any, ...], Any]:
        y = fn(x)
        return (y,), y

    def reverse(box: Any, y: Any, dy: Any) -> tuple[Any, ...]:
        return (rev(y, dy),)

    return Rule(forward, reverse, doc)


def _vjp_unary(fn: Any, doc: str) -> Rule:
    """An elementwise generator from ``jax.nn``: its reverse is ``jax.vjp``
    of ``fn`` at the input (kept as the residual)."""

    def forward(box: Any, x: Any) -> tuple[tuple[Any, ...], Any]:
        return (fn(x),), x

    def reverse(box: Any, x: Any, dy: Any) -> tuple[Any, ...]:
        return (jax.vjp(fn, x)[1](dy)[0],)

    return Rule(forward, reverse, doc)


JAX_NN = {
    "gelu": _vjp_unary(jax.nn.gelu, "jax.nn.gelu (tanh approx.);  R: jax.vjp"),
    "silu": _vjp_unary(jax.nn.silu, "y = x sigmoid(x);  R: jax.vjp"),
    "softplus": _vjp_unary(jax.nn.softplus, "y = log(1 + e^x);  R: dx = dy sigmoid(x)"),
    "elu": _vjp_unary(jax.nn.elu, "y = x > 0 ? x : e^x - 1;  R: jax.vjp"),
    "leaky_relu": _vjp_unary(jax.nn.leaky_relu, "slope 0.01;  R: jax.vjp"),
    "log_softmax": _vjp_unary(
        jax.nn.log_softmax, "y = x - logsumexp(x);  R: dx = dy - softmax(x) sum(dy)"),
}

EPS = 1e-5  # layer_norm's variance floor


def _layer_norm(g: Any, b: Any, x: Any) -> Any:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return g * (x - mean) / jnp.sqrt(var + EPS) + b


def _embed(table: Any, ids: Any) -> Any:
    """Row ``floor(id)`` of ``table`` per id (clipped to the table)."""
    idx = jnp.clip(jnp.floor(ids), 0, table.shape[0] - 1).astype(jnp.int32)
    return table[idx]


def _embed_reverse(box: Any, r: Any, dy: Any) -> tuple[Any, ...]:
    table, ids = r
    idx = jnp.clip(jnp.floor(ids), 0, table.shape[0] - 1).astype(jnp.int32)
    dtable = jnp.zeros_like(table).at[idx.reshape(-1)].add(
        dy.reshape(-1, table.shape[1]))
    return dtable, jnp.zeros_like(ids)  # ids are indices: no cotangent


def _dropout_forward(box: Any, x: Any, key: Any = None) -> Any:
    """Inverted dropout: with a key, keep each value with probability ``1 -
    rate`` and scale it by ``1 / (1 - rate)``; without one, the identity."""
    rate = DropoutSpec.of(box).rate
    if key is None or rate == 0:
        return (x,), None
    scale = jnp.where(jax.random.bernoulli(key, 1 - rate, x.shape), 1 / (1 - rate), 0)
    return (x * scale.astype(x.dtype),), scale.astype(x.dtype)


def _dropout_reverse(box: Any, scale: Any, dy: Any) -> tuple[Any, ...]:
    return (dy if scale is None else dy * scale,)


SMOOTH_RULES: dict[str, Rule] = {
    "dropout": Rule(
        _dropout_forward, _dropout_reverse,
        "y = x m / (1 - rate), m ~ Bernoulli(1 - rate) given a key, else y = x;  "
        "R: dx = dy m / (1 - rate)", keyed=True,
    ),
    "layer_norm": Rule(
        lambda box, g, b, x: ((_layer_norm(g, b, x),), (g, b, x)),
        lambda box, r, dy: jax.vjp(_layer_norm, *r)[1](dy),
        "y = g (x - mean) / sqrt(var + 1e-5) + b over the last axis;  R: jax.vjp",
    ),
    "embedding": Rule(
        lambda box, t, ids: ((_embed(t, ids),), (t, ids)),
        _embed_reverse,
        "y[i] = table[floor(ids[i])];  R: dtable[id] += dy[i], dids = 0",
    ),
    # name: Rule(forward(box, *xs) -> (ys, residuals), reverse(box, res, *dys) -> dxs)
    "matmul": Rule(
        lambda box, w, x: ((ops.matmul(w, x),), (w, x)),
        lambda box, r, dy: ops.matmul_reverse(r[0], r[1], dy),
        "y = x @ w;  R: (dw, dx) = (x^T dy, dy w^T)",
    ),
    "add": Rule(
        lambda box, a, b: ((a + b,), None),
        lambda box, r, dy: (dy, dy),
        "y = a + b;  R: (da, db) = (dy, dy)",
    ),
    "mul": Rule(
        lambda box, a, b: ((a * b,), (a, b)),
        lambda box, r, dy: (dy * r[1], dy * r[0]),
        "y = a * b;  R: (da, db) = (dy * b, dy * a)",
    ),
    "relu": _unary(ops.relu, ops.relu_reverse, "y = max(x, 0);  R: dx = dy [y > 0]"),
    "sigmoid": _unary(ops.sigmoid, ops.sigmoid_reverse, "R: dx = dy y (1 - y)"),
    "tanh": _unary(ops.tanh, ops.tanh_reverse, "R: dx = dy (1 - y^2)"),
    "softmax": _unary(ops.softmax, ops.softmax_reverse, "R: dx = y (dy - <dy, y>)"),
    **JAX_NN,  # gelu, silu, softplus, elu, leaky_relu, log_softmax
    **LOGIC_RULES,  # AND, OR, XOR, NOT, constants, lut, lut_layer, group_sum
    **SMOOTH_WIRING_RULES,  # reshape, select (learned wiring), tile, or_pool
    **SMOOTH_ENCODER_RULES,  # thermometer
    **EQUINOX_RULES,  # equinox modules as boxes (cl.nn.from_equinox)
}


FUSED = ("lut_layer", "group_sum", "reshape", "or_pool", "tile")
"""The generators a fused chain of relaxed LUT layers stands for."""


def fuse_relaxed(program: Program) -> Program:
    """``Smooth``'s fusion pass: each chain of relaxed LUT layers (with the
    ``reshape``/``or_pool`` steps between them and the ``group_sum`` ending
    it) runs as one step, features-first (:mod:`catlearn.backends.lutnet_relaxed`:
    the layout and rule of ``cl.Kernel(relaxed=True)``, 6-12x faster than
    the steps one by one). Skipped for ``Smooth(fused=False)`` and when the
    functor's rule for one of :data:`FUSED` is not the shipped one (a user's
    or a mutant's rule then runs as written)."""
    F = program.functor
    stock = all(F.rules.get(n) is SMOOTH_RULES.get(n) for n in FUSED)
    if not getattr(F, "fused", False) or not stock:
        return program
    return fuse(program)


class Smooth(Functor):
    """The smooth relaxation into JAX, trained by gradient descent.

    ``real`` wires carry float32 arrays; ``bits`` wires carry floats in [0, 1].
    ``fused`` (default ``True``): chains of relaxed LUT layers compile into
    one features-first step (:func:`fuse_relaxed`), the same meaning as the
    rule table's step by step, faster; ``Smooth(fused=False)`` runs the rule
    table box by box (the reference the fused step is law-checked against).
    """

    RULES = SMOOTH_RULES
    # fused LUT chains (fuse_relaxed), then runs of one box as one step (_repeat.py)
    PASSES: tuple[Any, ...] = (fuse_relaxed, repeat)
    SHARED_TABLES = True  # fuse tables shared by positions (cl.logic.conv)
    LINKS = ("reshape", "or_pool")  # a fused chain runs on through these

    def __init__(self, rules: Any = None, *, fused: bool = True):
        super().__init__(rules)
        if not isinstance(fused, bool):
            from .._errors import SemanticsError

            raise SemanticsError(
                f"Smooth(fused={fused!r}): fused must be True or False. Fix: leave "
                "it out (fused LUT chains) or pass fused=False (box by box)."
            )
        self.fused = fused

    def _options(self) -> dict[str, Any]:
        return {} if self.fused else {"fused": False}

    def fused_rule(self, box: FusedLayers) -> Rule:
        """The rule of a fused chain (:func:`fuse_relaxed`): the relaxed
        kernel's (XLA's forward; the reverse by the C++ kernel on a CPU where
        it builds, else XLA's)."""
        return relaxed_rule(box, {"backend": relaxed_backend()})

    def check_param_dtype(self, dtype: Any, wire: Wire, what: str) -> str | None:
        """Parameters are real numbers: a bool array (or, for a relaxed truth
        table on a ``bits`` wire, an int array) holds Boolean parameters,
        which read as reals would be silently wrong (a bit 1 is not the logit
        whose relaxation is 1). Inputs differ: a bool input is a relaxed bit."""
        kind = getattr(dtype, "kind", "")
        if wire.kind == "bits" and kind in ("b", "i", "u"):
            return (
                f"{what} is a relaxed truth table on {wire!r}: {self!r} expects "
                f"float logits (float32), but the array has dtype {dtype}, as "
                "Boolean parameters do (bits, which it would misread as logits). "
                "Fix: cl.relax(diagram, params) turns Boolean params into Smooth "
                "ones (exactly the same circuit), or run them under cl.Boolean()"
            )
        if kind == "b":
            return (
                f"{what} is typed {wire!r}: {self!r} expects real numbers "
                f"(float32), but the array has dtype {dtype}. Fix: "
                "p.astype(np.float32) if you mean 0.0 and 1.0"
            )
        return super().check_dtype(dtype, wire, what)

    def encode_input(self, x: Any, wire: Wire) -> Any:
        # bools, ints and half-precision floats become float32 (the parameters'
        # dtype: strict promotion would reject mixing them)
        x = jnp.asarray(x)
        if x.dtype not in (jnp.float32, jnp.float64):
            x = x.astype(jnp.float32)
        return x

    def encode_param(self, x: Any, wire: Wire) -> Any:
        return self.encode_input(x, wire)

    def encode_cotangent(self, d: Any, wire: Wire, batched: bool) -> Any:
        return self.encode_input(d, wire)

    def param_shape(self, box: Param) -> tuple[int, ...]:
        """A table relaxed by gate choice (``softmax``, ``gumbel``) holds 16
        logits per gate where the Boolean table has 4 bits; a select's
        choices relaxed by ``softmax`` hold ``2^w`` logits per choice where the
        Boolean parameter has the ``w`` bits of an index."""
        shape = tuple(box.cod.inside[0].shape)
        if ParamSpec.of(box).relax not in GATE_CHOICES:
            return shape
        return (4 * shape[0],) if len(shape) == 1 else (shape[0], 1 << shape[1])

    def recurrent_rule(self, box: Any) -> Rule:
        """``lax.scan`` of the cell over the steps (``_scan.py``)."""
        return scan_rule(self, box)

    def is_stochastic(self, box: Any) -> bool:
        if box.name == "recurrent":  # its rule is keyed iff the cell draws
            return True
        if box.name == "dropout":
            return DropoutSpec.of(box).rate > 0
        if isinstance(box, FusedLayers):
            return any(s.relax == "gumbel" for s in box.luts)
        spec = spec_of(box) if box.name in ("lut", "lut_layer") else None
        return isinstance(spec, LutSpec | LutLayerSpec) and spec.relax == "gumbel"

    def init_param(self, box: Param, key: jax.Array) -> jax.Array:
        shape, spec = self.param_shape(box), ParamSpec.of(box)
        init, scale = spec.init, spec.scale
        if init.startswith("equinox:"):  # an equinox module's own array
            return jnp.asarray(initial(init))
        if init == "residual" and spec.relax in GATE_CHOICES:
            logits = jnp.zeros((shape[0] // 16, 16), jnp.float32)
            return logits.at[:, PASS_A].set(scale).reshape(shape)  # gate "a"
        if init == "residual":  # 2-input tables that pass their first input
            pattern = jnp.array([-1.0, -1.0, 1.0, 1.0], jnp.float32)
            return scale * jnp.tile(pattern, shape[0] // 4)
        if init == "normal":
            return scale * jax.random.normal(key, shape, jnp.float32)
        if init == "uniform":
            return jax.random.uniform(key, shape, jnp.float32, -scale, scale)
        if init == "ones":
            return jnp.ones(shape, jnp.float32)
        return jnp.zeros(shape, jnp.float32)
