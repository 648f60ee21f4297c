"""``fit`` and ``evaluate`` beyond one output and a shipped loss: diagrams
with several outputs, plain functions as losses, ``on_epoch_end`` and early
stopping with the best parameters kept."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catlearn as cl


def _data(n=160, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    classes = (X[:, 0] > 0).astype(np.int32)
    value = (X[:, 1] - 2 * X[:, 2])[:, None].astype(np.float32)
    return X, classes, value


def _two_heads():
    trunk = cl.nn.dense(4, 16, name="trunk")
    heads = cl.nn.linear(16, 2, name="cls") @ cl.nn.linear(16, 1, name="reg")
    return trunk >> cl.Copy(cl.real(16)) >> heads


def test_a_diagram_with_two_outputs_trains_on_a_loss_per_output():
    X, c, v = _data()
    d = _two_heads()
    loss = (cl.losses.softmax_cross_entropy, cl.losses.mse)
    result = cl.fit(d, (X, (c, v)), loss=loss, optimiser=cl.optim.adam(0.02),
                    epochs=40, batch_size=16, progress=False)
    first, last = result.history[0]["loss"], result.history[-1]["loss"]
    assert last < 0.25 * first
    logits, values = cl.Smooth()(d)(result.params, X)
    assert (np.argmax(logits, 1) == c).mean() > 0.9
    assert np.mean((np.asarray(values) - v) ** 2) < 0.1
    # evaluate scores the same pair of outputs; the loss is their sum
    scores = cl.evaluate(d, result.params, (X, (c, v)), loss=loss)
    total = (cl.losses.softmax_cross_entropy(logits, c) + cl.losses.mse(values, v))
    assert scores["loss"] == pytest.approx(float(total), rel=1e-5)


def test_the_default_loss_is_each_outputs_own():
    X, c, v = _data()
    d = _two_heads()
    a = cl.fit(d, (X, (c, v)), epochs=3, batch_size=32, progress=False)
    b = cl.fit(d, (X, (c, v)), epochs=3, batch_size=32, progress=False,
               loss=(cl.losses.softmax_cross_entropy, cl.losses.mse))
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])


def test_weighted_outputs_change_what_is_learned():
    X, c, v = _data()
    d = _two_heads()
    only_cls = cl.losses.joint((cl.losses.softmax_cross_entropy, cl.losses.mse),
                               weights=(1.0, 0.0))
    r = cl.fit(d, (X, (c, v)), loss=only_cls, epochs=3, batch_size=32,
               progress=False)
    start = cl.Smooth()(d).init(jax.random.key(0))
    np.testing.assert_array_equal(r.params["reg.w"], start["reg.w"])  # no gradient
    assert not np.array_equal(r.params["cls.w"], start["cls.w"])


def test_both_outputs_with_accuracy_count_an_example_right_when_both_are():
    X, c, _ = _data()
    d = cl.nn.linear(4, 2, name="a") >> cl.Copy(cl.real(2))
    loss = (cl.losses.softmax_cross_entropy, cl.losses.softmax_cross_entropy)
    result = cl.fit(d, (X, (c, 1 - c)), loss=loss, epochs=2, batch_size=32,
                    progress=False)
    assert 0.0 <= result.history[-1]["accuracy"] <= 0.5  # never both right


def test_several_outputs_need_a_target_per_output():
    X, c, _ = _data()
    with pytest.raises(cl.ShapeError, match="2 outputs .* tuple of 2 arrays"):
        cl.fit(_two_heads(), (X, c), epochs=1, progress=False)
    with pytest.raises(cl.ShapeError, match=r"Y\[1\]"):
        cl.fit(_two_heads(), (X, (c, c[:10])), epochs=1, progress=False)


def test_a_plain_function_is_a_loss_and_its_reverse_is_its_vjp():
    X, _, v = _data()
    net = cl.nn.mlp([4, 8, 1])

    def mae(y, t):
        return jnp.mean(jnp.abs(y - t))

    result = cl.fit(net, (X, v), loss=mae, epochs=25, batch_size=16,
                    optimiser=cl.optim.adam(0.02), progress=False)
    assert result.history[-1]["loss"] < 0.6 * result.history[0]["loss"]
    loss = cl.losses.as_loss(mae)
    y = jnp.asarray(np.random.default_rng(1).normal(size=(5, 1)), jnp.float32)
    value, back = loss.lens(y, v[:5])
    np.testing.assert_allclose(back(1.0), jax.grad(mae)(y, v[:5]), rtol=1e-6)
    assert float(value) == pytest.approx(float(mae(y, v[:5])))


def test_a_loss_function_must_return_one_number():
    X, _, v = _data()
    with pytest.raises(cl.ShapeError, match="must return one number"):
        cl.fit(cl.nn.mlp([4, 1]), (X, v), loss=lambda y, t: (y - t) ** 2,
               epochs=1, progress=False)
    with pytest.raises(cl.ShapeError, match="is not a loss"):
        cl.fit(cl.nn.mlp([4, 1]), (X, v), loss="mae", epochs=1, progress=False)


def test_on_epoch_end_sees_every_row_and_can_stop_training():
    X, c, _ = _data()
    rows = []

    def watch(row):
        rows.append(row)
        return row["epoch"] >= 3

    result = cl.fit(cl.nn.mlp([4, 2]), (X, c), epochs=10, progress=False,
                    on_epoch_end=watch)
    assert len(result.history) == 3 and [r["epoch"] for r in rows] == [1, 2, 3]
    with pytest.raises(cl.ShapeError, match="not callable"):
        cl.fit(cl.nn.mlp([4, 2]), (X, c), epochs=1, on_epoch_end=3)


def test_early_stopping_keeps_the_best_epochs_parameters():
    X, c, _ = _data(60)
    Xv, cv, _ = _data(200, seed=1)
    kept = {}

    def remember(row):  # the parameters after each epoch, by a second fit
        kept[row["epoch"]] = row["val_loss"]

    stop = cl.learn.EarlyStopping("val_loss", patience=3)
    net = cl.nn.mlp([4, 64, 64, 2])
    result = cl.fit(net, (X, c), validation=(Xv, cv), epochs=300, batch_size=8,
                    optimiser=cl.optim.adam(0.05), progress=False,
                    on_epoch_end=remember, early_stopping=stop)
    assert len(result.history) < 300  # it stopped
    best = min(kept, key=kept.get)
    assert result.best_epoch == best
    assert len(result.history) == best + 3
    scores = cl.evaluate(net, result.params, (Xv, cv))
    assert scores["loss"] == pytest.approx(kept[best], rel=1e-5)


def test_early_stopping_refuses_what_it_cannot_watch():
    X, c, _ = _data()
    with pytest.raises(cl.ShapeError, match="needs validation data"):
        cl.fit(cl.nn.mlp([4, 2]), (X, c), epochs=2, progress=False,
               early_stopping=cl.learn.EarlyStopping("val_accuracy"))
    with pytest.raises(cl.ShapeError, match="mode="):
        cl.learn.EarlyStopping("loss", mode="lowest")


def test_metrics_beyond_accuracy_in_fit_and_evaluate():
    X, _, v = _data()
    net = cl.nn.mlp([4, 8, 1])

    def mae(y, t):
        return jnp.mean(jnp.abs(y - t))

    r = cl.fit(net, (X[:120], v[:120]), validation=(X[120:], v[120:]), epochs=3,
               batch_size=32, metrics={"mae": mae}, progress=False)
    assert all("val_mae" in row for row in r.history)
    scores = cl.evaluate(net, r.params, (X[120:], v[120:]), metrics={"mae": mae},
                         batch_size=7)  # batch means weighted by batch size
    y = cl.Smooth()(net)(r.params, X[120:])
    assert scores["mae"] == pytest.approx(float(mae(y, v[120:])), rel=1e-5)
    assert r.history[-1]["val_mae"] == pytest.approx(scores["mae"], rel=1e-5)
    alone = cl.fit(net, (X, v), epochs=2, metrics={"mae": mae}, progress=False)
    assert "mae" in alone.history[-1] and "mae" not in alone.history[0]
    with pytest.raises(cl.ShapeError, match="metrics must be a dict"):
        cl.evaluate(net, r.params, (X, v), metrics=[mae])
