"""Boolean semantics: exact Z2 circuits, their syntactic reverse derivative,
and agreement with the smooth relaxation of the same diagrams."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import catlearn as cl
from catlearn.testing import boolean_signature
from catlearn.testing import strategies as cst

B, S = cl.Boolean(), cl.Smooth()
SIG = boolean_signature()
RNG = np.random.default_rng(0)


def _random_params(prog, seed):
    rng = np.random.default_rng(seed)
    return {
        k: jnp.asarray(rng.random(w.shape) < 0.5) for k, w in prog.param_types.items()
    }


@given(data=st.data())
def test_smooth_at_hard_values_equals_boolean_bit_for_bit(data):
    d = data.draw(cst.diagrams(SIG), label="d")
    prog = B(d)
    params = _random_params(prog, data.draw(st.integers(0, 2**16)))
    xs = data.draw(cst.inputs(SIG, prog, batch=37), label="xs")
    want = prog(params, *xs)
    got = S(d)(cl.relax(d, params), *(jnp.asarray(x, jnp.float32) for x in xs))
    want, got = (w if isinstance(w, tuple) else (w,) for w in (want, got))
    for w, g in zip(want, got, strict=True):
        assert np.array_equal(np.asarray(w), np.asarray(g) > 0.5)
        assert np.all((np.asarray(g) == 0) | (np.asarray(g) == 1))  # exact 0/1
    back = cl.discretize(d, cl.relax(d, params))
    assert all(np.array_equal(back[k], params[k]) for k in params)


def _brute_force_dx(prog, params, X, dy):
    fx = np.asarray(prog(params, X))
    out = np.zeros_like(X)
    for i in range(X.shape[1]):
        flipped = X.copy()
        flipped[:, i] ^= True
        change = fx ^ np.asarray(prog(params, flipped))
        out[:, i] = ((change & dy).sum(axis=1) % 2).astype(bool)
    return out


def _brute_force_dparams(prog, params, X, dy):
    fx = np.asarray(prog(params, X))
    grads = {}
    for name, table in params.items():
        table = np.asarray(table)
        grad = np.zeros_like(table)
        for j in range(table.size):
            flipped = table.copy()
            flipped[j] ^= True
            change = fx ^ np.asarray(prog({**params, name: jnp.asarray(flipped)}, X))
            grad[j] = (change & dy).sum() % 2
        grads[name] = grad
    return grads


@pytest.mark.parametrize("n_in, n_out, batch", [(8, 16, 5), (5, 3, 70), (2, 4, 33)])
def test_lut_layer_reverse_equals_brute_force(n_in, n_out, batch):
    # One layer: no variable repeats inside a product, so the syntactic
    # derivative is the brute-force one, bit i = parity((f(x) ^ f(x ^ e_i)) & dy).
    prog = B(cl.logic.lut_layer(n_in, n_out, seed=3, name="L"))
    params = _random_params(prog, 1)
    X = RNG.random((batch, n_in)) < 0.5
    dy = RNG.random((batch, n_out)) < 0.5
    dparams, (dx,) = prog.reverse(params, X, dy)
    assert np.array_equal(np.asarray(dx), _brute_force_dx(prog, params, X, dy))
    want = _brute_force_dparams(prog, params, X, dy)
    assert np.array_equal(np.asarray(dparams["L.table"]), want["L.table"])


@pytest.mark.parametrize("op", ["AND", "OR", "XOR"])
def test_gate_reverse_equals_brute_force(op):
    gate = cl.logic.gate(op, 1)
    prog = B(gate)
    a, b = (RNG.random((40, 1)) < 0.5 for _ in range(2))
    dz = RNG.random((40, 1)) < 0.5
    _, (da, db) = prog.reverse({}, (a, b), dz)
    fab = np.asarray(prog({}, a, b))
    assert np.array_equal(np.asarray(da), (fab ^ np.asarray(prog({}, ~a, b))) & dz)
    assert np.array_equal(np.asarray(db), (fab ^ np.asarray(prog({}, a, ~b))) & dz)


def test_derivative_belongs_to_the_circuit():
    x = RNG.random((50, 1)) < 0.5
    dz = RNG.random((50, 1)) < 0.5
    square = cl.Copy(cl.bits(1)) >> cl.logic.AND  # computes x, but is not id
    assert np.array_equal(np.asarray(B(square)(({}), x)), x)
    _, (d_square,) = B(square).reverse({}, x, dz)
    _, (d_id,) = B(cl.Id(cl.bits(1))).reverse({}, x, dz)
    assert not np.asarray(d_square).any()
    assert np.array_equal(np.asarray(d_id), dz)


def test_parameter_cotangent_is_the_parity_over_the_batch():
    prog = B(cl.logic.lut("g"))
    params = {"g.table": jnp.array([False, True, True, False])}
    a, b = (RNG.random((77, 1)) < 0.5 for _ in range(2))
    dz = np.ones((77, 1), bool)
    dparams, _ = prog.reverse(params, (a, b), dz)
    minterms = [~a & ~b, ~a & b, a & ~b, a & b]
    want = [m.sum() % 2 == 1 for m in minterms]
    assert np.asarray(dparams["g.table"]).tolist() == want


@pytest.mark.parametrize("batch", [1, 31, 32, 33, 100])
def test_any_batch_size_packs_and_unpacks(batch):
    net = cl.logic.network(6, [12, 8], 2, seed=0)
    prog = B(net)
    params = _random_params(prog, 2)
    X = RNG.random((batch, 6)) < 0.5
    counts = np.asarray(prog(params, X))
    assert counts.shape == (batch, 2)
    hidden = cl.logic.lut_layer(6, 12, seed=0, name="net.0") >> cl.logic.lut_layer(
        12, 8, seed=1, name="net.1"
    )
    bits_ = np.asarray(B(hidden)(params, X))
    assert np.array_equal(counts, bits_.reshape(batch, 2, 4).sum(axis=2))


def test_real_wire_under_boolean_names_the_wire():
    with pytest.raises(cl.SemanticsError, match=r"real\(3\).*input 0"):
        B(cl.nn.relu(3))
    with pytest.raises(cl.SemanticsError, match="real"):
        B(cl.logic.group_sum(4, 2) >> cl.nn.softmax(2))


def test_boolean_rejects_float_inputs():
    with pytest.raises(cl.SemanticsError, match="bool arrays"):
        B(cl.logic.NOT)({}, np.array([[0.5]]))


def test_group_sum_has_no_z2_reverse():
    prog = B(cl.logic.network(4, [4], 2, seed=0))
    params = _random_params(prog, 0)
    X = RNG.random((3, 4)) < 0.5
    with pytest.raises(cl.SemanticsError, match="group_sum"):
        prog.reverse(params, X, np.ones((3, 2), np.float32))


def test_residual_init_passes_the_first_input_under_both_semantics():
    layer = cl.logic.lut_layer(6, 10, seed=4, name="L")
    a, _ = cl.logic.wiring(6, 10, 4)
    X = RNG.random((20, 6)) < 0.5
    yb = np.asarray(B(layer)(B(layer).init(jax.random.key(0)), X))
    assert np.array_equal(yb, X[:, a])
    ys = np.asarray(S(layer)(S(layer).init(jax.random.key(0)), X.astype(np.float32)))
    assert np.array_equal(ys > 0.5, X[:, a])
    assert np.allclose(np.where(X[:, a], ys, 1 - ys), 0.9, atol=1e-5)


def test_wiring_uses_inputs_evenly_and_is_deterministic():
    a, b = cl.logic.wiring(400, 8000, 0)
    uses = np.bincount(np.concatenate([a, b]), minlength=400)
    assert uses.min() == uses.max() == 40
    assert not np.any(a == b)
    a2, b2 = cl.logic.wiring(400, 8000, 0)
    assert np.array_equal(a, a2) and np.array_equal(b, b2)
    with pytest.raises(ValueError):
        a[0] = 1  # read-only: the wiring is part of the diagram's spec
