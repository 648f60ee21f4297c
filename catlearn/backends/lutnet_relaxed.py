"""Fused training of relaxed logic networks, activations laid out features-first.

A relaxed 2-input gate with table ``s = (s00, s01, s10, s11)`` in ``[0, 1]^4``
(the ``lut_layer`` of :mod:`catlearn.functors._smooth_logic`) computes

    y = c0 + c1 a + c2 b + c3 a b,
    c0 = s00,  c1 = s10 - s00,  c2 = s01 - s00,  c3 = s00 - s01 - s10 + s11,

and its reverse derivative, one rule per input, is

    da = dz (c1 + c3 b)          db = dz (c2 + c3 a)
    dc = sum_batch dz (1, a, b, a b)
    ds = (dc0 - dc1 - dc2 + dc3,  dc2 - dc3,  dc1 - dc3,  dc3)
    dx[i] = sum over the (gate g, side) pairs reading row i of da[g] or db[g].

Activations are ``(features, batch)``: a gate's inputs are whole rows, so the
wiring is a row gather and the batch sums run along contiguous memory. ``dx`` is
a gather too, over the *fan-in table* (the wiring transposed: for each input
row, the pairs that read it, padded), never a scatter-add; each pair's term
``dz[g] (alpha + beta x[partner])`` is gathered straight from ``dz`` and ``x``
(``partner`` is the gate's other input), so no ``(n, batch)`` ``da``/``db`` is
ever stored. The forward keeps only each layer's input; the reverse recomputes
``a`` and ``b``. On a batch wider than :data:`TILE`, the ``"xla"`` reverse runs
tile by tile, recomputing each tile's layer inputs from its columns of ``x``,
so that they stay in cache.

>>> import jax, jax.numpy as jnp, numpy as np
>>> ia, ib = np.array([0, 1], np.int32), np.array([1, 2], np.int32)
>>> s = jnp.array([[0, 0, 0, 1], [0, 1, 1, 0]], jnp.float32)  # AND, XOR
>>> x = jnp.array([[1, 1], [1, 0], [0, 0]], jnp.float32)  # 3 rows, batch 2
>>> relaxed_forward(x, [s], [(ia, ib)])
Array([[1., 0.],
       [1., 0.]], dtype=float32)
>>> y, res = relaxed_forward_with_residuals(x, [s], [(ia, ib)])
>>> dtables, dx = relaxed_reverse(res, [s], [(ia, ib)], jnp.ones_like(y))
>>> g = jax.grad(lambda t: relaxed_forward(x, t, [(ia, ib)]).sum())([s])
>>> bool(jnp.allclose(dtables[0], g[0]))
True

Backends (a closed table, :data:`BACKENDS`): ``"xla"``, plain JAX that XLA
fuses (the default; the fast one on CPU), and ``"pallas"``, one Pallas kernel
per layer for the forward and two for the reverse, compiled by Triton on GPU
and run by the Pallas interpreter on CPU.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from .._errors import BackendError, ShapeError
from ._lut import anf
from ._lut import fan_in as fan_in
from ._relaxed_layer import ROWS as ROWS
from ._relaxed_layer import Layer as Layer
from ._relaxed_layer import Wiring as Wiring
from ._relaxed_layer import cpu_layer_reverse as cpu_layer_reverse
from ._relaxed_layer import fan_coefficients as fan_coefficients
from ._relaxed_layer import pallas_layer_forward as pallas_layer_forward
from ._relaxed_layer import pallas_layer_reverse as pallas_layer_reverse
from ._relaxed_layer import plan as plan
from ._relaxed_layer import table_grad as table_grad
from ._relaxed_layer import xla_layer_forward as xla_layer_forward
from ._relaxed_layer import xla_layer_reverse as xla_layer_reverse

Array = Any
BACKENDS = ("xla", "pallas", "cpu")
coefficients = anf  # a layer's ANF coefficients, by the name they had here


# -- backends: a closed table --------------------------------------------------------
@dataclass(frozen=True)
class Backend:
    """A backend by value: ``name`` in :data:`BACKENDS`, and for ``"pallas"``
    the batch ``block`` per program and whether to ``interpret``."""

    name: str
    block: int | None = None
    interpret: bool | None = None

    def forward(self, layer: Layer, x: Array, s: Array) -> Array:
        match self.name:
            case "xla" | "cpu":
                return xla_layer_forward(layer, x, s)
            case _:
                return pallas_layer_forward(layer, x, s, **self._options())

    def reverse(
        self, layer: Layer, x: Array, s: Array, dz: Array
    ) -> tuple[Array, Array]:
        match self.name:
            case "xla":
                return xla_layer_reverse(layer, x, s, dz)
            case "cpu" if x.dtype == dz.dtype == jnp.float32:
                return cpu_layer_reverse(layer, x, s, dz)
            case "cpu":  # the C++ kernel is float32 only
                return xla_layer_reverse(layer, x, s, dz)
            case _:
                return pallas_layer_reverse(layer, x, s, dz, **self._options())

    def _options(self) -> dict[str, Any]:
        return {"block": self.block, "interpret": self.interpret}


def backend_of(name: str, block: int | None, interpret: bool | None) -> Backend:
    """Check the options and fill in defaults. ``"pallas"`` takes ``block``
    (batch columns per program, a power of two; default 128) and ``interpret``
    (default: the interpreter exactly when JAX's default backend is the CPU)."""
    if name in ("xla", "cpu"):
        if block is not None or interpret is not None:
            raise BackendError(
                f"backend {name!r} takes no block or interpret (got block="
                f"{block!r}, interpret={interpret!r}). Fix: drop them, or use "
                "backend='pallas'."
            )
        return Backend(name)
    if name == "pallas":
        block = 128 if block is None else block
        if not isinstance(block, int) or block < 1 or block & (block - 1):
            raise BackendError(
                f"backend 'pallas': block={block!r} is not a power of two, which "
                "Triton needs for its tiles. Fix: block=128 (or 32, 64, 256)."
            )
        if interpret is None:
            interpret = jax.default_backend() == "cpu"
        return Backend("pallas", block, bool(interpret))
    raise BackendError(
        f"relaxed_forward: backend {name!r} is not one of {BACKENDS}. Fix: use "
        "backend='xla' (CPU) or backend='pallas' (GPU, or the interpreter on CPU)."
    )


# -- the chained network and its custom_vjp ------------------------------------------
class Residuals(NamedTuple):
    """What the forward keeps for the reverse: each layer's input, ``(n_in_l,
    batch)``. The reverse recomputes everything else."""

    inputs: tuple[Array, ...]


def _forward(
    kern: Backend, layers: tuple[Layer, ...], x: Array, tables: Sequence[Array]
) -> tuple[Array, Residuals]:
    inputs = []
    for layer, s in zip(layers, tables, strict=True):
        inputs.append(x)
        x = kern.forward(layer, x, s)
    return x, Residuals(tuple(inputs))


TILE = 64
"""Batch columns per step of the ``"xla"`` reverse on a larger batch: each
tile's activations, recomputed, stay in cache through every layer."""


def _reverse(
    kern: Backend,
    layers: tuple[Layer, ...],
    res: Residuals,
    tables: Sequence[Array],
    dy: Array,
) -> tuple[tuple[Array, ...], Array]:
    if kern.name == "xla" and dy.shape[1] > TILE:
        return _tiled_reverse(kern, layers, res.inputs[0], tables, dy)
    # The barrier keeps XLA from sharing the reverse's gathers with the forward's
    # (common-subexpression elimination would store a and b of every layer).
    inputs = jax.lax.optimization_barrier(res.inputs)
    return _layers_reverse(kern, layers, inputs, tables, dy)


def _layers_reverse(
    kern: Backend,
    layers: tuple[Layer, ...],
    inputs: Sequence[Array],
    tables: Sequence[Array],
    dy: Array,
) -> tuple[tuple[Array, ...], Array]:
    dtables: list[Array] = []
    for layer, x, s in zip(layers[::-1], inputs[::-1], tables[::-1], strict=True):
        ds, dy = kern.reverse(layer, x, s, dy)
        dtables.append(ds)
    return tuple(dtables[::-1]), dy


def _tiled_reverse(
    kern: Backend,
    layers: tuple[Layer, ...],
    x: Array,
    tables: Sequence[Array],
    dy: Array,
) -> tuple[tuple[Array, ...], Array]:
    """The reverse, :data:`TILE` batch columns at a time (one ``lax.scan``):
    each tile's layer inputs are recomputed from its columns of ``x`` and
    reversed at once, the tables' cotangents summed over the tiles. Whole
    batch at once, every ``(n, batch)`` activation streams through memory
    several times (and XLA on CPU, where the barrier above is removed before
    fusion, fuses forward work into the reverse's gathers): the conv training
    step of ``bench/conv_training.py`` runs about 4x faster so."""
    batch = x.shape[1]
    tiles = -(-batch // TILE)

    def split(a: Array) -> Array:  # (n, batch) -> (tiles, n, TILE), zero-padded
        a = jnp.pad(a, ((0, 0), (0, tiles * TILE - batch)))
        return a.reshape(a.shape[0], tiles, TILE).transpose(1, 0, 2)

    def step(acc: tuple[Array, ...], tile: tuple[Array, Array]) -> Any:
        x_t, dy_t = tile
        inputs = _forward(kern, layers, x_t, tables)[1].inputs
        ds, dx_t = _layers_reverse(kern, layers, inputs, tables, dy_t)
        return tuple(a + d for a, d in zip(acc, ds, strict=True)), dx_t

    zeros = tuple(jnp.zeros_like(t) for t in tables)
    ds, dx = jax.lax.scan(step, zeros, (split(x), split(dy)))
    return ds, dx.transpose(1, 0, 2).reshape(x.shape[0], -1)[:, :batch]


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def _network(kern: Backend, layers: tuple[Layer, ...], x: Array, tables: Any) -> Any:
    return _forward(kern, layers, x, tables)[0]


def _network_fwd(
    kern: Backend, layers: tuple[Layer, ...], x: Array, tables: Any
) -> Any:
    y, res = _forward(kern, layers, x, tables)
    return y, (res, tables)


def _network_bwd(
    kern: Backend, layers: tuple[Layer, ...], saved: Any, dy: Array
) -> Any:
    res, tables = saved
    dtables, dx = _reverse(kern, layers, res, tables, dy)
    return dx, dtables


_network.defvjp(_network_fwd, _network_bwd)
# Jitted once per (backend, wiring, shapes): eager calls do not dispatch op by op.
_jit_network = jax.jit(_network, static_argnums=(0, 1))
_jit_forward = jax.jit(_forward, static_argnums=(0, 1))
_jit_reverse = jax.jit(_reverse, static_argnums=(0, 1))


def _setup(
    x: Array, tables: Sequence[Array], wirings: Sequence[Wiring], opts: dict
) -> tuple[Backend, tuple[Layer, ...], Array, tuple[Array, ...]]:
    kern = backend_of(**opts)
    x, tables = jnp.asarray(x), tuple(jnp.asarray(t) for t in tables)
    if x.ndim != 2 or x.dtype != jnp.float32:
        raise ShapeError(
            f"relaxed_forward: x is {x.dtype}{list(x.shape)}, expected float32 "
            "(n_in, batch), features first. Fix: pass X.T.astype(jnp.float32)."
        )
    layers = plan(x.shape[0], wirings)
    if len(tables) != len(layers):
        raise ShapeError(
            f"relaxed_forward: {len(tables)} tables for {len(layers)} wirings. "
            "Fix: pass one (n_l, 4) table per layer."
        )
    for i, (t, layer) in enumerate(zip(tables, layers, strict=True)):
        if t.shape != (layer.n_out, 4) or t.dtype != jnp.float32:
            raise ShapeError(
                f"table {i} is {t.dtype}{list(t.shape)}, but wiring {i} has "
                f"{layer.n_out} gates: expected float32{[layer.n_out, 4]}. Fix: "
                f"squash(w.reshape({layer.n_out}, 4), relax)[0]."
            )
    return kern, layers, x, tables


def relaxed_forward(
    x: Array,
    tables: Sequence[Array],
    wirings: Sequence[Wiring],
    *,
    backend: str = "xla",
    block: int | None = None,
    interpret: bool | None = None,
) -> Array:
    """The relaxed network: layers of gates, chained, on features-first input.

    ``x``: float32 ``(n_in, batch)``; ``tables``: one float32 ``(n_l, 4)`` table
    ``s`` per layer, already squashed into [0, 1]; ``wirings``: one static
    ``(ia, ib)`` per layer (``cl.logic.wiring``). Returns ``(n_L, batch)``.
    Differentiable in ``x`` and ``tables`` by the hand-written reverse of the
    module docstring (a ``jax.custom_vjp``). ``block`` and ``interpret``
    configure the ``"pallas"`` backend (see :func:`backend_of`)."""
    opts = {"name": backend, "block": block, "interpret": interpret}
    kern, layers, x, tables = _setup(x, tables, wirings, opts)
    return _jit_network(kern, layers, x, tables)


def relaxed_forward_with_residuals(
    x: Array,
    tables: Sequence[Array],
    wirings: Sequence[Wiring],
    *,
    backend: str = "xla",
    block: int | None = None,
    interpret: bool | None = None,
) -> tuple[Array, Residuals]:
    """:func:`relaxed_forward` and the :class:`Residuals` that
    :func:`relaxed_reverse` needs, for a training step without ``jax.grad``."""
    opts = {"name": backend, "block": block, "interpret": interpret}
    kern, layers, x, tables = _setup(x, tables, wirings, opts)
    return _jit_forward(kern, layers, x, tables)


def relaxed_reverse(
    res: Residuals,
    tables: Sequence[Array],
    wirings: Sequence[Wiring],
    dy: Array,
    *,
    backend: str = "xla",
    block: int | None = None,
    interpret: bool | None = None,
) -> tuple[tuple[Array, ...], Array]:
    """The hand-written reverse: ``(dtables, dx)`` for output cotangent ``dy``
    of shape ``(n_L, batch)``, from the residuals of
    :func:`relaxed_forward_with_residuals` (same tables, wirings and backend)."""
    if not res.inputs:
        raise ShapeError("relaxed_reverse: no layers. Fix: pass at least one wiring.")
    opts = {"name": backend, "block": block, "interpret": interpret}
    kern, layers, x, tables = _setup(res.inputs[0], tables, wirings, opts)
    shapes = [tuple(r.shape) for r in res.inputs]
    if shapes != [(layer.n_in, x.shape[1]) for layer in layers]:
        raise ShapeError(
            f"relaxed_reverse: residuals of shapes {shapes} do not match the "
            f"wirings' layer inputs {[(la.n_in, x.shape[1]) for la in layers]}. "
            "Fix: pass the residuals of relaxed_forward_with_residuals on the "
            "same wirings."
        )
    want = (layers[-1].n_out, x.shape[1])
    if dy.shape != want or dy.dtype != jnp.float32:
        raise ShapeError(
            f"relaxed_reverse: dy is {dy.dtype}{list(dy.shape)}, but the network "
            f"outputs float32{list(want)}. Fix: pass a cotangent shaped like "
            "relaxed_forward's output."
        )
    return _jit_reverse(kern, layers, res, tables, dy)
