"""One layer of the relaxed LUT network of :mod:`catlearn.backends.lutnet_relaxed`:
its static plan (the wiring and its fan-in table), the maths of its forward and
reverse (one rule per input, as there), and those maths as XLA code and as
Pallas kernels.

>>> import numpy as np, jax.numpy as jnp
>>> (layer,) = plan(3, [(np.array([0, 2]), np.array([2, 0]))])
>>> layer.gate.tolist(), layer.side.tolist()   # row 1 is read by no gate
([[0, 1], [0, 0], [1, 0]], [[1, 2], [0, 0], [1, 2]])
>>> s = jnp.array([[0, 0, 0, 1], [0, 1, 1, 0]], jnp.float32)  # AND, XOR
>>> x = jnp.array([[1.0], [0.0], [1.0]])
>>> xla_layer_forward(layer, x, s).ravel().tolist()
[1.0, 0.0]
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as pl_triton

from .._errors import ShapeError
from ._lut import anf, fan_in

Array = Any
Wiring = tuple[Any, Any]


# -- the static plan: wirings and their fan-in tables --------------------------------
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
def table_grad(d0: Array, d1: Array, d2: Array, d3: Array) -> Array:
    """``ds`` of shape ``(n, 4)`` from the cotangents ``dc0 .. dc3`` of the
    coefficients (the transpose of :func:`~catlearn.backends.anf`)."""
    return jnp.stack([d0 - d1 - d2 + d3, d2 - d3, d1 - d3, d3], axis=1)


# anf as a matrix: coefficients = s @ _ANF (columns c0, c1, c2, c3)
_ANF = np.array([[1, -1, -1, 1], [0, 0, 1, -1], [0, 1, 0, -1], [0, 0, 0, 1]],
                np.float32)


def coefficients(s: Array) -> tuple[Array, Array, Array, Array]:
    """:func:`~catlearn.backends.anf` of float tables ``(n, 4)``, computed as a
    product with a 4 x 4 matrix. A dot is never fused into XLA's loops, so
    the coefficients (and the relaxation that made ``s``, a sine) are
    computed once per gate and stored; as elementwise code, XLA on CPU fuses
    them into the next layer's row gathers and computes them again for every
    example (about 4x slower)."""
    c = jnp.dot(s, jnp.asarray(_ANF, s.dtype), precision=jax.lax.Precision.HIGHEST)
    return c[:, 0], c[:, 1], c[:, 2], c[:, 3]


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


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def cpu_layer_reverse(
    layer: Layer, x: Array, s: Array, dz: Array
) -> tuple[Array, Array]:
    """:func:`xla_layer_reverse` by the C++ kernel
    (:mod:`catlearn.backends.lutnet_relaxed_cpu`): one pass over the gates.
    Its own derivative (a reverse pass differentiated again: the laws RD.6
    and RD.7, a Hessian-vector product) is that of :func:`xla_layer_reverse`,
    the same function in XLA."""
    from . import lutnet_relaxed_cpu

    c = jnp.stack(coefficients(s), axis=1)
    dx, sums = lutnet_relaxed_cpu.layer_reverse(x, dz, c, layer.ia, layer.ib)
    return table_grad(sums[:, 0], sums[:, 1], sums[:, 2], sums[:, 3]), dx


@cpu_layer_reverse.defjvp
def _cpu_layer_reverse_jvp(
    layer: Layer, primals: tuple[Array, ...], tangents: tuple[Array, ...]
) -> tuple[Any, Any]:
    out = cpu_layer_reverse(layer, *primals)
    _, tangent = jax.jvp(lambda *a: xla_layer_reverse(layer, *a), primals, tangents)
    return out, tangent


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
    c = _pad(jnp.stack(anf(s)), 4, n)
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
