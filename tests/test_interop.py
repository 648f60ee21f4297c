"""Plain DisCoPy diagrams given catlearn meaning by a mapping of their boxes."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from discopy import markov, symmetric

import catlearn as cl

X, Y = markov.Ty("x"), markov.Ty("y")
F, G = markov.Box("f", X, Y), markov.Box("g", Y @ Y, Y)


def test_a_markov_diagram_with_copy_swap_and_discard_runs_under_smooth():
    plain = (F >> markov.Copy(Y) >> markov.Swap(Y, Y) >> G >> markov.Copy(Y)
             >> markov.Id(Y) @ markov.Copy(Y, 0))
    d = cl.from_discopy(plain, {"f": cl.nn.linear(3, 2, name="f"), "g": cl.nn.add(2)})
    want = cl.nn.linear(3, 2, name="f") >> cl.Copy(cl.real(2)) >> cl.nn.add(2)
    prog, ref = cl.Smooth()(d), cl.Smooth()(want)
    params = prog.init(jax.random.key(0))
    x = np.random.default_rng(0).random((4, 3)).astype(np.float32)
    assert np.allclose(prog(params, x), ref(params, x))


def test_a_symmetric_diagram_maps_to_logic_gates():
    h = symmetric.Box("h", symmetric.Ty("a"), symmetric.Ty("a"))
    d = cl.from_discopy(h >> h, {"h": cl.logic.NOT})
    x = np.array([[True], [False]])
    assert np.array_equal(cl.Boolean()(d)({}, x), x)


def test_missing_or_mismatched_images_are_named():
    with pytest.raises(cl.CompositionError, match="no image for box 'g'"):
        cl.from_discopy(F >> markov.Copy(Y) >> G, {"f": cl.nn.linear(3, 2, name="f")})
    with pytest.raises(cl.CompositionError, match="box 'g' has dom"):
        cl.from_discopy(markov.Copy(Y) >> G, {"g": cl.nn.relu(2)})
    with pytest.raises(cl.CompositionError, match="object 'y' meets no mapped box"):
        cl.from_discopy(markov.Copy(Y), {})
    assert cl.from_discopy(markov.Copy(Y), {}, types={"y": cl.real(2)}) == cl.Copy(
        cl.real(2))
