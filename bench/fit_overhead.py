"""What ``cl.fit`` costs around its compiled step: a whole ``fit`` against a
hand-written jax + optax loop that trains the same model on the same batches
with the same optimiser, measured in one run.

The model: ``cl.nn.mlp([784, 256, 256, 10])`` (ReLU), softmax cross-entropy,
Adam 1e-3, batch 128, 5,120 synthetic examples (40 steps an epoch; inputs
drawn normal, labels from a random linear teacher, both seeded). The hand
loop is what a JAX user writes: the data on the device once, a jitted
``value_and_grad`` + ``optax.adam`` step over the same parameter dict, the
epoch's order from ``np.random.default_rng(seed).permutation`` as ``fit``
draws it, a Python loop over the batches, the epoch's mean loss read at the
end of each epoch. Both start from the same parameters; the script checks
that they end at the same parameters (to float tolerance) before timing.

Timing: each loop runs once untimed (compilation, and catlearn's cache of
compiled steps, warm for both), then repeats of the whole call, the two
interleaved in alternating order to cancel drift; the median wall time per
call and the ratio fit / hand loop at 1, 3 and 10 epochs (targets: <= 1.2 at
1 epoch, <= 1.05 at 10). Also printed: the first (cold) call of each.

Run: ``python bench/fit_overhead.py`` (``--quick``: fewer repeats).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import catlearn as cl

SIZES = [784, 256, 256, 10]
BATCH = 128
N = 40 * BATCH
LR = 1e-3
TARGETS = {1: 1.2, 3: None, 10: 1.05}


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, SIZES[0])).astype(np.float32)
    teacher = rng.normal(size=(SIZES[0], SIZES[-1])).astype(np.float32)
    return X, np.argmax(X @ teacher, axis=1).astype(np.int32)


DIAGRAM = cl.nn.mlp(SIZES)
PROGRAM = cl.Smooth()(DIAGRAM)
OPT = optax.adam(LR)


def apply(p: dict[str, Any], x: Any) -> Any:
    n = len(SIZES) - 1
    for i in range(n):
        x = x @ p[f"mlp.{i}.w"] + p[f"mlp.{i}.b"]
        if i < n - 1:
            x = jax.nn.relu(x)
    return x


@jax.jit
def hand_step(p: Any, s: Any, x: Any, y: Any) -> tuple[Any, Any, Any]:
    def loss(p: Any) -> Any:
        return optax.softmax_cross_entropy_with_integer_labels(apply(p, x), y).mean()

    value, g = jax.value_and_grad(loss)(p)
    u, s = OPT.update(g, s, p)
    return optax.apply_updates(p, u), s, value


def hand_loop(params: Any, X: Any, y: Any, epochs: int, seed: int = 0) -> Any:
    """The baseline: what a JAX user writes (data on the device once)."""
    Xd, yd = jnp.asarray(X), jnp.asarray(y)
    state = OPT.init(params)
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        order = jnp.asarray(rng.permutation(len(X)))
        total = 0.0
        for lo in range(0, len(X), BATCH):
            idx = order[lo : lo + BATCH]
            params, state, value = hand_step(params, state, Xd[idx], yd[idx])
            total = total + value * len(idx)
        history.append(float(total) / len(X))
    return params, history


def catlearn_fit(params: Any, X: Any, y: Any, epochs: int, seed: int = 0) -> Any:
    result = cl.fit(DIAGRAM, (X, y), optimiser=optax.adam(LR), epochs=epochs,
                    batch_size=BATCH, seed=seed, params=params, progress=False)
    return result.params, [row["loss"] for row in result.history]


def timed(fn: Any, *args: Any) -> float:
    start = time.perf_counter()
    out = fn(*args)
    jax.block_until_ready(out[0])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    X, y = data()
    params = PROGRAM.init(jax.random.key(0))
    print(f"# fit overhead: mlp {SIZES}, batch {BATCH}, {N // BATCH} steps an epoch,"
          f" Adam {LR}")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"jax {jax.__version__}, catlearn {cl.__version__}")
    cold = {"fit": timed(catlearn_fit, params, X, y, 1),
            "hand": timed(hand_loop, params, X, y, 1)}
    print(f"first call (compiles), 1 epoch: fit {cold['fit']:.3f} s, hand loop "
          f"{cold['hand']:.3f} s")
    # the same training: same batches, same optimiser, same result
    p_fit, h_fit = catlearn_fit(params, X, y, 3)
    p_hand, h_hand = hand_loop(params, X, y, 3)
    for k in p_fit:
        np.testing.assert_allclose(p_fit[k], p_hand[k], rtol=2e-3, atol=2e-5)
    np.testing.assert_allclose(h_fit, h_hand, rtol=1e-4)
    print("check: fit and the hand loop end at the same parameters and losses")
    print(f"{'epochs':>6} | {'fit (s)':>9} | {'hand loop (s)':>13} | {'ratio':>6} | "
          "target")
    for epochs, target in TARGETS.items():
        times: dict[str, list[float]] = {"fit": [], "hand": []}
        for r in range(repeats):
            order = [("fit", catlearn_fit), ("hand", hand_loop)]
            for name, fn in order if r % 2 == 0 else order[::-1]:
                times[name].append(timed(fn, params, X, y, epochs))
        f, h = statistics.median(times["fit"]), statistics.median(times["hand"])
        goal = "-" if target is None else f"<= {target}"
        print(f"{epochs:>6} | {f:>9.3f} | {h:>13.3f} | {f / h:>6.3f} | {goal}")


if __name__ == "__main__":
    main()
