"""The Pallas LUT-network kernel against its oracle, ``cl.Boolean()``: bit for
bit in interpret mode on CPU (forward, group counts, votes, reverse), and a
check that the Triton (GPU) kernels lower for ``cuda`` on a machine without a
GPU."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import catlearn as cl
from catlearn.backends import bits as B
from catlearn.backends import lutnet_pallas as lp

# (n_in, widths, batch, block_words, gate_block): odd sizes; block_words=1 and
# small gate blocks run many programs and loop over tiles of gates and rows.
CASES = [
    (5, [7], 1, None, None),
    (9, [13, 11, 6], 33, None, None),
    (7, [33, 17], 100, 1, 4),
    (12, [5, 19, 3], 100, 2, 8),
]


def _network(n_in, widths, batch, k=None, seed=0, init=False):
    """The Boolean program, its parameters and a batch, and the kernel's view
    of the same network: wirings and ``(n_l, 4)`` mask tables."""
    prog = cl.Boolean()(cl.logic.network(n_in, widths, n_classes=k, seed=seed))
    rng = np.random.default_rng(seed)
    if init:
        params = prog.init(jax.random.key(seed))
    else:
        params = {
            n: jnp.asarray(rng.random(s) < 0.5) for n, s in prog.param_shapes.items()
        }
    X = jnp.asarray(rng.random((batch, n_in)) < 0.5)
    sizes = [n_in, *widths]
    wirings = [cl.logic.wiring(sizes[i], w, seed + i) for i, w in enumerate(widths)]
    tables = [
        B.mask(params[f"net.{i}.table"]).reshape(-1, 4) for i in range(len(widths))
    ]
    return prog, params, X, wirings, tables


def _forward(wirings, **kwargs):
    """The kernel jitted, as it runs in practice (eager interpret mode pays
    per operation)."""
    return jax.jit(lambda x, tables: lp.forward(x, tables, wirings, **kwargs))


def _reverse(wirings, **kwargs):
    return jax.jit(lambda x, t, dz: lp.reverse(x, t, wirings, dz, **kwargs))


@pytest.mark.parametrize("n_in, widths, batch, bw, gb", CASES)
def test_forward_equals_boolean(n_in, widths, batch, bw, gb):
    prog, params, X, wirings, tables = _network(n_in, widths, batch)
    out = _forward(wirings, block_words=bw, gate_block=gb)(B.pack(X), tables)
    assert out.shape == (widths[-1], B.n_words(batch)) and out.dtype == jnp.uint32
    assert np.array_equal(B.unpack(out, batch), prog(params, X))


@pytest.mark.parametrize(
    "n_in, widths, k, batch, bw, gb",
    [(6, [9, 15], 5, 33, None, None), (11, [12], 3, 100, 1, 2), (4, [7], 1, 1, 1, 4)],
)
def test_group_counts_equal_boolean_group_sum(n_in, widths, k, batch, bw, gb):
    prog, params, X, wirings, tables = _network(n_in, widths, batch, k=k)
    counts = _forward(wirings, group_k=k, block_words=bw, gate_block=gb)(
        B.pack(X), tables
    )
    assert counts.shape == (k, 32 * B.n_words(batch)) and counts.dtype == jnp.float32
    assert np.array_equal(counts[:, :batch].T, prog(params, X))


@pytest.mark.parametrize("n_in, widths, batch, bw, gb", CASES)
def test_votes_and_reverse_equal_boolean(n_in, widths, batch, bw, gb):
    prog, params, X, wirings, tables = _network(n_in, widths, batch, seed=3)
    dY = np.random.default_rng(1).random((batch, widths[-1])) < 0.5
    rev = _reverse(wirings, block_words=bw, gate_block=gb)
    dx, votes = rev(B.pack(X), tables, B.pack(dY))
    want_votes = jax.jit(prog.votes)(params, X, dY)  # eager: seconds
    dparams, (want_dx,) = prog.reverse(params, X, dY)
    for i, v in enumerate(votes):
        assert v.dtype == jnp.int32
        assert np.array_equal(v, want_votes[f"net.{i}.table"])
        assert np.array_equal(v % 2 == 1, dparams[f"net.{i}.table"])  # Z2 sum
    assert np.array_equal(B.unpack(dx, batch), want_dx)


def test_initialised_params():
    """``prog.init``'s residual tables; ``forward`` outside ``jax.jit`` too."""
    prog, params, X, wirings, tables = _network(6, [9, 5], 40, seed=5, init=True)
    dY = np.random.default_rng(2).random((40, 5)) < 0.5
    out = lp.forward(B.pack(X), tables, wirings)
    assert np.array_equal(B.unpack(out, 40), prog(params, X))
    dx, votes = _reverse(wirings)(B.pack(X), tables, B.pack(dY))
    want = jax.jit(prog.votes)(params, X, dY)
    assert all(np.array_equal(v, want[f"net.{i}.table"]) for i, v in enumerate(votes))


def _shapes(n_in, widths, words):
    x = jax.ShapeDtypeStruct((n_in, words), jnp.uint32)
    tables = [jax.ShapeDtypeStruct((w, 4), jnp.uint32) for w in widths]
    dz = jax.ShapeDtypeStruct((widths[-1], words), jnp.uint32)
    sizes = [n_in, *widths]
    wirings = [cl.logic.wiring(sizes[i], w, i) for i, w in enumerate(widths)]
    return x, tables, dz, wirings


@pytest.mark.parametrize("group_k", [None, 10])
def test_triton_kernels_lower_for_cuda_without_a_gpu(group_k):
    x, tables, dz, wirings = _shapes(40, [300, 130, 100], 100)
    fwd = jax.jit(
        lambda x, t: lp.forward(x, t, wirings, group_k=group_k, backend="triton")
    )
    rev = jax.jit(lambda x, t, d: lp.reverse(x, t, wirings, d, backend="triton"))
    for f, args in ((fwd, (x, tables)), (rev, (x, tables, dz))):
        text = f.trace(*args).lower(lowering_platforms=("cuda",)).as_text()
        assert "xla.gpu.triton" in text  # a Triton kernel, not Mosaic GPU


def test_default_block_words():
    assert lp.default_block_words("interpret") >= 1 << 10  # the whole batch
    triton = lp.default_block_words("triton")
    assert triton & (triton - 1) == 0 and 16 <= triton <= 128
    with pytest.raises(cl.BackendError, match="not one of"):
        lp.default_block_words("gpu")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"backend": "cuda"}, "not one of"),
        ({"backend": "triton", "block_words": 48}, "power of two"),
        ({"block_words": 0}, "positive int"),
        ({"gate_block": 6}, "power of two"),
    ],
)
def test_bad_backend_or_block_raises(kwargs, match):
    _, _, X, wirings, tables = _network(4, [6], 8)
    with pytest.raises(cl.BackendError, match=match):
        lp.forward(B.pack(X), tables, wirings, **kwargs)
    with pytest.raises(cl.BackendError, match=match):
        lp.reverse(B.pack(X), tables, wirings, B.pack(X[:, :6]), **kwargs)


def test_mismatched_tables_and_cotangents_raise():
    _, _, X, wirings, tables = _network(4, [6, 5], 8)
    x = B.pack(X)
    with pytest.raises(cl.ShapeError, match=r"layer 1 has 5 gates"):
        lp.forward(x, [tables[0], tables[0]], wirings)
    with pytest.raises(cl.ShapeError, match="group_k=4"):
        lp.forward(x, tables, wirings, group_k=4)
    with pytest.raises(cl.ShapeError, match="dz has shape"):
        lp.reverse(x, tables, wirings, jnp.zeros((6, 1), jnp.uint32))
