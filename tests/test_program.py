"""Compiled programs: batch sizes, JAX transforms, errors on bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catlearn as cl

F = cl.Smooth()
MODEL = cl.nn.mlp([4, 8, 3])


@pytest.fixture(scope="module")
def prog():
    return F(MODEL)


@pytest.fixture(scope="module")
def params(prog):
    return prog.init(jax.random.key(0))


def test_program_is_flat_and_skips_structural_boxes():
    x = cl.real(3)
    d = cl.Copy(x) >> cl.nn.tanh(3) @ cl.Id(x) >> cl.Swap(x, x) >> cl.nn.mul(3)
    p = F(d)
    assert [s.box.name for s in p.steps] == ["tanh", "mul"]


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_any_batch_size(prog, params, batch):
    assert prog(params, jnp.ones((batch, 4))).shape == (batch, 3)


def test_jit_grad_vmap(prog, params):
    x = jax.random.normal(jax.random.key(1), (5, 4))
    eager = prog.apply(params, x)
    assert jnp.allclose(jax.jit(prog.apply)(params, x), eager, atol=1e-6)
    grads = jax.grad(lambda p: prog.apply(p, x).sum())(params)
    assert set(grads) == set(params)
    stacked = jax.vmap(lambda xb: prog(params, xb))(jnp.stack([x, 2 * x]))
    assert stacked.shape == (2, 5, 3)
    assert jnp.allclose(stacked[0], eager, atol=1e-6)


def test_init_is_deterministic(prog):
    a, b = prog.init(jax.random.key(3)), prog.init(jax.random.key(3))
    assert all(bool(jnp.array_equal(a[k], b[k])) for k in a)
    c = prog.init(jax.random.key(4))
    assert not jnp.array_equal(a["mlp.0.w"], c["mlp.0.w"])


def test_repeat_calls_do_not_retrace():
    prog = F(MODEL)
    params = prog.init(jax.random.key(0))
    prog(params, jnp.ones((5, 4)))
    traced = prog.trace_count
    prog(params, jnp.zeros((5, 4)))
    assert prog.trace_count == traced


def test_missing_parameter(prog, params):
    bad = {k: v for k, v in params.items() if k != "mlp.1.w"}
    with pytest.raises(cl.ParamError, match="'mlp.1.w'.*missing"):
        prog(bad, jnp.ones((2, 4)))


def test_wrong_parameter_shape_names_both(prog, params):
    bad = {**params, "mlp.0.b": jnp.zeros(5)}
    with pytest.raises(cl.ParamError) as err:
        prog(bad, jnp.ones((2, 4)))
    assert "'mlp.0.b'" in str(err.value) and "(5,)" in str(err.value)
    assert "(8,)" in str(err.value)


def test_wrong_feature_shape(prog, params):
    with pytest.raises(cl.ShapeError, match=r"real\(4\).*\(batch, 4\).*\(2, 5\)"):
        prog(params, np.ones((2, 5)))


def test_missing_batch_axis(prog, params):
    with pytest.raises(cl.ShapeError, match="axis 0"):
        prog(params, np.ones(4))


def test_missing_rule_names_box_and_functor():
    with pytest.raises(cl.MissingRuleError, match="Smooth.*'mystery'"):
        F(cl.Box("mystery", cl.real(2), cl.real(2)))


def test_user_rules_extend_a_functor():
    double = cl.Rule(
        lambda box, x: ((2 * x,), None), lambda box, r, dy: (2 * dy,), "y = 2x"
    )
    G = F.extend({"double": double})
    prog = G(cl.Box("double", cl.real(2), cl.real(2)))
    x = jnp.ones((3, 2))
    assert jnp.allclose(prog({}, x), 2 * x)
    _, (dx,) = prog.reverse({}, x, jnp.ones((3, 2)))
    assert jnp.allclose(dx, 2.0)
    assert "double" not in F.rules


def test_outputs_independent_of_inputs_broadcast_over_the_batch():
    d = cl.Discard(cl.real(2)) >> cl.Param("c", cl.real(3))
    prog = F(d)
    params = {"c": jnp.arange(3.0)}
    y = prog(params, jnp.ones((4, 2)))
    assert y.shape == (4, 3)
    dparams, _ = prog.reverse(params, jnp.ones((4, 2)), jnp.ones((4, 3)))
    assert jnp.allclose(dparams["c"], 4.0)  # R[copy to 4 examples] sums


@pytest.mark.parametrize(
    "diagram, dy_shape",
    [(cl.nn.relu(2), (1, 2)), (cl.Id(cl.real(2)), (5, 7)), (cl.nn.relu(2), (3,))],
)
def test_reverse_rejects_misshapen_cotangents(diagram, dy_shape):
    prog = F(diagram)
    with pytest.raises(cl.ShapeError, match=r"cotangent of output 0.*\(3, 2\)"):
        prog.reverse({}, (jnp.ones((3, 2)),), (jnp.ones(dy_shape),))


def test_reverse_rejects_wrong_number_of_cotangents():
    prog = F(cl.nn.relu(2))
    with pytest.raises(cl.ShapeError, match="2 output cotangent"):
        prog.reverse({}, (jnp.ones((3, 2)),), (jnp.ones((3, 2)), jnp.ones((3, 2))))
