"""``cl.logic.sort(n)``: the count of ones in unary, read alike by every
semantics and the exported sorting network; its Z2 reverse against brute
force and its relaxation against the count's distribution. Its laws and
mutants are in the contract suite (``sort{n}`` in the signatures,
``tests/_mutants.py``)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import catlearn as cl
from catlearn.export import netlist

EXACT = (cl.Boolean(), cl.Kernel(backend="cpu"), cl.Kernel(backend="xla"))


def cube(n):
    return np.array(list(itertools.product([False, True], repeat=n)), bool)


@pytest.mark.parametrize("n", [1, 2, 5, 7])
def test_sort_counts_in_unary_everywhere(n):
    d = cl.logic.sort(n)
    X = cube(n)
    want = X.sum(1)[:, None] > np.arange(n)[None, :]
    for F in EXACT:
        np.testing.assert_array_equal(np.asarray(F(d)({}, X)), want, err_msg=repr(F))
    circuit = netlist(d, {})
    np.testing.assert_array_equal(circuit.evaluate(X), want)
    np.testing.assert_array_equal(circuit.fold().evaluate(X), want)
    for F in (cl.Smooth(), cl.Kernel(relaxed=True)):
        got = F(d)({}, X.astype(np.float32))
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-6, err_msg=repr(F))


def test_the_z2_reverse_is_the_brute_force_derivative():
    n = 6
    X = cube(n)
    want = X.sum(1)[:, None] > np.arange(n)
    dy = np.random.default_rng(0).random((len(X), n)) < 0.5
    _, (dx,) = cl.Boolean()(cl.logic.sort(n)).reverse({}, X, dy)
    brute = np.zeros_like(X)
    for i in range(n):
        flipped = X.copy()
        flipped[:, i] ^= True
        changed = (flipped.sum(1)[:, None] > np.arange(n)) ^ want
        brute[:, i] = (changed & dy).sum(1) % 2 == 1
    np.testing.assert_array_equal(np.asarray(dx), brute)


def test_the_relaxed_sort_is_the_tail_of_the_count():
    p = np.array([[0.2, 0.9, 0.5]], np.float32)
    got = np.asarray(cl.Smooth()(cl.logic.sort(3))({}, p))[0]
    X = cube(3)
    weight = np.prod(np.where(X, p, 1 - p), axis=1)
    want = [weight[X.sum(1) > j].sum() for j in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_exactly_two_of_six_is_learned_through_a_sort():
    """MONK-2's rule, exactly two of six chosen bits, read off a sort: the
    choice (a softmax select) and the read-out gates learn together."""
    X, y = cl.datasets.load_monk(2, "train")
    Xt, yt = cl.datasets.load_monk(2, "test")
    body = cl.logic.select(17, 6, name="pick", relax="softmax") >> cl.logic.sort(6)
    for seed in range(3):  # restarts, chosen by the training accuracy
        net = body >> cl.logic.network(6, [8], 2, seed=seed, name="out", tau=1.0,
                                       init="normal", n_inputs=6)
        res = cl.fit(net, (X, y), optimiser=cl.optim.adam(0.05), epochs=150,
                     batch_size=32, seed=seed, progress=False)
        params = cl.discretize(net, res.params)
        if cl.evaluate(net, params, (X, y), semantics=cl.Boolean())["accuracy"] == 1:
            break
    chosen = np.asarray(params["pick.wiring"]).astype(int) @ (1 << np.arange(5))
    first_values = [0, 3, 6, 8, 11, 15]  # a1 = 1, a2 = 1, ... in the one-hot bits
    assert sorted(chosen.tolist()) == first_values
    test = cl.evaluate(net, params, (Xt, yt), semantics=cl.Boolean())["accuracy"]
    assert test == 1.0


def test_bad_sorts_are_refused_with_a_fix():
    with pytest.raises(cl.TypeSpecError, match="n must be a positive int") as e:
        cl.logic.sort(0)
    assert "Fix:" in str(e.value)
    with pytest.raises(cl.TypeSpecError, match=r"expected bits\(n\) -> bits\(n\)"):
        cl.Box("sort", cl.bits(2, 3), cl.bits(2, 3))
    with pytest.raises(cl.TypeSpecError, match=r"expected bits\(n\) -> bits\(n\)"):
        cl.Box("sort", cl.bits(3), cl.bits(2))
