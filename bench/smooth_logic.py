"""Training a relaxed logic network under plain ``cl.Smooth()``: samples per
second of one Adam step, against hand-written JAX steps of the same maths,
measured in one run (issue 15's P4 benchmark).

The model: ``cl.logic.network(400, [8000] * 6, 10)`` (48,000 gates, random
wiring, tables relaxed by ``"sin"``, ``group_sum`` with the default ``tau``),
softmax cross-entropy, Adam 1e-2, batch 256, random 0/1 inputs. Steps:

- **Smooth()**: ``cl.learn.train_step`` under ``cl.Smooth()``, whose compile
  pass fuses the LUT chain into one features-first step (the default);
- **Smooth(fused=False)**: the rule table box by box (the reference);
- **Kernel(relaxed=True)**: the explicit spelling of the fused step;
- **hand JAX (batch-first)**: what a JAX user writes for an IWP network
  (Petersen et al., 2022, with catlearn's 4-entry tables): per layer
  ``a = x[:, ia]``, ``b = x[:, ib]``, ``y = c0 + c1 a + c2 b + c3 a b``,
  ``jax.value_and_grad``, ``optax.adam``;
- **hand JAX (features-first)**: the same with activations ``(features,
  batch)``, so that each gather picks whole rows.

The hand steps start from catlearn's parameters and must compute the same
loss before timing. Timing: each step in turn, warm-up then the median of
repeats of several steps (interleaving steps of this size slows each by up
to 2x); ``Smooth()`` again at the end shows the drift. Printed: samples/s
per step and the ratio of ``Smooth()`` to each hand step. Target (issue
15): ``Smooth()`` >= 10,000 samples/s on 2 cores.

Run: ``python bench/smooth_logic.py`` (``--quick`` for a short run).
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

N_IN, WIDTHS, K, BATCH, LR = 400, [8000] * 6, 10, 256, 1e-2
TARGET = 10_000


def hand_step(features_first: bool, wirings: list[Any], tau: float) -> Any:
    """A jitted Adam step of the network written by hand."""
    opt = optax.adam(LR)

    def forward(tables: list[Any], x: Any) -> Any:
        h = x.T if features_first else x
        for w, (ia, ib) in zip(tables, wirings, strict=True):
            s = 0.5 + 0.5 * jnp.sin(w.reshape(-1, 4))  # s00 s01 s10 s11
            c0, c1 = s[:, 0], s[:, 2] - s[:, 0]
            c2, c3 = s[:, 1] - s[:, 0], s[:, 0] - s[:, 1] - s[:, 2] + s[:, 3]
            if features_first:
                a, b = h[ia], h[ib]
                c0, c1, c2, c3 = (c[:, None] for c in (c0, c1, c2, c3))
            else:
                a, b = h[:, ia], h[:, ib]
            h = c0 + c1 * a + c2 * b + c3 * a * b
        if features_first:
            h = h.T
        return h.reshape(h.shape[0], K, -1).sum(-1) / tau

    def loss(tables: list[Any], x: Any, y: Any) -> Any:
        logits = forward(tables, x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    @jax.jit
    def step(tables: list[Any], state: Any, x: Any, y: Any) -> Any:
        value, g = jax.value_and_grad(loss)(tables, x, y)
        u, state = opt.update(g, state, tables)
        return optax.apply_updates(tables, u), state, value

    return step, opt


def median_ms(fn: Any, repeats: int, inner: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            out = fn()
        jax.block_until_ready(out)
        times.append((time.perf_counter() - start) / inner)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats, inner = (3, 2) if args.quick else (9, 4)
    net = cl.logic.network(N_IN, WIDTHS, K, seed=0)
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.random((BATCH, N_IN)) < 0.5, jnp.float32)
    y = jnp.asarray(rng.integers(0, K, BATCH))
    print(f"# relaxed logic training: network({N_IN}, {WIDTHS}, {K}), batch {BATCH}, "
          f"Adam {LR}")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"jax {jax.__version__}, catlearn {cl.__version__}")
    steps: dict[str, Any] = {}
    loss = cl.losses.softmax_cross_entropy
    opt = cl.optim.adam(LR)
    for name, functor in (("Smooth()", cl.Smooth()),
                          ("Smooth(fused=False)", cl.Smooth(fused=False)),
                          ("Kernel(relaxed=True)", cl.Kernel(relaxed=True))):
        prog = functor(net)
        params = prog.init(jax.random.key(0))
        step = jax.jit(cl.learn.train_step(prog, loss, opt))
        state = opt.init(params)
        steps[name] = (lambda s=step, p=params, st=state: s(p, st, x, y))
    layers = [b for b in cl.diagrams.boxes(net) if b.name == "lut_layer"]
    wirings = [tuple(np.asarray(w) for w in cl.diagrams.LutLayerSpec.of(b).wiring)
               for b in layers]
    tau = float(cl.diagrams.GroupSumSpec.of(
        [b for b in cl.diagrams.boxes(net) if b.name == "group_sum"][0]).tau)
    tables = [params[f"net.{i}.table"] for i in range(len(WIDTHS))]
    reference = float(steps["Smooth()"]()[2])
    for ff in (False, True):
        name = f"hand JAX ({'features' if ff else 'batch'}-first)"
        step, hopt = hand_step(ff, wirings, tau)
        state = hopt.init(tables)
        value = float(step(tables, state, x, y)[2])
        if abs(value - reference) > 1e-4 * max(1.0, abs(reference)):
            raise AssertionError(f"{name}: loss {value} != catlearn's {reference}")
        steps[name] = (lambda s=step, st=state: s(tables, st, x, y))
    print(f"check: the hand steps compute catlearn's loss ({reference:.6f})")
    ms = {}
    for name, fn in steps.items():  # one after the other: interleaved steps of
        for _ in range(3):  # this size slow each other down (their buffers),
            jax.block_until_ready(fn())  # by up to 2x; warm-up: 3 steps
        ms[name] = median_ms(fn, repeats, inner)
    again = median_ms(steps["Smooth()"], repeats, inner)
    print(f"{'step':<28} | {'ms':>7} | {'samples/s':>10} | Smooth() speed-up")
    for name, v in ms.items():
        print(f"{name:<28} | {v:>7.1f} | {BATCH / v * 1e3:>10.0f} | "
              f"{v / ms['Smooth()']:.2f}x")
    print(f"Smooth() again at the end: {again:.1f} ms (drift)")
    rate = BATCH / ms["Smooth()"] * 1e3
    print(f"Smooth(): {rate:,.0f} samples/s, target >= {TARGET:,}: "
          f"{'met' if rate >= TARGET else 'missed'}")


if __name__ == "__main__":
    main()
