"""Learned wiring (``cl.logic.select``, ``lut_layer(..., wiring="learned")``)
and shaped bit wires (``cl.bits(c, h, w)``, ``cl.logic.reshape`` /
``flatten``): read alike by every semantics, the exported circuit and the
saved file; the laws and mutants of ``select`` and ``reshape`` are in the
contract suite (``catlearn.testing`` signatures, ``tests/_mutants.py``)."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import catlearn as cl
from catlearn.diagrams import SelectSpec, index_bits
from catlearn.export import netlist

EXACT = (cl.Boolean(), cl.Kernel(backend="cpu"), cl.Kernel(backend="xla"),
         cl.Kernel(backend="interpret"))
RELAXED = (cl.Smooth(), cl.Kernel(relaxed=True))


def coins(*shape, seed=0):
    return np.random.default_rng(seed).random(shape) < 0.5


def index_param(indices, n_in):
    """Bits (least significant first) of the given indices: ``(n_sel, w)``."""
    w = index_bits(n_in)
    return (np.asarray(indices)[:, None] >> np.arange(w)) & 1 == 1


@pytest.mark.parametrize("n_in", [1, 2, 5, 8, 9])
def test_select_reads_the_chosen_wires_everywhere(n_in):
    w = index_bits(n_in)
    indices = np.arange(2**w)[::-1] % (2**w)  # every index, past the inputs too
    d = cl.logic.select(n_in, len(indices), name="s")
    p = {"s.wiring": index_param(indices, n_in)}
    x = coins(70, n_in)
    padded = np.concatenate([x, np.zeros((70, 2**w - n_in), bool)], axis=1)
    want = padded[:, indices]  # an index past the inputs reads 0
    for F in EXACT:
        np.testing.assert_array_equal(np.asarray(F(d)(p, x)), want, err_msg=repr(F))
    np.testing.assert_array_equal(netlist(d, p).evaluate(x), want)
    for F in RELAXED:  # hard index bits: the relaxed choice is the gather
        got = np.asarray(F(d)(cl.relax(d, p), x.astype(np.float32)))
        np.testing.assert_allclose(got, want, atol=1e-6, err_msg=repr(F))


def test_the_relaxed_choice_is_a_distribution_over_the_inputs():
    d = cl.logic.select(3, 4, name="s")  # w = 2: index 3 reads 0
    params = cl.Smooth()(d).init(jax.random.key(0))
    theta = np.asarray(params["s.wiring"])
    p = (1 + np.sin(theta)) / 2  # the sin squashing of each index bit
    weights = np.stack([
        (p[:, 0] if j & 1 else 1 - p[:, 0]) * (p[:, 1] if j & 2 else 1 - p[:, 1])
        for j in range(3)], axis=1)  # fmt: skip
    x = np.random.default_rng(1).random((5, 3)).astype(np.float32)
    got = np.asarray(cl.Smooth()(d)(params, x))
    np.testing.assert_allclose(got, x @ weights.T, rtol=1e-5)


def test_learned_layer_trains_discretizes_and_exports_bit_for_bit():
    X, y = cl.datasets.load_monk(1, "train")
    net = cl.logic.network(17, [16, 8], n_classes=2, seed=0, wiring="learned")
    assert sorted(net.params) == ["net.0.table", "net.0.wiring", "net.1.table",
                                  "net.1.wiring"]
    assert net.params["net.0.wiring"] == cl.bits(32, 5)
    res = cl.fit(net, (X, y), optimiser=cl.optim.adam(0.05), epochs=30,
                 batch_size=32, progress=False)
    first, last = res.history[0]["loss"], res.history[-1]["loss"]
    assert last < 0.9 * first, (first, last)
    p = cl.discretize(net, res.params)
    assert p["net.0.wiring"].dtype == bool and p["net.0.wiring"].shape == (32, 5)
    np.testing.assert_array_equal(
        np.asarray(cl.discretize(net, cl.relax(net, p))["net.0.wiring"]),
        np.asarray(p["net.0.wiring"]))
    want = np.asarray(cl.Boolean()(net)(p, X))
    for F in EXACT[1:]:
        np.testing.assert_array_equal(np.asarray(F(net)(p, X)), want, err_msg=repr(F))
    relaxed = cl.Smooth()(net)(cl.relax(net, p), X.astype(np.float32))
    np.testing.assert_allclose(np.asarray(relaxed) * np.sqrt(8 / 2), want, atol=1e-4)
    circuit = netlist(net, p)
    counts = circuit.evaluate(X).reshape(len(X), 2, 4).sum(-1)
    np.testing.assert_array_equal(counts, want)


def test_learned_wiring_is_saved_and_loaded(tmp_path):
    d = cl.logic.lut_layer(6, 3, name="l", wiring="learned")
    params = cl.Boolean()(d).init(jax.random.key(0))
    cl.save(tmp_path / "l.catlearn", d, params)
    saved = cl.load(tmp_path / "l.catlearn")
    assert saved.diagram == d
    (box,) = [b for b in saved.diagram.boxes if b.name == "select"]
    assert SelectSpec.of(box) == SelectSpec(6, 6, "sin")
    x = coins(40, 6)
    again = cl.Boolean()(saved.diagram)(saved.params, x)
    first = cl.Boolean()(d)(params, x)
    np.testing.assert_array_equal(np.asarray(again), np.asarray(first))


@pytest.mark.parametrize(("call", "match"), [
    (lambda: cl.logic.select(0, 3), "n_in must be a positive int"),
    (lambda: cl.logic.select(4, 3, relax="gumbel"), "is not one of"),
    (lambda: cl.logic.lut_layer(4, 3, wiring="drawn"), "is not 'random', 'learned'"),
    (lambda: cl.logic.network(4, [4], 2, wiring="given"), "is not 'random' or"),
    (lambda: cl.Box("select", cl.bits(3, 3) @ cl.bits(4), cl.bits(3),
                    data=cl.diagrams.spec(n_in=4, n_sel=3, relax="sin")),
     r"expected bits\(3, 2\) @ bits\(4\) -> bits\(3\)"),
])
def test_bad_selects_are_refused_with_a_fix(call, match):
    with pytest.raises(cl.TypeSpecError, match=match) as err:
        call()
    assert "Fix:" in str(err.value)


def test_softmax_choices_discretize_to_their_argmax_and_relax_back():
    d = cl.logic.select(5, 3, name="s", relax="softmax")  # w = 3: 8 indices
    prog = cl.Smooth()(d)
    assert prog.param_shapes == {"s.wiring": (3, 8)}
    logits = np.zeros((3, 8), np.float32)
    logits[[0, 1, 2], [4, 0, 6]] = 3.0  # index 6 is past the inputs: reads 0
    p = cl.discretize(d, {"s.wiring": logits})
    np.testing.assert_array_equal(np.asarray(p["s.wiring"]), index_param([4, 0, 6], 5))
    x = coins(40, 5)
    want = np.stack([x[:, 4], x[:, 0], np.zeros(40, bool)], axis=1)
    for F in EXACT:
        np.testing.assert_array_equal(np.asarray(F(d)(p, x)), want, err_msg=repr(F))
    np.testing.assert_array_equal(netlist(d, p).evaluate(x), want)
    hard = cl.relax(d, p)
    assert hard["s.wiring"].shape == (3, 8)
    for F in RELAXED:
        got = F(d)(hard, x.astype(np.float32))
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-6, err_msg=repr(F))
    soft = np.asarray(prog({"s.wiring": logits}, x.astype(np.float32)))
    weights = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(soft, x @ weights[:, :5].T, rtol=1e-5)


def test_a_learned_layer_with_softmax_choices_trains():
    X, y = cl.datasets.load_monk(1, "train")
    net = cl.logic.network(17, [16, 8], n_classes=2, seed=0, wiring="learned",
                           wiring_relax="softmax")
    assert cl.Smooth()(net).param_shapes["net.0.wiring"] == (32, 32)
    res = cl.fit(net, (X, y), optimiser=cl.optim.adam(0.05), epochs=20,
                 batch_size=32, progress=False)
    assert res.history[-1]["loss"] < 0.9 * res.history[0]["loss"]
    p = cl.discretize(net, res.params)
    np.testing.assert_array_equal(np.asarray(cl.Kernel()(net)(p, X)),
                                  np.asarray(cl.Boolean()(net)(p, X)))


# -- shaped bit wires ----------------------------------------------------------------
def test_shaped_bits_cross_every_semantics_in_their_shape():
    image = cl.bits(2, 3, 4)
    assert image.inside[0].size == 24 and image != cl.bits(24)
    d = cl.logic.gate("XOR", 2, 3, 4) >> cl.logic.flatten(2, 3, 4)
    d = d >> cl.logic.lut_layer(24, 6, seed=1) >> cl.logic.reshape((6,), (2, 3))
    assert (d.dom, d.cod) == (image @ image, cl.bits(2, 3))
    a, b = coins(33, 2, 3, 4), coins(33, 2, 3, 4, seed=1)
    p = cl.Boolean()(d).init(jax.random.key(2))
    want = np.asarray(cl.Boolean()(d)(p, a, b))
    assert want.shape == (33, 2, 3)
    flat = cl.logic.lut_layer(24, 6, seed=1)
    np.testing.assert_array_equal(
        want.reshape(33, 6), np.asarray(cl.Boolean()(flat)(p, (a ^ b).reshape(33, 24))))
    for F in EXACT[1:]:
        np.testing.assert_array_equal(np.asarray(F(d)(p, a, b)), want, err_msg=repr(F))
    for F in RELAXED:
        got = F(d)(cl.relax(d, p), a.astype(np.float32), b.astype(np.float32))
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-6, err_msg=repr(F))
    both = np.concatenate([a.reshape(33, -1), b.reshape(33, -1)], 1)
    np.testing.assert_array_equal(netlist(d, p).evaluate(both), want.reshape(33, -1))


def test_shaped_wires_are_refused_where_flat_ones_are_read():
    with pytest.raises(cl.TypeSpecError, match=r"flatten a shaped wire first: "
                       r"cl.logic.flatten\(2, 2\)"):
        cl.Box("group_sum", cl.bits(2, 2), cl.real(2),
               data=cl.diagrams.spec(k=2, tau=1.0))
    with pytest.raises(cl.TypeSpecError, match=r"entries: 6 vs 5\).*Fix: shapes"):
        cl.logic.reshape((2, 3), (5,))
    with pytest.raises(cl.TypeSpecError, match=r"real\(4\) -> real\(3\)"):
        cl.nn.reshape((4,), (3,))
    with pytest.raises(cl.TypeSpecError, match="same kind and size"):
        cl.Box("reshape", cl.bits(4), cl.real(4))
    with pytest.raises(cl.TypeSpecError, match="at least one size"):
        cl.bits()
    x = coins(5, 2, 3)
    with pytest.raises(cl.ShapeError, match=r"\(batch, 3, 2\)"):
        cl.Boolean()(cl.logic.flatten(3, 2))({}, x)
