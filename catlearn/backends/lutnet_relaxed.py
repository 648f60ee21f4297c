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
``a`` and ``b``.

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
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as pl_triton

from .._errors import BackendError, ShapeError

Array = Any
Wiring = tuple[Any, Any]

BACKENDS = ("xla", "pallas")


# -- the static plan: wirings and their fan-in tables --------------------------------
def fan_in(ia: np.ndarray, ib: np.ndarray, n_in: int) -> np.ndarray:
    """The wiring transposed: ``(n_in, k)`` int32, row ``i`` lists the slots that
    read input ``i`` (``g`` for gate ``g``'s input ``a``, ``n_out + g`` for its
    input ``b``), padded with ``-1`` to the largest fan-in ``k`` (at least 1).

    >>> fan_in(np.array([0, 2]), np.array([2, 0]), 3).tolist()
    [[0, 3], [-1, -1], [1, 2]]
    """
    slots = np.concatenate([ia, ib]).astype(np.int64)
    order = np.argsort(slots, kind="stable")
    counts = np.bincount(slots, minlength=n_in)
    k = max(int(counts.max(initial=0)), 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(slots)) - np.repeat(starts, counts)
    table = np.full((n_in, k), -1, np.int32)
    table[slots[order], rank] = order
    return table


@dataclass(frozen=True)
class Layer:
    """One layer's static structure: ``n_out`` gates over ``n_in`` rows, gate
    ``g`` reading rows ``ia[g]`` and ``ib[g]``. Its fan-in table, split into
    ``gate``, ``partner`` (the gate's other input) and ``side`` (0: padding,
    1: read as ``a``, 2: as ``b``), each ``(n_in, k)`` with padding entries 0.
    Compared and hashed by ``key`` (the wiring's bytes)."""

    n_in: int
    n_out: int
    key: bytes = field(repr=False)
    ia: np.ndarray = field(repr=False, compare=False)
    ib: np.ndarray = field(repr=False, compare=False)
    gate: np.ndarray = field(repr=False, compare=False)
    partner: np.ndarray = field(repr=False, compare=False)
    side: np.ndarray = field(repr=False, compare=False)


@functools.lru_cache(maxsize=64)
def _layer(n_in: int, key: bytes) -> Layer:
    ia, ib = np.frombuffer(key, np.int32).reshape(2, -1)
    fan = fan_in(ia, ib, n_in)
    n = len(ia)
    gate = np.where(fan < 0, 0, fan % max(n, 1)).astype(np.int32)
    side = np.where(fan < 0, 0, np.where(fan < n, 1, 2)).astype(np.int32)
    partner = np.select([side == 1, side == 2], [ib[gate], ia[gate]], 0)
    return Layer(n_in, n, key, ia, ib, gate, partner.astype(np.int32), side)


def plan(n_in: int, wirings: Sequence[Wiring]) -> tuple[Layer, ...]:
    """Check ``wirings`` (each ``(ia, ib)``, integer vectors of one length, the
    first over ``n_in`` rows, each next over the previous width) and build each
    :class:`Layer`, cached by wiring."""
    layers = []
    for i, (ia, ib) in enumerate(wirings):
        ia, ib = np.asarray(ia), np.asarray(ib)
        if ia.ndim != 1 or ia.shape != ib.shape or ia.dtype.kind not in "iu":
            raise ShapeError(
                f"wiring {i}: ia {ia.dtype}{list(ia.shape)} and ib "
                f"{ib.dtype}{list(ib.shape)} must be integer vectors of one length. "
                "Fix: pass cl.logic.wiring(n_in, n_out, seed)."
            )
        lo = min(int(ia.min(initial=0)), int(ib.min(initial=0)))
        hi = max(int(ia.max(initial=-1)), int(ib.max(initial=-1)))
        if lo < 0 or hi >= n_in:
            raise ShapeError(
                f"wiring {i} reads rows {lo}..{hi} of a layer input with {n_in} "
                f"rows. Fix: wire layer {i} over n_in={n_in} inputs (the previous "
                "layer's width)."
            )
        key = np.stack([ia, ib]).astype(np.int32).tobytes()
        layers.append(_layer(n_in, key))
        n_in = len(ia)
    return tuple(layers)


# -- the maths of one layer, shared by the backends ----------------------------------
def coefficients(s: Array) -> tuple[Array, Array, Array, Array]:
    """``(c0, c1, c2, c3)`` of tables ``s`` of shape ``(n, 4)``, each ``(n,)``."""
    s00, s01, s10, s11 = s[:, 0], s[:, 1], s[:, 2], s[:, 3]
    return s00, s10 - s00, s01 - s00, s00 - s01 - s10 + s11


def table_grad(d0: Array, d1: Array, d2: Array, d3: Array) -> Array:
    """``ds`` of shape ``(n, 4)`` from the cotangents ``dc0 .. dc3`` of the
    coefficients (the transpose of :func:`coefficients`)."""
    return jnp.stack([d0 - d1 - d2 + d3, d2 - d3, d1 - d3, d3], axis=1)


def fan_coefficients(layer: Layer, s: Array) -> tuple[Array, Array]:
    """``(alpha, beta)``, each ``(n_in, k)``: fan-in entry ``(i, j)`` adds
    ``dz[gate] (alpha + beta x[partner])`` to ``dx[i]`` (zero for padding)."""
    _, c1, c2, c3 = coefficients(s)
    zero = jnp.zeros((), s.dtype)
    g = layer.gate
    alpha = jnp.select([layer.side == 1, layer.side == 2], [c1[g], c2[g]], zero)
    return alpha, jnp.where(layer.side > 0, c3[g], zero)


# -- the XLA backend -----------------------------------------------------------------
def _rows(x: Array, idx: np.ndarray) -> Array:
    return x.at[idx].get(mode="promise_in_bounds")


def xla_layer_forward(layer: Layer, x: Array, s: Array) -> Array:
    """One layer's output ``(n_out, batch)`` from its input ``(n_in, batch)``."""
    a, b = _rows(x, layer.ia), _rows(x, layer.ib)
    c0, c1, c2, c3 = (c[:, None] for c in coefficients(s))
    return c0 + a * (c1 + c3 * b) + c2 * b


def xla_layer_reverse(
    layer: Layer, x: Array, s: Array, dz: Array
) -> tuple[Array, Array]:
    """``(ds, dx)`` of one layer at input ``x`` for output cotangent ``dz``."""
    a, b = _rows(x, layer.ia), _rows(x, layer.ib)
    dza = dz * a
    ds = table_grad(dz.sum(1), dza.sum(1), (dz * b).sum(1), (dza * b).sum(1))
    alpha, beta = fan_coefficients(layer, s)
    dx = sum(
        _rows(dz, layer.gate[:, j])
        * (alpha[:, j, None] + beta[:, j, None] * _rows(x, layer.partner[:, j]))
        for j in range(layer.gate.shape[1])
    )
    return ds, dx


# -- the Pallas backend --------------------------------------------------------------
# Grid: (row blocks of ROWS gates or inputs) x (batch blocks of `block` columns).
# Rows and batch are zero-padded to whole blocks. Triton rules kept: every
# gather is a load from a ref with an index vector, never a gather on a loaded
# value; batch sums are per-block partial sums, added up outside the kernel.
ROWS = 32


def _pad(x: Array, rows: int, cols: int) -> Array:
    return jnp.pad(x, ((0, rows - x.shape[0]), (0, cols - x.shape[1])))


def _up(n: int, k: int) -> int:
    return -(-n // k) * k


def _vec(v: np.ndarray, n: int) -> Array:
    return jnp.asarray(np.pad(v, (0, n - len(v))))


def _forward_kernel(
    ia_ref: Any, ib_ref: Any, c_ref: Any, x_ref: Any, y_ref: Any
) -> None:
    cols = pl.ds(pl.program_id(1) * y_ref.shape[1], y_ref.shape[1])
    a, b = x_ref[ia_ref[...], cols], x_ref[ib_ref[...], cols]
    c0, c1, c2, c3 = (c_ref[i, :][:, None] for i in range(4))
    y_ref[...] = c0 + a * (c1 + c3 * b) + c2 * b


def _sums_kernel(
    ia_ref: Any, ib_ref: Any, dz_ref: Any, x_ref: Any, out_ref: Any
) -> None:
    cols = pl.ds(pl.program_id(1) * dz_ref.shape[1], dz_ref.shape[1])
    a, b = x_ref[ia_ref[...], cols], x_ref[ib_ref[...], cols]
    dz = dz_ref[...]
    dza = dz * a
    for i, term in enumerate((dz, dza, dz * b, dza * b)):
        out_ref[i, :] = jnp.sum(term, axis=1)


def _dx_kernel(*refs: Any) -> None:
    g_ref, p_ref, al_ref, be_ref, dz_ref, x_ref, dx_ref = refs
    cols = pl.ds(pl.program_id(1) * dx_ref.shape[1], dx_ref.shape[1])

    def term(j: Any, acc: Array) -> Array:
        x = x_ref[p_ref[j, :], cols]
        al, be = al_ref[j, :][:, None], be_ref[j, :][:, None]
        return acc + dz_ref[g_ref[j, :], cols] * (al + be * x)

    zero = jnp.zeros(dx_ref.shape, dx_ref.dtype)
    dx_ref[...] = jax.lax.fori_loop(0, g_ref.shape[0], term, zero)


def _call(
    kernel: Any,
    grid: tuple[int, int],
    in_specs: list[Any],
    out_spec: Any,
    out_shape: tuple[int, ...],
    interpret: bool,
) -> Any:
    return pl.pallas_call(
        kernel,
        out_shape=jax.ShapeDtypeStruct(out_shape, jnp.float32),
        grid=grid,
        in_specs=in_specs,
        out_specs=out_spec,
        interpret=interpret,
        compiler_params=pl_triton.CompilerParams(),  # Triton, not Mosaic GPU
    )


def pallas_layer_forward(
    layer: Layer, x: Array, s: Array, *, block: int, interpret: bool
) -> Array:
    """:func:`xla_layer_forward` as one Pallas kernel."""
    (_, batch), n = x.shape, _up(layer.n_out, ROWS)
    cols = _up(batch, block)
    c = _pad(jnp.stack(coefficients(s)), 4, n)
    row = pl.BlockSpec((ROWS,), lambda i, j: (i,))
    y = _call(
        _forward_kernel,
        (n // ROWS, cols // block),
        [row, row, pl.BlockSpec((4, ROWS), lambda i, j: (0, i)), pl.BlockSpec()],
        pl.BlockSpec((ROWS, block), lambda i, j: (i, j)),
        (n, cols),
        interpret,
    )(_vec(layer.ia, n), _vec(layer.ib, n), c, _pad(x, x.shape[0], cols))
    return y[: layer.n_out, :batch]


def pallas_layer_reverse(
    layer: Layer, x: Array, s: Array, dz: Array, *, block: int, interpret: bool
) -> tuple[Array, Array]:
    """:func:`xla_layer_reverse` as two Pallas kernels: the batch sums of the
    tables' cotangents (per batch block) and the fan-in gather of ``dx``."""
    (n_in, batch), n = x.shape, _up(layer.n_out, ROWS)
    cols, rows_in = _up(batch, block), _up(n_in, ROWS)
    grid = (n // ROWS, cols // block)
    x, dz = _pad(x, n_in, cols), _pad(dz, n, cols)
    row = pl.BlockSpec((ROWS,), lambda i, j: (i,))
    sums = _call(
        _sums_kernel,
        grid,
        [row, row, pl.BlockSpec((ROWS, block), lambda i, j: (i, j)), pl.BlockSpec()],
        pl.BlockSpec((None, 4, ROWS), lambda i, j: (j, 0, i)),
        (grid[1], 4, n),
        interpret,
    )(_vec(layer.ia, n), _vec(layer.ib, n), dz, x)
    ds = table_grad(*jnp.sum(sums, axis=0)[:, : layer.n_out])
    k = layer.gate.shape[1]
    fan = pl.BlockSpec((k, ROWS), lambda i, j: (0, i))
    alpha, beta = fan_coefficients(layer, s)
    tables = [_pad(jnp.asarray(t.T), k, rows_in) for t in (layer.gate, layer.partner)]
    dx = _call(
        _dx_kernel,
        (rows_in // ROWS, cols // block),
        [fan] * 4 + [pl.BlockSpec(), pl.BlockSpec()],
        pl.BlockSpec((ROWS, block), lambda i, j: (i, j)),
        (rows_in, cols),
        interpret,
    )(*tables, _pad(alpha.T, k, rows_in), _pad(beta.T, k, rows_in), dz, x)
    return ds, dx[:n_in, :batch]


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
            case "xla":
                return xla_layer_forward(layer, x, s)
            case _:
                return pallas_layer_forward(layer, x, s, **self._options())

    def reverse(
        self, layer: Layer, x: Array, s: Array, dz: Array
    ) -> tuple[Array, Array]:
        match self.name:
            case "xla":
                return xla_layer_reverse(layer, x, s, dz)
            case _:
                return pallas_layer_reverse(layer, x, s, dz, **self._options())

    def _options(self) -> dict[str, Any]:
        return {"block": self.block, "interpret": self.interpret}


def backend_of(name: str, block: int | None, interpret: bool | None) -> Backend:
    """Check the options and fill in defaults. ``"pallas"`` takes ``block``
    (batch columns per program, a power of two; default 128) and ``interpret``
    (default: the interpreter exactly when JAX's default backend is the CPU)."""
    if name == "xla":
        if block is not None or interpret is not None:
            raise BackendError(
                f"backend 'xla' takes no block or interpret (got block={block!r}, "
                f"interpret={interpret!r}). Fix: drop them, or use backend='pallas'."
            )
        return Backend("xla")
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


def _reverse(
    kern: Backend,
    layers: tuple[Layer, ...],
    res: Residuals,
    tables: Sequence[Array],
    dy: Array,
) -> tuple[tuple[Array, ...], Array]:
    dtables: list[Array] = []
    # The barrier keeps XLA from sharing the reverse's gathers with the forward's
    # (common-subexpression elimination would store a and b of every layer).
    inputs = jax.lax.optimization_barrier(res.inputs)
    for layer, x, s in zip(layers[::-1], inputs[::-1], tables[::-1], strict=True):
        ds, dy = kern.reverse(layer, x, s, dy)
        dtables.append(ds)
    return tuple(dtables[::-1]), dy


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
