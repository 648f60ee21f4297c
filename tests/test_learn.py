"""Loss and optimiser lenses, the training step, fit and evaluate."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import catlearn as cl

MODEL = cl.nn.mlp([5, 16, 3], activation="tanh")


def _problem(seed=0, n=64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int32) + (X[:, 1] > 0).astype(np.int32)
    return X, y


def _optax_run(tx, steps=100):
    prog = cl.Smooth()(MODEL)
    X, y = _problem()
    params = prog.init(jax.random.key(0))
    with jax.numpy_dtype_promotion("standard"):
        state = tx.init(params)

    def loss_fn(p):
        return optax.softmax_cross_entropy_with_integer_labels(
            prog.apply(p, X), y
        ).mean()

    @jax.jit
    def step(p, s):
        grads = jax.grad(loss_fn)(p)
        with jax.numpy_dtype_promotion("standard"):  # optax mixes int32 and floats
            updates, s = tx.update(grads, s, p)
            return optax.apply_updates(p, updates), s

    for _ in range(steps):
        params, state = step(params, state)
    return params


def _catlearn_run(opt, steps=100):
    prog = cl.Smooth()(MODEL)
    X, y = _problem()
    params = prog.init(jax.random.key(0))
    state = opt.init(params)
    step = jax.jit(cl.learn.train_step(prog, cl.losses.softmax_cross_entropy, opt))
    for _ in range(steps):
        params, state, _ = step(params, state, X, y)
    return params


def _max_diff(a, b):
    return max(float(jnp.max(jnp.abs(a[k] - b[k]))) for k in a)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (cl.optim.sgd(0.1), optax.sgd(0.1)),
        (cl.optim.momentum(0.05, 0.9), optax.sgd(0.05, momentum=0.9)),
        (cl.optim.adam(1e-2), optax.adam(1e-2)),
        (cl.optim.from_optax(optax.adam(1e-2)), optax.adam(1e-2)),
    ],
    ids=["sgd", "momentum", "adam", "from_optax"],
)
def test_optimiser_lenses_agree_with_optax_over_100_steps(ours, theirs):
    ref = _optax_run(theirs)
    got = _catlearn_run(ours)
    moved = _max_diff(ref, cl.Smooth()(MODEL).init(jax.random.key(0)))
    assert moved > 1e-2  # the run really trained
    assert _max_diff(got, ref) < 1e-6


def test_from_optax_adam_agrees_with_adam():
    a = _catlearn_run(cl.optim.adam(3e-3))
    b = _catlearn_run(cl.optim.from_optax(optax.adam(3e-3)))
    assert _max_diff(a, b) < 1e-6


def test_optimiser_state_is_a_named_pytree():
    params = {"w": jnp.ones(3)}
    state = cl.optim.adam(1e-3).init(params)
    assert state._fields == ("count", "mu", "nu")
    assert cl.optim.momentum(0.1).init(params)._fields == ("velocity",)
    assert cl.optim.adam(1e-3) == cl.optim.adam(1e-3)
    assert "lr=0.001" in repr(cl.optim.adam(1e-3))


@pytest.mark.parametrize("loss", [cl.losses.mse, cl.losses.softmax_cross_entropy])
def test_loss_lens_backward_is_the_gradient(loss):
    rng = np.random.default_rng(1)
    y = jnp.asarray(rng.normal(size=(6, 4)), jnp.float32)
    t = jnp.asarray(jax.nn.softmax(rng.normal(size=(6, 4))), jnp.float32)
    value, backward = loss.lens(y, t)
    assert jnp.allclose(value, loss(y, t))
    assert jnp.allclose(backward(1.0), jax.grad(lambda y: loss(y, t))(y), atol=1e-6)


def test_integer_labels_equal_one_hot():
    y = jnp.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    labels = jnp.array([1, 2])
    one_hot = jax.nn.one_hot(labels, 3)
    xent = cl.losses.softmax_cross_entropy
    assert jnp.allclose(xent(y, labels), xent(y, one_hot))
    ref = optax.softmax_cross_entropy_with_integer_labels(y, labels).mean()
    assert jnp.allclose(xent(y, labels), ref)


def test_fit_same_seed_same_result_and_learns():
    X, y = _problem(n=200)
    kw = dict(optimiser=cl.optim.adam(1e-2), epochs=15, batch_size=32, progress=False)
    a = cl.fit(MODEL, (X, y), seed=1, **kw)
    b = cl.fit(MODEL, (X, y), seed=1, **kw)
    c = cl.fit(MODEL, (X, y), seed=2, **kw)
    assert _max_diff(a.params, b.params) == 0.0
    assert a.history == [
        dict(r, seconds=a.history[i]["seconds"]) for i, r in enumerate(b.history)
    ]
    assert _max_diff(a.params, c.params) > 0.0
    assert len(a.history) == 15
    assert a.history[-1]["loss"] < a.history[0]["loss"]
    assert a.history[-1]["accuracy"] > 0.75
    scores = cl.evaluate(MODEL, a.params, (X, y))
    assert scores["accuracy"] > 0.75 and scores["loss"] > 0


def test_fit_leaves_given_params_untouched():
    X, y = _problem()
    prog = cl.Smooth()(MODEL)
    params = prog.init(jax.random.key(0))
    before = {k: np.array(v) for k, v in params.items()}
    cl.fit(MODEL, (X, y), params=params, epochs=2, progress=False)
    assert all(np.array_equal(before[k], np.asarray(params[k])) for k in params)


def test_fit_rejects_bad_batches_before_training():
    X, y = _problem()
    with pytest.raises(cl.ShapeError, match=r"real\(5\).*\(4,\)"):
        cl.fit(MODEL, (X[:, :4], y), epochs=1, progress=False)
    with pytest.raises(cl.ShapeError, match="64 examples but Y has 10"):
        cl.fit(MODEL, (X, y[:10]), epochs=1, progress=False)
    with pytest.raises(cl.ShapeError, match="targets have shape"):
        cl.fit(MODEL, (X, np.zeros((64, 2))), epochs=1, progress=False)


def test_fit_rejects_bad_params():
    X, y = _problem()
    with pytest.raises(cl.ParamError, match="mlp.0.w"):
        cl.fit(MODEL, (X, y), params={"mlp.0.w": jnp.zeros((5, 16))}, progress=False)


def test_mse_regression_fits():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(128, 2)).astype(np.float32)
    Y = (X @ np.array([[1.0], [-2.0]], np.float32)) + 0.5
    model = cl.nn.dense(2, 1, activation=None, name="lin")
    r = cl.fit(
        model,
        (X, Y),
        loss=cl.losses.mse,
        optimiser=cl.optim.sgd(0.1),
        epochs=30,
        batch_size=16,
        progress=False,
    )
    assert r.history[-1]["loss"] < 1e-3
    assert "accuracy" not in r.history[-1]
    assert np.allclose(np.asarray(r.params["lin.w"]).ravel(), [1.0, -2.0], atol=0.05)


def test_fit_takes_a_raw_optax_transformation():
    """``optimiser=optax.adam(...)`` is wrapped by ``from_optax``: the same
    bits as the wrapped one (not optax's updates taken for parameters)."""
    X, y = _problem()
    kw = dict(epochs=3, batch_size=16, progress=False)
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-2))
    raw = cl.fit(MODEL, (X, y), optimiser=tx, **kw)
    wrapped = cl.fit(MODEL, (X, y), optimiser=cl.optim.from_optax(tx), **kw)
    assert _max_diff(raw.params, wrapped.params) == 0.0
    assert raw.history[-1]["loss"] < raw.history[0]["loss"]


def test_lbfgs_trains_with_the_loss_and_value_fn():
    """optax's line searches need ``value``, ``grad`` and ``value_fn``: the
    training step passes them (the loss on the batch, as a function of the
    parameters)."""
    X, y = _problem(n=32)
    r = cl.fit(MODEL, (X, y), optimiser=optax.lbfgs(), epochs=4, batch_size=32,
               progress=False)
    losses = [row["loss"] for row in r.history]
    assert losses[-1] < 0.5 * losses[0], losses


def test_optimiser_mistakes_name_the_fix():
    X, y = _problem(n=8)
    with pytest.raises(cl.OptimiserError, match=r"optax.adam, the function.*Fix"):
        cl.fit(MODEL, (X, y), optimiser=optax.adam, progress=False)
    with pytest.raises(cl.OptimiserError, match=r"'adam' is neither.*Fix"):
        cl.fit(MODEL, (X, y), optimiser="adam", progress=False)
    with pytest.raises(cl.OptimiserError, match="from_optax: got optax.sgd"):
        cl.optim.from_optax(optax.sgd)
    with pytest.raises(cl.OptimiserError, match="gradient_transformation()"):
        cl.fit(MODEL, (X, y), optimiser=optax.MultiSteps(optax.adam(1e-2), 2),
               progress=False)
    opt, params = cl.optim.from_optax(optax.lbfgs()), {"w": jnp.ones(2)}
    state = opt.init(params)
    with pytest.raises(cl.OptimiserError, match=r"lbfgs.*value_fn.*Fix"):
        opt.update(params, state, params)
    assert "scale_by_lbfgs(memory_size=10" in repr(opt)
