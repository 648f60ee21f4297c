"""Wiring as data: ``cl.logic.lut_layer(n_in, n_out, wiring=(a, b))`` reads
the given inputs under every semantics and in the exported circuit, is saved
with the diagram, and refuses indices that do not fit the layer."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import catlearn as cl
from catlearn.diagrams import LutLayerSpec
from catlearn.export import netlist

# table bit for (a, b) at 2a + b: a AND NOT b, asymmetric so a swap of a and b shows
A_AND_NOT_B = np.array([False, False, True, False])


def bits_batch(n, batch=70, seed=0):
    return np.random.default_rng(seed).random((batch, n)) < 0.5


def tables(n_out):
    return {"lut_layer.table": np.tile(A_AND_NOT_B, n_out)}


def test_given_wiring_is_read_by_every_exact_semantics_and_the_netlist():
    a, b = [3, 0, 2, 2, 1], [1, 4, 4, 0, 1]  # repeats and a gate reading a wire twice
    d = cl.logic.lut_layer(5, 5, wiring=(a, b))
    x, params = bits_batch(5), tables(5)
    want = x[:, a] & ~x[:, b]
    for F in (cl.Boolean(), cl.Kernel(backend="cpu"), cl.Kernel(backend="xla"),
              cl.Kernel(backend="interpret")):
        got = np.asarray(F(d)(params, x))
        np.testing.assert_array_equal(got, want, err_msg=repr(F))
    np.testing.assert_array_equal(netlist(d, params).evaluate(x), want)


def test_given_wiring_equal_to_the_drawn_one_means_the_same_network():
    n, m, seed = 6, 8, 5
    drawn = cl.logic.lut_layer(n, m, seed=seed) >> cl.logic.group_sum(m, 2)
    given = cl.logic.lut_layer(n, m, wiring=cl.logic.wiring(n, m, seed))
    given = given >> cl.logic.group_sum(m, 2)
    x = bits_batch(n)
    for F in (cl.Smooth(), cl.Kernel(relaxed=True), cl.Boolean(), cl.Kernel()):
        params = F(drawn).init(jax.random.key(1))
        np.testing.assert_allclose(
            np.asarray(F(given)(params, x)), np.asarray(F(drawn)(params, x)),
            rtol=1e-6, err_msg=repr(F),
        )


def test_given_wiring_is_saved_and_loaded(tmp_path):
    d = cl.logic.lut_layer(4, 3, wiring=([0, 1, 2], [3, 3, 0]), relax="sigmoid")
    params = cl.Boolean()(d).init(jax.random.key(0))
    path = tmp_path / "wired.catlearn"
    cl.save(path, d, params)
    saved = cl.load(path)
    d2, p2 = saved.diagram, saved.params
    assert d2 == d
    (box,) = [bx for bx in d2.boxes if bx.name == "lut_layer"]
    spec = LutLayerSpec.of(box)
    assert spec.indices == ((0, 1, 2), (3, 3, 0)) and spec.relax == "sigmoid"
    x = bits_batch(4)
    np.testing.assert_array_equal(
        np.asarray(cl.Boolean()(d2)(p2, x)), np.asarray(cl.Boolean()(d)(params, x))
    )


def test_drawn_wiring_keeps_its_data_and_old_specs_still_parse():
    (box,) = [bx for bx in cl.logic.lut_layer(4, 3).boxes if bx.name == "lut_layer"]
    assert dict(box.data) == {"n_in": 4, "n_out": 3, "relax": "sin", "seed": 0}
    assert LutLayerSpec.of(box).indices is None
    explicit_none = cl.diagrams.spec(n_in=4, n_out=3, seed=0, relax="sin", indices=None)
    same = cl.Box("lut_layer", box.dom, box.cod, data=explicit_none)
    assert LutLayerSpec.of(same) == LutLayerSpec.of(box)


@pytest.mark.parametrize(
    ("wiring", "match"),
    [
        (([0, 1], [1, 2]), r"wiring a has shape \(2,\).*expected \(3,\)"),
        (([0, 1, 4], [1, 2, 0]), r"wiring a\[2\] = 4 is outside the layer's 4"),
        (([0, 1, 2], [1, -1, 0]), r"wiring b\[1\] = -1 is outside"),
        (([0.0, 1.0, 2.0], [1, 2, 0]), "float64 values, not integer indices"),
        (([True, False, True], [1, 2, 0]), "bool values"),
        ([0, 1, 2], "is not a pair"),
        (None.__class__, "is not a pair"),
    ],
)
def test_bad_wiring_is_refused_naming_the_problem(wiring, match):
    with pytest.raises(cl.TypeSpecError, match=match) as err:
        cl.logic.lut_layer(4, 3, wiring=wiring)
    assert "Fix:" in str(err.value) and "lut_layer(4, 3" in str(err.value)


def test_a_crafted_box_with_bad_indices_is_refused():
    data = cl.diagrams.spec(n_in=4, n_out=2, seed=0, relax="sin",
                            indices=((0, 9), (1, 2)))
    with pytest.raises(cl.TypeSpecError, match=r"wiring a\[1\] = 9"):
        cl.Box("lut_layer", cl.bits(8) @ cl.bits(4), cl.bits(2), data=data)
