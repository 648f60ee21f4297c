"""Rules and wires, fuzzed: user rules that return outputs or cotangents of
the wrong shape, the wrong count or the wrong kind fail with a ``ShapeError``
naming the box, both shapes and the fix (never a ``zip``, broadcasting or
XLA error, never a silently wrong result); and random diagrams with wires fed
only by parameters (no batch axis) run forward and backward under every
semantics with 0 non-``CatlearnError`` failures.

Examples are bounded and drawn by the deterministic ``ci`` profile
(``tests/conftest.py``); helpers are in ``tests/_fuzzing.py``.
"""

from __future__ import annotations

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import catlearn as cl
from catlearn.testing import REGISTRY
from catlearn.testing import strategies as cst

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _fuzzing import fails_well, fuzz, same, snapshot  # noqa: E402

N_RULES = 40
N_WIRES = 12

# -- rules of the wrong shape ---------------------------------------------------------
# What a careless rule returns in place of ``(ys, residuals)`` / ``dxs``.
BAD_OUTPUTS = {
    "bare array": lambda y: y,
    "outputs not a tuple": lambda y: (y, None, None),
    "two outputs for one wire": lambda y: ((y, y), None),
    "no outputs": lambda y: ((), None),
    "a feature dropped": lambda y: ((y[..., :-1],), None),
    "the batch dropped": lambda y: ((y[0],), None),
    "an axis added": lambda y: ((y[..., None],), None),
    "transposed": lambda y: ((y.T,), None),
    "not an array": lambda y: (([1.0, 2.0],), None),
}
BAD_COTANGENTS = {
    "bare array": lambda dx: dx,
    "two cotangents for one input": lambda dx: (dx, dx),
    "no cotangents": lambda dx: (),
    "a feature dropped": lambda dx: (dx[..., :-1],),
    "summed over the batch": lambda dx: (jnp.sum(dx, axis=0),),
    "an axis added": lambda dx: (dx[..., None],),
    "transposed": lambda dx: (dx.T,),
    "a scalar": lambda dx: (jnp.sum(dx),),
}


def _program(rule, n, fed):
    """``square`` on ``real(n)`` under Smooth with ``rule``; its input from the
    batch or (``fed``) from a parameter (no batch axis)."""
    F = cl.Smooth().extend({"square": rule})
    box = cl.Box("square", cl.real(n), cl.real(n))
    d = (cl.Param("w", cl.real(n)) >> box) if fed else box
    return F(d)


@fuzz(N_RULES)
@given(kind=st.sampled_from(sorted(BAD_OUTPUTS)), n=st.integers(2, 4),
       batch=st.integers(2, 5), fed=st.booleans())
def test_a_forward_rule_of_the_wrong_shape_fails_well(kind, n, batch, fed):
    bad = BAD_OUTPUTS[kind]
    rule = cl.Rule(lambda box, x: bad(x * x), lambda box, r, dy: (dy,))
    prog = _program(rule, n, fed)
    params = {"w": np.ones(n, np.float32)} if fed else {}
    xs = () if fed else (np.ones((batch, n), np.float32),)
    before = snapshot((params, xs))
    # a square value transposed keeps its shape: not a shape error
    assume(not (kind == "transposed" and (fed or batch == n)))
    with pytest.raises(cl.CatlearnError) as err:
        prog(params, *xs)
    msg = fails_well(err.value, "'square'")
    assert "ShapeError" == type(err.value).__name__, msg
    assert same(before, (params, xs))


@fuzz(N_RULES)
@given(kind=st.sampled_from(sorted(BAD_COTANGENTS)), n=st.integers(2, 4),
       batch=st.integers(2, 5), fed=st.booleans())
def test_a_reverse_rule_of_the_wrong_shape_fails_well(kind, n, batch, fed):
    bad = BAD_COTANGENTS[kind]
    rule = cl.Rule(lambda box, x: ((x * x,), x), lambda box, x, dy: bad(2 * x * dy))
    prog = _program(rule, n, fed)
    params = {"w": np.ones(n, np.float32)} if fed else {}
    xs = (np.ones((batch, n), np.float32),) if not fed else ()
    dys = (np.ones((n,) if fed else (batch, n), np.float32),)
    # a square value transposed keeps its shape: not a shape error; with no
    # batch, "summed over the batch" sums the features into a scalar
    assume(not (kind == "transposed" and (fed or batch == n)))
    with pytest.raises(cl.CatlearnError) as err:
        prog.reverse(params, xs, dys)
    msg = fails_well(err.value, "'square'")
    assert type(err.value).__name__ == "ShapeError", msg
    if "input" in msg and "shape" in msg:
        assert "expected" in msg


def test_a_per_example_cotangent_of_a_parameter_is_summed():
    """The one legitimate shape change: a rule may return one cotangent per
    example for an input without a batch axis (the program sums it)."""
    rule = cl.Rule(lambda box, w, x: ((x * w,), (w, x)),
                   lambda box, r, dy: (dy * r[1], dy * r[0]))  # dw per example
    F = cl.Smooth().extend({"scale": rule})
    d = (cl.Param("w", cl.real(3)) @ cl.Id(cl.real(3))) >> cl.Box(
        "scale", cl.real(3) @ cl.real(3), cl.real(3))
    x, dy = np.arange(6.0, dtype=np.float32).reshape(2, 3), np.ones((2, 3), np.float32)
    (dp, _) = F(d).reverse({"w": np.ones(3, np.float32)}, (x,), (dy,))
    assert np.allclose(dp["w"], x.sum(0))


# -- wires fed only by parameters ------------------------------------------------
@pytest.mark.parametrize("sem", REGISTRY, ids=[s.name for s in REGISTRY])
def test_parameter_only_wires_run_under_every_semantics(sem):
    """Random diagrams where generators read wires that depend on parameters
    only: the forward pass, the reverse pass and (over Z2) the votes run, give
    outputs of the right shapes, or fail with a CatlearnError."""
    F, sig = sem.functor, sem.signature

    @fuzz(N_WIRES)
    @given(data=st.data())
    def run(data):
        d = data.draw(cst.diagrams(sig), label="d")
        prog = F(d)
        params = data.draw(cst.parameters(prog, sig), label="params")
        xs = data.draw(cst.inputs(sig, prog), label="xs")
        dys = data.draw(cst.cotangents(sig, prog), label="dys")
        before = snapshot((params, xs, dys))
        try:
            ys = prog(params, *xs)
            dparams, dxs = prog.reverse(params, xs, dys)
        except cl.CatlearnError as err:
            fails_well(err)
            return
        ys = ys if isinstance(ys, tuple) else (ys,)
        assert [y.shape for y in ys] == [d.shape for d in dys]
        assert {k: np.shape(v) for k, v in dparams.items()} == {
            k: np.shape(v) for k, v in params.items() if k in dparams}
        assert [np.shape(x) for x in dxs] == [np.shape(x) for x in xs]
        assert same(before, (params, xs, dys))

    run()


def test_the_shipped_bug_repro():
    """The issue's repro, as written: a LUT layer whose input is a parameter
    (no batch axis), sin and softmax tables; the reverse rule equals
    jax.grad."""
    for relax in ("sin", "softmax"):
        d = cl.Id(cl.real(1)) @ (cl.Param("a", cl.bits(4), relax="sin")
                                 >> cl.logic.lut_layer(4, 4, name="L", relax=relax))
        P = cl.Smooth()(d)
        p = P.init(jax.random.key(0))
        x = jnp.ones((5, 1))
        dys = tuple(jax.random.normal(jax.random.key(i), o.shape)
                    for i, o in enumerate(P(p, x)))
        rev = P.reverse(p, (x,), dys)[0]["L.table"]

        def pairing(q):
            return sum((o * t).sum() for o, t in zip(P(q, x), dys, strict=True))

        ref = jax.grad(pairing)(p)["L.table"]
        assert float(jnp.abs(rev - ref).max()) < 1e-5, relax
