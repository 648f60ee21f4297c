"""The reverse-derivative laws of ``cl.Boolean()``, exhaustively: on small
generated circuits (at most 7 bits of parameters and inputs) every law is
checked at every point, for every cotangent or basis tangent, in one call.

``D[f]`` is the transpose of ``Program.reverse`` and ``D[D[f]]`` the Z2
derivative of that function (``laws.z2_derivatives``); RD.7 and the
brute-force oracle are exact on circuits with no repeated variable inside a
product (``is_multilinear``), and the last tests show that they must be
restricted so. Deliberately wrong rules are caught.
"""

import numpy as np
import pytest
from discopy import markov
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import catlearn as cl
from catlearn.testing import LawError, boolean_signature, is_multilinear, laws
from catlearn.testing import exhaustive as ex
from catlearn.testing import strategies as cst

B = cl.Boolean()
SMALL = boolean_signature(sizes=(1, 2))
Z2 = ex.Stacked.derivatives(laws.z2_derivatives)
B1 = cl.bits(1)

PRODUCTS = {"AND", "OR", "lut", "lut_layer"}


def _gates(d):
    return [box.name for box in cl.diagrams.boxes(d) if box.name in GATES]


def _has_product(d):
    return bool(set(_gates(d)) & PRODUCTS)


def _interesting(d):
    """A product gate (where a copy can make the derivative of the circuit
    differ from the function's) and another gate after or beside it."""
    return _has_product(d) and len(_gates(d)) >= 2


GATES = PRODUCTS | {"XOR", "NOT"}
# Circuits of at most 7 bits (128 points), so that every point is checked.
CIRCUITS = cst.circuits(SMALL, B, max_bits=7).filter(_interesting)
MULTILINEAR = cst.circuits(SMALL, B, max_bits=7, multilinear=True).filter(_interesting)

# Each example compiles a few vmapped programs, and checks every point: few.
few = settings(max_examples=max(3, settings.default.max_examples // 3),
               suppress_health_check=[HealthCheck.filter_too_much])


def _rd2(F, d):
    """RD.2 at every point, for every cotangent b and basis cotangent b'
    (additivity in each basis direction gives it for every pair)."""
    prog = F(d)
    (params, xs), b, b2 = ex.product(
        ex.points(prog), ex.assignments(ex.codomain(prog)), ex.basis(ex.codomain(prog)))
    laws.rd2_linearity(ex.Stacked(prog), params, xs, b, b2)


def _rd5(F, f, g):
    """RD.5 at every point of ``f >> g``, for every output cotangent."""
    prog = F(f >> g)
    (params, xs), dzs = ex.product(ex.points(prog), ex.assignments(ex.codomain(prog)))
    laws.rd5_chain_rule(ex.Stacked(F), f, g, params, xs, dzs)


def _rd6(F, d):
    prog = F(d)
    (params, xs), v = ex.product(ex.points(prog), ex.basis(ex.domain(prog)))
    laws.rd6_linear_derivative(ex.Stacked(prog), params, xs, v, derivatives=Z2)


def _rd7(F, d):
    prog = F(d)
    tangents = ex.basis(ex.domain(prog))
    (params, xs), u, v = ex.product(ex.points(prog), tangents, tangents)
    laws.rd7_symmetry(ex.Stacked(prog), params, xs, u, v, derivatives=Z2)


def _brute_force(F, d, seed=0):
    """The oracle at every input pattern at once (one batch), with random
    parameters and output cotangents."""
    prog, rng = F(d), np.random.default_rng(seed)
    xs = tuple(x[:, 0] for x in ex.assignments(ex.domain(prog)[1]))
    params = {k: rng.random(w.shape) < 0.5 for k, w in prog.param_types.items()}
    batch = len(xs[0]) if xs else 1
    dys = tuple(rng.random(y.shape) < 0.5 for y in ex.codomain(prog, batch))
    laws.reverse_matches_brute_force(prog, params, xs, dys)


# -- the laws, at every point of small generated circuits ---------------------------
@few
@given(CIRCUITS)
def test_rd2_reverse_is_linear_at_every_point(d):
    _rd2(B, d)


@few
@given(cst.composable_pairs(SMALL).filter(
    lambda fg: _interesting(fg[0] >> fg[1])
    and ex.bits(ex.domain(B(fg[0] >> fg[1]))) <= 7))
def test_rd5_chain_rule_at_every_point(fg):
    _rd5(B, *fg)


@few
@given(CIRCUITS)
def test_rd6_at_every_point_and_basis_tangent(d):
    _rd6(B, d)


@few
@given(MULTILINEAR)
def test_rd7_at_every_point_and_pair_of_basis_tangents(d):
    _rd7(B, d)


@few
@given(MULTILINEAR, st.integers(0, 2**16))
def test_reverse_equals_brute_force_at_every_input(d, seed):
    _brute_force(B, d, seed)


def _kinds(d):
    boxes = list(cl.diagrams.boxes(d))
    copies = [box for box in boxes
              if isinstance(box, markov.Copy) and not isinstance(box, markov.Discard)]
    return ({box.name for box in boxes} & PRODUCTS
            | ({"param"} if cl.params(d) else set()) | ({"copy"} if copies else set()))


def test_small_circuits_are_not_trivial():
    """Products, copies and parameters all occur in the circuits above; some
    copy a variable into a product (RD.2, RD.5, RD.6 are checked there too),
    and the multilinear ones still hold every kind of product."""
    seen, kept = set(), set()

    @settings(max_examples=15, suppress_health_check=[HealthCheck.filter_too_much])
    @given(CIRCUITS)
    def collect(d):
        seen.update(_kinds(d) | ({"repeated"} if not is_multilinear(B(d)) else set()))

    @settings(max_examples=100, suppress_health_check=[HealthCheck.filter_too_much])
    @given(MULTILINEAR)
    def collect_multilinear(d):
        kept.update(_kinds(d))

    collect()
    collect_multilinear()
    assert {"param", "copy", "repeated"} <= seen and seen & PRODUCTS, seen
    assert PRODUCTS | {"param", "copy"} <= kept, kept


# -- exhaustive means every point ---------------------------------------------------
def test_points_enumerate_every_assignment_once():
    prog = B((cl.logic.lut("g") @ B1) >> cl.logic.AND)  # 4 + 3 bits
    params, xs = ex.points(prog)
    rows = np.concatenate([np.asarray(params["g.table"]),
                           *(np.asarray(x).reshape(len(x), -1) for x in xs)], axis=1)
    assert rows.shape == (2**7, 7)
    assert len({r.tobytes() for r in rows}) == 2**7
    (p, _), u = ex.product((params, xs), ex.basis(ex.domain(prog)))
    assert p["g.table"].shape == (2**7 * 7, 4)


# -- where RD.7 and the oracle are exact --------------------------------------------
def _tied(op):
    b = cl.Param("b", B1)
    return (b @ b) >> op


@pytest.mark.parametrize("diagram, multilinear", [
    (cl.logic.AND, True),
    (cl.logic.lut("g"), True),
    (cl.logic.lut_layer(3, 2, seed=0, name="L"), True),
    (cl.Copy(B1) >> cl.logic.XOR, True),            # a sum: x + x
    (cl.Copy(B1) >> (cl.logic.NOT @ B1) >> cl.logic.XOR, True),
    (cl.Copy(B1) >> cl.logic.AND, False),           # x x
    (cl.Copy(B1) >> (cl.logic.NOT @ B1) >> cl.logic.OR, False),  # x and 1 + x
    (_tied(cl.logic.AND), False),                   # a tied parameter is one variable
    (_tied(cl.logic.XOR), True),
    (cl.logic.lut_layer(1, 1, name="L"), False),    # one wire read twice
    (cl.logic.lut_layer(2, 4, seed=0, name="L")
     >> cl.logic.lut_layer(4, 1, seed=0, name="M"), False),  # reconverging fan-out
    (cl.logic.network(4, [4], 2), False),           # group_sum: not a Z2 map
])
def test_is_multilinear_reads_the_circuit(diagram, multilinear):
    assert is_multilinear(B(diagram)) is multilinear


def test_rd7_and_the_oracle_need_the_multilinear_condition():
    """``x ∧ x ∧ y`` is a valid circuit with a correct reverse pass, but its
    derivative is not its function's: ``R = (0, x dz)`` where brute force
    gives ``(y dz, x dz)``, and the Z2 derivative of ``D[f]`` is not
    symmetric (``∂_y ∂_x = 0``, ``∂_x ∂_y = 1``). Hence the filters above."""
    d = (cl.Copy(B1) >> cl.logic.AND) @ B1 >> cl.logic.AND
    assert not is_multilinear(B(d))
    with pytest.raises(LawError, match=r"RD\.7"):
        _rd7(B, d)
    with pytest.raises(LawError, match="brute-force"):
        _brute_force(B, d)
    _rd2(B, d)
    _rd6(B, d)


# -- the checkers catch wrong rules -------------------------------------------------
def _and(rev):
    return B.extend({"AND": cl.Rule(lambda box, a, b: ((a & b,), (a, b)), rev)})


SWAPPED_AND = _and(lambda box, r, dz: (r[1] & dz, r[1] & dz))  # db should be a dz
AFFINE_AND = _and(lambda box, r, dz: (r[1] | dz, r[0] & dz))  # not 0 at dz = 0


def test_wrong_and_rule_is_caught_by_the_oracle_and_rd7():
    f, g = cl.logic.AND @ B1, cl.logic.OR
    d = f >> g  # (a ∧ b) ∨ c
    with pytest.raises(LawError, match="brute-force") as err:
        _brute_force(SWAPPED_AND, d)
    assert "AND" in str(err.value) and "entries differ" in str(err.value)
    with pytest.raises(LawError, match=r"RD\.7 D\[D\[f\]\]"):
        _rd7(SWAPPED_AND, d)
    # The structural laws hold for any table of rules: they cannot see this bug.
    _rd2(SWAPPED_AND, d)
    _rd5(SWAPPED_AND, f, g)
    _rd6(SWAPPED_AND, d)
    # The correct rule passes the same checks.
    _brute_force(B, d)
    _rd7(B, d)


def test_reverse_not_zero_at_zero_is_caught_by_rd2():
    with pytest.raises(LawError, match=r"RD\.2 R\[f\]\(a, 0\) = 0"):
        _rd2(AFFINE_AND, cl.logic.AND)


def test_wrong_rules_are_caught_on_generated_circuits():
    """Drawn multilinear circuits expose AND and OR rules whose second
    cotangent reads the wrong input."""
    swapped = SWAPPED_AND.extend({"OR": cl.Rule(
        lambda box, a, b: ((a | b,), (a, b)), lambda box, r, dz: (~r[1] & dz,) * 2)})
    caught, drawn = [], []

    @settings(max_examples=3, suppress_health_check=[HealthCheck.filter_too_much])
    @given(MULTILINEAR)
    def check(d):
        drawn.append(d)
        try:
            _brute_force(swapped, d)
        except LawError:
            caught.append(d)

    check()
    assert len(drawn) == 3 and caught, drawn


def test_z2_derivative_of_a_lut_is_its_table_polynomial():
    """``D[lut](a, v)`` from the transpose of the reverse pass is the formal
    derivative of ``t00 ~a~b ^ t01 ~a b ^ t10 a~b ^ t11 a b``."""
    prog = B(cl.logic.lut("g"))
    (params, (a, b)), (dparams, (da, db)) = ex.product(
        ex.points(prog), ex.assignments(ex.domain(prog)))
    D = Z2(ex.Stacked(prog), params, (a, b))[0]
    (got,) = D((params, (a, b)), (dparams, (da, db)))
    t, dt = np.asarray(params["g.table"]), np.asarray(dparams["g.table"])
    a, b, da, db = (np.asarray(x)[:, 0, 0] for x in (a, b, da, db))
    minterms = np.stack([~a & ~b, ~a & b, a & ~b, a & b], axis=1)
    want = (np.sum(dt & minterms, axis=1) % 2 == 1) \
        ^ (da & ((t[:, 0] ^ t[:, 2]) & ~b | (t[:, 1] ^ t[:, 3]) & b)) \
        ^ (db & ((t[:, 0] ^ t[:, 1]) & ~a | (t[:, 2] ^ t[:, 3]) & a))
    assert len(want) == 2**12
    assert np.array_equal(np.asarray(got)[:, 0, 0], want)
