"""``cl.Swap``, ``cl.Copy`` and ``cl.Discard`` are classes (issue 13, move 8):
``isinstance`` holds for what they build, and what they build is what the
functions built before (the generator box on one wire, DisCoPy's diagram of
generators on composite types), as diagrams, as JSON and under functors."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from discopy import markov

import catlearn as cl
from catlearn.diagrams import decode_diagram, encode_diagram

X, Y, Z = cl.real(3), cl.bits(2), cl.real(1, 2)
E = cl.Id().dom

SWAPS = [(X, Y), (X @ Y, Z), (X, Y @ Z), (X @ Y, Z @ X), (X, E), (E, E)]
COPIES = [(X, 2), (X, 3), (X, 0), (X, 1), (X @ Y, 2), (X @ Y, 3), (X @ Y, 0),
          (X @ Y, 1), (E, 2)]
DISCARDS = [X, X @ Y, E]


@pytest.mark.parametrize(("left", "right"), SWAPS)
def test_swap_is_a_class(left, right):
    d = cl.Swap(left, right)
    assert isinstance(d, cl.Swap) and isinstance(d, cl.Diagram)
    assert d == cl.Diagram.swap(left, right)
    assert d.dom == left @ right and d.cod == right @ left
    if len(left) == len(right) == 1:  # the generator itself
        assert isinstance(d, cl.Box) and isinstance(d, markov.Swap)
        assert d.name == f"Swap({left}, {right})"
        assert (d.left, d.right) == (left, right)
    else:
        assert not isinstance(d, cl.Box)
        assert all(isinstance(b, cl.Swap) for b in cl.diagrams.boxes(d))


@pytest.mark.parametrize(("ty", "n"), COPIES)
def test_copy_is_a_class(ty, n):
    d = cl.Copy(ty, n)
    assert isinstance(d, cl.Copy) and isinstance(d, cl.Diagram)
    assert d.dom == ty and d.cod == ty**n
    if len(ty) == 1 and n != 1:  # the generator (n = 0: the discard box)
        assert isinstance(d, markov.Copy) and isinstance(d, cl.Box)
        assert isinstance(d, cl.Discard) == (n == 0)
    elif len(ty) == 1:
        assert d == cl.Id(ty)
    else:
        assert d == cl.Diagram.copy(ty, n)


@pytest.mark.parametrize("ty", DISCARDS)
def test_discard_is_a_class(ty):
    d = cl.Discard(ty)
    assert isinstance(d, cl.Discard) and isinstance(d, cl.Copy)
    assert d.dom == ty and d.cod == E
    assert not isinstance(d, cl.Box)  # always a diagram, as before
    wires = (ty[i : i + 1] for i in range(len(ty)))
    assert d == cl.Diagram.tensor(cl.Id(), *(cl.Copy(w, 0) for w in wires))
    assert all(isinstance(b, cl.Discard) for b in cl.diagrams.boxes(d))


def all_structures():
    yield from (cl.Swap(a, b) for a, b in SWAPS)
    yield from (cl.Copy(t, n) for t, n in COPIES)
    yield from (cl.Discard(t) for t in DISCARDS)


def test_structures_round_trip_codec_and_pickle():
    for d in all_structures():
        text = json.dumps(encode_diagram(d))
        back = decode_diagram(json.loads(text))
        assert back == d and json.dumps(encode_diagram(back)) == text
        again = pickle.loads(pickle.dumps(d))
        assert again == d and type(again) is type(d)
        if not isinstance(d, cl.Box):  # a diagram prints (and hashes) as one
            assert hash(d) == hash(cl.Diagram(d.inside, d.dom, d.cod))
            assert repr(d) == repr(cl.Diagram(d.inside, d.dom, d.cod))


def test_structures_under_a_functor():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    y = np.array([[1, 0], [0, 1]], dtype=bool)
    d = cl.Swap(X @ Y, X) >> X @ cl.Copy(X @ Y) >> cl.Discard(X) @ (X @ Y) @ X @ Y
    program = cl.Smooth()(d)
    outs = program({}, x, y, x + 1)
    np.testing.assert_array_equal(np.asarray(outs[0]), x)
    np.testing.assert_array_equal(np.asarray(outs[1]), y)
    np.testing.assert_array_equal(np.asarray(outs[2]), x)


def test_bad_arguments_name_the_fix():
    with pytest.raises(cl.TypeSpecError, match="Swap takes a type"):
        cl.Swap(3, X)
    with pytest.raises(cl.TypeSpecError, match="n must be an int"):
        cl.Copy(X, -1)
    with pytest.raises(cl.TypeSpecError, match="n must be an int"):
        cl.Copy(X, True)
    with pytest.raises(cl.TypeSpecError, match="Discard takes a type"):
        cl.Discard("x")


def test_deprecated_swap_function_still_works():
    from catlearn.diagrams._structure import SwapTypes

    assert SwapTypes(X @ Y, Z) == cl.Swap(X @ Y, Z)
