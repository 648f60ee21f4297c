"""Numerical faults: a step whose loss, parameters or optimiser state come out
nan or inf is never applied. By default training stops with NonFiniteError
naming the epoch, the batch and the parameter, carrying the last finite
parameters; on_nonfinite="skip" skips such batches and counts them."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import catlearn as cl

R = cl.real(1)
N, BATCH, SEED = 64, 16, 0

# y = sqrt(w * x): finite loss everywhere, but at x = 0 the reverse derivative
# of sqrt is infinite, so the gradient of w is not finite there.
F = cl.Smooth().extend(
    {
        "mul": cl.Rule(
            forward=lambda box, w, x: ((w * x,), (w, x)),
            reverse=lambda box, r, dy: (jnp.sum(dy * r[1], axis=0), dy * r[0]),
        ),
        "sqrt": cl.Rule(
            forward=lambda box, x: ((jnp.sqrt(x),), x),
            reverse=lambda box, x, dy: (dy / (2 * jnp.sqrt(x)),),
        ),
    }
)
MODEL = (
    cl.Param("w", R, init="ones") @ cl.Id(R)
    >> cl.Box("mul", R @ R, R)
    >> cl.Box("sqrt", R, R)
)


def _data(bad: str | None):
    """x in [0.5, 2], targets sqrt(2 x); one bad example, placed so that it
    falls in the last batch of every epoch's first shuffle. "gradient": x = 0
    (finite loss, infinite gradient); "loss": the largest float32, finite data
    (cl.fit rejects nan data up front) whose product w * x overflows to inf
    once training has moved w above 1."""
    x = np.linspace(0.5, 2.0, N, dtype=np.float32)[:, None]
    t = np.sqrt(2 * x)
    if bad is not None:
        last = np.random.default_rng(SEED).permutation(N)[-1]
        x[last] = 0.0 if bad == "gradient" else np.finfo(np.float32).max
    return x, t


def _fit(data, **kw):
    kw = dict(semantics=F, loss=cl.losses.mse, optimiser=cl.optim.sgd(0.1),
              batch_size=BATCH, seed=SEED, progress=False) | kw
    return cl.fit(MODEL, data, **kw)


@pytest.mark.parametrize("bad", ["gradient", "loss"])
def test_nonfinite_stops_with_the_last_finite_params(bad):
    data = _data(bad)
    with pytest.raises(cl.NonFiniteError) as e:
        _fit(data, epochs=3)
    msg = str(e.value)
    assert "epoch 1" in msg and f"example {N - BATCH}" in msg and "step 4" in msg
    assert "'w'" in msg and ("the loss" in msg) == (bad == "loss")
    assert "on_nonfinite='skip'" in msg and "lower the learning rate" in msg
    assert e.value.history == []  # no epoch finished
    # The faulty step was the epoch's last: skipping it in a one-epoch run
    # leaves exactly the parameters training stopped with.
    skipped = _fit(data, epochs=1, on_nonfinite="skip")
    assert skipped.history[0]["skipped"] == 1.0
    w = np.asarray(e.value.params["w"])
    assert np.isfinite(w).all() and w != 1.0  # three good steps were applied
    np.testing.assert_array_equal(w, np.asarray(skipped.params["w"]))


def test_skip_keeps_training_on_good_batches():
    x, t = _data("gradient")
    res = _fit((x, t), epochs=5, on_nonfinite="skip")
    assert all(np.isfinite(row["loss"]) for row in res.history)
    assert all(row["skipped"] >= 1 for row in res.history)
    assert np.isfinite(np.asarray(res.params["w"])).all()
    clean = _fit(_data(None), epochs=5)
    w, w_clean = float(res.params["w"][0]), float(clean.params["w"][0])
    assert 1.3 < w < w_clean < 2.0  # learning towards w = 2, a batch less a round
    assert "skipped" not in clean.history[0]  # only counted in skip mode


def test_divergence_is_caught_mid_epoch():
    """A learning rate far too large overflows to inf within a few steps."""
    X, y = cl.datasets.load_iris()
    with pytest.raises(cl.NonFiniteError, match="became nan or inf") as e:
        cl.fit(cl.nn.mlp([4, 16, 3]), (X * 1e18, y), optimiser=cl.optim.sgd(1e18),
               epochs=2, batch_size=8, progress=False)
    assert all(np.isfinite(np.asarray(v)).all() for v in e.value.params.values())


def test_nonfinite_data_is_rejected_up_front():
    x, t = _data(None)
    x[3] = np.float32("nan")
    where = r"training data: input 0.*index \(3, 0\)"
    with pytest.raises(cl.NonFiniteError, match=where):
        _fit((x, t), epochs=1)


def test_bad_mode():
    with pytest.raises(cl.ShapeError, match="on_nonfinite must be one of"):
        _fit(_data(None), epochs=1, on_nonfinite="ignore")
