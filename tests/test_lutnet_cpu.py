"""The fused C++ kernel (``catlearn.backends.lutnet_cpu``) against its oracle,
``cl.Boolean()``, bit for bit: forward words, ``group_sum`` counts, every
layer's activations, the input cotangent, the per-parameter votes and their
parity (Boolean's parameter cotangent). Odd batches (a partial last word, a
partial last tile), odd widths, one wire, one layer and several, tables from
``prog.init`` and random bits. How the library is built, cached and verified:
``tests/test_kernel_cache.py``."""

from __future__ import annotations

import functools
import hashlib
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catlearn as cl
from catlearn import BackendError, ShapeError
from catlearn.backends import bits
from catlearn.backends import lutnet_cpu as K

pytestmark = pytest.mark.skipif(
    not K.available(), reason="no C++ compiler to build the fused CPU kernel"
)

# (n_in, widths, batch, seed): one wire; one layer; odd widths; W = 1, 1, 2, 63 words
CASES = [
    (1, [3], 1, 0),
    (7, [5], 31, 1),
    (9, [13, 6, 11], 33, 2),
    (16, [64, 48, 24], 2000, 4),
]


@functools.cache
def _program(n_in: int, widths: tuple[int, ...], k: int | None, seed: int):
    return cl.Boolean()(cl.logic.network(n_in, list(widths), n_classes=k, seed=seed))


# jitted whole: run op by op, these compile every op for every shape (seconds)
_bernoulli = jax.jit(jax.random.bernoulli, static_argnames="shape")
_pack = jax.jit(bits.pack)
_unpack = jax.jit(bits.unpack, static_argnums=1)


def _setup(n_in, widths, batch, seed, init, k=None):
    """Boolean's program, its params and inputs, and the kernel's arguments."""
    prog = _program(n_in, tuple(widths), k, seed)
    key = jax.random.PRNGKey(seed)
    if init:
        params = prog.init(key)
    else:
        params = {
            name: _bernoulli(jax.random.fold_in(key, i), 0.5, shape=shape)
            for i, (name, shape) in enumerate(prog.param_shapes.items())
        }
    X = np.random.default_rng(seed).random((batch, n_in)) < 0.5
    sizes = [n_in, *widths]
    wirings = [
        cl.logic.wiring(sizes[i], sizes[i + 1], seed + i) for i in range(len(widths))
    ]
    tables = [
        bits.mask(params[f"net.{i}.table"]).reshape(n, 4) for i, n in enumerate(widths)
    ]
    return prog, params, X, tables, wirings


def _same(a, b) -> bool:
    return np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("init", [True, False], ids=["init", "random"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def test_forward_and_reverse_equal_boolean(case, init):
    n_in, widths, batch, seed = case
    prog, params, X, tables, wirings = _setup(*case, init=init)
    x = _pack(X)
    dY = np.random.default_rng(seed + 7).random((batch, widths[-1])) < 0.5
    oracle = jax.jit(lambda p, X, dY: (prog.apply(p, X), prog.votes(p, X, dY)))
    want_y, want_votes = oracle(params, X, dY)  # jitted together: one compile
    dparams, (dX,) = prog.reverse(params, X, dY)
    for tile, threads in [(None, 1), (8, 2)]:  # 8 words: W = 63 is 8 tiles, 1 partial
        y = K.forward(x, tables, wirings, tile_words=tile, threads=threads)
        assert _same(_unpack(y, batch), want_y)
        dx, votes = K.reverse(
            x, tables, wirings, _pack(dY), tile_words=tile, threads=threads
        )
        assert _same(_unpack(dx, batch), dX)
        for i, v in enumerate(votes):
            assert v.dtype == jnp.int32 and v.shape == (4 * widths[i],)
            assert _same(v, want_votes[f"net.{i}.table"])
            assert _same(v % 2 == 1, dparams[f"net.{i}.table"])


@pytest.mark.parametrize("batch", [1, 100, 1000])
def test_group_counts_equal_boolean_group_sum(batch):
    n_in, widths, k = 12, [30, 20], 5
    prog, params, X, tables, wirings = _setup(n_in, widths, batch, 5, False, k=k)
    counts = K.forward(_pack(X), tables, wirings, group_k=k, tile_words=8)
    assert counts.shape == (k, 32 * bits.n_words(batch)) and counts.dtype == jnp.float32
    assert _same(counts[:, :batch].T, prog(params, X))


def test_kept_activations_are_every_layers_output():
    _, _, X, tables, wirings = _setup(9, [13, 6, 10], 70, 6, False)
    x = _pack(X)
    y, acts = K.forward(x, tables, wirings, keep_activations=True)
    counts, acts2 = K.forward(x, tables, wirings, group_k=2, keep_activations=True)
    assert _same(y, K.forward(x, tables, wirings))
    assert _same(counts, K.forward(x, tables, wirings, group_k=2))
    for i, (a, a2) in enumerate(zip(acts, acts2, strict=True)):
        assert _same(a, K.forward(x, tables[: i + 1], wirings[: i + 1]))
        assert _same(a, a2)


def test_runs_under_jit_and_vmap():
    _, _, X, tables, wirings = _setup(9, [13, 6, 11], 33, 2, False)
    x = _pack(X)
    eager = K.forward(x, tables, wirings)
    jitted = jax.jit(lambda x, t: K.forward(x, t, wirings))(x, tables)
    assert _same(eager, jitted)
    both = jax.vmap(lambda x: K.forward(x, tables, wirings))(jnp.stack([x, ~x]))
    assert _same(both[0], eager)
    assert _same(both[1], K.forward(~x, tables, wirings))


def test_bad_arguments_name_the_object_and_the_fix():
    _, _, X, tables, wirings = _setup(7, [6], 31, 1, True)
    x = _pack(X)
    with pytest.raises(BackendError, match=r"tile_words=12 .*\(8, 16, 32, 64\)"):
        K.forward(x, tables, wirings, tile_words=12)
    with pytest.raises(ShapeError, match=r"group_k=4 .* 6 rows.*divisor of 6"):
        K.forward(x, tables, wirings, group_k=4)
    with pytest.raises(ShapeError, match=r"table 0 .*\(24, 1\).*reshape\(6, 4\)"):
        K.forward(x, [tables[0].reshape(24, 1)], wirings)
    with pytest.raises(ShapeError, match=r"x is bool .*bits.pack"):
        K.forward(X, tables, wirings)
    with pytest.raises(ShapeError, match=r"wiring 0 reads wire 7, but layer 0 has 7"):
        K.forward(x, tables, [(np.full(6, 7), np.zeros(6, np.int32))])
    with pytest.raises(ShapeError, match=r"dz is uint32 \(7, 1\).*\(6, 1\)"):
        K.reverse(x, tables, wirings, jnp.zeros((7, 1), jnp.uint32))
    with pytest.raises(BackendError, match=r"threads=0"):
        K.forward(x, tables, wirings, threads=0)


def test_the_library_is_cached_by_content_with_its_manifest():
    path = K.build()
    assert path.exists() and path.name.startswith("lutnet-") and path.suffix == ".so"
    assert K.build() == path  # registered once, the same library
    manifest = json.loads(path.with_suffix(".json").read_text())
    assert manifest["library"] == path.name
    assert manifest["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert K.unavailable_reason() is None
