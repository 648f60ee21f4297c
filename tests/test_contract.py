"""The contract suite: every semantics in ``conftest.REGISTRY`` obeys every law
of ``catlearn.testing.laws`` on diagrams drawn from its signature.

The second half checks the checkers: deliberately broken rules and a broken
functor must make the laws fail.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import pytest
from discopy import markov
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import catlearn as cl
from catlearn.testing import LawError, laws, smooth_signature
from catlearn.testing import strategies as cst

# RD.6 and RD.7 differentiate the reverse pass three times over: fewer examples.
few = settings(max_examples=max(3, settings.default.max_examples // 2))


def _setup(semantics: Any, data: Any, diagram: Any) -> tuple[Any, ...]:
    """Compile ``diagram``, draw its parameters, inputs and output cotangents."""
    F, sig = semantics.functor(), semantics.signature
    prog = F(diagram)
    params = data.draw(cst.parameters(prog, sig), label="params")
    xs = data.draw(cst.inputs(sig, prog), label="xs")
    dys = data.draw(cst.cotangents(sig, prog), label="dys")
    return F, prog, params, xs, dys


# -- functoriality ---------------------------------------------------------------------
@given(data=st.data())
def test_functoriality_composition(semantics, data):
    f, g = data.draw(cst.composable_pairs(semantics.signature), label="f, g")
    F, _, params, xs, _ = _setup(semantics, data, f >> g)
    laws.composition(F, f, g, params, xs)


@given(data=st.data())
def test_functoriality_tensor(semantics, data):
    f, g = data.draw(cst.parallel_pairs(semantics.signature), label="f, g")
    F, _, params, xs, dys = _setup(semantics, data, f @ g)
    laws.tensor(F, f, g, params, xs, dys)


@given(data=st.data())
def test_functoriality_identity(semantics, data):
    sig = semantics.signature
    ty = data.draw(cst.types(sig), label="ty")
    xs = data.draw(cst.values(sig, ty.inside), label="xs")
    laws.identity(semantics.functor(), ty, xs)


@given(data=st.data())
def test_functoriality_unit(semantics, data):
    f = data.draw(cst.diagrams(semantics.signature), label="f")
    F, _, params, xs, dys = _setup(semantics, data, f)
    laws.unit(F, f, params, xs, dys)


# -- reverse pass against the oracle ---------------------------------------------------
@settings(suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_reverse_matches_the_oracle(semantics, data):
    """``jax.vjp`` of the forward for Smooth; the brute-force Z2 derivative for
    Boolean, on circuits with no repeated variable inside a product."""
    d = data.draw(cst.diagrams(semantics.signature), label="d")
    _, prog, params, xs, dys = _setup(semantics, data, d)
    assume(semantics.exact(prog))
    semantics.check_reverse(prog, params, xs, dys)


@pytest.mark.oracle("jax")
@settings(suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_gradients_from_the_lens_composite_equal_jax_grad_of_the_compiled_forward(
    semantics, data
):
    d = data.draw(cst.diagrams(semantics.signature), label="d")
    _, prog, params, xs, dys = _setup(semantics, data, d)
    assume(prog.param_types)  # a model with something to learn
    dparams, _ = prog.reverse(params, xs, dys)

    def loss(p):
        ys = prog.apply(p, *xs)
        ys = ys if isinstance(ys, tuple) else (ys,)
        return sum(jnp.sum(y * dy) for y, dy in zip(ys, dys, strict=True))

    laws.close(
        "dparams of reverse = jax.grad of <forward, dys>",
        {"d": d},
        dparams,
        jax.grad(loss)(params),
    )


@given(data=st.data())
def test_lens_composition(semantics, data):
    f, g = data.draw(cst.composable_pairs(semantics.signature), label="f, g")
    F, _, params, xs, dzs = _setup(semantics, data, f >> g)
    laws.lens_composition(F, f, g, params, xs, dzs)


# -- reverse-derivative axioms ---------------------------------------------------------
@given(data=st.data())
def test_rd1_additivity(semantics, data):
    sig = semantics.signature
    f, g = data.draw(cst.hom_pairs(sig, same_cod=True), label="f, g")
    F, _, params, xs, dys = _setup(semantics, data, laws.plus(f, g, sig.add))
    laws.rd1_additivity(F, f, g, sig.add, params, xs, dys)


@given(data=st.data())
def test_rd2_linearity_in_the_cotangent(semantics, data):
    f = data.draw(cst.diagrams(semantics.signature), label="f")
    _, prog, params, xs, dys = _setup(semantics, data, f)
    dys2 = data.draw(cst.cotangents(semantics.signature, prog), label="dys2")
    laws.rd2_linearity(prog, params, xs, dys, dys2)


@given(data=st.data())
def test_rd3_structural_maps(semantics, data):
    sig = semantics.signature
    A = data.draw(cst.types(sig, max_wires=2), label="A")
    B = data.draw(cst.types(sig, max_wires=2), label="B")
    a, da, da2 = (data.draw(cst.values(sig, A.inside)) for _ in range(3))
    b, db = (data.draw(cst.values(sig, B.inside)) for _ in range(2))
    laws.rd3_structure(semantics.functor(), A, B, a, b, da, db, da2)


@given(data=st.data())
def test_rd4_pairing(semantics, data):
    sig = semantics.signature
    f, g = data.draw(cst.hom_pairs(sig, same_cod=False), label="f, g")
    F, prog, params, xs, dys = _setup(semantics, data, laws.pairing(f, g))
    laws.rd4_pairing(F, f, g, params, xs, dys[: len(f.cod)], dys[len(f.cod) :])


@given(data=st.data())
def test_rd5_chain_rule(semantics, data):
    f, g = data.draw(cst.composable_pairs(semantics.signature), label="f, g")
    F, _, params, xs, dzs = _setup(semantics, data, f >> g)
    laws.rd5_chain_rule(F, f, g, params, xs, dzs)


@few
@given(data=st.data())
def test_rd6_derivative_is_linear(semantics, data):
    f = data.draw(cst.diagrams(semantics.signature, max_layers=3), label="f")
    _, prog, params, xs, _ = _setup(semantics, data, f)
    v = data.draw(cst.tangents(semantics.signature, prog), label="v")
    laws.rd6_linear_derivative(prog, params, xs, v, derivatives=semantics.derivatives)


@settings(few, suppress_health_check=[HealthCheck.filter_too_much,
                                      HealthCheck.too_slow])
@given(data=st.data())
def test_rd7_second_derivative_is_symmetric(semantics, data):
    f = data.draw(cst.diagrams(semantics.signature, max_layers=3), label="f")
    _, prog, params, xs, _ = _setup(semantics, data, f)
    assume(semantics.exact(prog))
    u = data.draw(cst.tangents(semantics.signature, prog), label="u")
    v = data.draw(cst.tangents(semantics.signature, prog), label="v")
    laws.rd7_symmetry(prog, params, xs, u, v, derivatives=semantics.derivatives)


# -- every generator on its own -----------------------------------------------------
def _alone(semantics, g, seed):
    """Generator ``g`` alone, compiled, at a point drawn from ``seed``."""
    sig, key = semantics.signature, jax.random.key(seed)
    prog = semantics.functor()(g.build(f"{g.label}.0" if g.ties > 1 else g.label))
    wires = cst.param_wires(prog)
    params = dict(zip(prog.param_types, cst.sample_values(
        sig, wires, jax.random.fold_in(key, 0), None), strict=True))
    xs = cst.sample_values(sig, prog.dom, jax.random.fold_in(key, 1))
    batch = cst.BATCH if prog.dom else None  # no inputs: unbatched outputs
    dys, dys2 = (cst.sample_values(sig, prog.cod, jax.random.fold_in(key, i), batch)
                 for i in (2, 3))
    return prog, params, xs, dys, dys2


def test_every_generator_is_linear_in_the_cotangent(semantics):
    """RD.2 for each generator of the signature, whatever the draws cover."""
    for i, g in enumerate(semantics.signature.generators):
        prog, params, xs, dys, dys2 = _alone(semantics, g, i)
        laws.rd2_linearity(prog, params, xs, dys, dys2)


def test_every_generator_matches_the_oracle(semantics):
    """Each generator's reverse rule equals the oracle, and its derivative is
    linear (RD.6) with symmetric second derivative (RD.7), where the oracle is
    exact (over Z2: every generator but a LUT layer reading one wire twice)."""
    sig, skipped = semantics.signature, []
    for i, g in enumerate(sig.generators):
        prog, params, xs, dys, _ = _alone(semantics, g, i)
        key = jax.random.key(1000 + i)
        u, v = (
            (dict(zip(prog.param_types, cst.sample_values(
                sig, cst.param_wires(prog), jax.random.fold_in(key, j),
                None), strict=True)),
             cst.sample_values(sig, prog.dom, jax.random.fold_in(key, 2 + j)))
            for j in (0, 1)
        )
        laws.rd6_linear_derivative(prog, params, xs, v,
                                   derivatives=semantics.derivatives)
        if not semantics.exact(prog):
            skipped.append(g.label)
            continue
        semantics.check_reverse(prog, params, xs, dys)
        laws.rd7_symmetry(prog, params, xs, u, v, derivatives=semantics.derivatives)
    # Only a LUT layer on one wire multiplies a variable by itself.
    assert all(label.startswith("luts1x") for label in skipped), skipped


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
    """Copies, discards, swaps, parameters and tied weights all occur, and every
    drawn diagram compiles under the semantics."""
    F, seen = semantics.functor(), set()

    @settings(max_examples=60)
    @given(cst.diagrams(semantics.signature))
    def collect(d):
        F(d)
        boxes = list(cl.diagrams.boxes(d))
        seen.update(_kind(box) for box in boxes)
        names = [box.name for box in boxes if isinstance(box, cl.Param)]
        if len(names) != len(set(names)):
            seen.add("tied")

    collect()
    assert {"param", "swap", "discard", "copy", "generator", "tied"} <= seen, seen


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
