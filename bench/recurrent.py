"""A recurrent model's training step: ``cl.nn.recurrent`` read by
``jax.lax.scan`` (the default, one ``recurrent`` box) against the same loop
unrolled (``scan=False``) and against a hand-written ``jax.lax.scan`` RNN
with ``jax.value_and_grad``, measured in one run.

The model: a tanh cell ``h @ x -> h`` (``h = tanh(h W + x U + b)``, 64
units, 8 inputs per step), ``steps`` steps, then a linear read-out to 10
classes, softmax cross-entropy, SGD; batch 128, random data (seeded). For
each ``steps`` in 10, 50, 200: the time to the first step (trace, compile,
run: what grows with an unrolled loop) and the median steady-state step time,
for the three. The script checks first that the three compute the same
gradient.

Run: ``python bench/recurrent.py`` (``--steps 10 50`` to choose).
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

import catlearn as cl

H, X, CLASSES, BATCH = 64, 8, 10, 128


def model(steps: int, scan: bool) -> cl.Diagram:
    cell = (cl.nn.linear(H, H, name="hh") @ cl.nn.linear(X, H, name="xh")
            ) >> cl.nn.add(H) >> cl.nn.bias(H, name="hb") >> cl.nn.tanh(H)
    return cl.nn.recurrent(cell, steps, scan=scan) >> cl.nn.linear(H, CLASSES,
                                                                    name="out")


def catlearn_step(steps: int, scan: bool):
    program = cl.Smooth()(model(steps, scan))

    @jax.jit
    def step(params, xs, y):
        logits, back = program.lens(params, xs)
        p = jax.nn.softmax(logits)
        dlogits = (p - jax.nn.one_hot(y, CLASSES)) / y.shape[0]
        grads, _ = back((dlogits,))
        return {k: params[k] - 0.1 * grads[k] for k in params}, grads

    return program, step


def hand_step():
    def loss(p, xs, y):
        def cell(h, x):
            return jnp.tanh(h @ p["hh.w"] + x @ p["xh.w"] + p["hb.b"]), None

        h0 = jnp.broadcast_to(p["rnn.h0"], (xs.shape[1], H))
        h, _ = jax.lax.scan(cell, h0, xs)
        logits = h @ p["out.w"]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits),
                                             y[:, None], axis=1))

    @jax.jit
    def step(params, xs, y):
        grads = jax.grad(loss)(params, jnp.stack(xs), y)
        return {k: params[k] - 0.1 * grads[k] for k in params}, grads

    return step


def first_call(step, params, xs, y) -> tuple[float, dict]:
    t0 = time.perf_counter()
    grads = jax.block_until_ready(step(params, xs, y))[1]
    return time.perf_counter() - t0, grads


def timed(step, params, xs, y, repeats: int = 20) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(step(params, xs, y))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, nargs="+", default=[10, 50, 200])
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"jax {jax.__version__}, {jax.devices()[0].platform}; tanh RNN {H} units, "
          f"{X} inputs per step, batch {BATCH}")
    print(f"{'steps':>5} | {'first step (s): scan / unrolled / hand':>40} | "
          f"{'step (ms): scan / unrolled / hand':>34} | scan/hand")
    for steps in args.steps:
        xs = tuple(jnp.asarray(rng.normal(size=(BATCH, X)), jnp.float32)
                   for _ in range(steps))
        y = jnp.asarray(rng.integers(0, CLASSES, BATCH))
        program, scanned = catlearn_step(steps, True)
        _, unrolled = catlearn_step(steps, False)
        hand = hand_step()
        params = program.init(jax.random.key(1))
        params["rnn.h0"] = jnp.zeros(H)  # the hand loop's start, as catlearn's
        firsts, grads = zip(*(first_call(f, params, xs, y)
                              for f in (scanned, unrolled, hand)), strict=True)
        for g in grads[1:]:
            for k in grads[0]:
                np.testing.assert_allclose(grads[0][k], g[k], rtol=2e-3, atol=1e-5)
        rows = [timed(f, params, xs, y) for f in (scanned, unrolled, hand)]
        first = " / ".join(f"{t:.2f}" for t in firsts)
        step = " / ".join(f"{1e3 * t:.2f}" for t in rows)
        print(f"{steps:>5} | {first:>40} | {step:>34} | {rows[0] / rows[2]:.2f}")


if __name__ == "__main__":
    main()
