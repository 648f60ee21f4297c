"""Lut layers of ``k`` inputs (``cl.logic.lut_layer(..., n_inputs=k)``): one
reading of the table under every semantics, in the exported circuit (and
iverilog) and in the saved file; random, given and learned wiring; training
by GD and by RDA. The laws and mutants are in the contract suite (the
signatures' ``luts{n}x{n}k3``, ``tests/_mutants.py``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catlearn as cl
from catlearn.diagrams import LutLayerSpec
from catlearn.export import netlist

EXACT = (cl.Boolean(), cl.Kernel(backend="cpu"), cl.Kernel(backend="xla"))
RELAXED = (cl.Smooth(), cl.Kernel(relaxed=True))


def coins(*shape, seed=0):
    return np.random.default_rng(seed).random(shape) < 0.5


def entries(x, wiring):
    """Each gate's table entry on each example, by the documented index
    ``2 x_0 + x_1 + sum_{j >= 2} 2^j x_j``."""
    k = len(wiring)
    return (2 * x[:, wiring[0]] + x[:, wiring[1]]
            + sum((1 << j) * x[:, wiring[j]] for j in range(2, k)))


@pytest.mark.parametrize("k", [3, 4, 6])
def test_every_semantics_reads_the_documented_entry(k):
    n_in, n_out = 9, 5
    d = cl.logic.lut_layer(n_in, n_out, seed=k, name="l", n_inputs=k)
    assert d.params == {"l.table": cl.bits(n_out << k)}
    table = coins(n_out << k, seed=k)
    x = coins(70, n_in, seed=1)
    wiring = cl.logic.wiring(n_in, n_out, seed=k, n_inputs=k)
    want = table.reshape(n_out, 1 << k)[np.arange(n_out), entries(x, wiring)]
    p = {"l.table": table}
    for F in EXACT:
        np.testing.assert_array_equal(np.asarray(F(d)(p, x)), want, err_msg=repr(F))
    circuit = netlist(d, p)
    np.testing.assert_array_equal(circuit.evaluate(x), want)
    np.testing.assert_array_equal(circuit.fold().evaluate(x), want)
    for F in RELAXED:  # hard tables: the multilinear extension is the table
        got = F(d)(cl.relax(d, p), x.astype(np.float32))
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-6, err_msg=repr(F))


def test_the_relaxed_gate_is_the_multilinear_extension():
    d = cl.logic.lut_layer(3, 1, name="l", n_inputs=3, wiring=([0], [1], [2]))
    params = {"l.table": jnp.linspace(-1.5, 1.5, 8)}
    s = (1 + np.sin(np.linspace(-1.5, 1.5, 8))) / 2
    x = np.random.default_rng(2).random((6, 3)).astype(np.float32)
    want = sum(
        s[2 * a + b + 4 * c]
        * (x[:, 0] if a else 1 - x[:, 0])
        * (x[:, 1] if b else 1 - x[:, 1])
        * (x[:, 2] if c else 1 - x[:, 2])
        for a in (0, 1) for b in (0, 1) for c in (0, 1))  # fmt: skip
    got = np.asarray(cl.Smooth()(d)(params, x))[:, 0]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # its reverse derivative is the gradient of that polynomial
    prog = cl.Smooth()(d)
    dy = np.ones((6, 1), np.float32)
    dparams, (dx,) = prog.reverse(params, x, dy)
    dw = dparams["l.table"]
    gw, gx = jax.grad(lambda w, x: jnp.sum(prog({"l.table": w}, x)), (0, 1))(
        params["l.table"], jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(dw), np.asarray(gw), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(dx), np.asarray(gx), rtol=1e-5, atol=1e-6)


def test_random_wiring_uses_inputs_evenly_and_never_twice_per_gate():
    ins = np.stack(cl.logic.wiring(40, 300, seed=3, n_inputs=6))
    assert ins.shape == (6, 300)
    assert all(len(set(ins[:, g])) == 6 for g in range(300))
    counts = np.bincount(ins.ravel(), minlength=40)
    assert counts.min() >= 6 * 300 // 40 - 1 and counts.max() <= 6 * 300 // 40 + 1
    again = np.stack(cl.logic.wiring(40, 300, seed=3, n_inputs=6))
    np.testing.assert_array_equal(ins, again)
    # k = 2 draws exactly what it drew before k existed
    a, b = cl.logic.wiring(40, 300, seed=3)
    assert not np.array_equal(np.stack([a, b]), ins[:2])
    np.testing.assert_array_equal(
        np.stack(cl.logic.wiring(40, 300, seed=3, n_inputs=2)), np.stack([a, b]))


def test_given_wiring_and_the_saved_file(tmp_path):
    wiring = ([0, 3], [1, 2], [2, 1], [3, 0])
    d = cl.logic.lut_layer(4, 2, name="l", n_inputs=4, wiring=wiring)
    (box,) = [b for b in d.boxes if b.name == "lut_layer"]
    spec = LutLayerSpec.of(box)
    assert spec.k == 4 and spec.indices == tuple(tuple(w) for w in wiring)
    params = cl.Boolean()(d).init(jax.random.key(0))
    cl.save(tmp_path / "l.catlearn", d, params)
    saved = cl.load(tmp_path / "l.catlearn")
    assert saved.diagram == d
    x = coins(50, 4, seed=4)
    again = cl.Boolean()(saved.diagram)(saved.params, x)
    first = cl.Boolean()(d)(params, x)
    np.testing.assert_array_equal(np.asarray(again), np.asarray(first))
    # a 2-input layer's box data has no k (files saved before k existed read alike)
    two = LutLayerSpec(4, 2, 0, "sin", None)
    assert "k" not in dict(two.to_data())


def test_residual_init_passes_the_first_input():
    d = cl.logic.lut_layer(5, 4, seed=1, name="l", n_inputs=3)
    x = coins(64, 5, seed=5)
    first = x[:, cl.logic.wiring(5, 4, seed=1, n_inputs=3)[0]]
    params = cl.Boolean()(d).init(jax.random.key(0))
    np.testing.assert_array_equal(np.asarray(cl.Boolean()(d)(params, x)), first)
    relaxed = cl.Smooth()(d)(cl.Smooth()(d).init(jax.random.key(0)),
                             x.astype(np.float32))
    np.testing.assert_array_less(np.abs(np.asarray(relaxed) - first), 0.25)


def test_rda_learns_a_three_input_table_exactly():
    d = cl.logic.lut_layer(3, 1, name="l", n_inputs=3, wiring=([0], [1], [2]))
    X = np.array([[(i >> j) & 1 for j in range(3)] for i in range(8)], bool)
    Y = (X[:, 0] ^ (X[:, 1] & X[:, 2]))[:, None]
    res = cl.fit(d, (X, Y), semantics=cl.Boolean(), loss=cl.losses.hamming,
                 optimiser=cl.optim.rda(flips=None, balance=False), epochs=3,
                 batch_size=1, progress=False)
    got = np.asarray(cl.Boolean()(d)(res.params, X))
    np.testing.assert_array_equal(got, Y)


def test_learned_k_wiring_trains_discretizes_and_counts_as_luts():
    X, y = cl.datasets.load_monk(1, "train")
    net = cl.logic.network(17, [8], n_classes=2, seed=0, wiring="learned",
                           n_inputs=4)
    assert net.params["net.0.wiring"] == cl.bits(32, 5)
    assert net.params["net.0.table"] == cl.bits(8 * 16)
    res = cl.fit(net, (X, y), optimiser=cl.optim.adam(0.05), epochs=25,
                 batch_size=32, progress=False)
    first, last = res.history[0]["loss"], res.history[-1]["loss"]
    assert last < 0.9 * first, (first, last)
    p = cl.discretize(net, res.params)
    want = np.asarray(cl.Boolean()(net)(p, X))
    np.testing.assert_array_equal(np.asarray(cl.Kernel()(net)(p, X)), want)
    counts = netlist(net, p).evaluate(X).reshape(len(X), 2, 4).sum(-1)
    np.testing.assert_array_equal(counts, want)


def test_six_input_gates_cost_one_lut6_each():
    d = cl.logic.lut_layer(12, 6, seed=2, name="l", n_inputs=6)
    table = coins(6 << 6, seed=6)
    c = cl.logic.count(d, {"l.table": table})
    assert c.gates > 6 * 20  # the Shannon expansion into 2-input gates
    assert c.luts is not None and c.luts <= 6  # ABC maps each back to one LUT-6


@pytest.mark.parametrize(("call", "match"), [
    (lambda: cl.logic.lut_layer(4, 3, n_inputs=1), "n_inputs=1 must be an int from 2"),
    (lambda: cl.logic.lut_layer(4, 3, n_inputs=11), "n_inputs=11 must be an int"),
    (lambda: cl.logic.lut_layer(4, 3, n_inputs="3"), "n_inputs='3' must be an int"),
    (lambda: cl.logic.lut_layer(4, 3, n_inputs=3, relax="softmax"),
     "chooses among the 16 gates of 2 inputs"),
    (lambda: cl.logic.lut_layer(4, 1, n_inputs=3, wiring=([0], [1])),
     "is not 3 index sequences"),
    (lambda: cl.logic.lut_layer(4, 1, n_inputs=3, wiring=([0], [1], [4])),
     r"wiring 2\[0\] = 4 is outside"),
    (lambda: cl.Box("lut_layer", cl.bits(8) @ cl.bits(4), cl.bits(2),
                    data=LutLayerSpec(4, 2, 0, "sin", None, 3).to_data()),
     r"a table bits\(16\)"),
    (lambda: cl.logic.network(4, [4], 2, n_inputs=0), "n_inputs=0 must be an int"),
    (lambda: cl.logic.lut_layer(4, 2, wiring_relax="softmax"),
     "wiring_relax='softmax' relaxes learned wiring"),
    (lambda: cl.logic.network(4, [4], 2, wiring_relax="softmax"),
     "wiring_relax='softmax' relaxes learned wiring"),
])
def test_bad_k_input_layers_are_refused_with_a_fix(call, match):
    with pytest.raises(cl.CatlearnError, match=match) as info:
        call()
    assert "Fix:" in str(info.value)


@pytest.mark.parametrize("n_in,n_out,k", [(6, 4, 6), (6, 1, 6), (7, 3, 5), (8, 2, 8),
                                          (10, 5, 4), (100, 64, 6)])
def test_no_k_input_gate_reads_a_wire_twice_even_in_a_small_layer(n_in, n_out, k):
    """A small layer leaves some gates no partner to swap a repeated wire
    with (they used to keep it: four 6-input gates over 6 wires could not
    learn a 3-bit adder); they read a wire they lack instead."""
    for seed in range(10):
        ins = np.stack(cl.diagrams.wiring(n_in, n_out, seed, n_inputs=k))
        assert all(len(set(ins[:, g])) == k for g in range(n_out)), (seed, ins)
