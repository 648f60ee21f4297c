"""The jax.nn activations as boxes (their laws and mutants are in the
contract suite) and ``nn.add``/``nn.mul`` on any wire shape."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catlearn as cl

JAX_NN = {"gelu": jax.nn.gelu, "silu": jax.nn.silu, "softplus": jax.nn.softplus,
          "elu": jax.nn.elu, "leaky_relu": jax.nn.leaky_relu,
          "log_softmax": jax.nn.log_softmax}


@pytest.mark.parametrize("name", sorted(JAX_NN))
def test_an_activation_is_jax_nns_with_its_vjp(name):
    box = getattr(cl.nn, name)(5)
    program = cl.Smooth()(box)
    x = jnp.asarray(np.random.default_rng(0).normal(size=(4, 5)) * 3, jnp.float32)
    np.testing.assert_allclose(program({}, x), JAX_NN[name](x), rtol=1e-6)
    dy = jnp.asarray(np.random.default_rng(1).normal(size=(4, 5)), jnp.float32)
    _, (dx,) = program.reverse({}, (x,), (dy,))
    np.testing.assert_allclose(dx, jax.vjp(JAX_NN[name], x)[1](dy)[0], rtol=1e-5,
                               atol=1e-6)


def test_mlp_takes_any_activation_and_trains():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int32)
    for act in ("gelu", "silu"):
        r = cl.fit(cl.nn.mlp([3, 32, 2], activation=act), (X, y), epochs=60,
                   batch_size=32, optimiser=cl.optim.adam(0.02), progress=False)
        assert r.history[-1]["accuracy"] > 0.85, act
    with pytest.raises(cl.TypeSpecError, match="not one of"):
        cl.nn.mlp([3, 4, 2], activation="swish")


def test_add_and_activations_on_any_shape():
    box = cl.nn.add(2, 3)
    assert box.dom == cl.real(2, 3) @ cl.real(2, 3) and box.cod == cl.real(2, 3)
    assert cl.nn.add((2, 3)) == box and cl.nn.add(4).cod == cl.real(4)
    x = jnp.ones((5, 2, 3))
    np.testing.assert_array_equal(cl.Smooth()(box)({}, x, 2 * x), 3 * x)
    gelu = cl.nn.gelu(2, 3)
    np.testing.assert_allclose(cl.Smooth()(gelu)({}, x), jax.nn.gelu(x), rtol=1e-6)
    with pytest.raises(cl.TypeSpecError, match="positive ints"):
        cl.nn.add(0)


def test_layer_norm_normalises_each_example_and_learns_gain_and_shift():
    program = cl.Smooth()(cl.nn.layer_norm(4, name="ln"))
    params = program.init(jax.random.key(0))
    x = jnp.asarray(np.random.default_rng(0).normal(size=(5, 4)) * 3 + 1, jnp.float32)
    y = np.asarray(program(params, x))
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(-1), 1, atol=1e-3)
    dp, _ = program.reverse(params, (x,), (jnp.ones((5, 4)),))
    np.testing.assert_allclose(dp["ln.b"], 5 * np.ones(4))  # summed over the batch


def test_an_embedding_picks_rows_and_trains_them():
    emb = cl.nn.embedding(6, 2, length=3, name="e")
    model = emb >> cl.nn.reshape((3, 2), (6,)) >> cl.nn.dense(6, 2, None, name="o")
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 6, size=(300, 3)).astype(np.float32)
    y = (ids[:, 0] >= 3).astype(np.int32)  # the class is in the first id
    r = cl.fit(model, (ids, y), epochs=40, batch_size=32,
               optimiser=cl.optim.adam(0.05), progress=False)
    assert r.history[-1]["accuracy"] > 0.95
    table = np.asarray(r.params["e.table"])
    out = np.asarray(cl.Smooth()(emb)(r.params, jnp.asarray([[0.0, 5.0, 9.0]])))
    np.testing.assert_array_equal(out[0], table[[0, 5, 5]])  # 9 clips to row 5


def test_dropout_masks_in_training_and_is_the_identity_in_evaluation():
    prog = cl.Smooth()(cl.nn.dropout(0.25, 2000))
    assert prog.stochastic and not cl.Smooth()(cl.nn.dropout(0.0, 3)).stochastic
    x = jnp.ones((4, 2000), jnp.float32)
    np.testing.assert_array_equal(prog({}, x), x)  # no key: the identity
    y = np.asarray(prog({}, x, key=jax.random.key(3)))
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02  # the rate, and mean kept ~1
    dy = jnp.asarray(np.random.default_rng(0).normal(size=x.shape), jnp.float32)
    _, (dx,) = prog.reverse({}, (x,), (dy,), key=jax.random.key(3))
    np.testing.assert_allclose(dx, dy * y, rtol=1e-6)  # the same mask
    other = np.asarray(prog({}, x, key=jax.random.key(4)))
    assert (other != y).any()  # another key, another mask
    with pytest.raises(cl.TypeSpecError, match=r"rate=1\.0 must be"):
        cl.nn.dropout(1.0, 3)


def test_a_model_with_dropout_trains_and_evaluates_deterministically():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int32)
    d = (cl.nn.dense(4, 32, name="h") >> cl.nn.dropout(0.3, 32)
         >> cl.nn.linear(32, 2, name="out"))
    r = cl.fit(d, (X, y), epochs=30, batch_size=32, optimiser=cl.optim.adam(0.02),
               progress=False)
    a = cl.evaluate(d, r.params, (X, y))
    assert a["accuracy"] > 0.9 and a == cl.evaluate(d, r.params, (X, y))
    again = cl.io.from_json(cl.io.to_json(d))  # the rate survives a round trip
    assert cl.diagrams.DropoutSpec.of(again.boxes[5]).rate == 0.3
