"""Attacks on specs and sizes (issue 12): a generator whose spec disagrees with
its wires, built by hand, cast from plain DisCoPy or loaded from a crafted
file; models too big for memory or too slow to wire; bad builder seeds;
big-endian arrays. Each ends in a ``CatlearnError`` naming the fix, before
anything big is allocated."""

from __future__ import annotations

import io
import json
import resource
import zipfile

import equinox as eqx
import jax
import numpy as np
import pytest
from discopy import markov

import catlearn as cl
from catlearn.diagrams import _memory
from catlearn.diagrams._specs import SPEC_CHECKS
from catlearn.functors import _sizes

spec = cl.diagrams.spec
MB = 2**20


def peak_rss() -> int:
    """The process's peak resident memory so far, in bytes (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def refused(error: type[Exception], call, *words: str) -> str:
    """``call()`` raises ``error`` (a CatlearnError) whose message has a fix
    and every one of ``words``; returns the message."""
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, cl.CatlearnError)
    message = str(info.value)
    assert "Fix:" in message, message
    for word in words:
        assert word in message, (word, message)
    return message


def layer_box(dom=cl.bits(8) @ cl.bits(4), cod=cl.bits(2), **fields):
    """A hand-built lut_layer box: by default a good one (2 gates on 4 wires)."""
    data = {"n_in": 4, "n_out": 2, "relax": "sin", "seed": 0, **fields}
    return cl.Box("lut_layer", dom, cod, data=spec(**data))


# -- specs checked against wires when a box is built ------------------------------
BAD_BOXES = {
    # the attack of the issue: gathers past bits(4), clamped silently
    "lut_layer n_in=100 on bits(4)": (lambda: layer_box(n_in=100), "n_in"),
    "lut_layer wrong n_out": (lambda: layer_box(n_out=3), "n_out"),
    "lut_layer seed -1": (lambda: layer_box(seed=-1), "seed"),
    "lut_layer seed 1.5": (lambda: layer_box(seed=1.5), "seed"),
    "lut_layer seed 2**64": (lambda: layer_box(seed=2**64), "seed"),
    "lut_layer no seed": (
        lambda: cl.Box(
            "lut_layer",
            cl.bits(8) @ cl.bits(4),
            cl.bits(2),
            data=spec(n_in=4, n_out=2, relax="sin"),
        ),
        "seed",
    ),
    "lut_layer unknown field": (lambda: layer_box(depth=3), "depth"),
    "lut_layer bad relax": (lambda: layer_box(relax="tanh"), "relax"),
    "lut_layer n_in=0": (lambda: layer_box(n_in=0), "n_in"),
    "lut_layer no spec": (
        lambda: cl.Box("lut_layer", cl.bits(8) @ cl.bits(4), cl.bits(2)),
        "spec",
    ),
    "lut_layer one input wire": (
        lambda: layer_box(dom=cl.bits(4), cod=cl.bits(2)),
        "bits(8) @ bits(4) -> bits(2)",
    ),
    "group_sum k=2 on real(4)": (
        lambda: cl.Box("group_sum", cl.bits(4), cl.real(4), data=spec(k=2, tau=1.0)),
        "'k'",
    ),
    "group_sum tau=0": (
        lambda: cl.Box("group_sum", cl.bits(4), cl.real(2), data=spec(k=2, tau=0.0)),
        "tau",
    ),
    "group_sum tau=nan": (
        lambda: cl.Box(
            "group_sum", cl.bits(4), cl.real(2), data=spec(k=2, tau=float("nan"))
        ),
        "tau",
    ),
    "group_sum tau=-inf": (
        lambda: cl.Box(
            "group_sum", cl.bits(4), cl.real(2), data=spec(k=2, tau=float("-inf"))
        ),
        "tau",
    ),
    "group_sum groups of unequal size": (
        lambda: cl.Box("group_sum", cl.bits(5), cl.real(2), data=spec(k=2, tau=1.0)),
        "multiple of 2",
    ),
    "AND of unequal widths": (
        lambda: cl.Box("AND", cl.bits(2) @ cl.bits(3), cl.bits(2)),
        "bits(n) @ bits(n) -> bits(n)",
    ),
    "NOT changing width": (lambda: cl.Box("NOT", cl.bits(2), cl.bits(3)), "NOT"),
    "ONE with an input": (lambda: cl.Box("ONE", cl.bits(1), cl.bits(1)), "ONE"),
    "lut with a bits(3) table": (
        lambda: cl.Box("lut", cl.bits(3) @ cl.bits(1) @ cl.bits(1), cl.bits(1),
                       data=spec(relax="sin")),
        "bits(4) @ bits(1) @ bits(1)",
    ),
    "matmul of mismatched sizes": (
        lambda: cl.Box("matmul", cl.real(3, 2) @ cl.real(4), cl.real(2)),
        "real(n, m) @ real(n)",
    ),
    "relu changing width": (lambda: cl.Box("relu", cl.real(2), cl.real(3)), "relu"),
    "add of unbroadcastable wires": (
        lambda: cl.Box("add", cl.real(2) @ cl.real(3), cl.real(3)),
        "broadcast",
    ),
    "relu on a plain DisCoPy type": (
        lambda: cl.Box("relu", markov.Ty("x"), markov.Ty("x")),
        "catlearn wires",
    ),
}


@pytest.mark.parametrize("name", BAD_BOXES)
def test_a_generator_spec_is_checked_against_its_wires(name):
    build, word = BAD_BOXES[name]
    message = refused(cl.TypeSpecError, build, word)
    assert message.startswith("box '"), message  # names the box and its wires


def test_user_boxes_pass_untouched():
    odd = cl.Box("lut_layer2", cl.bits(8) @ cl.bits(4), cl.bits(2), data=spec(n_in=100))
    assert odd.spec == {"n_in": 100}
    plain = cl.Box("my_gate", markov.Ty("x"), markov.Ty("y"), data=(1, "a", None))
    assert plain.data == (1, "a", None)


def test_every_library_box_passes_its_check():
    """Rebuilding each box the builders make re-runs its check, for every
    generator that Smooth and Boolean know: none may refuse library output,
    and every generator with a rule has a check."""
    assert set(cl.Smooth().rules) | set(cl.Boolean().rules) <= set(SPEC_CHECKS)
    made = [cl.nn.mlp([4, 16, 3]), cl.nn.mul(3), cl.nn.softmax(2), cl.nn.sigmoid(2)]
    made += [cl.nn.tanh(2), cl.logic.lut("t", n_inputs=3), cl.logic.gate("XOR", 3)]
    made += [cl.logic.ZERO, cl.logic.ONE, cl.logic.gate("NOT", 2), cl.logic.OR]
    made += [cl.logic.lut_layer(5, 3, wiring="learned"), cl.logic.flatten(2, 2)]
    made += [cl.nn.reshape((6,), (2, 3)), cl.logic.conv((2, 4), 2, kernel=2)]
    made += [cl.logic.or_pool((2, 4), 2), cl.logic.thermometer(thresholds=[[0.5]])]
    made += [cl.logic.sort(3), cl.logic.lut_layer(5, 2, n_inputs=4)]
    made += [cl.logic.select(5, 2, relax="softmax")]
    made += [cl.nn.activation_box(a, 3) for a in cl.nn.ACTIVATIONS]
    made += [cl.nn.layer_norm(3), cl.nn.embedding(4, 2, 3), cl.nn.dropout(0.1, 3)]
    made += [cl.nn.recurrent((cl.nn.linear(2, 2) @ cl.nn.linear(1, 2, name="x")
                              ) >> cl.nn.add(2), 3)]
    made += [cl.nn.from_equinox(eqx.nn.Linear(2, 3, key=jax.random.key(0)),
                                cl.real(2), cl.real(3))]
    for relax in ("sin", "sigmoid", "softmax", "gumbel"):
        made.append(cl.logic.network(6, [8, 6], 3, seed=2**63 - 2, relax=relax))
    seen = set()
    for d in made:
        for box in cl.diagrams.boxes(cl.from_discopy(d)):
            if type(box) is cl.Box:
                again = cl.Box(box.name, box.dom, box.cod, data=box.data)
                assert again == box
                seen.add(box.name)
    assert seen == set(SPEC_CHECKS)


def test_a_plain_discopy_box_is_checked_when_compiled():
    """A plain DisCoPy box composed into a catlearn diagram is remade as a
    catlearn box when a functor compiles the diagram, so it is checked too."""
    bad = markov.Box("lut_layer", cl.bits(8) @ cl.bits(4), cl.bits(2),
                     data=spec(n_in=100, n_out=2, relax="sin", seed=0))
    table = cl.Param("t", cl.bits(8), init="residual")
    d = (table @ cl.bits(4)) >> bad
    assert isinstance(d, cl.Diagram)
    for semantics in (cl.Smooth(), cl.Boolean(), cl.Kernel()):
        refused(cl.TypeSpecError, lambda s=semantics: s(d), "n_in", "bits(4)")
    refused(cl.TypeSpecError, lambda: cl.from_discopy(d), "n_in")
    good = markov.Box("lut_layer", cl.bits(8) @ cl.bits(4), cl.bits(2),
                      data=spec(n_in=4, n_out=2, relax="sin", seed=0))
    prog = cl.Boolean()((table @ cl.bits(4)) >> good)
    same = cl.Boolean()((table @ cl.bits(4)) >> layer_box())
    x = np.array([[0, 1, 1, 0], [1, 1, 0, 1]], bool)
    p = prog.init(jax.random.key(0))
    np.testing.assert_array_equal(prog(p, x), same(p, x))


# -- a crafted save file -----------------------------------------------------------
def _edit_boxes(node, name, edit):
    if isinstance(node, dict):
        if node.get("box") == "box" and node.get("name") == name:
            edit(node["spec"])
        for value in node.values():
            _edit_boxes(value, name, edit)
    elif isinstance(node, list):
        for value in node:
            _edit_boxes(value, name, edit)


@pytest.mark.parametrize(
    ("box", "field", "value"),
    [("lut_layer", "n_in", 100), ("lut_layer", "seed", -1), ("group_sum", "k", 2),
     ("group_sum", "tau", 0.0), ("lut_layer", "n_out", 7)],
)
def test_a_crafted_save_file_with_a_bad_spec_is_refused(tmp_path, box, field, value):
    net = cl.logic.network(6, [8, 4], 4, seed=0)
    params = cl.Boolean()(net).init(jax.random.key(0))
    good = tmp_path / "good.catlearn"
    cl.save(good, net, params)
    with zipfile.ZipFile(good) as zf:
        entries = {info.filename: zf.read(info) for info in zf.infolist()}
    (diagram_entry,) = [n for n in entries if n.endswith("diagram.json")]
    diagram = json.loads(entries[diagram_entry])
    _edit_boxes(diagram, box, lambda s: s.__setitem__(field, value))
    entries[diagram_entry] = json.dumps(diagram).encode()
    crafted = io.BytesIO()
    with zipfile.ZipFile(crafted, "w", zipfile.ZIP_STORED) as zf:
        for name, blob in entries.items():
            zf.writestr(name, blob)
    path = tmp_path / "crafted.catlearn"
    path.write_bytes(crafted.getvalue())
    message = refused(cl.CatlearnError, lambda: cl.load(path), box, repr(field))
    assert "crafted.catlearn" in message
    assert path.read_bytes() == crafted.getvalue()  # nothing changed on disk
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crafted.catlearn",
                                                          "good.catlearn"]
    assert cl.load(good).diagram == net


# -- sizes ---------------------------------------------------------------------------
def test_a_huge_mlp_init_is_refused_before_allocating():
    cl.Smooth()(cl.nn.mlp([4, 8, 2])).init(jax.random.key(0))  # warm up JAX
    before = peak_rss()
    prog = cl.Smooth()(cl.nn.mlp([4, 10**12, 2]))
    message = refused(
        cl.ShapeError, lambda: prog.init(jax.random.key(0)),
        "'mlp.0.w'", "(4, 1000000000000)", "TiB", "free", "nothing was allocated",
    )
    assert "narrower layers" in message
    assert peak_rss() - before < 50 * MB


def test_fit_of_a_huge_mlp_is_a_shape_error():
    data = (np.zeros((4, 4), np.float32), np.array([0, 1, 0, 1]))
    refused(
        cl.ShapeError,
        lambda: cl.fit(cl.nn.mlp([4, 10**12, 2]), data, semantics=cl.Smooth(),
                       loss=cl.losses.softmax_cross_entropy,
                       optimiser=cl.optim.adam(1e-2), epochs=1, batch_size=2),
        "'mlp.0.w'",
    )


def test_init_compares_the_exact_size_with_free_memory(monkeypatch):
    """The estimate uses the arrays' real dtypes (float32 under Smooth, bool
    under Boolean) and the device's free memory, here set to 1 GiB."""
    monkeypatch.setattr(_sizes, "device_free", lambda: (2**30, "a test"))
    smooth = cl.Smooth()(cl.nn.mlp([4, 10**8, 2]))  # 2.2 GiB of float32
    refused(cl.ShapeError, lambda: smooth.init(jax.random.key(0)),
            "1.0 GiB free (a test)", "'mlp.0.w'")
    table = cl.Param("t", cl.bits(3 * 10**8), init="residual")
    refused(cl.ShapeError, lambda: cl.Boolean()(table).init(jax.random.key(0)),
            "286.1 MiB in all")  # 3e8 bools, and room to draw them: 1.1 GiB
    # 1.5 GiB if its entries took 4 bytes; 381 MiB as the bools they are
    small = cl.Param("t", cl.bits(10**8), init="zeros")
    assert cl.Boolean()(small).init(jax.random.key(0))["t"].dtype == bool


def test_small_models_never_read_free_memory(monkeypatch):
    def unread():
        raise AssertionError("free memory was read for a small model")

    monkeypatch.setattr(_sizes, "device_free", unread)
    monkeypatch.setattr(_memory, "free_memory", unread)
    params = cl.Smooth()(cl.nn.mlp([4, 64, 3])).init(jax.random.key(0))
    assert params["mlp.0.w"].shape == (4, 64)


def test_check_memory_names_both_sides():
    _memory.check_memory("a table", 10 * 2**30, "no fix", free=(20 * 2**30, "x"))
    message = refused(
        cl.ShapeError,
        lambda: _memory.check_memory("a table", 10 * 2**30, "fewer rows",
                                     free=(2**30, "the test")),
        "a table", "10.0 GiB", "1.0 GiB free (the test)", "Fix: fewer rows",
    )
    assert message.startswith("a table needs about")
    free = _memory.free_memory()
    assert free is None or free[0] > 0


@pytest.mark.parametrize(
    "build",
    [lambda: cl.logic.network(17, [100_000_000, 100_000_000], 2),  # CLI 100000000x2
     lambda: cl.logic.lut_layer(4, 10**12),
     lambda: cl.logic.wiring(16, 10**9, 0)],
)
def test_wiring_that_would_take_hours_is_refused(build, monkeypatch):
    # plenty of memory, so the time estimate (not this machine's free memory
    # at the moment) is what refuses
    monkeypatch.setattr(_memory, "free_memory", lambda: (2**50, "a test"))
    before = peak_rss()
    refused(cl.ShapeError, build, "gates per layer", "~5 minutes")
    assert peak_rss() - before < 50 * MB


def test_a_network_that_does_not_fit_is_refused_before_wiring(monkeypatch):
    monkeypatch.setattr(_memory, "free_memory", lambda: (2**30, "a test"))
    before = peak_rss()
    refused(cl.ShapeError, lambda: cl.logic.network(10**8, [10**8], 2),
            "1.0 GiB free (a test)", "narrower layers")
    refused(cl.ShapeError, lambda: cl.logic.lut_layer(10**8, 10**8),
            "1.0 GiB free (a test)", "fewer gates per layer")
    assert peak_rss() - before < 50 * MB


# -- builder arguments -----------------------------------------------------------------
BUILDERS = {
    "lut_layer": lambda seed: cl.logic.lut_layer(4, 2, seed=seed),
    "network": lambda seed: cl.logic.network(4, [4, 4], 2, seed=seed),
    "wiring": lambda seed: cl.logic.wiring(4, 2, seed),
}


@pytest.mark.parametrize("seed", [-1, 2**64, 2**63, 1.5, None, True, "0"])
@pytest.mark.parametrize("builder", BUILDERS)
def test_a_bad_builder_seed_names_the_fix(builder, seed):
    refused(cl.TypeSpecError, lambda: BUILDERS[builder](seed), "seed", repr(seed))


def test_the_last_seed_of_a_network_must_fit_too():
    refused(cl.TypeSpecError,
            lambda: cl.logic.network(4, [4, 4, 4], 2, seed=2**63 - 2),
            "layer 2", f"seed={2**63 - 3} at most")


def test_numpy_int_seeds_and_sizes_are_ints():
    assert cl.logic.lut_layer(np.int64(4), np.int32(2), seed=np.uint8(3)) == (
        cl.logic.lut_layer(4, 2, seed=3)
    )
    assert cl.nn.mlp([np.int64(4), 3]) == cl.nn.mlp([4, 3])


@pytest.mark.parametrize(
    ("build", "word"),
    [(lambda: cl.nn.mlp(5), "sizes"), (lambda: cl.nn.mlp("416"), "sizes"),
     (lambda: cl.nn.mlp([4, 2.5]), "sizes[1]"), (lambda: cl.nn.mlp([4, True]), "True"),
     (lambda: cl.logic.network(4, None, 2), "widths"),
     (lambda: cl.logic.network(4, "64", 2), "widths"),
     (lambda: cl.logic.network(4, [], 2), "widths"),
     (lambda: cl.logic.lut_layer(4, 0), "n_out"),
     (lambda: cl.logic.group_sum(4, 3), "k"),
     (lambda: cl.logic.group_sum(4, 2, tau=10**400), "tau"),
     (lambda: cl.Param("w", cl.real(2), scale=10**400), "scale"),
     (lambda: cl.nn.dense(2, 2, activation="swish"), "swish")],
)
def test_bad_builder_arguments_name_the_fix(build, word):
    refused(cl.TypeSpecError, build, word)


# -- byte order ------------------------------------------------------------------------
def test_big_endian_inputs_and_params_give_the_same_results():
    mlp, F = cl.nn.mlp([3, 4, 2]), cl.Smooth()
    prog = F(mlp)
    p = prog.init(jax.random.key(0))
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    big_p = {k: np.asarray(v).astype(">f4") for k, v in p.items()}
    big_x = x.astype(">f4")
    np.testing.assert_array_equal(prog(big_p, big_x), prog(p, x))
    dy = np.ones((2, 2), np.float32)
    big, native = prog.reverse(big_p, big_x, dy.astype(">f4")), prog.reverse(p, x, dy)
    jax.tree.map(np.testing.assert_array_equal, big, native)
    assert big_x.dtype.str == ">f4"  # the caller's arrays are left as they were

    net = cl.logic.network(4, [8], 2)
    bits = np.array([[0, 1, 1, 0], [1, 1, 0, 1]])
    for semantics in (cl.Boolean(), cl.Kernel()):
        q = semantics(net).init(jax.random.key(1))
        big_q = {k: np.asarray(v).astype(">i2") for k, v in q.items()}
        np.testing.assert_array_equal(
            semantics(net)(big_q, bits.astype(">i4")),
            semantics(net)(q, bits.astype(bool)),
        )


def test_fit_and_evaluate_take_big_endian_data():
    mlp, F = cl.nn.mlp([3, 4, 2]), cl.Smooth()
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    y = np.array([0, 1, 1, 0])
    settings = dict(semantics=F, loss=cl.losses.softmax_cross_entropy,
                    optimiser=cl.optim.adam(1e-2), epochs=2, batch_size=2, seed=0)
    big = cl.fit(mlp, (x.astype(">f4"), y.astype(">i8")), **settings)
    native = cl.fit(mlp, (x, y), **settings)
    jax.tree.map(np.testing.assert_array_equal, big.params, native.params)
    big_params = {k: np.asarray(v).astype(">f4") for k, v in big.params.items()}
    again = cl.fit(mlp, (x, y), params=big_params, **{**settings, "epochs": 1})
    assert set(again.params) == set(big.params)
    scores = cl.evaluate(mlp, big_params, (x.astype(">f4"), y), semantics=F)
    assert scores == cl.evaluate(mlp, native.params, (x, y), semantics=F)
