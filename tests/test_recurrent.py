"""Recurrent models by unrolling (``cl.nn.recurrent``): one cell, its
weights shared by every step, under Smooth and (a logic cell) Boolean."""

import itertools

import jax
import numpy as np
import pytest

import catlearn as cl
import catlearn.export


def test_a_tanh_rnn_learns_to_add_up_a_sequence():
    rng = np.random.default_rng(0)
    steps = 6
    X = rng.normal(size=(400, steps, 1)).astype(np.float32)
    y = (X.sum(axis=(1, 2)) > 0).astype(np.int32)
    cell = (cl.nn.linear(8, 8, name="hh") @ cl.nn.linear(1, 8, name="xh")
            ) >> cl.nn.add(8) >> cl.nn.bias(8, name="hb") >> cl.nn.tanh(8)
    model = cl.nn.recurrent(cell, steps) >> cl.nn.dense(8, 2, activation=None,
                                                         name="out")
    assert sorted(model.params) == ["hb.b", "hh.w", "out.b", "out.w", "rnn.h0",
                                    "xh.w"]  # one copy of the cell's weights
    xs = tuple(X[:, t] for t in range(steps))
    result = cl.fit(model, (xs, y), epochs=40, batch_size=32,
                    optimiser=cl.optim.adam(0.02), progress=False)
    assert result.history[-1]["accuracy"] > 0.9
    # the shared weights' cotangent is the sum over the steps: compare with
    # jax.grad of the same RNN written as a Python loop
    p = result.params
    program = cl.Smooth()(model)

    def by_hand(p, xs):
        h = jax.numpy.broadcast_to(p["rnn.h0"], (xs[0].shape[0], 8))
        for x in xs:
            h = jax.numpy.tanh(h @ p["hh.w"] + x @ p["xh.w"] + p["hb.b"])
        return (h @ p["out.w"] + p["out.b"]).sum()

    few = tuple(x[:5] for x in xs)
    dp, _ = program.reverse(p, few, (jax.numpy.ones((5, 2)),))
    want = jax.grad(by_hand)(p, few)
    for k in ("hh.w", "xh.w", "rnn.h0"):
        np.testing.assert_allclose(dp[k], want[k], rtol=1e-4, atol=1e-6)


def test_a_logic_cell_learns_or_and_runs_exactly_under_boolean():
    steps = 5
    X = np.array(list(itertools.product([0, 1], repeat=steps)), np.float32)
    y = (X.sum(axis=1) >= 1).astype(np.float32)  # any bit set
    model = cl.nn.recurrent(cl.logic.lut("cell"), steps, name="any")
    xs = tuple(X[:, t : t + 1] for t in range(steps))
    result = cl.fit(model, (xs, y[:, None]), loss=cl.losses.mse, epochs=200,
                    batch_size=32, optimiser=cl.optim.adam(0.1), progress=False)
    hard = cl.discretize(model, result.params)
    assert hard["cell.table"].tolist() == [False, True, True, True]  # OR, shared
    bits = tuple(x.astype(bool) for x in xs)
    out = np.asarray(cl.Boolean()(model)(hard, *bits))
    relaxed = np.asarray(cl.Smooth()(model)(cl.relax(model, hard), *xs))
    np.testing.assert_array_equal(out, relaxed > 0.5)  # the same circuit
    assert (out[:, 0] == y.astype(bool)).mean() >= 31 / 32


def test_a_cell_must_map_state_and_input_to_state():
    with pytest.raises(cl.TypeSpecError, match="state @ input -> state"):
        cl.nn.recurrent(cl.nn.dense(3, 2), 4)
    with pytest.raises(cl.TypeSpecError, match="steps"):
        cl.nn.recurrent(cl.logic.lut("c"), 0)


def _tanh_cell(h, x):
    return (cl.nn.linear(h, h, name="hh") @ cl.nn.linear(x, h, name="xh")
            ) >> cl.nn.add(h) >> cl.nn.tanh(h)


def test_the_scanned_loop_means_the_unrolled_one_and_stays_one_step():
    steps = 40
    scanned = cl.nn.recurrent(_tanh_cell(4, 2), steps)
    unrolled = cl.nn.recurrent(_tanh_cell(4, 2), steps, scan=False)
    fast, slow = cl.Smooth()(scanned), cl.Smooth()(unrolled)
    assert [s.box.name for s in fast.steps] == ["recurrent"]
    assert len(slow.steps) > steps
    params = slow.init(jax.random.key(0))
    params["rnn.h0"] = np.full(4, 0.3, np.float32)
    rng = np.random.default_rng(1)
    xs = [rng.normal(size=(3, 2)).astype(np.float32) for _ in range(steps)]
    np.testing.assert_allclose(fast(params, *xs), slow(params, *xs), atol=1e-5)
    dy = rng.normal(size=(3, 4)).astype(np.float32)
    (dp, dxs), (wp, wxs) = (p.reverse(params, xs, (dy,)) for p in (fast, slow))
    for k in wp:
        np.testing.assert_allclose(dp[k], wp[k], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.stack(dxs), np.stack(wxs), rtol=1e-4, atol=1e-5)


def test_a_recurrent_box_saves_loads_and_draws(tmp_path):
    model = cl.nn.recurrent(_tanh_cell(3, 1), 5) >> cl.nn.linear(3, 2, name="o")
    again = cl.io.from_json(cl.io.to_json(model))
    assert again == model
    params = cl.Smooth()(model).init(jax.random.key(0))
    xs = [np.ones((2, 1), np.float32) * t for t in range(5)]
    np.testing.assert_allclose(cl.Smooth()(again)(params, *xs),
                               cl.Smooth()(model)(params, *xs))
    model.draw(str(tmp_path / "rnn.png"))
    assert (tmp_path / "rnn.png").stat().st_size > 0
    box = next(b for b in model.boxes if b.name == "recurrent")
    spec = cl.diagrams.RecurrentSpec.of(box)
    assert spec.steps == 5 and spec.params == ("hh.w", "xh.w")
    with pytest.raises(cl.TypeSpecError, match="'params'.*parameter names in"):
        cl.Box("recurrent", box.dom, box.cod, data=(
            ("cell", spec.cell), ("params", ("xh.w", "hh.w")), ("steps", 5)))
    with pytest.raises(cl.TypeSpecError, match="3 inputs"):  # wires off the spec
        cl.Box("recurrent", box.dom, box.cod, data=(
            ("cell", spec.cell), ("params", spec.params), ("steps", 3)))


def test_dropout_in_a_scanned_cell_draws_per_step_and_only_with_a_key():
    cell = _tanh_cell(6, 2) >> cl.nn.dropout(0.5, 6)
    program = cl.Smooth()(cl.nn.recurrent(cell, 3))
    assert program.stochastic
    params = program.init(jax.random.key(0))
    xs = [np.ones((4, 2), np.float32)] * 3
    plain = np.asarray(program(params, *xs))
    np.testing.assert_array_equal(plain, program(params, *xs))
    noisy = np.asarray(program(params, *xs, key=jax.random.key(1)))
    assert (noisy == 0).any() and not (plain == 0).any()
    from catlearn.testing import laws  # reverse = jax.vjp, keyed too
    laws.reverse_matches_vjp(program, params, xs, (np.ones((4, 6), np.float32),))


def test_a_scanned_logic_loop_runs_unrolled_under_boolean_kernel_and_verilog():
    steps = 4
    model = cl.nn.recurrent(cl.logic.lut("cell"), steps, name="any")
    hard = {"cell.table": np.array([False, True, True, False]),  # XOR: parity
            "any.h0": np.array([False])}
    X = np.array(list(itertools.product([0, 1], repeat=steps)), bool)
    xs = tuple(X[:, t : t + 1] for t in range(steps))
    want = X.sum(axis=1) % 2 == 1
    for semantics in (cl.Boolean(), cl.Kernel()):
        out = np.asarray(semantics(model)(hard, *xs))[:, 0]
        np.testing.assert_array_equal(out, want)
    net = cl.export.circuit(model, hard)  # the loop unrolled into gates
    np.testing.assert_array_equal(net.evaluate(X)[:, 0], want)
    assert "module catlearn_net" in cl.export.to_verilog(model, hard)
