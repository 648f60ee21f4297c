"""Training a convolutional logic network: ``cl.Kernel(relaxed=True)`` against
``cl.Smooth(fused=False)`` (the rule table box by box: what ``cl.Smooth()``
ran before it fused LUT chains itself, in session 7), the same diagram and
the same Adam step, in one run.

The model is an MNIST-1D-sized convolutional logic network: signals of 8
thermometer channels of length 40 (``bits(8, 40)``), ``cl.logic.conv`` with
``--channels`` output channels, kernel 5 and trees of depth 3 (7 gates per
tree and position), OR pooling by 2, a second convolution, pooling, a layer
of 4,000 gates and ``group_sum`` into 10 classes. Under ``Smooth`` every
level of gates is a gather and a relaxed table per gate, examples first;
``Kernel(relaxed=True)`` runs each chain of levels (the convolutions' too:
their tables reach the layers through ``tile``) as one fused ``custom_vjp``
kernel pair, features first.

Printed: the median time of one jitted ``cl.learn.train_step`` (softmax
cross-entropy, Adam) per semantics, samples/s, and the ratio
Smooth / Kernel(relaxed). Target (issue 14): >= 5x. Both steps are checked to
give the same loss first.

Run: ``python bench/conv_training.py`` (``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_throughput import median_ms  # noqa: E402

import catlearn as cl  # noqa: E402

TARGET = 5.0


def model(channels: int) -> Any:
    L = cl.logic
    c1 = L.conv((8, 40), channels, kernel=5, depth=3, name="c1", seed=0)  # (c, 36)
    c2 = L.conv((channels, 18), 2 * channels, kernel=5, depth=3, name="c2", seed=1)
    body = c1 >> L.or_pool((channels, 36), 2) >> c2 >> L.or_pool((2 * channels, 14), 2)
    body = body >> L.flatten(2 * channels, 7)
    return body >> L.network(14 * channels, [4000], 10, seed=2, name="head")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    repeats = 3 if args.quick else 9
    net = model(args.channels)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.random((args.batch, 8, 40)) < 0.5, jnp.float32)
    y = jnp.asarray(rng.integers(0, 10, args.batch))
    opt = cl.optim.adam(1e-2)
    gates = cl.logic.count(net, cl.Boolean()(net).init(jax.random.key(0)), luts=False)
    print(f"model: {net.dom} -> {net.cod}, {gates.gates:,} gates; batch {args.batch}")
    ms, losses = {}, {}
    params = cl.Smooth()(net).init(jax.random.key(0))
    for name, functor in (("Smooth", cl.Smooth(fused=False)),
                          ("Kernel(relaxed)", cl.Kernel(relaxed=True))):
        prog = functor(net)
        state = opt.init(params)
        step = jax.jit(cl.learn.train_step(prog, cl.losses.softmax_cross_entropy, opt))
        losses[name] = float(step(params, state, x, y)[2])

        def once(step: Any = step, state: Any = state) -> Any:
            return jax.block_until_ready(step(params, state, x, y))

        ms[name] = median_ms(once, repeats, 2)
    assert np.isclose(losses["Smooth"], losses["Kernel(relaxed)"], rtol=1e-4), losses
    for name, t in ms.items():
        print(f"  {name:<17}{t:>9.1f} ms  {args.batch / t * 1e3:>10.0f} samples/s")
    ratio = ms["Smooth"] / ms["Kernel(relaxed)"]
    verdict = "meets" if ratio >= TARGET else "misses"
    print(f"  speed-up Kernel(relaxed) / Smooth: {ratio:.2f}x ({verdict} the "
          f"{TARGET:.0f}x target)")


if __name__ == "__main__":
    main()
