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


# -- an equinox module as a box: cl.nn.from_equinox ----------------------------------
def _mlp_box(name="m"):
    import equinox as eqx

    mlp = eqx.nn.MLP(4, 3, 8, 1, key=jax.random.key(0))
    return mlp, cl.nn.from_equinox(mlp, cl.real(4), cl.real(3), name=name)


def test_from_equinox_runs_the_module_from_its_own_weights():
    mlp, box = _mlp_box()
    assert sorted(box.params) == ["m.layers.0.bias", "m.layers.0.weight",
                                  "m.layers.1.bias", "m.layers.1.weight"]
    program = cl.Smooth()(box)
    params = program.init(jax.random.key(7))  # the module's values, not drawn
    np.testing.assert_array_equal(params["m.layers.0.weight"], mlp.layers[0].weight)
    x = jnp.asarray(np.random.default_rng(0).normal(size=(6, 4)), jnp.float32)
    np.testing.assert_allclose(program(params, x), jax.vmap(mlp)(x), rtol=1e-6)
    # the reverse is jax.vjp of the batched module, parameters included
    dy = jnp.ones((6, 3))
    dparams, (dx,) = program.reverse(params, (x,), (dy,))
    want = eqx.filter_grad(lambda m, x: jax.vmap(m)(x).sum())(mlp, x)
    want_dx = jax.grad(lambda x: jax.vmap(mlp)(x).sum())(x)
    np.testing.assert_allclose(dx, want_dx, rtol=1e-5)
    np.testing.assert_allclose(dparams["m.layers.1.weight"], want.layers[1].weight,
                               rtol=1e-5)


def test_from_equinox_boxes_train_in_a_diagram():
    # (the laws: the contract suite's Smooth signature holds an equinox MLP,
    # and tests/_mutants.py one with a wrong reverse)
    _, box = _mlp_box("e")
    model = box >> cl.nn.dense(3, 2, activation=None, name="head")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int32)
    result = cl.fit(model, (X, y), optimiser=cl.optim.adam(0.02), epochs=60,
                    batch_size=32, progress=False)
    assert result.history[-1]["accuracy"] > 0.85


def test_from_equinox_refuses_what_is_not_a_module_and_unknown_tokens():
    with pytest.raises(cl.TypeSpecError, match="not an equinox.Module"):
        cl.nn.from_equinox(lambda x: x, cl.real(2), cl.real(2))
    _, box = _mlp_box("gone")
    token = next(iter(b for b in cl.diagrams.boxes(box) if b.name == "equinox"))
    spec = cl.diagrams.EquinoxSpec.of(token)
    saved = cl.diagrams.EQUINOX_MODULES.pop(spec.token)
    try:
        with pytest.raises(cl.MissingRuleError, match="not built in this process"):
            cl.Smooth()(box).init(jax.random.key(0))
    finally:
        cl.diagrams.EQUINOX_MODULES[spec.token] = saved
