"""Building diagrams in linear time (issue 13, move 10): ``@`` and ``>>`` in a
loop, ``cl.tensor(*ds)`` and ``cl.Diagram.then(*ds)`` give the very diagrams
DisCoPy's binary ``tensor`` and ``then`` build (equal, same repr, hash, JSON,
pickles, drawing and semantics), without the quadratic and cubic costs."""

from __future__ import annotations

import copy
import functools
import json
import pickle
import random

import numpy as np
import pytest
from discopy import markov, monoidal

import catlearn as cl
from catlearn.diagrams import encode_diagram

X, Y, Z = cl.real(2), cl.bits(3), cl.real(1)
WIRES = [X, Y, Z]


def slow_tensor(*ds):
    """DisCoPy's own left-nested binary tensor (what ``@`` built before)."""
    ds = [cl.diagrams.as_diagram(d) for d in ds]  # as catlearn's @ always did
    return functools.reduce(lambda a, b: monoidal.Diagram.tensor(a, b), ds)


def slow_then(*ds):
    """DisCoPy's own binary composition (what ``>>`` built before)."""
    ds = [cl.diagrams.as_diagram(d) for d in ds]
    return functools.reduce(lambda a, b: markov.Diagram.then(a, b), ds)


def random_ty(rng, max_len=3):
    ty = cl.Id().dom
    for _ in range(rng.randrange(max_len + 1)):
        ty = ty @ rng.choice(WIRES)
    return ty


def random_piece(rng, depth=0):
    """A random diagram: boxes, identities (also on the empty type), swaps,
    copies, discards, parameters, plain DisCoPy boxes, and nested composites
    built by the fast paths."""
    kind = rng.randrange(10 if depth < 2 else 8)
    if kind == 0:
        return cl.Box(f"f{rng.randrange(5)}", random_ty(rng), random_ty(rng))
    if kind == 1:
        return cl.Id(random_ty(rng))
    if kind == 2:
        return cl.Swap(random_ty(rng, 2), random_ty(rng, 2))
    if kind == 3:
        return cl.Copy(random_ty(rng, 2), rng.randrange(4))
    if kind == 4:
        return cl.Discard(random_ty(rng, 2))
    if kind == 5:
        return cl.Param(f"w{rng.randrange(3)}", rng.choice(WIRES))
    if kind == 6:
        return cl.Id()
    if kind == 7:
        return markov.Box(f"plain{rng.randrange(3)}", random_ty(rng), random_ty(rng))
    if kind == 8:
        parts = [random_piece(rng, depth + 1) for _ in range(rng.randrange(1, 4))]
        return cl.tensor(*parts)
    first = random_piece(rng, depth + 1)
    return first >> cl.Box("g", first.cod, random_ty(rng))


def assert_same(fast, slow):
    """Equal both ways, printed, hashed and laid out alike."""
    assert fast == slow and slow == fast
    assert repr(fast) == repr(slow) and str(fast) == str(slow)
    assert hash(fast) == hash(slow)
    assert fast.dom == slow.dom and fast.cod == slow.cod
    assert len(fast) == len(slow)
    for a, b in zip(fast.inside, slow.inside, strict=True):
        assert a == b and b == a and hash(a) == hash(b) and repr(a) == repr(b)
        assert a.dom == b.dom and a.cod == b.cod and a.name == b.name
        assert [len(t) for t in a.boxes_or_types[::2]] == [
            len(t) for t in b.boxes_or_types[::2]
        ]


def no_plain(d):
    boxes = cl.diagrams.boxes(d)
    return all(not type(b).__module__.startswith("discopy") for b in boxes)


@pytest.mark.parametrize("seed", range(25))
def test_tensor_fast_paths_equal_discopy(seed):
    rng = random.Random(seed)
    pieces = [random_piece(rng) for _ in range(rng.randrange(1, 8))]
    slow = slow_tensor(cl.Id(), *pieces)
    looped = cl.Id()
    for p in pieces:
        looped = looped @ p
    for fast in (looped, cl.tensor(*pieces), cl.Diagram.tensor(cl.Id(), *pieces)):
        assert isinstance(fast, cl.Diagram)
        assert_same(fast, slow)
        if no_plain(fast):
            assert json.dumps(encode_diagram(fast)) == json.dumps(encode_diagram(slow))


def random_chain(rng, n):
    ty = random_ty(rng) or X
    out = [cl.Id(ty)]
    for _ in range(n):
        k = rng.randrange(6)
        if k == 0 and len(ty) >= 2:
            piece = cl.Swap(ty[:1], ty[1:])
        elif k == 1:
            piece = cl.Copy(ty, 2)
        elif k == 2 and len(ty) >= 2:
            piece = cl.Discard(ty[:1]) @ ty[1:]
        elif k == 3:
            piece = markov.Box("plain", ty, ty)  # a plain DisCoPy box
        elif k == 4:
            piece = ty @ cl.Param("w", X) >> cl.Box("h", ty @ X, ty)
        else:
            piece = cl.Box(f"f{rng.randrange(4)}", ty, random_ty(rng) or Y)
        out.append(piece)
        ty = piece.cod
    return out


@pytest.mark.parametrize("seed", range(25))
def test_then_fast_paths_equal_discopy(seed):
    rng = random.Random(seed)
    pieces = random_chain(rng, rng.randrange(1, 12))
    slow = slow_then(*(cl.diagrams.as_diagram(p) for p in pieces))
    looped = pieces[0]
    for p in pieces[1:]:
        looped = looped >> p
    for fast in (looped, cl.Diagram.then(*pieces)):
        assert isinstance(fast, cl.Diagram)
        assert_same(fast, slow)


def test_mixed_and_branching_runs():
    f, g, h = cl.Box("f", X, Y), cl.Box("g", Y, Z), cl.Box("h", Z, X)
    d = f @ g
    d1, d2 = d @ h, d @ f  # d is no longer the newest of its run for d2
    assert_same(d1, slow_tensor(f, g, h))
    assert_same(d2, slow_tensor(f, g, f))
    e = f >> g
    e1, e2 = e >> h, e >> cl.Box("k", Z, Y)
    assert_same(e1, slow_then(f, g, h))
    assert_same(e2, slow_then(f, g, cl.Box("k", Z, Y)))
    both = (f @ g >> cl.Swap(Y, Z)) @ (h >> cl.Copy(X)) >> Z @ Y @ cl.Discard(X @ X)
    left = slow_then(slow_tensor(f, g), cl.Swap(Y, Z))
    slow = slow_then(
        slow_tensor(left, slow_then(h, cl.Copy(X))),
        slow_tensor(cl.Id(Z @ Y), cl.Discard(X @ X)),
    )
    assert_same(both, slow)
    assert_same(d @ d, slow_tensor(f, g, f, g))  # a run tensored with itself
    # plain DisCoPy diagrams on either side
    plain = markov.Box("p", X, X)
    assert_same(plain @ f, slow_tensor(cl.diagrams.as_diagram(plain), f))
    assert_same(markov.Id(X) >> plain >> f, slow_then(cl.Id(X), plain, f))
    # whiskering with types and the empty type
    assert_same(X @ f @ cl.Id().dom @ Y, slow_tensor(cl.Id(X), f, cl.Id(), cl.Id(Y)))
    assert cl.tensor() == cl.Id() and cl.tensor(f) == f
    assert_same(cl.tensor(X, f, Y), slow_tensor(cl.Id(X), f, cl.Id(Y)))


def test_lazy_diagrams_pickle_copy_draw_and_compile(tmp_path):
    boxes = [cl.Box("relu", X, X) for _ in range(6)]
    wide = cl.Id()
    for b in boxes:
        wide = wide @ b
    slow = slow_tensor(*boxes)
    copies = pickle.loads(pickle.dumps(wide)), copy.deepcopy(wide), copy.copy(wide)
    for other in copies:
        assert_same(other, slow)
    assert wide.to_drawing() == slow.to_drawing()
    wide.draw(str(tmp_path / "wide.png"))
    chain = cl.Id(X)
    for b in boxes:
        chain = chain >> b
    x = np.random.default_rng(0).normal(size=(4, 12)).astype(np.float32)
    xs = np.split(x, 6, axis=1)
    fast_out = cl.Smooth()(wide)({}, *xs)
    slow_out = cl.Smooth()(slow)({}, *xs)
    for a, b in zip(fast_out, slow_out, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(
        np.asarray(cl.Smooth()(chain)({}, xs[0])),
        np.asarray(cl.Smooth()(slow_then(*boxes))({}, xs[0])),
    )
    loaded = cl.from_json(cl.to_json(wide))
    assert loaded == slow


def test_building_is_linear_in_type_objects(monkeypatch):
    """A 5,000-box layer and chain build and lay out while spelling out few
    type objects (DisCoPy's binary tensor spells out ~n^2 of them): counted,
    not timed."""
    n = 5000
    boxes = [cl.Box("relu", Z, Z) for _ in range(n)]
    spelled = []
    real_init = monoidal.Ty.__init__

    def counting_init(self, *inside):
        spelled.append(len(inside))
        real_init(self, *inside)

    monkeypatch.setattr(monoidal.Ty, "__init__", counting_init)
    wide = cl.Id()
    for b in boxes:
        wide = wide @ b
    chain = cl.Id(Z)
    for b in boxes:
        chain = chain >> b
    nary = cl.tensor(*boxes)
    assert len(wide.inside) == len(chain.inside) == len(nary.inside) == n
    compiled_offsets = [len(layer.boxes_or_types[0]) for layer in wide.inside]
    assert compiled_offsets == list(range(n))
    assert len(wide.dom) == len(wide.cod) == n and wide.dom == nary.cod
    assert sum(spelled) < 20 * n  # linear; DisCoPy's loop spells ~n^2 / 2
    program = cl.Smooth()(nary)  # the repeat pass runs the layer as one step
    assert len(cl.functors.unroll(program).steps) == n and len(program.steps) == 1
