"""The repeat pass (catlearn/functors/_repeat.py): chains and layers of one
generator run as one step, meaning exactly what the unrewritten program means
(values, reverse derivatives, lenses, votes), eagerly and under jit."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catlearn as cl
from catlearn.functors import compile_diagram
from catlearn.functors._repeat import MIN_RUN, Repeated, Stacked, repeat, unroll

x1, b1 = cl.real(1), cl.bits(1)
N = 2 * MIN_RUN + 3


def box(name, n=N, wire=x1):
    return [cl.Box(name, wire, wire) for _ in range(n)]


def chain(name, n=N, wire=x1):
    return cl.Diagram.then(*box(name, n, wire))


def flat(tree):
    return [np.asarray(v) for v in jax.tree_util.tree_leaves(tree)]


def assert_same(a, b):
    fa, fb = flat(a), flat(b)
    assert len(fa) == len(fb)
    for u, v in zip(fa, fb, strict=True):
        assert u.shape == v.shape and u.dtype == v.dtype
        np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-6)


def check(F, d, xs, params=None, votes=False):
    """The rewritten program against the plain one: forward (eager and
    jitted), reverse, lens and (Boolean) votes."""
    prog, plain = F(d), compile_diagram(F, d)
    params = {} if params is None else params
    ys = plain.apply(params, *xs)
    assert_same(prog.apply(params, *xs), ys)
    assert_same(prog(params, *xs), ys)
    assert_same(jax.jit(prog.apply)(params, *xs), ys)
    dys = ys if isinstance(ys, tuple) else (ys,)
    assert_same(prog.reverse(params, xs, dys), plain.reverse(params, xs, dys))
    value, back = prog.lens(params, xs)
    value0, back0 = plain.lens(params, xs)
    assert_same(value, value0)
    assert_same(back(dys), back0(dys))
    if votes:
        assert_same(prog.votes(params, xs, dys), plain.votes(params, xs, dys))
    return prog, plain


def reals(n_inputs=1, batch=7, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(batch, 1)).astype(np.float32) for _ in range(n_inputs)]


def bools(n_inputs=1, batch=37, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.random((batch, 1)) < 0.5 for _ in range(n_inputs)]


@pytest.mark.parametrize("name", ["tanh", "relu", "sigmoid"])
def test_smooth_chain_is_one_scanned_step(name):
    prog, plain = check(cl.Smooth(), chain(name), reals())
    assert len(plain.steps) == N and len(prog.steps) == 1
    assert prog.steps[0].box == Repeated(plain.steps[0].box, N)
    assert f"{name}×{N}(s0)" in prog.describe()


def test_short_runs_are_left_alone():
    d = chain("tanh", MIN_RUN - 1)
    prog = cl.Smooth()(d)
    assert len(prog.steps) == MIN_RUN - 1
    assert prog.describe() == compile_diagram(cl.Smooth(), d).describe()
    assert repeat(prog) is prog and unroll(prog) is prog


def test_layer_of_one_shared_input():
    d = cl.Copy(x1, N) >> cl.tensor(*box("sigmoid"))
    prog, _ = check(cl.Smooth(), d, reals())
    assert len(prog.steps) == 1
    assert prog.steps[0].box.shared == (True,)
    assert prog.steps[0].ins == (0,)  # the shared slot, listed once


def test_layer_of_separate_inputs():
    prog, _ = check(cl.Smooth(), cl.tensor(*box("relu")), reals(N))
    (step,) = prog.steps
    assert isinstance(step.box, Stacked) and step.box.shared == (False,)
    assert step.ins == tuple(range(N)) and f"relu@{N}" in prog.describe()


def test_grid_becomes_a_layer_of_chains():
    d = cl.tensor(*[chain("tanh", MIN_RUN)] * MIN_RUN)
    prog, plain = check(cl.Smooth(), d, reals(MIN_RUN))
    assert len(plain.steps) == MIN_RUN**2 and len(prog.steps) == 1
    assert prog.steps[0].box.name == f"tanh×{MIN_RUN}@{MIN_RUN}"
    assert len(unroll(prog).steps) == MIN_RUN**2


def test_mixed_generators_interleaved():
    # layer members alternate with other steps that read their outputs
    column = cl.Box("relu", x1, x1) >> cl.Box("tanh", x1, x1)
    d = cl.tensor(*[column] * N) >> cl.tensor(*box("sigmoid"))
    prog, plain = check(cl.Smooth(), d, reals(N))
    assert len(plain.steps) == 3 * N
    assert [st.box.name for st in prog.steps] == [
        f"relu@{N}", f"tanh@{N}", f"sigmoid@{N}"
    ]


def test_chain_interrupted_by_a_copy_or_another_box():
    first = chain("tanh")
    d = first >> cl.Box("relu", x1, x1) >> chain("tanh")
    prog, _ = check(cl.Smooth(), d, reals())
    assert [st.box.name for st in prog.steps] == [f"tanh×{N}", "relu", f"tanh×{N}"]
    # a value read twice (a copy) ends a chain: it is not an inner value
    d = first >> cl.Copy(x1) >> (cl.Id(x1) @ chain("tanh"))
    prog, _ = check(cl.Smooth(), d, reals())
    assert [st.box.name for st in prog.steps] == [f"tanh×{N}", f"tanh×{N}"]


def test_parameter_steps_are_not_grouped():
    layer = cl.tensor(*[cl.nn.dense(1, 1, name=f"f{i}") for i in range(N)])
    d = layer >> cl.tensor(*box("tanh"))
    F = cl.Smooth()
    params = F(d).init(jax.random.key(0))
    prog, plain = check(F, d, reals(N), params)
    assert len(prog.steps) == len(plain.steps) - N + 1


def test_keyed_steps_are_not_grouped_and_keep_their_keys():
    def noisy(box, x, key=None):
        noise = 0 if key is None else jax.random.normal(key, x.shape)
        return (x + noise,), None

    F = cl.Smooth().extend({"noisy": cl.Rule(noisy, lambda b, r, d: (d,), keyed=True)})
    d = chain("tanh") >> chain("noisy") >> chain("tanh")
    prog, plain = F(d), compile_diagram(F, d)
    # runs before the last keyed step stay, so every key is drawn as before
    assert len(prog.steps) == 2 * N + 1
    key, xs = jax.random.key(3), reals()
    assert_same(prog(None or {}, *xs, key=key), plain({}, *xs, key=key))


def test_boolean_not_chain_and_layer():
    B = cl.Boolean()
    prog, _ = check(B, cl.Diagram.then(*[cl.logic.NOT] * N), bools())
    assert len(prog.steps) == 1
    prog, _ = check(B, cl.tensor(*[cl.logic.NOT] * N), bools(N))
    assert len(prog.steps) == 1
    prog, _ = check(B, cl.Copy(b1, N) >> cl.tensor(*[cl.logic.NOT] * N), bools())
    assert len(prog.steps) == 1  # the shared cotangent: an XOR over the layer


def test_boolean_fixed_two_input_gate_layer():
    xors = cl.tensor(*[cl.logic.XOR] * (N // 2), *[cl.Id(b1)] * (N % 2))
    d = cl.tensor(*[cl.logic.AND] * N) >> xors
    prog, plain = check(cl.Boolean(), d, bools(2 * N))
    assert [st.box.name for st in prog.steps][:2] == [f"AND@{N}", f"XOR@{N // 2}"]
    # both inputs of every gate read one slot: listed once each
    d = cl.Copy(b1, 2 * N) >> cl.tensor(*[cl.logic.OR] * N)
    prog, _ = check(cl.Boolean(), d, bools())
    assert prog.steps[0].box.shared == (True, True)


def test_boolean_votes_through_a_layer():
    luts = cl.tensor(*[cl.logic.lut(f"t{i}") for i in range(N)])
    d = luts >> cl.tensor(*[cl.Diagram.then(*[cl.logic.NOT] * MIN_RUN)] * N)
    B = cl.Boolean()
    params = B(d).init(jax.random.key(1))
    prog, plain = check(B, d, bools(2 * N), params, votes=True)
    assert len(prog.steps) == N + 1 and len(plain.steps) == N + N * MIN_RUN


def test_ten_thousand_steps_become_one():
    n = 10_000
    prog = cl.Smooth()(cl.Diagram.then(*box("relu", n)))
    assert len(prog.steps) == 1 and prog.steps[0].box.k == n
    x = jnp.linspace(-1, 1, 8).reshape(8, 1)
    np.testing.assert_allclose(prog({}, x), jax.nn.relu(x))
    layer = cl.Smooth()(cl.Copy(x1, n) >> cl.tensor(*box("tanh", n)))
    assert len(layer.steps) == 1 and len(layer.steps[0].outs) == n
    prog = cl.Boolean()(cl.Diagram.then(*[cl.logic.NOT] * (n + 1)))
    assert len(prog.steps) == 1
    assert not np.asarray(prog({}, np.ones((5, 1), bool))).any()


def test_kernel_and_functors_list_the_pass():
    assert repeat in cl.Smooth.PASSES and repeat in cl.Boolean.PASSES
    assert cl.Kernel().PASSES[-1] is repeat
    assert cl.Kernel(relaxed=True).PASSES[-1] is repeat


def test_a_rule_that_changes_dtype_runs_member_by_member():
    def widen(box, x):
        return (x.astype(jnp.float32) if x.dtype == jnp.float16 else x,), None

    F = cl.Smooth().extend({"w": cl.Rule(widen, lambda b, r, d: (d,))})
    prog, _ = check(F, chain("w"), reals())
    assert len(prog.steps) == 1


def test_a_bad_rule_still_names_its_box():
    bad = cl.Rule(lambda box, x: ((x[:, :0],), None), lambda box, r, dy: (dy,))
    F = cl.Smooth().extend({"tanh": bad})
    with pytest.raises(cl.ShapeError, match="'tanh'"):
        F(chain("tanh"))({}, *reals())


def test_netlist_reads_the_unrolled_circuit():
    d = cl.Diagram.then(*[cl.logic.NOT] * N)
    from catlearn.export import netlist

    net = netlist(d, {})
    x = np.array([[True], [False]])
    assert (net.evaluate(x) == np.asarray(cl.Boolean()(d)({}, x))).all()


# -- wide programs: a layer's inputs and outputs cross jax.jit stacked --------


def pair_functor():
    def forward(box, x):
        return (x, 2 * x), None

    def reverse(box, res, d1, d2):
        return (d1 + 2 * d2,)

    return cl.Smooth().extend({"pair": cl.Rule(forward, reverse)})


def packed_shapes(prog, xs):
    from catlearn.functors._rows import pack_inputs

    packed = pack_inputs(prog._check_inputs(xs), prog._in_groups)
    return packed, jax.eval_shape(prog._packed, {}, *packed)


def test_a_wide_layer_enters_and_leaves_the_jit_stacked():
    prog, _ = check(cl.Smooth(), cl.tensor(*box("tanh")), reals(N))
    packed, out = packed_shapes(prog, reals(N))
    assert len(packed) == 1 and packed[0][0].shape == (N, 7, 1)
    assert len(out) == 1 and out[0][0].shape == (N, 7, 1)
    ys = prog({}, *reals(N))
    assert len(ys) == N and all(isinstance(y, jax.Array) for y in ys)


def test_members_with_two_outputs_come_back_in_wire_order():
    F, pair = pair_functor(), cl.Box("pair", x1, x1 @ x1)
    prog, plain = check(F, cl.tensor(*[pair] * N), reals(N))
    ys = prog({}, *reals(N))
    assert len(ys) == 2 * N
    np.testing.assert_allclose(ys[3], 2 * reals(N)[1])
    _, out = packed_shapes(prog, reals(N))
    assert [a.shape for a in out[0]] == [(N, 7, 1)] * 2


def test_permuted_or_reread_outputs_and_layers_feeding_layers():
    relus = cl.tensor(*box("relu"))
    swap = cl.tensor(cl.Swap(x1, x1), *[cl.Id(x1)] * (N - 2))
    check(cl.Smooth(), relus >> swap, reals(N))
    check(cl.Smooth(), swap >> relus, reals(N))  # inputs read out of order
    # each relu output both returned and read by the tanh layer
    both = cl.tensor(*[cl.Copy(x1) >> (cl.Id(x1) @ cl.Box("tanh", x1, x1))] * N)
    prog, _ = check(cl.Smooth(), relus >> both, reals(N))
    assert [st.box.name for st in prog.steps] == [f"relu@{N}", f"tanh@{N}"]
    # a layer reading another layer's outputs in order gets its stacked array
    prog, _ = check(cl.Smooth(), relus >> cl.tensor(*box("tanh")), reals(N))
    _, out = packed_shapes(prog, reals(N))
    assert out[0][0].shape == (N, 7, 1)


def test_inputs_that_cannot_be_stacked_are_passed_one_by_one():
    xs = reals(N)
    mixed = [xs[0].astype(np.float16), *map(jnp.asarray, xs[1:])]
    prog = cl.Smooth()(cl.tensor(*box("relu")))
    packed, _ = packed_shapes(prog, mixed)
    assert len(packed) == N  # one float16 among float32: not stacked
    want = compile_diagram(cl.Smooth(), cl.tensor(*box("relu"))).apply({}, *mixed)
    assert_same(prog({}, *mixed), want)


def test_a_wide_program_inside_user_jit():
    prog = cl.Smooth()(cl.tensor(*box("sigmoid")))
    xs = reals(N)
    inside = jax.jit(lambda *a: prog({}, *a))(*xs)
    assert_same(inside, prog({}, *xs))
    grads = jax.grad(lambda a: sum(y.sum() for y in prog.apply({}, *a)))(xs)
    want = [jax.nn.sigmoid(x) * (1 - jax.nn.sigmoid(x)) for x in xs]
    assert_same(grads, want)
