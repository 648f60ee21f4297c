"""``catlearn demo``: one logic-gate diagram, ``cl.logic.network(17, ...)``,
trained on MONK-1 under each semantics, with its test accuracies.

Gradient descent trains the smooth relaxation (``cl.Smooth()``, and the fused
``cl.Kernel(relaxed=True)``); the result is discretized and scored as the exact
circuit. Reverse Derivative Ascent trains the circuit itself over Z2
(``cl.Boolean()``, and the fused ``cl.Kernel()``: the same bits, computed
differently).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from .. import learn, logic
from ..datasets import load_monk
from ..functors import Boolean, Functor, Kernel, Smooth
from ._commands import table

FULL: dict[str, Any] = {"widths": [256] * 4, "gd_epochs": 300, "rda_epochs": 200}
QUICK: dict[str, Any] = {"widths": [32, 32], "gd_epochs": 8, "rda_epochs": 4}


def demo(args: argparse.Namespace) -> int:
    size = QUICK if args.quick else FULL
    seed, widths = args.seed, size["widths"]
    X, y = load_monk(1, "train")
    X_test, y_test = load_monk(1, "test")
    net = logic.network(17, widths, 2, seed=seed)
    print(f"one diagram, cl.logic.network(17, {widths}, 2): {sum(widths)} learnable "
          f"gates; MONK-1, {len(y)} training robots, all {len(y_test)} for test\n")
    rows: list[tuple[Any, ...]] = []
    gd_semantics: tuple[Functor, ...] = (Smooth(), Kernel(relaxed=True))
    for semantics in gd_semantics:
        start = time.perf_counter()
        gd = learn.fit(net, (X.astype(np.float32), y), semantics=semantics,
                       optimiser=learn.optim.adam(0.05), epochs=size["gd_epochs"],
                       batch_size=32, seed=seed, progress=False)
        scores = learn.evaluate(net, gd.params, (X_test.astype(np.float32), y_test))
        rows.append((f"gradient descent (Adam), {semantics!r}", size["gd_epochs"],
                     scores["accuracy"], scores["discrete_accuracy"],
                     f"{time.perf_counter() - start:.1f}"))
    rda_semantics: tuple[Functor, ...] = (Boolean(), Kernel())
    for semantics in rda_semantics:
        start = time.perf_counter()
        rda = learn.fit(net, (X, y), semantics=semantics, loss=learn.losses.hamming,
                        optimiser=learn.optim.rda(seed=seed),
                        epochs=size["rda_epochs"], batch_size=16, seed=seed,
                        progress=False)
        exact = learn.evaluate(net, rda.params, (X_test, y_test), semantics=semantics)
        rows.append((f"RDA over Z2, {semantics!r}", size["rda_epochs"], None,
                     exact["accuracy"], f"{time.perf_counter() - start:.1f}"))
    print(table(rows, ("training, semantics", "epochs", "test acc (relaxed)",
                       "test acc (exact circuit)", "seconds")))
    if args.quick:
        print("\n(--quick: a small network and a few epochs; run 'catlearn demo' "
              "for the full run)")
    return 0
