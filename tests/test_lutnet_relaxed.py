"""The fused relaxed logic network (``catlearn.backends.lutnet_relaxed``): its
forward against ``cl.Smooth()`` of ``cl.logic.network``, its hand-written reverse
against ``jax.grad`` of a plain-JAX network, on every backend (``"pallas"`` runs
in the Pallas interpreter on CPU), and its Pallas kernels lowered for CUDA
without a GPU."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catlearn as cl
from catlearn.backends import lutnet_relaxed as lr
from catlearn.functors._smooth_logic import squash

# backend name -> options; "pallas" with small batch blocks, so that several
# blocks and the padding of the last one are exercised.
BACKENDS = {"xla": {}, "pallas": {"backend": "pallas", "block": 8},
            "cpu": {"backend": "cpu"}}  # "cpu": the C++ reverse
# (n_in, widths, batch): odd sizes, a wide first layer (fan-in > 2), a narrow
# one (inputs that no gate reads), several layers.
CASES = [(7, [5, 9, 3], 13), (5, [33, 17], 9), (40, [11, 21, 19, 6], 5),
         (9, [12, 7], 150)]  # the last: the "xla" reverse in batch tiles


def _network(n_in, widths, seed, relax="sin"):
    """``(Smooth program, tables from params, wirings, params)``, params drawn
    from a normal of scale 2 (generic tables, not the residual init)."""
    net = cl.logic.network(n_in, widths, n_classes=None, seed=seed, relax=relax)
    rng = np.random.default_rng(seed)
    params = {
        f"net.{i}.table": jnp.asarray(2 * rng.standard_normal(4 * w), jnp.float32)
        for i, w in enumerate(widths)
    }
    sizes = [n_in, *widths]
    wirings = [cl.logic.wiring(sizes[i], w, seed + i) for i, w in enumerate(widths)]
    return cl.Smooth()(net), _tables(params, tuple(widths), relax), wirings, params


@functools.partial(jax.jit, static_argnums=(1, 2))
def _tables(params, widths, relax):
    return [
        squash(params[f"net.{i}.table"].reshape(w, 4), relax)[0]
        for i, w in enumerate(widths)
    ]


def _plain(x, tables, wirings):
    """The same network in plain JAX (no custom_vjp): minterms times tables."""
    for s, (ia, ib) in zip(tables, wirings, strict=True):
        a, b = x[ia], x[ib]
        x = (
            s[:, 0, None] * (1 - a) * (1 - b)
            + s[:, 1, None] * (1 - a) * b
            + s[:, 2, None] * a * (1 - b)
            + s[:, 3, None] * a * b
        )
    return x


def _inputs(n_in, batch, seed=0):
    return jax.random.uniform(jax.random.key(100 + seed), (n_in, batch), jnp.float32)


def _close(got, want, rtol=1e-5):
    got, want = np.asarray(got), np.asarray(want)
    scale = max(float(np.abs(want).max()), 1e-30)
    np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale)


@pytest.mark.parametrize(
    "backend, case, relax",
    [(b, c, "sin") for b in BACKENDS for c in CASES] + [("xla", CASES[0], "sigmoid")],
)
def test_forward_matches_smooth(backend, case, relax):
    n_in, widths, batch = case
    prog, tables, wirings, params = _network(n_in, widths, seed=3, relax=relax)
    x = _inputs(n_in, batch)
    got, want = jax.jit(
        lambda x, p, t: (
            lr.relaxed_forward(x, t, wirings, **BACKENDS[backend]),
            prog.apply(p, x.T),
        )
    )(x, params, tables)
    assert got.shape == (widths[-1], batch) and got.dtype == jnp.float32
    _close(got.T, want, 1e-6)


def _loss(y):
    w = jnp.cos(jnp.arange(y.size, dtype=jnp.float32)).reshape(y.shape)
    return jnp.sum(w * jnp.sin(3 * y))


@functools.lru_cache
def _plain_grads(case):
    """``(x, tables, wirings, grads)`` of the loss through :func:`_plain`."""
    n_in, widths, batch = CASES[case]
    _, tables, wirings, _ = _network(n_in, widths, seed=1)
    x = _inputs(n_in, batch, 1)

    def plain(x, tables):
        return _loss(_plain(x, tables, wirings))

    return x, tables, wirings, jax.jit(jax.grad(plain, argnums=(0, 1)))(x, tables)


@pytest.mark.parametrize(
    "backend, case",
    [("xla", c) for c in range(len(CASES))] + [("pallas", 1), ("pallas", 2)],
)
def test_grad_matches_plain_jax(backend, case):
    x, tables, wirings, (want_x, want_t) = _plain_grads(case)
    opts = BACKENDS[backend]

    def fused(x, tables):
        return _loss(lr.relaxed_forward(x, tables, wirings, **opts))

    got_x, got_t = jax.jit(jax.grad(fused, argnums=(0, 1)))(x, tables)
    _close(got_x, want_x)
    for g, w in zip(got_t, want_t, strict=True):
        _close(g, w)


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_reverse_matches_custom_vjp(backend):
    n_in, widths, batch = CASES[0]
    _, tables, wirings, _ = _network(n_in, widths, seed=5)
    x, opts = _inputs(n_in, batch, 5), BACKENDS[backend]
    dy = jax.random.normal(jax.random.key(7), (widths[-1], batch), jnp.float32)

    @jax.jit
    def both(x, tables, dy):
        y, res = lr.relaxed_forward_with_residuals(x, tables, wirings, **opts)
        f = lambda x, t: lr.relaxed_forward(x, t, wirings, **opts)  # noqa: E731
        y2, vjp = jax.vjp(f, x, tables)
        return y, res, lr.relaxed_reverse(res, tables, wirings, dy, **opts), y2, vjp(dy)

    y, res, (dtables, dx), y2, (want_x, want_t) = both(x, tables, dy)
    assert [r.shape for r in res.inputs] == [(n, batch) for n in [n_in, *widths[:-1]]]
    _close(y, y2, 1e-6)
    _close(dx, want_x, 1e-6)
    for g, w in zip(dtables, want_t, strict=True):
        _close(g, w, 1e-6)


def test_residuals_are_the_layer_inputs():
    """What ``jax.vjp`` keeps: each layer's input and the tables, nothing per
    gate and batch element."""
    _, tables, wirings, _ = _network(7, [5, 9, 3], seed=0)
    x = _inputs(7, 11)
    _, vjp = jax.vjp(lambda x, t: lr.relaxed_forward(x, t, wirings), x, tables)
    shapes = [leaf.shape for leaf in jax.tree.leaves(vjp)]
    assert sorted(shapes) == sorted([(7, 11), (5, 11), (9, 11), (5, 4), (9, 4), (3, 4)])


def test_backends_agree():
    n_in, widths, batch = CASES[1]
    _, tables, wirings, _ = _network(n_in, widths, seed=2)
    x = _inputs(n_in, batch, 2)
    ys = [lr.relaxed_forward(x, tables, wirings, **o) for o in BACKENDS.values()]
    for y in ys[1:]:
        _close(ys[0], y, 1e-6)
    # and the reverses: the C++ kernel's against XLA's
    y, res = lr.relaxed_forward_with_residuals(x, tables, wirings)
    dy = jnp.asarray(np.random.default_rng(5).normal(size=y.shape), jnp.float32)
    rev = [lr.relaxed_reverse(res, tables, wirings, dy, **o) for o in BACKENDS.values()]
    for r in rev[1:]:
        for a, b in zip(jax.tree.leaves(rev[0]), jax.tree.leaves(r), strict=True):
            _close(a, b, 1e-5)


def test_the_cpu_kernel_builds_here():
    """The C++ reverse is the default on a CPU: where a compiler works (as in
    CI), it must build, or the relaxed rule would silently stay on XLA."""
    from catlearn.backends import lutnet_relaxed_cpu
    from catlearn.functors._fused_rules import relaxed_backend

    lutnet_relaxed_cpu.build()
    assert relaxed_backend() == "cpu"


def test_fan_in_lists_every_slot_once():
    ia, ib = cl.logic.wiring(6, 20, 0)
    fan = lr.fan_in(ia, ib, 6)
    assert fan.shape == (6, int(np.bincount(np.r_[ia, ib]).max()))
    assert sorted(fan[fan >= 0].tolist()) == list(range(40))
    for i in range(6):
        slots = fan[i][fan[i] >= 0]
        assert (np.r_[ia, ib][slots] == i).all()


def test_no_retrace_for_the_same_wiring():
    _, tables, wirings, _ = _network(7, [5, 3], seed=0)
    traces = []

    @jax.jit
    def step(x, tables):
        traces.append(1)
        return jax.grad(lambda t: lr.relaxed_forward(x, t, wirings).sum())(tables)

    for seed in range(3):
        step(_inputs(7, 4, seed), tables)
    assert len(traces) == 1


def test_bad_backend_and_block():
    _, tables, wirings, _ = _network(7, [5], seed=0)
    x = _inputs(7, 3)
    with pytest.raises(cl.BackendError, match="'cuda' is not one of"):
        lr.relaxed_forward(x, tables, wirings, backend="cuda")
    with pytest.raises(cl.BackendError, match="not a power of two"):
        lr.relaxed_forward(x, tables, wirings, backend="pallas", block=12)
    with pytest.raises(cl.BackendError, match="takes no block"):
        lr.relaxed_forward(x, tables, wirings, block=8)


def test_shape_errors_name_both_sides():
    _, tables, wirings, _ = _network(7, [5, 3], seed=0)
    x = _inputs(7, 3)
    with pytest.raises(cl.ShapeError, match=r"table 1 is float32\[5, 4\]"):
        lr.relaxed_forward(x, [tables[0], tables[0]], wirings)
    with pytest.raises(cl.ShapeError, match="with 6 rows"):
        lr.relaxed_forward(x[:6], tables, wirings)
    with pytest.raises(cl.ShapeError, match="features first"):
        lr.relaxed_forward(x[0], tables, wirings)
    _, res = lr.relaxed_forward_with_residuals(x, tables, wirings)
    with pytest.raises(cl.ShapeError, match=r"outputs float32\[3, 3\]"):
        lr.relaxed_reverse(res, tables, wirings, jnp.ones((3, 4), jnp.float32))
    with pytest.raises(cl.ShapeError, match="do not match the wirings"):
        bad = lr.Residuals((res.inputs[0], res.inputs[0]))
        lr.relaxed_reverse(bad, tables, wirings, jnp.ones((3, 3), jnp.float32))


def test_pallas_kernels_lower_for_cuda():
    """The Triton lowering runs on this CPU machine: the training step's
    forward and reverse kernels all become Triton custom calls."""
    # fan-in 7 (not a power of two), 33 gates and 200 columns (ragged blocks)
    _, tables, wirings, _ = _network(20, [64, 33], seed=0)
    assert [layer.gate.shape[1] for layer in lr.plan(20, wirings)] == [7, 2]
    x = _inputs(20, 200)
    opts = {"backend": "pallas", "block": 64, "interpret": False}

    def step(x, tables):
        f = lambda x, t: _loss(lr.relaxed_forward(x, t, wirings, **opts))  # noqa: E731
        return jax.grad(f, argnums=(0, 1))(x, tables)

    lowered = jax.jit(step).trace(x, tables).lower(lowering_platforms=("cuda",))
    text = lowered.as_text()
    # 2 layers x (1 forward + 2 reverse kernels)
    assert text.count("__gpu$xla.gpu.triton") == 6
