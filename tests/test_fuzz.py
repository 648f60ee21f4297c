"""Bad input, fuzzed: hypothesis drives the public API with random, mostly
ill-typed input, and every call must either succeed with the right result or
raise a ``cl.CatlearnError`` whose message names the offending object and a
fix. No other exception type, no silently wrong result, and the caller's
input (arrays, parameter dicts, files) is never modified.

Examples per test are bounded (``max_examples`` below, ``N_*``) and drawn
deterministically by the ``ci`` profile (``derandomize=True``, no database:
``tests/conftest.py``), so the file runs in well under a minute. Saved files
and JSON are fuzzed in ``tests/test_fuzz_files.py``; the helpers shared by
both are in ``tests/_fuzzing.py``.

Decisions the properties pin down:

- Empty batches (0 examples) work in every semantics and give 0 rows; ``fit``
  and ``evaluate`` reject empty data sets (a loss over 0 examples is 0 / 0).
- Programs propagate nan and inf (the maths' answer); ``fit`` and
  ``evaluate`` reject non-finite data up front with ``NonFiniteError``.
- Boolean semantics read bool arrays, or ints holding only 0 and 1: a 2, a -1
  or a float is an error, never thresholded.
- Extra entries in a params dict are ignored by programs (one dict serves
  several sub-diagrams); missing, mis-shaped or wrong-dtype ones fail.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import jax
import numpy as np
import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st

import catlearn as cl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _fuzzing import fails_well, fuzz, same, snapshot  # noqa: E402

# Examples per test (docs/reliability.md counts them).
N_COMPOSE, N_TYPES, N_BOXES = 80, 80, 40
N_CALL, N_CALL_SLOW, N_PARAMS, N_REVERSE = 30, 12, 25, 20
N_EVAL, N_FIT = 40, 12


# -- random compositions ------------------------------------------------------------
WIRES = [cl.real(1), cl.real(2), cl.real(2, 2), cl.bits(1), cl.bits(3)]
types_ = st.lists(st.sampled_from(WIRES), min_size=0, max_size=3).map(
    lambda ws: cl.Id().dom.tensor(*ws) if ws else cl.Id().dom
)


@st.composite
def diagrams(draw: Any) -> Any:
    kind = draw(st.sampled_from(["box", "id", "copy", "swap", "param"]))
    if kind == "box":
        return cl.Box(draw(st.sampled_from("fgh")), draw(types_), draw(types_))
    if kind == "id":
        return cl.Id(draw(types_))
    if kind == "copy":
        return cl.Copy(draw(st.sampled_from(WIRES)), draw(st.integers(0, 3)))
    if kind == "swap":
        return cl.Swap(draw(st.sampled_from(WIRES)), draw(st.sampled_from(WIRES)))
    return cl.Param(draw(st.sampled_from("wv")), draw(st.sampled_from(WIRES)))


junk = st.sampled_from([3, None, "f", 1.5, cl.real(2), [cl.Id(cl.real(1))]])


@fuzz(N_COMPOSE)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([">>", "@", "r>>", "r@"]),
            st.one_of(diagrams(), diagrams(), junk),
        ),
        min_size=1,
        max_size=4,
    ),
    diagrams(),
)
def test_random_compositions(ops, start):
    """``>>`` and ``@`` of random boxes and types, and of non-diagrams: a
    diagram with the right boundary, or a CompositionError naming both sides."""
    d = start
    for op, other in ops:
        before = (d.dom, d.cod)
        try:
            if op == ">>":
                out = d >> other
            elif op == "@":
                out = d @ other
            elif op == "r>>":
                out = other >> d
            else:
                out = other @ d
        except cl.CatlearnError as e:
            assert isinstance(e, cl.CompositionError | cl.TypeSpecError)
            fails_well(e)
            if op.endswith(">>") and isinstance(other, cl.Diagram):
                left, right = (d, other) if op == ">>" else (other, d)
                assert left.cod != right.dom  # only ill-typed pairs fail
                fails_well(e, repr(left.cod), repr(right.dom))
            continue
        except TypeError as e:  # Python's own: an operand with no >> or @ at all
            assert not isinstance(other, cl.Diagram | type(cl.real(1))), e
            assert op.startswith("r") or isinstance(other, list), e
            continue
        assert isinstance(out, cl.Diagram)
        assert (d.dom, d.cod) == before  # composing never modifies an operand
        if isinstance(other, cl.Diagram):
            if op in (">>", "r>>"):
                left, right = (d, other) if op == ">>" else (other, d)
                assert left.cod == right.dom
                assert (out.dom, out.cod) == (left.dom, right.cod)
            else:
                left, right = (d, other) if op == "@" else (other, d)
                assert (out.dom, out.cod) == (
                    left.dom @ right.dom,
                    left.cod @ right.cod,
                )
        d = out


# -- wire types, boxes and parameters ------------------------------------------------
sizes = st.one_of(
    st.integers(-2, 5),
    st.integers(1, 4).map(np.int64),
    st.sampled_from([0.0, 2.0, 1.5, True, False, None, "3", (2,), float("nan")]),
)


@fuzz(N_TYPES)
@given(st.sampled_from(["real", "bits"]), st.lists(sizes, min_size=0, max_size=3))
def test_wire_types(kind, dims):
    """``cl.real(*dims)`` and ``cl.bits(*dims)``: positive ints (numpy ints
    too) give that shape (at least one for bits); anything else is a
    TypeSpecError naming the bad size."""
    make = cl.real if kind == "real" else cl.bits
    valid = all(
        isinstance(d, int | np.integer) and not isinstance(d, bool) and d >= 1
        for d in dims
    )
    try:
        ty = make(*dims)
    except cl.TypeSpecError as e:
        fails_well(e, kind)
        assert not valid or (kind == "bits" and not dims)
        return
    assert valid and (kind == "real" or len(dims) >= 1)
    (wire,) = ty.inside
    assert wire.shape == tuple(int(d) for d in dims)
    assert all(type(d) is int for d in wire.shape)


@fuzz(N_BOXES)
@given(
    name=st.sampled_from(["w", "", 3, None]),
    ty=st.sampled_from([cl.real(2), cl.bits(4), cl.real(2) @ cl.real(1), "real", None]),
    init=st.sampled_from(["normal", "zeros", "bogus", None]),
    scale=st.sampled_from([1.0, 0, -2, "abc", None, float("inf"), True]),
    relax=st.sampled_from([None, "sigmoid", 3]),
    n=st.sampled_from([0, 1, 2, 3, -1, 2.0, "2", None]),
)
def test_params_and_copies(name, ty, init, scale, relax, n):
    """``cl.Param`` and ``cl.Copy`` with bad arguments: TypeSpecError with a fix."""
    ok = (
        isinstance(name, str)
        and isinstance(ty, cl.Diagram.ty_factory)
        and len(ty) == 1
        and init in ("normal", "zeros")
        and isinstance(scale, int | float)
        and not isinstance(scale, bool)
        and np.isfinite(scale)
        and (relax is None or isinstance(relax, str))
    )
    try:
        p = cl.Param(name, ty, init=init, scale=scale, relax=relax)
        assert ok and p.cod == ty
    except cl.TypeSpecError as e:
        fails_well(e)
        assert not ok
    copies_ok = isinstance(n, int) and n >= 0
    try:
        c = cl.Copy(cl.real(2), n)
        assert copies_ok and len(c.cod) == n
    except cl.TypeSpecError as e:
        fails_well(e, "n=")
        assert not copies_ok


# -- programs: inputs ----------------------------------------------------------------
SMOOTH_NET = cl.nn.mlp([3, 4, 2], name="mlp")
TWO_IN = cl.Box("add", cl.real(2) @ cl.real(2), cl.real(2))
LOGIC_NET = cl.logic.network(4, [8], 2, seed=0)
CIRCUIT = cl.logic.lut_layer(4, 4, seed=1, name="c")  # bits(4) -> bits(4)


def _programs() -> dict[str, tuple[cl.Program, dict[str, Any], str]]:
    """name -> (program, params, "smooth" or "bits")."""
    out = {}
    for name, functor, diagram, kind in [
        ("smooth-mlp", cl.Smooth(), SMOOTH_NET, "smooth"),
        ("smooth-two-inputs", cl.Smooth(), TWO_IN, "smooth"),
        ("relaxed-kernel", cl.Kernel(relaxed=True), LOGIC_NET, "smooth"),
        ("boolean", cl.Boolean(), LOGIC_NET, "bits"),
        ("boolean-circuit", cl.Boolean(), CIRCUIT, "bits"),
        ("kernel-xla", cl.Kernel(backend="xla"), LOGIC_NET, "bits"),
        ("kernel-interpret", cl.Kernel(backend="interpret"), LOGIC_NET, "bits"),
    ]:
        prog = functor(diagram)
        out[name] = (prog, prog.init(jax.random.key(0)), kind)
    return out


PROGRAMS = _programs()
FAST = [n for n in PROGRAMS if n != "kernel-interpret"]
WITH_PARAMS = [n for n in FAST if PROGRAMS[n][1]]

DTYPES = [
    "float32",
    "float64",
    "float16",
    "int32",
    "int64",
    "uint8",
    "bool",
    "complex64",
    "str",
    "object",
]
VALUES = {
    "f": [0.0, 1.0, 0.5, -3.0, np.nan, np.inf],
    "i": [0, 1, 2, -1],
    "u": [0, 1, 2],
    "b": [False, True],
}


GOOD_DTYPES = {
    "smooth": ["float32", "float64", "float16", "int32", "bool", "uint8"],
    "bits": ["bool", "bool", "int32", "uint8", "int64"],
}


@st.composite
def batches(draw: Any, wire: Any, batch: int, kind: str, fault: str) -> np.ndarray:
    """A batch for ``wire``, well typed except for ``fault`` ("dtype": any of
    ``DTYPES``; "shape": no batch axis, an extra axis or a wrong trailing
    size; "values": nan/inf, or non-binary ints for bits)."""
    dtypes = DTYPES if fault == "dtype" else GOOD_DTYPES[kind]
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    shape_kind = "ok"
    if fault == "shape":
        shape_kind = draw(st.sampled_from(["no-batch", "extra", "trail"]))
    shape = {
        "ok": (batch, *wire.shape),
        "no-batch": wire.shape,
        "extra": (batch, *wire.shape, 1),
        "trail": (batch, *wire.shape[:-1], wire.shape[-1] + 1),
    }[shape_kind]
    n = int(np.prod(shape))
    if dtype.kind in "OU":
        return np.full(shape, "a" if dtype.kind == "U" else None, dtype=dtype)
    if dtype.kind == "c":
        return np.full(shape, 1 + 1j, dtype=dtype)
    pool = VALUES[dtype.kind]
    if fault != "values" and (wire.kind == "bits" or dtype.kind in "iu"):
        pool = pool[:2]  # 0 and 1
    elif fault != "values":
        pool = pool[:4]  # finite floats
    vals = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    return np.asarray(vals, dtype=dtype).reshape(shape)


FAULTS = ["none", "none", "none", "dtype", "shape", "count", "values"]


def expected_errors(
    prog: cl.Program, kind: str, xs: list[np.ndarray], wires: Any = None
) -> set[type]:
    """The error classes a call with ``xs`` (fed to ``wires``, by default the
    inputs) may raise; empty: it must work."""
    wires = prog.dom if wires is None else wires
    if len(xs) != len(wires):
        return {cl.ShapeError}
    errors: set[type] = set()
    batch0 = None
    for x, wire in zip(xs, wires, strict=True):
        ok_kinds = "biuf" if kind == "smooth" else "biu"
        if x.dtype.kind not in ok_kinds:
            errors.add(cl.SemanticsError)
        if x.ndim != len(wire.shape) + 1 or x.shape[1:] != wire.shape:
            errors.add(cl.ShapeError)
        elif batch0 is not None and x.shape[0] != batch0:
            errors.add(cl.ShapeError)
        elif batch0 is None:
            batch0 = x.shape[0]
        if kind == "bits" and x.dtype.kind in "iu" and not np.isin(x, [0, 1]).all():
            errors.add(cl.SemanticsError)
    return errors


def reference_input(kind: str, x: np.ndarray) -> np.ndarray:
    """The well-typed input a valid call means."""
    if kind == "bits":
        return x.astype(bool)
    return x.astype(np.float32) if x.dtype != np.float64 else x


def check_call(name: str, data: Any) -> None:
    prog, params, kind = PROGRAMS[name]
    batch = data.draw(st.sampled_from([0, 1, 2, 5]), label="batch")
    fault = data.draw(st.sampled_from(FAULTS), label="fault")
    n_inputs = len(prog.dom)
    if fault == "count":
        n_inputs += data.draw(st.sampled_from([-1, 1]))
    wires = list(prog.dom) + [prog.dom[-1]] * max(0, n_inputs - len(prog.dom))
    xs = [
        data.draw(batches(w, batch, kind, fault), label=f"x{i}")
        for i, w in enumerate(wires[:n_inputs])
    ]
    before = snapshot(xs)
    errors = expected_errors(prog, kind, xs)
    try:
        y = prog(params, *xs)
    except cl.CatlearnError as e:
        assert type(e) in errors, (type(e), errors, str(e))
        fails_well(e, repr(prog))
    else:
        assert not errors, f"accepted an input that should fail: {errors}"
        event(f"ok, batch {batch}")
        good = [reference_input(kind, x) for x in xs]
        want = prog(params, *good)
        assert np.asarray(y).shape == (batch, *prog.cod[0].shape)
        assert same(y, want)
        if batch:  # row i is the program on example i alone (batch size 1)
            one = prog(params, *(g[-1:] for g in good))
            np.testing.assert_allclose(np.asarray(y)[-1:], one, rtol=1e-5, atol=1e-6)
    assert same(xs, before), "the call modified its input"


@pytest.mark.parametrize("name", FAST)
@fuzz(N_CALL)
@given(data=st.data())
def test_program_inputs(name, data):
    """Programs of every semantics called with wrong dtypes, shapes, numbers of
    inputs, empty batches, batch size 1, nan/inf and non-binary values."""
    check_call(name, data)


@fuzz(N_CALL_SLOW)
@given(data=st.data())
def test_program_inputs_pallas_interpret(data):
    check_call("kernel-interpret", data)


# -- programs: parameter dicts -------------------------------------------------------
@st.composite
def mutated_params(draw: Any, name: str) -> tuple[Any, set[type]]:
    """A params dict with a missing, extra, mis-shaped or wrong-dtype entry (or
    none), and the errors that may follow."""
    prog, params, kind = PROGRAMS[name]
    p = {k: np.asarray(v) for k, v in params.items()}
    how = draw(
        st.sampled_from(
            ["none", "missing", "extra", "shape", "dtype", "not-a-dict", "value"]
        )
    )
    key = draw(st.sampled_from(sorted(p)))
    if how == "missing":
        del p[key]
        return p, {cl.ParamError}
    if how == "extra":
        p[draw(st.sampled_from(["zzz", key + "_", "w"]))] = draw(
            st.sampled_from([None, "junk", np.ones(3), {"a": 1}])
        )
        return p, set()
    if how == "shape":
        p[key] = draw(
            st.sampled_from(
                [p[key][..., :1], p[key].ravel()[:1], p[key][None], np.float32(1.0)]
            )
        )
        return p, set() if np.shape(p[key]) == np.shape(params[key]) else {
            cl.ParamError
        }
    if how == "dtype":
        dt = draw(st.sampled_from(["str", "complex64", "object", "float16", "int8"]))
        p[key] = (
            p[key].astype(dt)
            if dt != "object"
            else np.full(p[key].shape, None, dtype=object)
        )
        # ints are bits under Boolean, and reals on a real wire under Smooth;
        # a relaxed truth table (a bits wire under Smooth) takes floats only
        real = prog.param_types[key].kind == "real"
        ok = (dt == "float16" and kind == "smooth") or (
            dt == "int8" and (kind == "bits" or real)
        )
        return p, set() if ok else {cl.ParamError}
    if how == "not-a-dict":
        return draw(st.sampled_from([list(p.values()), None, tuple(p)])), {
            cl.ParamError
        }
    if how == "value":
        if kind == "bits":
            p[key] = np.where(p[key], 2, 0).astype(np.int32)
            return p, {cl.ParamError} if p[key].any() else set()
        p[key] = np.full(p[key].shape, np.nan, np.float32)  # propagates
        return p, set()
    return p, set()


@pytest.mark.parametrize("name", WITH_PARAMS)
@fuzz(N_PARAMS)
@given(data=st.data())
def test_param_dicts(name, data):
    """Missing, extra, mis-shaped and wrong-dtype parameters: ParamError naming
    the parameter, or (extra entries, harmless dtypes) the right result."""
    prog, params, kind = PROGRAMS[name]
    p, errors = data.draw(mutated_params(name))
    before = snapshot(p)
    x = np.ones((2, *prog.dom[0].shape), np.float32 if kind == "smooth" else bool)
    xs = [x] * len(prog.dom)
    try:
        y = prog(p, *xs)
    except cl.CatlearnError as e:
        assert type(e) in errors, (type(e), errors, str(e))
        msg = fails_well(e)
        if isinstance(p, dict):
            assert any(repr(k) in msg for k in params), msg
    else:
        assert not errors, f"accepted bad params: {errors}"
        event("ok")
        fixed = {
            k: np.asarray(p[k]).astype(np.asarray(params[k]).dtype) for k in params
        }
        assert same(y, prog(fixed, *xs))
    assert same(p, before), "the call modified the params"


# -- programs: reverse derivatives ---------------------------------------------------
@pytest.mark.parametrize("name", ["smooth-mlp", "boolean-circuit"])
@fuzz(N_REVERSE)
@given(data=st.data())
def test_reverse_cotangents(name, data):
    """``prog.reverse`` with cotangents of wrong count, dtype, shape or value."""
    prog, params, kind = PROGRAMS[name]
    batch = data.draw(st.sampled_from([0, 1, 3]))
    x = reference_input(kind, np.ones((batch, *prog.dom[0].shape), np.int32))
    fault = data.draw(st.sampled_from(FAULTS))
    count = 1 if fault != "count" else data.draw(st.sampled_from([0, 2]))
    dys = [data.draw(batches(prog.cod[0], batch, kind, fault)) for _ in range(count)]
    before = snapshot(dys)
    errors = expected_errors(prog, kind, dys, prog.cod)
    if count == 1 and dys[0].shape != (batch, *prog.cod[0].shape):
        errors.add(cl.ShapeError)
    try:
        dparams, dxs = prog.reverse(params, x, tuple(dys))
    except cl.CatlearnError as e:
        assert type(e) in errors, (type(e), errors, str(e))
        fails_well(e, repr(prog))
    else:
        assert not {cl.ShapeError, cl.SemanticsError} & errors, errors
        event(f"ok, batch {batch}")
        assert dxs[0].shape == x.shape
        assert {k: np.shape(v) for k, v in dparams.items()} == {
            k: np.shape(v) for k, v in params.items()
        }
        if batch == 0:  # no examples, no derivative
            assert all(not np.asarray(v).any() for v in dparams.values())
    assert same(dys, before)


# -- evaluate and fit ----------------------------------------------------------------
MLP_PARAMS = PROGRAMS["smooth-mlp"][1]


@st.composite
def datasets(draw: Any) -> tuple[Any, Any, set[type]]:
    """(X, Y) for SMOOTH_NET (3 features, 2 classes) with at most one fault."""
    n = draw(st.sampled_from([1, 2, 5]))
    rng = np.random.default_rng(draw(st.integers(0, 3)))
    X = rng.random((n, 3)).astype(np.float32)
    Y = rng.integers(0, 2, n)
    fault = draw(
        st.sampled_from(
            [
                "none",
                "none",
                "length",
                "label-high",
                "label-neg",
                "nan-x",
                "inf-y",
                "x-dtype",
                "y-dtype",
                "empty",
                "x-shape",
                "y-scalar",
                "not-a-pair",
            ]
        )
    )
    errors: set[type] = {
        "none": set(),
        "length": {cl.ShapeError},
        "label-high": {cl.ShapeError},
        "label-neg": {cl.ShapeError},
        "nan-x": {cl.NonFiniteError},
        "inf-y": {cl.NonFiniteError, cl.ShapeError},
        "x-dtype": {cl.SemanticsError},
        "y-dtype": {cl.ShapeError},
        "empty": {cl.ShapeError},
        "x-shape": {cl.ShapeError},
        "y-scalar": {cl.ShapeError},
        "not-a-pair": {cl.ShapeError},
    }[fault]
    if fault == "length":
        Y = np.concatenate([Y, Y])
    elif fault == "label-high":
        Y[-1] = draw(st.sampled_from([2, 3, 100]))
    elif fault == "label-neg":
        Y[0] = -1
    elif fault == "nan-x":
        X[-1, draw(st.integers(0, 2))] = draw(
            st.sampled_from([np.nan, np.inf, -np.inf])
        )
    elif fault == "inf-y":
        Y = np.eye(2, dtype=np.float32)[Y]
        Y[0, 0] = np.inf
    elif fault == "x-dtype":
        X = X.astype(draw(st.sampled_from(["complex64", "str", "object"])))
    elif fault == "y-dtype":
        Y = Y.astype(str)
    elif fault == "empty":
        X, Y = X[:0], Y[:0]
    elif fault == "x-shape":
        X = draw(st.sampled_from([X[:, :2], X[:, None], X.ravel(), X[0, 0]]))
    elif fault == "y-scalar":
        Y = Y[0]
    elif fault == "not-a-pair":
        return (X, Y, X), None, errors
    return X, Y, errors


@fuzz(N_EVAL)
@given(datasets(), st.sampled_from([1, 2, 4096, 4096, 0, -1, 1.5, None, True]))
def test_evaluate_data(case, batch_size):
    """``cl.evaluate`` with mismatched X/Y, out-of-range class ids, nan/inf,
    wrong dtypes, empty data, bad batch sizes."""
    X, Y, errors = case
    data = X if Y is None else (X, Y)
    if not (
        isinstance(batch_size, int)
        and not isinstance(batch_size, bool)
        and batch_size >= 1
    ):
        errors = errors | {cl.ShapeError}
    before = snapshot(data)
    try:
        scores = cl.evaluate(SMOOTH_NET, MLP_PARAMS, data, batch_size=batch_size)
    except cl.CatlearnError as e:
        assert type(e) in errors, (type(e), errors, str(e))
        fails_well(e)
    else:
        assert not errors, f"accepted bad data: {errors}"
        event("ok")
        assert scores["n"] == len(Y) and 0.0 <= scores["accuracy"] <= 1.0
        logits = PROGRAMS["smooth-mlp"][0](MLP_PARAMS, X)
        assert scores["accuracy"] == pytest.approx(
            float(np.mean(np.argmax(logits, -1) == Y))
        )
    assert same(data, before)


@fuzz(N_FIT)
@given(datasets(), st.sampled_from([1, 3, 0, -2, 2.5]))
def test_fit_data(case, batch_size):
    """``cl.fit`` rejects the same bad data as ``evaluate``, before training."""
    X, Y, errors = case
    data = X if Y is None else (X, Y)
    if not (isinstance(batch_size, int) and batch_size >= 1):
        errors = errors | {cl.ShapeError}
    assume(errors or batch_size == 3)  # keep the slow successful fits few
    before = snapshot(data)
    try:
        result = cl.fit(
            SMOOTH_NET,
            data,
            epochs=1,
            batch_size=batch_size,
            progress=False,
            params=MLP_PARAMS,
        )
    except cl.CatlearnError as e:
        assert type(e) in errors, (type(e), errors, str(e))
        if "batch_size" in str(e):  # fit's own argument check (learn/_fit.py)
            assert repr(batch_size) in str(e)
        else:
            fails_well(e)
    else:
        assert not errors, f"accepted bad data: {errors}"
        event("ok")
        assert len(result.history) == 1
    assert same(data, before)


@pytest.mark.parametrize("extra", [{"zzz": np.ones(3)}, {"mlp.0.w ": np.ones(1)}])
def test_fit_with_extra_params_names_them(extra):
    X = np.ones((4, 3), np.float32)
    with pytest.raises(cl.ParamError, match="extra") as e:
        cl.fit(
            SMOOTH_NET,
            (X, np.zeros(4, int)),
            epochs=1,
            progress=False,
            params={**MLP_PARAMS, **extra},
        )
    fails_well(e.value, *extra)





# -- parameters of the wrong kind ----------------------------------------------------
# Boolean params are bits, Smooth params of a logic network float logits: each
# side must refuse the other's (and ints that are not the right thing), never
# misread them. What each side accepts:
#   "smooth" (Smooth, Kernel(relaxed=True), discretize): floats; on a real wire
#     (an mlp's weights) ints too; never bool;
#   "bits" (Boolean, Kernel, relax): bool, or ints holding only 0 and 1.
N_KINDS = 30
LOGIC_X = np.random.default_rng(1).random((5, 4)) < 0.5
LOGIC_Y = np.array([0, 1, 1, 0, 1])
LOGIC_PARAMS = {
    "boolean": PROGRAMS["boolean"][1],
    "smooth": cl.Smooth()(LOGIC_NET).init(jax.random.key(2)),
}
READS = {
    "smooth": "smooth",
    "relaxed-kernel": "smooth",
    "smooth-mlp": "smooth",
    "evaluate-smooth": "smooth",
    "discretize": "smooth",
    "boolean": "bits",
    "kernel-xla": "bits",
    "evaluate-boolean": "bits",
    "relax": "bits",
}

KIND_PROGRAMS = {
    "smooth": cl.Smooth()(LOGIC_NET),
    **{n: PROGRAMS[n][0] for n in ("relaxed-kernel", "smooth-mlp", "boolean")},
    "kernel-xla": PROGRAMS["kernel-xla"][0],
}


def kind_accepted(reads: str, wire: Any, p: np.ndarray) -> bool:
    """Whether a side that reads ``reads`` params takes ``p`` for ``wire``."""
    kind = p.dtype.kind
    if reads == "smooth":
        return kind == "f" or (wire.kind == "real" and kind in "iu")
    return kind == "b" or (kind in "iu" and bool(np.isin(p, [0, 1]).all()))


def cast(v: Any, dtype: str) -> np.ndarray:
    """``v`` as ``dtype``; floats become ints by rounding (never out of range)."""
    v = np.asarray(v)
    if np.dtype(dtype).kind in "iu" and v.dtype.kind == "f":
        v = np.abs(np.round(v)) if dtype.startswith("u") else np.round(v)
    return v.astype(dtype)


@fuzz(N_KINDS)
@given(
    target=st.sampled_from(sorted(READS)),
    source=st.sampled_from(["boolean", "smooth"]),
    dtype=st.sampled_from(["bool", "float32", "float64", "float16", "int32", "uint8"]),
)
def test_params_of_the_wrong_kind(target, source, dtype):
    """Boolean params where Smooth wants reals, Smooth params where Boolean or
    ``relax`` want bits, and ints, fed to programs, ``evaluate``, ``relax`` and
    ``discretize``: the right answer or a ``ParamError`` naming the parameter
    (and the dtype, when the kind is wrong); the caller's arrays untouched."""
    mlp = target == "smooth-mlp"
    diagram = SMOOTH_NET if mlp else LOGIC_NET
    base = MLP_PARAMS if mlp else LOGIC_PARAMS[source]
    p = {k: cast(v, dtype) for k, v in base.items()}
    before = snapshot(p)
    reads = READS[target]
    wires = cl.Smooth()(diagram).param_types
    refused = [k for k, v in p.items() if not kind_accepted(reads, wires[k], v)]
    x = LOGIC_X if reads == "bits" else LOGIC_X.astype(np.float32)

    def run(params: dict[str, Any]) -> Any:
        if target in KIND_PROGRAMS:
            xs = np.ones((2, 3), np.float32) if mlp else x
            return KIND_PROGRAMS[target](params, xs)
        if target.startswith("evaluate"):
            semantics = cl.Boolean() if reads == "bits" else cl.Smooth()
            return cl.evaluate(diagram, params, (x, LOGIC_Y), semantics=semantics)
        return (cl.relax if target == "relax" else cl.discretize)(diagram, params)

    try:
        got = run(p)
    except cl.CatlearnError as e:
        assert isinstance(e, cl.ParamError), (type(e), str(e))
        assert refused, f"refused well-typed params: {e}"
        fails_well(e, repr(refused[0]))
        if not (reads == "bits" and np.dtype(dtype).kind in "iu"):  # else: a 2
            assert dtype in str(e), str(e)
    else:
        assert not refused, f"{target} accepted {dtype} params ({source}): {got}"
        event(f"ok: {target} {dtype}")
        want = np.float32 if reads == "smooth" else bool
        assert same(got, run({k: v.astype(want) for k, v in p.items()}))
    assert same(p, before), "the call modified the params"
