"""The loop around ``fit``'s compiled step: the step cached across calls,
batches gathered on the device, running sums, and when the circuit is
scored (``score=``). bench/fit_overhead.py measures the speed."""

import jax
import numpy as np
import optax
import pytest

import catlearn as cl
from catlearn.learn import _cache


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int32)


MLP = cl.nn.mlp([6, 8, 2])


def _fit(optimiser, **kw):
    return cl.fit(MLP, _data(), optimiser=optimiser, epochs=2, batch_size=32,
                  progress=False, **kw)


def test_a_second_fit_of_the_same_settings_does_not_compile_again():
    _cache.clear()
    first = _fit(cl.optim.adam(1e-2))
    assert len(_cache._STEPS) == 1
    (step,) = _cache._STEPS.values()
    compiled = step._cache_size()
    again = _fit(cl.optim.adam(1e-2))  # an equal optimiser, built anew
    assert list(_cache._STEPS.values()) == [step]
    assert step._cache_size() == compiled  # no new trace, no new compile
    for k in first.params:
        np.testing.assert_array_equal(first.params[k], again.params[k])


def test_other_settings_are_another_step_and_train_as_if_alone():
    _cache.clear()
    alone = _fit(cl.optim.adam(1e-1))
    _cache.clear()
    _fit(cl.optim.adam(1e-2))
    after = _fit(cl.optim.adam(1e-1))  # must not reuse the step of lr 1e-2
    assert len(_cache._STEPS) == 2
    for k in alone.params:
        np.testing.assert_array_equal(alone.params[k], after.params[k])
    # optax transformations are keyed by their settings too
    _fit(optax.sgd(0.1))
    _fit(optax.sgd(0.2))
    assert len(_cache._STEPS) == 4


def test_the_cache_holds_a_bounded_number_of_steps():
    _cache.clear()
    for i in range(_cache.CAPACITY + 3):
        cl.fit(MLP, _data(), optimiser=cl.optim.sgd(0.01 * (i + 1)), epochs=1,
               batch_size=48, progress=False)
    assert len(_cache._STEPS) == _cache.CAPACITY


def test_fit_trains_on_the_same_batches_as_a_hand_loop():
    """Same batches (numpy's permutation from the seed), same optimiser:
    the same parameters and the same epoch losses as a plain jax loop."""
    X, y = _data(100)
    program = cl.Smooth()(MLP)
    params = program.init(jax.random.key(3))
    opt = optax.adam(1e-2)
    result = cl.fit(MLP, (X, y), optimiser=opt, epochs=3, batch_size=32, seed=5,
                    params=params, progress=False)
    step = jax.jit(cl.learn.train_step(program, cl.losses.softmax_cross_entropy,
                                       cl.optim.from_optax(opt)))
    state, p = opt.init(params), params
    rng, losses = np.random.default_rng(5), []
    for _ in range(3):
        order, total = rng.permutation(len(X)), 0.0
        for lo in range(0, len(X), 32):
            idx = order[lo : lo + 32]  # the last batch has 4 examples
            p, state, value = step(p, state, X[idx], y[idx])
            total += float(value) * len(idx)
        losses.append(total / len(X))
    for k in p:
        np.testing.assert_allclose(result.params[k], p[k], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose([r["loss"] for r in result.history], losses,
                               rtol=1e-5)


def _logic_fit(score):
    X, y = cl.datasets.load_monk(1, "train")
    net = cl.logic.network(17, [32, 32], 2, seed=0)
    kw = {} if score is None else {"score": score}
    return cl.fit(net, (X.astype(np.float32), y), optimiser=cl.optim.adam(0.05),
                  epochs=3, batch_size=32, progress=False, **kw)


@pytest.mark.parametrize("score, rows", [(None, [2]), ("end", [2]),
                                         ("epoch", [0, 1, 2]), ("none", [])])
def test_score_says_when_the_circuit_is_scored(score, rows):
    history = _logic_fit(score).history
    scored = [i for i, r in enumerate(history) if "discrete_accuracy" in r]
    assert scored == rows
    assert all("loss" in r and "accuracy" in r for r in history)


def test_a_bad_score_is_refused_before_training():
    with pytest.raises(cl.ShapeError, match="score must be one of"):
        _fit(cl.optim.adam(1e-2), score="always")
