"""``fit`` and ``evaluate`` beyond one output and a shipped loss: diagrams
with several outputs, plain functions as losses, ``on_epoch_end`` and early
stopping with the best parameters kept, and the accuracy of each output
(``accuracy_i``) beside the joint one."""

import io
import zipfile

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catlearn as cl
from catlearn.learn import _loop


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


# -- per-output accuracies ---------------------------------------------------------
def _learnable_and_random(n=240):
    """Inputs, a learnable class (``X[:, 0] > 0``) and random labels."""
    X, c, _ = _data(n)
    noise = np.random.default_rng(7).integers(0, 2, n).astype(np.int32)
    return X, c, noise


def _two_classifiers():
    trunk = cl.nn.dense(4, 16, name="trunk")
    heads = cl.nn.linear(16, 2, name="a") @ cl.nn.linear(16, 2, name="b")
    return trunk >> cl.Copy(cl.real(16)) >> heads


def test_each_output_has_its_own_accuracy_beside_the_joint_one():
    X, c, noise = _learnable_and_random()
    d = _two_classifiers()
    val = (X[160:], (c[160:], noise[160:]))
    r = cl.fit(d, (X[:160], (c[:160], noise[:160])), validation=val, epochs=20,
               batch_size=16, optimiser=cl.optim.adam(0.02), progress=False)
    for row in r.history:
        for p in ("", "val_"):
            both, a, b = (row[f"{p}accuracy{k}"] for k in ("", "_0", "_1"))
            assert a + b - 1 - 1e-9 <= both <= min(a, b)  # at most either
    last = r.history[-1]
    assert last["accuracy_0"] > 0.9 and last["val_accuracy_0"] > 0.9  # learnable
    assert last["accuracy_1"] < 0.75 and last["val_accuracy_1"] < 0.7  # random
    assert "accuracy_2" not in last
    # the validation scores are those of the returned parameters
    scores = cl.evaluate(d, r.params, val, batch_size=7)
    for k in ("accuracy", "accuracy_0", "accuracy_1"):
        assert last[f"val_{k}"] == pytest.approx(scores[k], abs=1e-12)


def test_evaluates_per_output_accuracies_are_those_of_the_predictions():
    X, c, noise = _learnable_and_random()
    d = _two_classifiers()
    r = cl.fit(d, (X, (c, noise)), epochs=3, batch_size=32, progress=False)
    scores = cl.evaluate(d, r.params, (X, (c, noise)), batch_size=7)
    a, b = map(np.asarray, cl.Smooth()(d)(r.params, X))
    right_a, right_b = np.argmax(a, 1) == c, np.argmax(b, 1) == noise
    assert right_a.mean() != right_b.mean()  # the check below tells them apart
    assert scores["accuracy_0"] == pytest.approx(right_a.mean(), abs=1e-12)
    assert scores["accuracy_1"] == pytest.approx(right_b.mean(), abs=1e-12)
    assert scores["accuracy"] == pytest.approx((right_a & right_b).mean(), abs=1e-12)
    # one-hot targets count as the class ids they encode
    one_hot = cl.evaluate(d, r.params, (X, (np.eye(2)[c], noise)))
    assert one_hot["accuracy_0"] == pytest.approx(scores["accuracy_0"])


def test_the_running_per_output_accuracies_are_summed_in_the_step():
    """With a learning rate of 0 the parameters never move, so an epoch's
    running sums over its steps equal one evaluation of those parameters."""
    X, c, noise = _learnable_and_random(100)
    d = _two_classifiers()
    r = cl.fit(d, (X, (c, noise)), epochs=2, batch_size=16, progress=False,
               optimiser=cl.optim.sgd(0.0))
    scores = cl.evaluate(d, r.params, (X, (c, noise)))
    assert len({scores[k] for k in ("accuracy", "accuracy_0", "accuracy_1")}) == 3
    for row in r.history:
        for k in ("accuracy", "accuracy_0", "accuracy_1"):
            assert row[k] == pytest.approx(scores[k], abs=1e-12)


def test_only_outputs_whose_loss_has_an_accuracy_get_one():
    X, c, v = _data()
    data = (X, (c, v))
    mixed = cl.fit(_two_heads(), data, epochs=2, progress=False)  # xent, mse
    scores = cl.evaluate(_two_heads(), mixed.params, data)
    for keys in (set(mixed.history[-1]), set(scores)):
        assert "accuracy_0" in keys and not keys & {"accuracy", "accuracy_1"}
    d = cl.nn.linear(4, 1, name="r") >> cl.Copy(cl.real(1))
    plain = cl.fit(d, (X, (v, v)), epochs=1, progress=False)  # mse, mse
    assert not any("accuracy" in k for k in plain.history[-1])
    single = cl.fit(cl.nn.mlp([4, 2]), (X, c), epochs=1, progress=False,
                    validation=(X, c))
    assert not any(k.startswith(("accuracy_", "val_accuracy_"))
                   for k in single.history[-1])
    one = cl.evaluate(cl.nn.mlp([4, 2]), single.params, (X, c))
    assert set(one) == {"loss", "n", "accuracy"}


def test_a_logic_networks_circuit_is_scored_per_output_as_score_says():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, (96, 6)).astype(np.float32)
    c = (X[:, 0] > 0).astype(np.int32)
    net = cl.logic.network(6, [16], 2, seed=1)
    d = net >> cl.Copy(net.cod)
    data = (X, (c, 1 - c))
    runs = {score: cl.fit(d, data, epochs=2, batch_size=32, score=score,
                          progress=False) for score in ("end", "epoch", "none")}
    keys = ["discrete_accuracy", "discretization_gap", "discrete_accuracy_0",
            "discretization_gap_0", "discrete_accuracy_1", "discretization_gap_1"]
    assert all(k in row for row in runs["epoch"].history for k in keys)
    assert not any(k in row for row in runs["none"].history for k in keys)
    first, last = runs["end"].history
    assert all(k in last and k not in first for k in keys)
    scores = cl.evaluate(d, runs["end"].params, data)
    for k in keys:
        assert last[k] == pytest.approx(scores[k], abs=1e-6)
    for end in ("_0", "_1"):
        gap = scores["accuracy" + end] - scores["discrete_accuracy" + end]
        assert scores["discretization_gap" + end] == pytest.approx(gap)
    hard = cl.discretize(d, runs["end"].params)
    a, b = map(np.asarray, cl.Boolean()(d)(hard, X > 0.5))
    assert scores["discrete_accuracy_0"] == pytest.approx(np.mean(np.argmax(a, 1) == c))
    assert scores["discrete_accuracy_1"] == pytest.approx(
        np.mean(np.argmax(b, 1) == 1 - c))


def test_a_resumed_run_has_the_same_per_output_accuracies(tmp_path):
    X, c, noise = _learnable_and_random(64)
    d, data = _two_classifiers(), (X, (c, noise))
    kw = dict(epochs=2, batch_size=16, progress=False)
    whole = cl.fit(d, data, **kw)
    path = tmp_path / "run.ckpt"
    real = _loop.write_checkpoint

    class Stop(Exception):
        pass

    def stop_mid_epoch(p, state, fp):
        real(p, state, fp)
        if state.position:
            raise Stop

    with pytest.MonkeyPatch.context() as m:  # 4 steps per epoch: the 6th is mid-2nd
        m.setattr(_loop, "write_checkpoint", stop_mid_epoch)
        with pytest.raises(Stop):
            cl.fit(d, data, checkpoint=path, checkpoint_every=6, **kw)
    with zipfile.ZipFile(path) as z, z.open("sums/1.npy") as f:
        assert np.lib.format.read_array(f).shape == (3,)  # both, then each output
    resumed = cl.fit(d, data, resume=path, **kw)
    end = tmp_path / "end.ckpt"  # an epoch's end: the count is written as one 0
    cl.fit(d, data, checkpoint=end, **{**kw, "epochs": 1})
    again = cl.fit(d, data, resume=end, **kw)

    def same(row):
        return {k: v for k, v in row.items() if k != "seconds"}

    assert [same(r) for r in resumed.history] == [same(r) for r in whole.history]
    assert [same(r) for r in again.history] == [same(r) for r in whole.history]
    # mid-epoch, a single count (as catlearn wrote before accuracy_i) is refused
    with zipfile.ZipFile(path) as z:
        items = {name: z.read(name) for name in z.namelist()}
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.int32(5), allow_pickle=False)
    items["sums/1.npy"] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as z:
        for name, blob in items.items():
            z.writestr(name, blob)
    with pytest.raises(cl.CheckpointError, match="one number.*Fix: resume from"):
        cl.fit(d, data, resume=path, **kw)
