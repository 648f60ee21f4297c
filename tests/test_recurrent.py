"""Recurrent models by unrolling (``cl.nn.recurrent``): one cell, its
weights shared by every step, under Smooth and (a logic cell) Boolean."""

import itertools

import jax
import numpy as np
import pytest

import catlearn as cl


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
