"""Data-parallel fit over a jax.sharding.Mesh: on 8 (forced host) CPU devices
the same losses and parameters as on one device -- to float rounding for
gradient descent, exactly for RDA -- with the batch sharded, the parameters
replicated and the reductions done by XLA collectives.

The 8 devices need ``XLA_FLAGS=--xla_force_host_platform_device_count=8``
before JAX starts, so those checks run in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

import catlearn as cl
from catlearn.datasets import load_iris, load_monk

CHILD = textwrap.dedent(
    """
    import jax, numpy as np, catlearn as cl
    from catlearn.datasets import load_iris, load_monk
    from catlearn.learn._parallel import DataParallel

    assert jax.device_count() == 8, jax.devices()
    mesh = jax.make_mesh((8,), ("data",))

    def params_equal(a, b):
        return all(np.array_equal(a.params[k], b.params[k]) for k in a.params)

    def losses(r):
        return [row["loss"] for row in r.history]

    # RDA: integer vote counts, so sharding changes nothing, bit for bit
    # (124 examples in batches of 16: 7 sharded batches and a short one).
    X, y = load_monk(1, "train")
    net = cl.logic.network(17, [64, 64], 2, seed=0)
    for semantics in (cl.Boolean(), cl.Kernel()):
        kw = dict(semantics=semantics, loss=cl.losses.hamming,
                  optimiser=cl.optim.rda(), epochs=3, batch_size=16,
                  progress=False)
        one, many = cl.fit(net, (X, y), **kw), cl.fit(net, (X, y), mesh=mesh, **kw)
        assert params_equal(one, many), semantics
        assert losses(one) == losses(many), (losses(one), losses(many))
        assert len(next(iter(many.params.values())).sharding.device_set) == 8
        print("exact", semantics)

    # Gradient descent: float sums in another order, so equal to rounding.
    Xi, yi = load_iris()
    mlp = cl.nn.mlp([4, 16, 3])
    kw = dict(optimiser=cl.optim.adam(1e-2), epochs=3, batch_size=32,
              progress=False)
    one, many = cl.fit(mlp, (Xi, yi), **kw), cl.fit(mlp, (Xi, yi), mesh=mesh, **kw)
    for k in one.params:
        np.testing.assert_allclose(one.params[k], many.params[k], rtol=1e-5,
                                   atol=1e-6)
    np.testing.assert_allclose(losses(one), losses(many), rtol=1e-6)
    print("close smooth")

    # The step XLA runs: the batch split over 8 devices, gradients all-reduced.
    place = DataParallel(mesh)
    prog = cl.Smooth()(mlp)
    step = cl.learn.train_step(prog, cl.losses.softmax_cross_entropy,
                               cl.optim.sgd(0.1))
    params = place.replicate(prog.init(jax.random.key(0)))
    x, t = place.batch(Xi[:64]), place.batch(yi[:64])
    shards = x.addressable_shards
    assert len(shards) == 8 and shards[0].data.shape == (8, 4)
    hlo = place.jit(step).lower(params, (), (x,), t).compile().as_text()
    assert "all-reduce" in hlo
    print("all-reduce")
    """
)


def test_eight_devices_agree_with_one():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8")
    child = subprocess.run(
        [sys.executable, "-c", CHILD],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    lines = child.stdout.split()
    assert lines.count("exact") == 2 and "smooth" in lines and "all-reduce" in lines


def test_a_one_device_mesh_changes_nothing():
    mesh = jax.make_mesh((1,), ("data",))
    X, y = load_iris()
    mlp = cl.nn.mlp([4, 8, 3])
    kw = dict(optimiser=cl.optim.adam(1e-2), epochs=2, batch_size=50, progress=False)
    one, meshed = cl.fit(mlp, (X, y), **kw), cl.fit(mlp, (X, y), mesh=mesh, **kw)
    for k in one.params:
        np.testing.assert_array_equal(one.params[k], meshed.params[k])
    X, y = load_monk(1, "train")
    net = cl.logic.network(17, [16], 2, seed=0)
    kw = dict(semantics=cl.Boolean(), loss=cl.losses.hamming,
              optimiser=cl.optim.rda(), epochs=1, batch_size=16, progress=False)
    one, meshed = cl.fit(net, (X, y), **kw), cl.fit(net, (X, y), mesh=mesh, **kw)
    for k in one.params:
        np.testing.assert_array_equal(one.params[k], meshed.params[k])


def test_mesh_must_be_a_mesh():
    X, y = load_iris()
    with pytest.raises(cl.ShapeError, match="mesh must be a jax.sharding.Mesh"):
        cl.fit(cl.nn.mlp([4, 3]), (X, y), mesh=jax.devices(), progress=False)
