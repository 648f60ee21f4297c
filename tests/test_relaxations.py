"""The smooth readings of a learnable gate: difflogic's 16-gate softmax and
Gumbel straight-through, beside the input-wise (sin / sigmoid) tables.

The cross-semantics law holds for each: at 0/1 inputs with ``relax``ed hard
parameters ``Smooth`` computes ``Boolean``'s bits exactly, and ``discretize``
undoes ``relax``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catlearn as cl
from catlearn.datasets import load_monk
from catlearn.functors._smooth_logic import GATES

GATE_CHOICES = ("softmax", "gumbel")


def _bits(prog, seed):
    rng = np.random.default_rng(seed)
    return {k: rng.random(w.shape) < 0.5 for k, w in prog.param_types.items()}


@pytest.mark.parametrize("relax", ["sin", *GATE_CHOICES])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relaxed_hard_tables_compute_the_boolean_circuit(relax, seed):
    net = cl.logic.network(5, [7, 6, 3], n_classes=None, seed=seed, relax=relax)
    B, S = cl.Boolean()(net), cl.Smooth()(net)
    params = _bits(B, seed)
    X = np.random.default_rng(seed).random((41, 5)) < 0.5
    soft = np.asarray(S(cl.relax(net, params), X.astype(np.float32)))
    assert np.all((soft == 0) | (soft == 1))
    assert np.array_equal(soft > 0.5, np.asarray(B(params, X)))
    back = cl.discretize(net, cl.relax(net, params))
    assert all(np.array_equal(back[k], params[k]) for k in params)


def test_gate_tables_are_the_16_functions_in_difflogic_order():
    tables = np.asarray(GATES)
    assert len({tuple(t) for t in tables}) == 16
    named = {1: (0, 0, 0, 1), 3: (0, 0, 1, 1), 5: (0, 1, 0, 1), 6: (0, 1, 1, 0),
             7: (0, 1, 1, 1), 8: (1, 0, 0, 0), 14: (1, 1, 1, 0)}  # AND a b XOR OR ...
    assert all(tuple(tables[i]) == t for i, t in named.items())


@pytest.mark.parametrize("relax", GATE_CHOICES)
def test_gate_choice_tables_hold_16_logits_and_start_as_pass_through(relax):
    net = cl.logic.network(6, [8, 4], n_classes=None, seed=0, relax=relax)
    S, B = cl.Smooth()(net), cl.Boolean()(net)
    assert S.param_shapes == {"net.0.table": (128,), "net.1.table": (64,)}
    assert B.param_shapes == {"net.0.table": (32,), "net.1.table": (16,)}
    params = S.init(jax.random.key(0))
    p = jax.nn.softmax(params["net.0.table"].reshape(8, 16))
    assert np.allclose(p[:, 3], cl.logic.RESIDUAL_CONFIDENCE)  # gate "a"
    hard = cl.discretize(net, params)
    assert all(np.array_equal(hard[k], B.init(jax.random.key(0))[k]) for k in hard)
    with pytest.raises(cl.ParamError, match=r"\(128,\).*Smooth"):
        S({"net.0.table": jnp.zeros(32), "net.1.table": jnp.zeros(64)},
          np.zeros((2, 6), np.float32))


def _one_layer(relax):
    return cl.logic.lut_layer(4, 5, seed=3, name="l", relax=relax)


def test_softmax_layer_is_the_mixture_of_the_16_relaxed_gates():
    S = cl.Smooth()(_one_layer("softmax"))
    w = jax.random.normal(jax.random.key(1), (80,))
    x = jax.random.uniform(jax.random.key(2), (9, 4))
    ia, ib = cl.logic.wiring(4, 5, 3)
    a, b = x[:, ia], x[:, ib]
    ops = [jnp.zeros_like(a), a * b, a - a * b, a, b - a * b, b, a + b - 2 * a * b,
           a + b - a * b, 1 - (a + b - a * b), 1 - (a + b - 2 * a * b), 1 - b,
           1 - b + a * b, 1 - a, 1 - a + a * b, 1 - a * b, jnp.ones_like(a)]
    p = jax.nn.softmax(w.reshape(5, 16), axis=-1)
    want = sum(p[:, i] * op for i, op in enumerate(ops))  # difflogic's formulas
    assert np.allclose(S({"l.table": w}, x), want, atol=1e-6)


def test_gumbel_is_straight_through():
    """No key: the forward pass is the hard argmax gate; the table cotangent is
    the softmax relaxation's, the input cotangent the hard gate's."""
    d_hard, d_soft = _one_layer("gumbel"), _one_layer("softmax")
    G, S = cl.Smooth()(d_hard), cl.Smooth()(d_soft)
    w = 2 * jax.random.normal(jax.random.key(1), (80,))
    x = jax.random.uniform(jax.random.key(2), (9, 4))
    dy = jax.random.normal(jax.random.key(3), (9, 5))
    gate = jnp.argmax(w.reshape(5, 16), axis=-1)
    hard = {"l.table": jnp.where(jnp.arange(16) == gate[:, None], 100.0, -100.0)
            .reshape(-1)}
    assert np.allclose(G({"l.table": w}, x), S(hard, x))
    (dw, (dx,)) = G.reverse({"l.table": w}, x, dy)

    def soft_at_same_inputs(w):
        return S({"l.table": w}, x)

    want_dw = jax.vjp(soft_at_same_inputs, w)[1](dy)[0]
    assert np.allclose(dw["l.table"], want_dw, atol=1e-5)
    assert np.allclose(dx, S.reverse(hard, x, dy)[1][0], atol=1e-5)


def test_gumbel_noise_comes_from_the_key():
    net = cl.logic.network(6, [16, 8], n_classes=None, seed=0, relax="gumbel")
    G = cl.Smooth()(net)
    assert G.stochastic and not cl.Smooth()(_one_layer("softmax")).stochastic
    params = {k: jnp.zeros(s) for k, s in G.param_shapes.items()}  # all gates tie
    X = (np.random.default_rng(0).random((64, 6)) < 0.5).astype(np.float32)
    draws = [np.asarray(G(params, X, key=jax.random.key(i))) for i in (0, 0, 1)]
    assert np.array_equal(draws[0], draws[1])
    assert not np.array_equal(draws[0], draws[2])
    assert all(np.all((d == 0) | (d == 1)) for d in draws)


@pytest.mark.parametrize("relax", GATE_CHOICES)
def test_gate_choice_networks_learn_monk1_exactly(relax):
    X, y = load_monk(1, "train", seed=0)
    X_test, y_test = load_monk(1, "test")
    net = cl.logic.network(17, [256] * 4, 2, seed=0, relax=relax)
    fit = cl.fit(net, (X.astype(np.float32), y), optimiser=cl.optim.adam(0.05),
                 epochs=300, batch_size=32, seed=0, progress=False)
    scores = cl.evaluate(net, fit.params, (X_test.astype(np.float32), y_test))
    assert scores["discrete_accuracy"] == 1.0
    if relax == "gumbel":  # evaluation without noise is the circuit itself
        assert scores["discretization_gap"] == 0.0
