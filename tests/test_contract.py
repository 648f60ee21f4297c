"""The contract suite: every semantics in ``catlearn.testing.REGISTRY`` obeys
every law of the table ``catlearn.testing.LAWS`` on diagrams drawn from its
signature, and every generator passes ``check_generator``.

The second half checks the checkers: deliberately broken rules and a broken
functor must make the laws fail.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import pytest
from discopy import markov
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import catlearn as cl
from catlearn.testing import LawError, check_generator, laws, smooth_signature
from catlearn.testing import strategies as cst
from catlearn.testing._check_functor import check_readout, representatives
from catlearn.testing._table import setup

# RD.6 and RD.7 differentiate the reverse pass three times over: fewer examples.
few = settings(max_examples=max(3, settings.default.max_examples // 2))


def _setup(semantics: Any, data: Any, diagram: Any) -> tuple[Any, ...]:
    """Compile ``diagram``, draw its parameters, inputs and output cotangents."""
    return (semantics.functor, *setup(semantics, data, diagram))


def test_law(semantics, law):
    """Every law of the table that applies to the semantics (conftest pairs
    them by oracle), on random diagrams of its signature (RD.6 and RD.7
    differentiate three times over: half the examples)."""
    n = settings.default.max_examples

    @settings(max_examples=max(3, n // 2) if law.few else n,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def prop(data):
        law.check(semantics, data)

    prop()


def test_every_generator(semantics):
    """Each kind of generator of the signature (one or two sizes of each, as
    check_functor takes them; test_law draws every size) alone, fed by
    parameters (no batch axis) and with one input so fed: its rule's shapes,
    the reverse pass against the oracle, RD.2, RD.6, RD.7 and the reference
    semantics; and the read-outs' forward passes."""
    for i, g in enumerate(representatives(semantics.signature.generators)):
        assert check_generator(semantics, g, seed=i) >= 1
    for g in semantics.readouts:
        check_readout(semantics, g)


# -- compilation -----------------------------------------------------------------------
@few
@given(data=st.data())
def test_same_shapes_trace_once(semantics, data):
    d = data.draw(cst.diagrams(semantics.signature), label="d")
    _, prog, params, xs, dys = _setup(semantics, data, d)
    xs2 = data.draw(cst.inputs(semantics.signature, prog), label="xs2")
    prog(params, *xs)
    prog(params, *xs2)
    assert prog.trace_count == 1, "a second call at the same shapes retraced"
    prog.reverse(params, xs, dys)
    prog.reverse(params, xs2, dys)
    assert prog.trace_count == 2, "a second reverse at the same shapes retraced"
    prog(params, *data.draw(cst.inputs(semantics.signature, prog, batch=5)))
    assert prog.trace_count == 3, "a new batch size must trace once more"


def _kind(box):
    if isinstance(box, cl.Param):
        return "param"
    for kind in ("swap", "discard", "copy"):  # discard is a kind of copy
        if isinstance(box, getattr(markov, kind.capitalize())):
            return kind
    return "generator"


def test_strategies_draw_every_kind_of_structure(semantics):
    """Copies, discards, swaps, parameters, tied weights and generators fed
    only by parameters (wires with no batch axis) all occur, and every drawn
    diagram compiles under the semantics."""
    F, seen = semantics.functor, set()

    @settings(max_examples=60)
    @given(cst.diagrams(semantics.signature))
    def collect(d):
        prog = F(d)
        if any(not prog.slots[s].batched for st_ in prog.steps for s in st_.outs):
            seen.add("param-only")  # a generator fed by parameters only
        boxes = list(cl.diagrams.boxes(d))
        seen.update(_kind(box) for box in boxes)
        names = [box.name for box in boxes if isinstance(box, cl.Param)]
        if len(names) != len(set(names)):
            seen.add("tied")

    collect()
    kinds = {"param", "swap", "discard", "copy", "generator", "tied", "param-only"}
    assert kinds <= seen, seen


# -- the checkers catch broken rules ---------------------------------------------------
def _unary_rule(fn, rev):
    return cl.Rule(lambda box, x: ((fn(x),), (x, fn(x))),
                   lambda box, r, dy: (rev(r[0], r[1], dy),))


BAD_RELU = _unary_rule(jax.nn.relu, lambda x, y, dy: dy * y)  # not dy [x > 0]
SQUARED = _unary_rule(jnp.tanh, lambda x, y, dy: dy * dy * (1 - y * y))
OFFSET = _unary_rule(jnp.tanh, lambda x, y, dy: dy * (1 - y * y) + 1.0)
ASYMMETRIC_MUL = cl.Rule(lambda box, a, b: ((a * b,), (a, b)),
                         lambda box, r, dy: (dy * r[1], dy * r[1]))  # not dy * a


def _sample(wires, seed, batch=4):
    return cst.sample_values(smooth_signature(), wires, jax.random.key(seed), batch)


def _point(d, F=None):
    prog = (F or cl.Smooth())(d)
    params = prog.init(jax.random.key(0))
    return prog, params, _sample(prog.dom, 1), _sample(prog.cod, 2)


def test_wrong_relu_reverse_is_caught_by_the_oracle():
    d = cl.nn.dense(3, 2, name="f")
    prog, params, xs, dys = _point(d, cl.Smooth().extend({"relu": BAD_RELU}))
    with pytest.raises(LawError, match="reverse = jax.vjp") as err:
        laws.reverse_matches_vjp(prog, params, xs, dys)
    assert "relu" in str(err.value) and "max |lhs - rhs|" in str(err.value)
    assert isinstance(err.value, cl.CatlearnError)
    # The structural laws hold for any table of rules: they cannot see this bug.
    laws.rd5_chain_rule(prog.functor, d, cl.nn.tanh(2), params, xs, dys)
    # The correct rule passes at the same point.
    laws.reverse_matches_vjp(cl.Smooth()(d), params, xs, dys)


def test_nonlinear_reverse_is_caught_by_rd2():
    d = cl.nn.linear(3, 2) >> cl.nn.tanh(2)
    prog, params, xs, dys = _point(d, cl.Smooth().extend({"tanh": SQUARED}))
    with pytest.raises(LawError, match=r"RD\.2 R\[f\]\(a, b \+ b'\)"):
        laws.rd2_linearity(prog, params, xs, dys, dys)


def test_reverse_not_zero_at_zero_is_caught_by_rd2():
    prog, params, xs, dys = _point(cl.nn.tanh(3), cl.Smooth().extend({"tanh": OFFSET}))
    with pytest.raises(LawError, match=r"RD\.2 R\[f\]\(a, 0\) = 0"):
        laws.rd2_linearity(prog, params, xs, dys, dys)


def test_asymmetric_reverse_is_caught_by_rd7_not_rd6():
    d = cl.nn.mul(2)
    prog, params, xs, _ = _point(d, cl.Smooth().extend({"mul": ASYMMETRIC_MUL}))
    u, v = ({}, _sample(prog.dom, 3)), ({}, _sample(prog.dom, 4))
    laws.rd6_linear_derivative(prog, params, xs, v)  # still linear in v
    with pytest.raises(LawError, match=r"RD\.7"):
        laws.rd7_symmetry(prog, params, xs, u, v)
    with pytest.raises(LawError, match="reverse = jax.vjp"):
        laws.reverse_matches_vjp(prog, params, xs, _sample(prog.cod, 5))
    laws.rd7_symmetry(cl.Smooth()(d), params, xs, u, v)


class _PostTanh(cl.Smooth):
    """Not a functor: it compiles ``d >> tanh`` on every output wire."""

    def __call__(self, diagram):
        d = cl.diagrams.from_discopy(diagram)
        post = cl.Id()
        for w in d.cod.inside:
            post = post @ cl.Box("tanh", cl.real(*w.shape), cl.real(*w.shape))
        return super().__call__(d >> post)


def test_broken_functor_is_caught_by_functoriality():
    f, g = cl.nn.dense(3, 2, name="f"), cl.nn.sigmoid(2)
    F = _PostTanh()
    _, params, xs, dys = _point(f >> g)
    with pytest.raises(LawError, match=r"F\(f >> g\) = F\(f\) ; F\(g\)"):
        laws.composition(F, f, g, params, xs)
    with pytest.raises(LawError, match=r"F\(Id\) = id"):
        laws.identity(F, f.dom, xs)
    with pytest.raises(LawError, match="lens composition"):
        laws.lens_composition(F, f, g, params, xs, dys)
    # Post-composing every output wire commutes with @: the tensor law holds.
    _, _, xs_g, dys_g = _point(g)
    laws.tensor(F, f, g, params, xs + xs_g, dys + dys_g)
