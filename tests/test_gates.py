"""The generators as syntax: typed specs, the names moved out of cl.logic, and
the walk-through of docs/design.md ("Adding a generator") done for real."""

from __future__ import annotations

import ast
import dataclasses
import pathlib
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import jax.numpy as jnp
import numpy as np
import pytest

import catlearn as cl
from catlearn.diagrams import (
    GroupSumSpec,
    LutLayerSpec,
    LutSpec,
    ParamSpec,
    Spec,
    spec_of,
)
from catlearn.diagrams._checks import field_error, fields, is_count, wires_error
from catlearn.diagrams._specs import SPEC_CHECKS

MOVED = (
    "AND", "OR", "XOR", "NOT", "ZERO", "ONE", "GATES", "gate", "RELAXATIONS",
    "GATE_CHOICES", "PASS_A", "RESIDUAL_CONFIDENCE", "gate_tables", "wiring",
    "residual_scale",
)  # fmt: skip


@pytest.mark.parametrize("name", MOVED)
def test_moved_names_stay_importable_from_logic(name):
    assert getattr(cl.logic, name) is getattr(cl.diagrams, name)


def test_builders_boxes_carry_their_typed_specs():
    net = cl.logic.network(6, [8, 4], 2, seed=3, relax="softmax")
    found = {}
    for box in cl.diagrams.boxes(net):
        s = spec_of(box)
        found.setdefault(type(s).__name__, []).append(s)
        assert s is box.typed_spec  # parsed once, when the box was made
        if s is not None:
            assert s.to_data() == box.data and dict(box.data) == box.spec
    assert found["LutLayerSpec"] == [
        LutLayerSpec(6, 8, 3, "softmax"),
        LutLayerSpec(8, 4, 4, "softmax"),
    ]
    assert found["GroupSumSpec"] == [GroupSumSpec(2, 2**0.5)]  # tau = sqrt(4 / 2)
    assert found["ParamSpec"][0].relax == "softmax"
    layer = LutLayerSpec(6, 8, 3)
    assert all(
        np.array_equal(u, v)
        for u, v in zip(layer.wiring, cl.logic.wiring(6, 8, 3), strict=True)
    )
    (lut,) = [b for b in cl.diagrams.boxes(cl.logic.lut("t")) if b.name == "lut"]
    assert LutSpec.of(lut) == LutSpec("sin")
    assert spec_of(cl.logic.AND) is None and spec_of(cl.nn.relu(3)) is None


def test_reading_the_wrong_spec_names_the_box_and_the_fix():
    with pytest.raises(cl.TypeSpecError, match="'AND'.*LutLayerSpec.*Fix:"):
        LutLayerSpec.of(cl.logic.AND)
    with pytest.raises(cl.TypeSpecError, match="ParamSpec"):
        ParamSpec.of(cl.logic.group_sum(4, 2))
    assert GroupSumSpec.of(GroupSumSpec(3)) == GroupSumSpec(3, 1.0)  # passes


def test_functors_import_only_the_syntax_and_the_backends():
    root = pathlib.Path(cl.__file__).parent
    for path in (root / "functors").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                top = (node.module or "").split(".")[0]
                assert top in ("diagrams", "backends", "_errors"), (path.name, top)


# -- adding a generator (docs/design.md), for real ----------------------------------
@dataclass(frozen=True)
class RotateSpec(Spec):
    """``rotate``: ``bits(n) -> bits(n)``, the bits turned by ``shift``."""

    shift: int
    NAME: ClassVar[str] = "rotate"
    FIX: ClassVar[str] = "build it with rotate(n, shift)"

    @classmethod
    def parse(cls, box: Any) -> Self:
        names = tuple(f.name for f in dataclasses.fields(cls))
        shift = fields(box, names, cls.FIX)["shift"]
        if len(box.dom) != 1 or box.dom != box.cod or box.dom.inside[0].kind != "bits":
            raise wires_error(box, "bits(n) -> bits(n)", cls.FIX)
        if not is_count(shift):
            raise field_error(box, "shift", shift, "is not a positive int", cls.FIX)
        return cls(int(shift))


def _turn(axis: int, sign: int) -> Any:
    return lambda box, x: ((jnp.roll(x, sign * RotateSpec.of(box).shift, axis),), None)


def _rule(axis: int) -> cl.Rule:
    fwd, back = _turn(axis, 1), _turn(axis, -1)
    return cl.Rule(fwd, lambda box, r, dz: back(box, dz)[0], "roll")


@pytest.fixture
def rotate(monkeypatch):
    monkeypatch.setitem(SPEC_CHECKS, "rotate", RotateSpec.parse)  # step 1
    return lambda n, shift: cl.Box(
        "rotate", cl.bits(n), cl.bits(n), data=RotateSpec(shift).to_data()
    )


def test_adding_a_generator_is_a_spec_and_a_row_per_functor(rotate):
    B = cl.Boolean().extend({"rotate": _rule(0)})  # step 2: bits are (n, words)
    S = cl.Smooth().extend({"rotate": _rule(-1)})  # examples first
    d = rotate(5, 2) >> cl.logic.gate("NOT", 5)
    x = np.random.default_rng(0).random((7, 5)) < 0.5
    want = ~np.roll(x, 2, axis=1)
    assert np.array_equal(np.asarray(B(d)({}, x)), want)
    assert np.array_equal(np.asarray(S(d)({}, x.astype(np.float32))) > 0.5, want)
    _, (dx,) = B(d).reverse({}, (x,), (x,))
    assert np.array_equal(np.asarray(dx), np.roll(x, -2, axis=1))
    with pytest.raises(cl.TypeSpecError, match="'shift' = 0.*Fix: build it"):
        cl.Box("rotate", cl.bits(5), cl.bits(5), data=cl.diagrams.spec(shift=0))
    with pytest.raises(cl.TypeSpecError, match="bits\\(n\\) -> bits\\(n\\)"):
        cl.Box("rotate", cl.bits(5), cl.bits(4), data=RotateSpec(1).to_data())
