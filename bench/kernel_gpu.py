"""The Pallas/Triton kernel of ``cl.Kernel()`` on a GPU: bit-exact against
``cl.Boolean()`` (XLA on the same GPU) first, then forward and reverse times of
``network(400, [8000] * 6, 10)`` at 2^16 examples against ``cl.Boolean()``.

Run on a machine with an NVIDIA GPU: ``python bench/kernel_gpu.py``. On a
machine without one it says so and exits (``bench/kernel_throughput.py`` is
the CPU benchmark; it also runs on a GPU, with the C references on the host).
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import catlearn as cl
from catlearn.backends import bits as B
from catlearn.backends import lutnet_pallas as lp

CASES = [  # n_in, widths, batch, group k, block_words, gate_block
    (5, [7], 1, None, None, None),
    (9, [13, 11, 6], 33, None, None, None),
    (9, [13, 11, 6], 100, 3, 1, 4),
    (64, [500, 300, 200], 4096, None, 32, 32),
    (64, [500, 300, 200], 4096, 10, 16, 64),
    (100, [1000] * 3, 3000, 10, 32, 128),
]


def setup(n_in: int, widths: list[int], batch: int, k: int | None) -> tuple[Any, ...]:
    net = cl.logic.network(n_in, widths, n_classes=k, seed=0)
    prog = cl.Boolean()(net)
    rng = np.random.default_rng(0)
    params = {n: jnp.asarray(rng.random(s) < 0.5) for n, s in prog.param_shapes.items()}
    X = jnp.asarray(rng.random((batch, n_in)) < 0.5)
    sizes = [n_in, *widths]
    wir = [cl.logic.wiring(sizes[i], widths[i], i) for i in range(len(widths))]
    tabs = [B.mask(params[f"net.{i}.table"]).reshape(-1, 4) for i in range(len(widths))]
    return prog, params, X, wir, tabs


def median_s(f: Any, *args: Any, n: int = 10) -> float:
    for _ in range(3):
        jax.block_until_ready(f(*args))
    times = []
    for _ in range(n):
        start = time.perf_counter()
        jax.block_until_ready(f(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    if jax.default_backend() != "gpu":
        sys.exit(
            "bench/kernel_gpu.py needs a GPU; on CPU run bench/kernel_throughput.py"
        )
    print("jax", jax.__version__, jax.devices(), flush=True)
    for n_in, widths, batch, k, bw, gb in CASES:
        prog, params, X, wir, tabs = setup(n_in, widths, batch, k)
        kw = {"block_words": bw, "gate_block": gb, "backend": "triton"}
        out = lp.forward(B.pack(X), tabs, wir, group_k=k, **kw)
        got = B.unpack(out, batch) if k is None else out[:, :batch].T
        ok = [bool(np.array_equal(np.asarray(got), np.asarray(prog(params, X))))]
        if k is None:
            dY = jnp.asarray(np.random.default_rng(1).random((batch, widths[-1])) < 0.5)
            dx, votes = lp.reverse(B.pack(X), tabs, wir, B.pack(dY), **kw)
            want = prog.votes(params, X, dY)
            ok.append(
                all(
                    np.array_equal(v, want[f"net.{i}.table"])
                    for i, v in enumerate(votes)
                )
            )
            ok.append(
                bool(
                    np.array_equal(
                        B.unpack(dx, batch), prog.reverse(params, X, dY)[1][0]
                    )
                )
            )
        if not all(ok):
            sys.exit(f"MISMATCH on {n_in}, {widths}, batch {batch}, k {k}: {ok}")
    print("agreement: Triton kernel == Boolean on", len(CASES), "cases", flush=True)

    batch, n_in, widths, k = 1 << 16, 400, [8000] * 6, 10
    evals = sum(widths) * batch
    prog, params, X, wir, tabs = setup(n_in, widths, batch, k)
    t_bool = median_s(prog, params, X)
    fwd = jax.jit(
        lambda x, t: lp.forward(B.pack(x), t, wir, group_k=k, backend="triton")
    )
    t_fwd = median_s(fwd, X, tabs)
    for name, t in (("Boolean (XLA)", t_bool), ("Kernel (Triton)", t_fwd)):
        print(f"{name:<16} forward {t * 1e3:8.3f} ms  {evals / t:.3e} gate-evals/s")
    print(f"ratio Kernel / Boolean, forward: {t_bool / t_fwd:.2f}")
    prog2, params2, X2, wir2, tabs2 = setup(n_in, widths, batch, None)
    dY = jnp.asarray(np.random.default_rng(2).random((batch, widths[-1])) < 0.5)
    rev = jax.jit(
        lambda x, t, d: lp.reverse(B.pack(x), t, wir2, B.pack(d), backend="triton")
    )
    t_rev, t_votes = (
        median_s(rev, X2, tabs2, dY),
        median_s(jax.jit(prog2.votes), params2, X2, dY),
    )
    print(
        f"reverse (votes + dx): Kernel {t_rev * 1e3:.3f} ms, Boolean votes "
        f"{t_votes * 1e3:.3f} ms, ratio {t_votes / t_rev:.2f}"
    )


if __name__ == "__main__":
    main()
