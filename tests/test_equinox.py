"""A compiled program drops into equinox code: ``program.module(params)`` is
an ``eqx.Module`` whose array leaves are the parameters."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import catlearn as cl


def test_module_runs_the_program_and_its_gradient_is_the_programs():
    prog = cl.Smooth()(cl.nn.mlp([3, 5, 2]))
    params = prog.init(jax.random.key(0))
    m = prog.module(params)
    assert isinstance(m, eqx.Module)
    x = jnp.linspace(-1, 1, 12).reshape(4, 3)
    np.testing.assert_allclose(m(x), prog(params, x), rtol=1e-6)
    grads = eqx.filter_grad(lambda m, x: (m(x) ** 2).sum())(m, x)
    expected = jax.grad(lambda p, x: (prog(p, x) ** 2).sum())(params, x)
    assert set(grads.params) == set(expected)
    for name in expected:
        np.testing.assert_allclose(grads.params[name], expected[name], rtol=1e-5)


def test_module_trains_with_optax_in_a_plain_equinox_loop():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int32)
    onehot = np.eye(2, dtype=np.float32)[y]
    prog = cl.Smooth()(cl.nn.mlp([4, 8, 2]))
    m = prog.module(prog.init(jax.random.key(1)))
    opt = optax.sgd(0.5)  # (adam mixes int32 and float: strict promotion refuses)
    state = opt.init(eqx.filter(m, eqx.is_array))

    @eqx.filter_jit
    def step(m, state):
        def loss(m):
            logits = m(X)
            return -(jax.nn.log_softmax(logits) * onehot).sum(axis=1).mean()

        value, grads = eqx.filter_value_and_grad(loss)(m)
        updates, state = opt.update(grads, state, eqx.filter(m, eqx.is_array))
        return eqx.apply_updates(m, updates), state, value

    first = None
    for _ in range(60):
        m, state, value = step(m, state)
        first = value if first is None else first
    assert float(value) < 0.5 * float(first)
    # the trained params are a plain dict the program (and cl.save) takes
    accuracy = (np.asarray(prog(m.params, X)).argmax(1) == y).mean()
    assert accuracy > 0.9


def test_module_checks_params_before_wrapping():
    prog = cl.Smooth()(cl.nn.mlp([3, 5, 2]))
    params = prog.init(jax.random.key(0))
    del params["mlp.0.w"]
    with pytest.raises(cl.ParamError, match="mlp.0.w"):
        prog.module(params)
