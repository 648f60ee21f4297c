"""Issue 11 ("Trust"): what a new user hit. Every case here was a silently
wrong result or a raw Python/JAX error before; now it is the right answer or
a ``cl.CatlearnError`` that names the object, both sides and the fix.

- Boolean (bool) parameters fed to ``Smooth`` (and ``Kernel(relaxed=True)``,
  ``evaluate``, ``fit(params=...)``) are a ``ParamError`` pointing at
  ``cl.relax``; float parameters fed to ``cl.relax`` one pointing at
  ``cl.discretize`` (and the converse). Bool *inputs* stay relaxed bits.
- ``cl.losses.hamming`` under ``Smooth``: a ``SemanticsError`` saying what it
  is for and what to use instead.
- ``F.extend`` checks its rules; ``Kernel(backend="triton")`` without a GPU is
  a ``BackendError`` at construction.
- ``python -m catlearn`` is the ``catlearn`` command.
- ``evaluate`` without ``loss=`` scores one-hot float targets as classes.
"""

from __future__ import annotations

import os
import subprocess
import sys

import jax
import numpy as np
import pytest

import catlearn as cl
from catlearn.learn._evaluate import default_loss

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _fuzzing import fails_well, same, snapshot  # noqa: E402

NET = cl.logic.network(4, [8], 2, seed=0)
MLP = cl.nn.mlp([3, 4, 2], name="mlp")
RNG = np.random.default_rng(0)
X = RNG.random((16, 4)) < 0.5
Y = (X[:, 0] ^ X[:, 1]).astype(np.int64)
BITS = cl.Boolean()(NET).init(jax.random.key(0))
LOGITS = cl.Smooth()(NET).init(jax.random.key(1))
MLP_PARAMS = cl.Smooth()(MLP).init(jax.random.key(0))
XM = RNG.random((8, 3)).astype(np.float32)
YM = RNG.integers(0, 2, 8)
SMOOTHS = [cl.Smooth(), cl.Kernel(relaxed=True)]
TAU = next(b.spec["tau"] for b in NET.boxes if b.name == "group_sum")


# -- 3. parameters of the wrong kind -------------------------------------------------
@pytest.mark.parametrize("functor", SMOOTHS, ids=repr)
def test_smooth_rejects_boolean_params(functor):
    """Bool tables read as logits were off by up to 2.25, silently."""
    before = snapshot(BITS)
    with pytest.raises(cl.ParamError) as e:
        functor(NET)(BITS, X)
    fails_well(e.value, "'net.0.table'", "bool", "float32", "cl.relax(diagram, params)")
    assert same(BITS, before)
    # the fix the message gives computes exactly the circuit (whose group
    # sums Smooth divides by the temperature tau)
    relaxed = functor(NET)(cl.relax(NET, BITS), X)
    np.testing.assert_allclose(relaxed * TAU, cl.Boolean()(NET)(BITS, X), atol=1e-5)


@pytest.mark.parametrize("dtype", ["int32", "uint8"])
def test_smooth_rejects_integer_truth_tables(dtype):
    """0/1 ints on a relaxed truth table are Boolean tables too."""
    ints = {k: np.asarray(v).astype(dtype) for k, v in BITS.items()}
    with pytest.raises(cl.ParamError) as e:
        cl.Smooth()(NET)(ints, X)
    fails_well(e.value, "'net.0.table'", dtype, "cl.relax(")


def test_smooth_rejects_bool_params_on_real_wires():
    masks = {k: np.asarray(v) > 0 for k, v in MLP_PARAMS.items()}
    with pytest.raises(cl.ParamError) as e:
        cl.Smooth()(MLP)(masks, XM)
    fails_well(e.value, "'mlp.0.w'", "bool", "float32")
    ints = {k: np.asarray(v).astype(np.int32) for k, v in MLP_PARAMS.items()}
    floats = {k: v.astype(np.float32) for k, v in ints.items()}
    assert same(cl.Smooth()(MLP)(ints, XM), cl.Smooth()(MLP)(floats, XM))


@pytest.mark.parametrize("functor", SMOOTHS, ids=repr)
def test_smooth_still_takes_bool_inputs(functor):
    """Bool inputs are relaxed bits (0.0 and 1.0): they stay accepted."""
    prog = functor(NET)
    assert same(prog(LOGITS, X), prog(LOGITS, X.astype(np.float32)))


def test_evaluate_and_fit_reject_boolean_params():
    data = (X.astype(np.float32), Y)
    before = snapshot(BITS)
    with pytest.raises(cl.ParamError) as e:
        cl.evaluate(NET, BITS, data)
    fails_well(e.value, "'net.0.table'", "bool", "cl.relax(")
    with pytest.raises(cl.ParamError) as e:
        cl.fit(NET, data, params=BITS, epochs=1, progress=False)
    fails_well(e.value, "'net.0.table'", "bool", "cl.relax(")
    assert same(BITS, before)
    exact = cl.evaluate(NET, cl.relax(NET, BITS), data)
    circuit = cl.evaluate(NET, BITS, (X, Y), semantics=cl.Boolean())
    assert exact["accuracy"] == circuit["accuracy"]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_relax_rejects_float_params(dtype):
    """Float logits passed to relax all became pi/2 (every nonzero a True)."""
    floats = {k: np.asarray(v).astype(dtype) for k, v in LOGITS.items()}
    before = snapshot(floats)
    with pytest.raises(cl.ParamError) as e:
        cl.relax(NET, floats)
    fails_well(
        e.value, "'net.0.table'", dtype, "bool", "cl.discretize(diagram, params)"
    )
    assert same(floats, before)


def test_relax_takes_bits_as_ints_but_nothing_else():
    ints = {k: np.asarray(v).astype(np.uint8) for k, v in BITS.items()}
    assert same(cl.relax(NET, ints), cl.relax(NET, BITS))
    twos = {k: 2 * v for k, v in ints.items()}
    with pytest.raises(cl.ParamError) as e:
        cl.relax(NET, twos)
    fails_well(e.value, "'net.0.table'", "2")
    with pytest.raises(cl.ParamError) as e:
        cl.relax(NET, list(BITS.values()))
    fails_well(e.value, "list")


@pytest.mark.parametrize("dtype", ["bool", "int32"])
def test_discretize_rejects_boolean_params(dtype):
    bits = {k: np.asarray(v).astype(dtype) for k, v in BITS.items()}
    with pytest.raises(cl.ParamError) as e:
        cl.discretize(NET, bits)
    fails_well(e.value, "'net.0.table'", dtype, "float32", "cl.relax(diagram, params)")
    assert same(cl.discretize(NET, cl.relax(NET, BITS)), BITS)


# -- 5. raw errors become CatlearnErrors ----------------------------------------------
@pytest.mark.parametrize("functor", SMOOTHS, ids=repr)
def test_hamming_under_smooth_says_what_it_is_for(functor):
    """It was ``ValueError: Incompatible shapes for broadcasting``."""
    with pytest.raises(cl.SemanticsError) as e:
        cl.fit(NET, (X, Y), semantics=functor, loss=cl.losses.hamming,
               epochs=1, progress=False)
    fails_well(e.value, "cl.losses.hamming", "cl.Boolean()", "softmax_cross_entropy",
               "mse")
    with pytest.raises(cl.SemanticsError) as e:
        cl.evaluate(NET, LOGITS, (X.astype(np.float32), Y), semantics=functor,
                    loss=cl.losses.hamming)
    fails_well(e.value, "cl.losses.hamming", repr(functor), "softmax_cross_entropy")


def test_hamming_on_real_predictions_and_under_boolean():
    """Same-shaped float predictions used to be 'scored' by nonzero-ness."""
    y = np.array([[0.2, 0.9]], np.float32)
    with pytest.raises(cl.SemanticsError) as e:
        cl.losses.hamming(y, np.array([[False, True]]))
    fails_well(e.value, "float32", "softmax_cross_entropy")
    circuit = cl.logic.lut_layer(4, 3, seed=1, name="c")
    B = cl.Boolean()
    p = B(circuit).init(jax.random.key(0))
    target = np.array(B(circuit)(p, X))
    target[0, 0] ^= True
    scores = cl.evaluate(circuit, p, (X, target), semantics=B, loss=cl.losses.hamming)
    assert scores["accuracy"] == pytest.approx(15 / 16)
    assert scores["loss"] == pytest.approx(1 / 16)


def _rule():
    return cl.Rule(lambda box, x: ((x,), None), lambda box, r, dy: (dy,))


BAD_RULES = [
    ({"foo": lambda x: x}, ("'foo'", "function", "cl.Rule(forward, reverse)")),
    ({3: "rule"}, ("3", "int", "str", "cl.Rule(forward, reverse)")),
    (["foo"], ("list", "cl.Rule(forward, reverse)")),
    ({"foo": cl.Rule(1, 2)}, ("'foo'", "forward", "int", "cl.Rule(forward, reverse)")),
]
FUNCTORS = [
    cl.Smooth(), cl.Boolean(), cl.Kernel(backend="xla"), cl.Kernel(relaxed=True)
]


@pytest.mark.parametrize("functor", FUNCTORS, ids=repr)
@pytest.mark.parametrize(("rules", "names"), BAD_RULES, ids=["lambda", "key", "list",
                                                             "parts"])
def test_extend_checks_its_rules(functor, rules, names):
    with pytest.raises(cl.SemanticsError) as e:
        functor.extend(rules)
    fails_well(e.value, repr(functor), *names)
    with pytest.raises(cl.SemanticsError) as e:
        type(functor)(rules)
    fails_well(e.value, *names)
    good = functor.extend({"foo": _rule()})
    assert type(good) is type(functor) and "foo" in good.rules
    assert repr(good) != repr(functor)


def test_triton_without_a_gpu_fails_at_construction():
    if jax.default_backend() == "gpu":  # it runs there: just build it
        assert cl.Kernel(backend="triton").resolved_backend == "triton"
        return
    with pytest.raises(cl.BackendError) as e:
        cl.Kernel(backend="triton")
    fails_well(e.value, "'triton'", jax.default_backend(), "backend='cpu'",
               "'interpret'", "leave backend out")


def test_relaxed_pallas_runs_interpreted_on_any_device():
    """``RelaxedKernel(backend="pallas")`` needs no GPU: it stays accepted."""
    got = cl.Kernel(relaxed=True, backend="pallas")(NET)(LOGITS, X)
    np.testing.assert_allclose(got, cl.Smooth()(NET)(LOGITS, X), rtol=1e-5, atol=1e-5)


# -- 6. python -m catlearn ----------------------------------------------------------
def test_python_dash_m_catlearn_is_the_command(capsys):
    run = subprocess.run([sys.executable, "-m", "catlearn", "--help"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    from catlearn.cli import main  # what the console script runs

    assert main(["--help"]) == 0
    assert run.stdout == capsys.readouterr().out
    assert run.stdout.startswith("usage: catlearn ")


# -- 7. evaluate's default loss ------------------------------------------------------
def test_evaluate_scores_one_hot_floats_as_classes():
    """One-hot float targets were scored as MSE regression, with no accuracy."""
    ids = cl.evaluate(MLP, MLP_PARAMS, (XM, YM))
    for dtype in (np.float32, np.float64, bool, np.int32):
        one_hot = np.eye(2, dtype=dtype)[YM]
        scores = cl.evaluate(MLP, MLP_PARAMS, (XM, one_hot))
        assert scores == pytest.approx(ids), dtype
    assert set(ids) == {"loss", "n", "accuracy"}


def test_default_loss_rules():
    prog = cl.Smooth()(MLP)
    one_hot = np.eye(2, dtype=np.float32)[YM]
    assert default_loss(prog, YM) is cl.losses.softmax_cross_entropy
    assert default_loss(prog, one_hot) is cl.losses.softmax_cross_entropy
    soft = one_hot * 0.8 + 0.1  # rows sum to 1, but not one-hot: regression
    assert default_loss(prog, soft) is cl.losses.mse
    assert default_loss(prog, one_hot * 2) is cl.losses.mse
    assert default_loss(prog, np.zeros_like(one_hot)) is cl.losses.mse
    one = cl.Smooth()(cl.nn.linear(3, 1, name="l"))  # real(1): a 1 is no class
    assert default_loss(one, np.ones((8, 1), np.float32)) is cl.losses.mse
    circuit = cl.logic.lut_layer(4, 3, seed=1, name="c")
    assert default_loss(cl.Boolean()(circuit), X[:, :3]) is cl.losses.hamming
    assert default_loss(cl.Smooth()(circuit), X[:, :3]) is cl.losses.mse


def test_evaluate_a_boolean_circuit_without_a_loss():
    """Bits out of Boolean were fed to mse: a raw TypeError (bool subtract)."""
    circuit = cl.logic.lut_layer(4, 3, seed=1, name="c")
    B = cl.Boolean()
    p = B(circuit).init(jax.random.key(0))
    target = np.asarray(B(circuit)(p, X))
    assert cl.evaluate(circuit, p, (X, target), semantics=B)["accuracy"] == 1.0
