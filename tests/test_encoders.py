"""The input encoder ``cl.logic.thermometer``: real features to bits, exact
under Boolean and Kernel, the same step (or a sigmoid) under Smooth, saved
with its thresholds, and trained in front of a logic network by GD and RDA."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import catlearn as cl
from catlearn.diagrams import ThermometerSpec
from catlearn.export import to_verilog


def features(m=70, n=4, seed=0):
    return np.random.default_rng(seed).normal(size=(m, n)).astype(np.float32)


def test_thermometer_is_a_comparison_under_every_semantics():
    X = features()
    enc = cl.logic.thermometer(3, data=X)
    (box,) = enc.boxes
    t = np.asarray(ThermometerSpec.of(box).thresholds)
    np.testing.assert_allclose(t, np.quantile(X, [0.25, 0.5, 0.75], axis=0).T)
    want = (X[:, :, None] > t[None]).reshape(70, 12)
    for F in (cl.Boolean(), cl.Kernel(), cl.Kernel(backend="xla"), cl.Smooth(),
              cl.Kernel(relaxed=True)):
        np.testing.assert_array_equal(np.asarray(F(enc)({}, X)) > 0.5, want,
                                      err_msg=repr(F))
    ints = np.arange(12).reshape(6, 2)  # integer features are features too
    enc2 = cl.logic.thermometer(thresholds=[[2.5], [7.0]])
    np.testing.assert_array_equal(np.asarray(cl.Boolean()(enc2)({}, ints)),
                                  np.stack([ints[:, 0] > 2.5, ints[:, 1] > 7], 1))


def test_a_soft_thermometer_is_a_sigmoid():
    enc = cl.logic.thermometer(thresholds=[[0.0, 1.0]], tau=0.5)
    x = np.array([[0.25], [2.0]], np.float32)
    got = np.asarray(cl.Smooth()(enc)({}, x))
    want = 1 / (1 + np.exp(-(x - np.array([0.0, 1.0])) / 0.5))
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_an_encoded_network_trains_by_gd_and_rda_and_discretizes():
    X = features(256, 4, seed=1)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int32)
    d = cl.logic.thermometer(4, data=X) >> cl.logic.network(16, [32, 16], 2, seed=0)
    res = cl.fit(d, (X, y), optimiser=cl.optim.adam(0.05), epochs=20,
                 batch_size=32, progress=False)
    last = res.history[-1]
    assert last["accuracy"] > 0.8 and abs(last["discretization_gap"]) < 0.1, last
    circuit = cl.discretize(d, res.params)
    scores = cl.evaluate(d, circuit, (X, y), semantics=cl.Boolean())
    assert scores["accuracy"] == pytest.approx(last["discrete_accuracy"])
    np.testing.assert_array_equal(np.asarray(cl.Kernel()(d)(circuit, X)),
                                  np.asarray(cl.Boolean()(d)(circuit, X)))
    rda = cl.fit(d, (X, y), semantics=cl.Boolean(), loss=cl.losses.hamming,
                 optimiser=cl.optim.rda(), epochs=3, batch_size=32, progress=False)
    assert np.isfinite(rda.history[-1]["loss"])


def test_thresholds_are_saved_and_loaded(tmp_path):
    enc = cl.logic.thermometer(thresholds=[[-1.5, 0.125], [3.0, 1e-7]], tau=0.25)
    cl.save(tmp_path / "enc.catlearn", enc, {})
    again = cl.load(tmp_path / "enc.catlearn").diagram
    assert again == enc
    (box,) = again.boxes
    want = ThermometerSpec(((-1.5, 0.125), (3.0, 1e-7)), 0.25)
    assert ThermometerSpec.of(box) == want


@pytest.mark.parametrize(("call", "match"), [
    (lambda: cl.logic.thermometer(3), "give thresholds"),
    (lambda: cl.logic.thermometer(3, data=np.ones(5)), "finite .examples, features."),
    (lambda: cl.logic.thermometer(thresholds=[[0.0], [1.0, 2.0]]), "thresholds"),
    (lambda: cl.logic.thermometer(thresholds=[[0.0]], tau=-1), "tau"),
    (lambda: cl.Box("thermometer", cl.real(2), cl.bits(3),
                    data=cl.diagrams.spec(thresholds=((0.0,), (1.0,)), tau=0.0)),
     r"real\(2\) -> bits\(2\)"),
])
def test_bad_thermometers_are_refused_with_a_fix(call, match):
    with pytest.raises(cl.CatlearnError, match=match) as err:
        call()
    assert "Fix:" in str(err.value)


def test_real_wires_reach_only_encoders_under_boolean():
    with pytest.raises(cl.SemanticsError, match="real wire real.2."):
        cl.Boolean()(cl.nn.relu(2))
    enc = cl.logic.thermometer(thresholds=[[0.0]])
    with pytest.raises(cl.ExportError, match="export the diagram after the encoder"):
        to_verilog(enc >> cl.logic.NOT, {})


def test_level_order_makes_channels_of_an_image():
    X = np.random.default_rng(3).integers(0, 17, (9, 16)).astype(np.float32)
    thresholds = [[4.0, 8.0, 12.0]] * 16
    enc = cl.logic.thermometer(thresholds=thresholds, order="level", tau=0.0)
    image = enc >> cl.logic.reshape((48,), (3, 4, 4))
    want = np.stack([X > t for t in (4, 8, 12)], 1).reshape(9, 3, 4, 4)
    for F in (cl.Boolean(), cl.Kernel(backend="xla"), cl.Smooth()):
        np.testing.assert_array_equal(np.asarray(F(image)({}, X)) > 0.5, want,
                                      err_msg=repr(F))
    soft = cl.logic.thermometer(thresholds=thresholds, order="level", tau=1.0)
    x = jax.numpy.asarray(X)
    y, pullback = jax.vjp(lambda v: cl.Smooth()(soft)({}, v), x)
    dy = np.random.default_rng(4).normal(size=y.shape).astype(np.float32)
    (_, dxs) = cl.Smooth()(soft).reverse({}, (x,), (dy,))
    np.testing.assert_allclose(np.asarray(dxs[0]), np.asarray(pullback(dy)[0]),
                               rtol=1e-5, atol=1e-6)


def test_discretize_a_diagram_mixing_smooth_and_logic_boxes():
    """Only bits parameters have a discrete reading: discretize and relax keep
    the real ones, the logic part runs exactly under Smooth, and Boolean
    refuses the smooth box with a fix."""
    head = cl.nn.dense(4, 4, "tanh", name="lin")
    tail = cl.logic.thermometer(thresholds=[[-0.2, 0.3]] * 4)
    tail = tail >> cl.logic.network(8, [8], 2, tau=1.0)
    d = head >> tail
    smooth = cl.Smooth()(d).init(jax.random.key(0))
    hard = cl.discretize(d, smooth)
    assert sorted(hard) == sorted(smooth)
    for name in head.params:
        np.testing.assert_array_equal(np.asarray(hard[name]), np.asarray(smooth[name]))
    assert hard["net.0.table"].dtype == bool
    again = cl.relax(d, hard)
    for name in head.params:
        np.testing.assert_array_equal(np.asarray(again[name]), np.asarray(smooth[name]))
    x = np.random.default_rng(3).normal(size=(40, 4)).astype(np.float32)
    h = cl.Smooth()(head)({n: smooth[n] for n in head.params}, x)
    logic = {n: hard[n] for n in tail.params}
    exact = np.asarray(cl.Boolean()(tail)(logic, np.asarray(h)))
    np.testing.assert_allclose(np.asarray(cl.Smooth()(d)(again, x)), exact, atol=1e-5)
    with pytest.raises(cl.SemanticsError, match=r"real wire .*'lin\..*Fix: .*cl.relax"):
        cl.Boolean()(d)
