"""``cl.Kernel()``: Boolean's meaning, fused. The oracle is ``cl.Boolean()``, bit
for bit, on every backend that runs here (the C++ kernel, the Pallas kernel in
interpret mode, unfused XLA); ``cl.Kernel(relaxed=True)`` against
``cl.Smooth()``. The contract suite (test_contract.py) runs the laws on both
through the registry in conftest.py.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import catlearn as cl
from catlearn.datasets import load_monk

BACKENDS = ["cpu", "interpret", "xla"]


def _bits(prog, rng):
    return {k: rng.random(w.shape) < 0.5 for k, w in prog.param_types.items()}


@st.composite
def networks(draw):
    n_in = draw(st.integers(1, 9))
    widths = draw(st.lists(st.integers(1, 13), min_size=1, max_size=4))
    k = draw(st.sampled_from([None, 1, 2, 3]))
    if k is not None:
        widths[-1] = k * draw(st.integers(1, 4))
    net = cl.logic.network(n_in, widths, k, seed=draw(st.integers(0, 99)))
    batch = draw(st.sampled_from([1, 7, 31, 32, 33, 100]))
    return net, batch, draw(st.integers(0, 2**16))


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=12)
@given(case=networks())
def test_kernel_equals_boolean_bit_for_bit(backend, case):
    net, batch, seed = case
    rng = np.random.default_rng(seed)
    K, B = cl.Kernel(backend=backend)(net), cl.Boolean()(net)
    assert any(s.box.name.startswith("fused_luts") for s in K.steps)
    params = _bits(B, rng)
    X = rng.random((batch, net.dom.inside[0].shape[0])) < 0.5
    assert np.array_equal(np.asarray(K(params, X)), np.asarray(B(params, X)))
    if net.cod.inside[0].kind == "real":
        return  # group_sum counts have no Z2 reverse (as under Boolean)
    dY = rng.random((batch, net.cod.inside[0].shape[0])) < 0.5
    vk, vb = K.votes(params, X, dY), B.votes(params, X, dY)
    assert all(np.array_equal(vk[n], vb[n]) for n in vb)
    (pk, (xk,)), (pb, (xb,)) = K.reverse(params, X, dY), B.reverse(params, X, dY)
    assert all(np.array_equal(pk[n], pb[n]) for n in pb)
    assert np.array_equal(xk, xb)


def test_chains_fuse_where_each_layer_feeds_only_the_next():
    net = cl.logic.network(6, [8, 8, 4], 2, seed=0)
    steps = cl.Kernel(backend="xla")(net).steps
    assert [s.box.name for s in steps] == ["fused_luts[6->8->8->4 | group_sum 2]"]
    # a layer whose output is also a program output ends its chain
    a = cl.logic.lut_layer(6, 8, seed=1, name="a")
    b = cl.logic.lut_layer(8, 4, seed=2, name="b")
    split = a >> cl.Copy(cl.bits(8)) >> (b @ cl.Id(cl.bits(8)))
    names = [s.box.name for s in cl.Kernel(backend="xla")(split).steps]
    assert names == ["fused_luts[6->8]", "fused_luts[8->4]"]
    rng = np.random.default_rng(0)
    params, X = _bits(cl.Boolean()(split), rng), rng.random((40, 6)) < 0.5
    got = cl.Kernel(backend="cpu")(split)(params, X)
    want = cl.Boolean()(split)(params, X)
    assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))


def test_other_generators_are_refused_by_name():
    with pytest.raises(cl.MissingRuleError, match="'mystery'"):
        cl.Kernel()(cl.Box("mystery", cl.bits(2), cl.bits(2)))
    with pytest.raises(cl.SemanticsError, match="real"):
        cl.Kernel()(cl.nn.dense(3, 2, name="d"))
    with pytest.raises(cl.BackendError, match="'gpu'.*one of"):
        cl.Kernel(backend="gpu")
    with pytest.raises(cl.BackendError, match="block"):
        cl.Kernel(block=0)
    with pytest.raises(cl.BackendError, match="multiple of 32"):
        cl.Kernel(block=48)
    with pytest.raises(cl.BackendError, match="'gpu'.*one of"):
        cl.Kernel(relaxed=True, backend="gpu")
    # the relaxed reading's "cpu": XLA's forward, the C++ reverse
    assert cl.Kernel(relaxed=True, backend="cpu").resolved_backend == "cpu"


def test_rda_under_kernel_trains_exactly_as_under_boolean():
    X, y = load_monk(1, "train", seed=0)
    net = cl.logic.network(17, [64, 64], 2, seed=0)
    runs = [
        cl.fit(net, (X, y), semantics=sem, loss=cl.losses.hamming,
               optimiser=cl.optim.rda(seed=0), epochs=5, batch_size=16, seed=0,
               progress=False)
        for sem in (cl.Boolean(), cl.Kernel())
    ]
    first, second = (run.params for run in runs)
    assert all(np.array_equal(first[k], second[k]) for k in first)
    assert [r["accuracy"] for r in runs[0].history] == [
        r["accuracy"] for r in runs[1].history
    ]


# -- the relaxed kernel ---------------------------------------------------------------
@pytest.mark.parametrize(
    "relax, backend", [(r, "xla") for r in cl.logic.RELAXATIONS] + [("sin", "pallas")]
)
def test_relaxed_kernel_equals_smooth(relax, backend):
    net = cl.logic.network(9, [13, 11, 6], 3, seed=2, relax=relax)
    S, R = cl.Smooth()(net), cl.Kernel(relaxed=True, backend=backend)(net)
    assert isinstance(R.functor, cl.RelaxedKernel)
    assert [s.box.name for s in R.steps] == ["fused_luts[9->13->11->6 | group_sum 3]"]
    params = {k: jax.random.normal(jax.random.key(i), s)
              for i, (k, s) in enumerate(S.param_shapes.items())}
    X = jax.random.uniform(jax.random.key(7), (37, 9))
    dY = jax.random.normal(jax.random.key(8), (37, 3))
    assert np.allclose(R(params, X), S(params, X), atol=1e-5)
    (dr, (xr,)), (ds, (xs,)) = R.reverse(params, X, dY), S.reverse(params, X, dY)
    assert all(np.allclose(dr[k], ds[k], atol=1e-4, rtol=1e-4) for k in ds)
    assert np.allclose(xr, xs, atol=1e-5)


def test_gd_under_the_relaxed_kernel_follows_smooth():
    X, y = load_monk(1, "train", seed=0)
    net = cl.logic.network(17, [64, 64], 2, seed=0)
    runs = [
        cl.fit(net, (X.astype(np.float32), y), semantics=sem,
               optimiser=cl.optim.adam(0.05), epochs=5, batch_size=32, seed=0,
               progress=False)
        for sem in (cl.Smooth(), cl.Kernel(relaxed=True))
    ]
    # float32 rounding differs between the two orders of summation, and Adam's
    # normalisation magnifies it where a gradient is near zero: close, not equal
    for k in runs[0].params:
        assert np.allclose(runs[0].params[k], runs[1].params[k], atol=5e-2)
    losses = [[r["loss"] for r in run.history] for run in runs]
    assert np.allclose(losses[0], losses[1], rtol=1e-2)
    scores = cl.evaluate(net, runs[1].params, (X.astype(np.float32), y),
                         semantics=cl.Kernel(relaxed=True))
    assert "discretization_gap" in scores


def test_functors_print_and_compare_by_value():
    assert repr(cl.Kernel(backend="cpu", block=256)) == (
        "Kernel(backend='cpu', block=256)")
    assert cl.Kernel(backend="cpu") == cl.Kernel(backend="cpu")
    assert cl.Kernel(backend="cpu") != cl.Kernel(backend="xla")
    assert cl.Kernel() != cl.Boolean()
    assert repr(cl.Kernel(relaxed=True)) == "Kernel(relaxed=True)"
    assert cl.RelaxedKernel() == cl.Kernel(relaxed=True) != cl.Kernel()


def test_one_kernel_class_two_readings():
    """``cl.Kernel(relaxed=...)`` builds the reading it names; both are Kernels,
    print as ``Kernel(...)`` and build again from that."""
    K, R = cl.Kernel(), cl.Kernel(relaxed=True, backend="interpret", block=64)
    assert isinstance(K, cl.Kernel) and isinstance(K, cl.Boolean)
    assert isinstance(R, cl.Kernel) and isinstance(R, cl.Smooth)
    assert not isinstance(R, cl.Boolean) and not isinstance(K, cl.Smooth)
    assert eval("cl." + repr(R)) == R and R.extend({}) == R
    assert cl.Kernel.PASSES == (cl.functors.fuse, cl.functors.repeat)
    with pytest.warns(DeprecationWarning, match="block=32"):
        old = cl.Kernel(backend="cpu", block_words=8)
    assert old == cl.Kernel(backend="cpu", block=256) and old.block_words == 8
    with pytest.raises(cl.SemanticsError, match="relaxed"):
        cl.BooleanKernel(relaxed=True)
