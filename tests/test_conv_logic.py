"""Convolutional logic layers: ``cl.logic.conv`` (weight-shared gate trees),
``cl.logic.or_pool`` and ``cl.logic.tile``, read alike by every semantics and
the exported circuit (iverilog), and equal to a direct NumPy reading."""

from __future__ import annotations

import os
import sys

import jax
import numpy as np
import pytest

import catlearn as cl
from catlearn.diagrams import LutLayerSpec
from catlearn.export import netlist, to_verilog

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_export import _simulate  # noqa: E402  (iverilog, installed by make test)


def model():
    d = cl.logic.conv((2, 6, 5), channels=3, kernel=(3, 2), depth=2, stride=(1, 2),
                      seed=3, name="c")
    return d >> cl.logic.or_pool((3, 4, 2), 2) >> cl.logic.flatten(3, 2, 1)


def random_bits(params, seed=1):
    return {k: np.random.default_rng(seed).random(v.shape) < 0.5
            for k, v in params.items()}


def test_conv_means_the_same_under_every_semantics_and_in_verilog(tmp_path):
    d = model()
    assert (d.dom, d.cod) == (cl.bits(2, 6, 5), cl.bits(6))
    p = random_bits(cl.Boolean()(d).init(jax.random.key(0)))
    x = np.random.default_rng(0).random((70, 2, 6, 5)) < 0.5
    want = np.asarray(cl.Boolean()(d)(p, x))
    for F in (cl.Kernel(), cl.Kernel(backend="xla")):
        np.testing.assert_array_equal(np.asarray(F(d)(p, x)), want, err_msg=repr(F))
    for F in (cl.Smooth(), cl.Kernel(relaxed=True)):
        got = np.asarray(F(d)(cl.relax(d, p), x.astype(np.float32)))
        np.testing.assert_allclose(got, want, atol=1e-5, err_msg=repr(F))
    flat = x.reshape(70, -1)
    np.testing.assert_array_equal(netlist(d, p).evaluate(flat), want)
    got = _simulate(to_verilog(d, p), flat[:20], 6, tmp_path)
    np.testing.assert_array_equal(got, want[:20])


def test_a_trained_mnist1d_conv_circuit_runs_in_iverilog(tmp_path):
    """MNIST-1D (generated locally by the mnist1d package): a thermometer
    encoder and a 1-D convolutional logic circuit, trained briefly, exported
    to Verilog and simulated on 20 test signals; the simulated class counts
    are the circuit's under Boolean and Kernel."""
    from mnist1d.data import get_dataset_args, make_dataset

    data = make_dataset(get_dataset_args())
    X, y, X_test = data["x"][:1000], data["y"][:1000], data["x_test"][:20]
    q = np.quantile(X, [0.2, 0.4, 0.6, 0.8])
    encoder = cl.logic.thermometer(thresholds=[list(q)] * 40, order="level")
    encoder = encoder >> cl.logic.reshape((160,), (4, 40))
    circuit = cl.logic.conv((4, 40), 8, kernel=5, depth=2, name="c", seed=0)
    circuit = circuit >> cl.logic.or_pool((8, 36), 2) >> cl.logic.flatten(8, 18)
    circuit = circuit >> cl.logic.network(144, [200], 10, seed=1, name="head")
    model = encoder >> circuit
    res = cl.fit(model, (X, y), semantics=cl.Kernel(relaxed=True),
                 optimiser=cl.optim.adam(0.02), epochs=2, batch_size=64, progress=False)
    p = cl.discretize(model, res.params)
    want = np.asarray(cl.Boolean()(model)(p, X_test))
    np.testing.assert_array_equal(np.asarray(cl.Kernel()(model)(p, X_test)), want)
    bits = np.asarray(cl.Boolean()(encoder)({}, X_test)).reshape(20, -1)
    got = _simulate(to_verilog(circuit, p), bits, 200, tmp_path)
    np.testing.assert_array_equal(got.reshape(20, 10, 20).sum(-1), want)


def test_conv_shares_one_tree_across_positions():
    """Depth 1, XOR tables: at every position the channel XORs the same two
    offsets of its receptive field (read back from the layer's wiring)."""
    c = cl.logic.conv((1, 4, 4), channels=1, kernel=2, depth=1, seed=5, name="k")
    (box,) = [b for b in c.boxes if b.name == "lut_layer"]
    ia, ib = LutLayerSpec.of(box).wiring
    (a0, a1), (b0, b1) = divmod(int(ia[0]), 4), divmod(int(ib[0]), 4)
    x = np.random.default_rng(2).random((10, 1, 4, 4)) < 0.5
    got = np.asarray(cl.Boolean()(c)({"k.0.table": np.array([0, 1, 1, 0], bool)}, x))
    want = np.zeros((10, 1, 3, 3), bool)
    for i in range(3):
        for j in range(3):
            want[:, 0, i, j] = x[:, 0, a0 + i, a1 + j] ^ x[:, 0, b0 + i, b1 + j]
    np.testing.assert_array_equal(got, want)


def test_or_pool_and_tile_against_numpy():
    x = np.random.default_rng(0).random((40, 2, 4, 6)) < 0.3
    pool = cl.logic.or_pool((2, 4, 6), (2, 3))
    want = x.reshape(40, 2, 2, 2, 2, 3).any(axis=(3, 5))
    np.testing.assert_array_equal(np.asarray(cl.Boolean()(pool)({}, x)), want)
    signal = np.random.default_rng(1).random((9, 3, 8)) < 0.5
    pool1 = cl.logic.or_pool((3, 8), 4)
    np.testing.assert_array_equal(np.asarray(cl.Boolean()(pool1)({}, signal)),
                                  signal.reshape(9, 3, 2, 4).any(-1))
    t = cl.logic.tile((2, 3), 4, axis=1)
    v = x[:5, 0, :2, :3]
    np.testing.assert_array_equal(np.asarray(cl.Boolean()(t)({}, v)),
                                  np.broadcast_to(v[:, :, None], (5, 2, 4, 3)))


def test_a_1d_conv_network_trains_under_smooth():
    X = np.random.default_rng(0).random((128, 1, 16)) < 0.5
    y = (X[:, 0, :8].sum(-1) > X[:, 0, 8:].sum(-1)).astype(np.int32)
    d = cl.logic.conv((1, 16), channels=4, kernel=4, depth=2, stride=2, name="c")
    d = d >> cl.logic.flatten(4, 7) >> cl.logic.group_sum(28, 2, tau=2.0)
    res = cl.fit(d, (X, y), optimiser=cl.optim.adam(0.05), epochs=15,
                 batch_size=32, progress=False)
    assert res.history[-1]["loss"] < 0.95 * res.history[0]["loss"]


@pytest.mark.parametrize(("call", "match"), [
    (lambda: cl.logic.conv((1, 4, 4), 2, kernel=5), "larger than the input"),
    (lambda: cl.logic.conv((4, 4), 2, kernel=(2, 2)), "kernel=.* must be"),
    (lambda: cl.logic.conv((1, 4), 0, kernel=2), "channels=0"),
    (lambda: cl.logic.or_pool((2, 5, 4), 2), "does not divide"),
    (lambda: cl.logic.tile((2, 3), 0), "r must be a positive int"),
    (lambda: cl.Box("or_pool", cl.bits(2, 4), cl.bits(3, 2)), "the channels, then"),
])
def test_bad_conv_layers_are_refused_with_a_fix(call, match):
    with pytest.raises(cl.TypeSpecError, match=match) as err:
        call()
    assert "Fix:" in str(err.value)


def test_relaxed_kernel_fuses_a_conv_stack_through_pooling_into_one_step():
    """Under ``Kernel(relaxed=True)`` the fused chain runs on through
    ``or_pool`` (2x2 windows: two layers of OR gates) and the reshapes, so
    conv, pool and the network after them are one step, with Smooth's values
    and reverse derivative."""
    d = model() >> cl.logic.network(6, [8], 2, seed=1, name="head")
    R = cl.Kernel(relaxed=True)(d)
    fused = [s.box.name for s in R.steps if s.box.name.startswith("fused")]
    assert fused == ["fused_luts[60->48->24->12 or->6 or->8 | group_sum 2]"]
    p = cl.Smooth()(d).init(jax.random.key(0))
    x = (np.random.default_rng(0).random((150, 2, 6, 5)) < 0.5).astype(np.float32)
    dy = np.random.default_rng(1).standard_normal((150, 2)).astype(np.float32)
    np.testing.assert_allclose(R(p, x), cl.Smooth()(d)(p, x), rtol=1e-5, atol=1e-5)
    got, want = R.reverse(p, (x,), (dy,)), cl.Smooth()(d).reverse(p, (x,), (dy,))
    for name in p:
        np.testing.assert_allclose(got[0][name], want[0][name], rtol=1e-4,
                                   atol=1e-4, err_msg=name)
    np.testing.assert_allclose(got[1][0], want[1][0], rtol=1e-4, atol=1e-5)
