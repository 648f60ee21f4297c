"""The rules of a fused chain of lut layers (:class:`FusedLayers`), one per
reading: Boolean's (bit-exact, vote counts back) and Smooth's (relaxed, a
``custom_vjp`` pair). ``cl.Kernel`` makes them through ``fused_rule``."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import SemanticsError
from ..backends import bits as B
from ._boolean import _lut_layer_forward, _lut_layer_reverse, _no_z2_reverse
from ._fuse import Counts, FusedLayers, OrGates
from ._rule import Rule
from ._smooth_logic import pullback, tables


def _backend_module(backend: str) -> Any:
    if backend == "cpu":
        from ..backends import lutnet_cpu

        return lutnet_cpu
    from ..backends import lutnet_pallas

    return lutnet_pallas


def boolean_rule(box: FusedLayers, backend: str, block: int | None) -> Rule:
    """Boolean's meaning of ``box`` on ``backend`` (``"cpu"``, ``"triton"``,
    ``"interpret"`` or ``"xla"``), ``block`` examples per tile or program."""
    if len(box.luts) != len(box.layers):
        raise SemanticsError(
            f"{box.name}: the Boolean kernels run lut layers only, not fixed OR "
            "layers. Fix: fuse for Boolean without LINKS (cl.Kernel() does)."
        )
    wirings = box.wirings
    sizes = [s.n_out for s in box.layers]
    words = None if block is None else block // B.WORD
    options: dict[str, Any] = {}
    if backend in ("triton", "interpret"):
        options = {"backend": backend, "block_words": words}
    elif words is not None:
        options = {"tile_words": words}

    def forward(box: FusedLayers, *ins: Any) -> tuple[tuple[Any, ...], Any]:
        *masks, x = ins
        tabs = [t.reshape(n, 4) for t, n in zip(masks, sizes, strict=True)]
        k = box.group[0] if box.group else None
        if backend == "xla":
            y = x
            for layer, t in zip(box.luts, masks, strict=True):
                y = _lut_layer_forward(layer, t, y)[0][0]
            out = B.group_count(y, k).astype(jnp.float32) if k else y
        else:
            out = _backend_module(backend).forward(
                x, tabs, wirings, group_k=k, **options
            )
        return (out,), (tabs, x)

    def reverse(box: FusedLayers, res: Any, dz: Any) -> tuple[Any, ...]:
        if box.group is not None:
            raise _no_z2_reverse()
        tabs, x = res
        if backend == "xla":
            return _xla_reverse(box, tabs, x, dz)
        dx, votes = _backend_module(backend).reverse(x, tabs, wirings, dz, **options)
        return (*(Counts(v) for v in votes), dx)

    return Rule(forward, reverse, f"fused lut layers ({backend})")


def _xla_reverse(box: FusedLayers, tabs: list[Any], x: Any, dz: Any) -> tuple[Any, ...]:
    """The unfused reference: Boolean's layer rules, one after the other."""
    acts, res = [x], []
    for spec, t in zip(box.luts, tabs, strict=True):
        (y,), r = _lut_layer_forward(spec, t.reshape(4 * spec.n_out, 1), acts[-1])
        acts.append(y)
        res.append((spec, r))
    dts = []
    for spec, r in reversed(res):
        dt, dz = _lut_layer_reverse(spec, r, dz)
        dts.append(Counts(B.popcount(dt)))
    return (*reversed(dts), dz)


def relaxed_backend() -> str:
    """The backend of a fused relaxed chain by default: ``"cpu"`` (the C++
    reverse, :mod:`catlearn.backends.lutnet_relaxed_cpu`) when JAX runs on
    the CPU and the kernel builds here, else ``"xla"``."""
    if jax.default_backend() != "cpu":
        return "xla"
    from ..backends import lutnet_relaxed_cpu

    return "cpu" if lutnet_relaxed_cpu.available() else "xla"


def relaxed_rule(box: FusedLayers, options: dict[str, Any]) -> Rule:
    """Smooth's meaning of ``box``, features-first; ``options`` go to
    :func:`catlearn.backends.lutnet_relaxed.relaxed_forward` (``backend``,
    ``block``, ``interpret``). Fixed ``OR`` layers get the constant table
    :attr:`OrGates.TABLE` and no cotangent."""
    from ..backends import lutnet_relaxed

    wirings = box.wirings
    learned = [not isinstance(s, OrGates) for s in box.layers]
    sizes = [s.n_out for s in box.luts]
    relaxes = [s.relax for s in box.luts]
    or_table = jnp.asarray(OrGates.TABLE, jnp.float32)

    def forward(box: FusedLayers, *ins: Any, key: Any = None) -> Any:
        *ws, x = ins
        keys = [
            None if key is None else jax.random.fold_in(key, i) for i in range(len(ws))
        ]
        tabs, auxs = zip(
            *(
                tables(w, n, r, k)
                for w, n, r, k in zip(ws, sizes, relaxes, keys, strict=True)
            ),
            strict=True,
        )
        learned_tabs = iter(tabs)
        every = [
            next(learned_tabs) if own else jnp.broadcast_to(or_table, (s.n_out, 4))
            for s, own in zip(box.layers, learned, strict=True)
        ]
        y, res = lutnet_relaxed.relaxed_forward_with_residuals(
            x.T, every, wirings, **options
        )
        if box.group:
            k, tau = box.group
            # explicit sizes: an empty batch has y.shape[-1] == 0 (no -1)
            # a product with the groups' 0/1 matrix, not a sum over a
            # reshape: XLA on CPU fuses the last layer (its gathers) into a
            # sum's loop, reading the rows down each column (3-5x the whole
            # forward), and turns a product with a ones vector back into
            # that sum; a 2-D dot reads y once
            member = np.kron(np.eye(k), np.ones((1, y.shape[0] // k)))
            out = jnp.dot(jnp.asarray(member, y.dtype), y,
                          precision=jax.lax.Precision.HIGHEST).T / tau
        else:
            out = y.T
        return (out,), (every, auxs, res, y.shape)

    def reverse(box: FusedLayers, r: Any, dz: Any) -> tuple[Any, ...]:
        every, auxs, res, shape = r
        if box.group:
            k, tau = box.group
            dy = jnp.repeat(dz.T / tau, shape[0] // k, axis=0)
        else:
            dy = dz.T
        dtabs, dx = lutnet_relaxed.relaxed_reverse(res, every, wirings, dy, **options)
        own = [dt for dt, keep in zip(dtabs, learned, strict=True) if keep]
        dws = [
            pullback(rl, a, dt) for rl, a, dt in zip(relaxes, auxs, own, strict=True)
        ]
        return (*dws, dx.T)

    return Rule(forward, reverse, "fused relaxed lut layers", keyed=True)
