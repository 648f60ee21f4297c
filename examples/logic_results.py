"""Reproduce every number in ``docs/results.md``: logic networks trained by
gradient descent (``cl.Smooth``) and by Reverse Derivative Ascent
(``cl.Boolean``).

    python examples/logic_results.py monk       # MONK-1/2/3, GD and RDA
    python examples/logic_results.py ablation   # what RDA's margin gate buys
    python examples/logic_results.py iris       # Wilson & Zanasi's iris protocol
    python examples/logic_results.py exact      # 6-multiplexer, 3-bit adder
    python examples/logic_results.py relaxations  # sin, sigmoid, softmax, gumbel
    python examples/logic_results.py all

``--seeds N`` runs seeds ``0 .. N-1`` (default 10, 5 for ``ablation``).
Everything is seeded: the same command prints the same table. Each experiment
takes a few minutes at most on 2 CPU cores; one line per run goes to stderr as
progress.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

import catlearn as cl
from catlearn.datasets import (
    adder,
    load_iris_binary,
    load_monk,
    multiplexer,
)
from catlearn.learn import Loss

B1 = cl.bits(1)

# -- the settings behind docs/results.md ---------------------------------------------
MONK_WIDTHS = [256, 256, 256, 256]  # one network for every MONK problem and method
GD = {"lr": 0.05, "epochs": 300, "batch_size": 32}
RDA = {"epochs": 200, "batch_size": 16}  # with cl.optim.rda()'s defaults
RDA_EXACT_EPOCHS = 1000
EXACT: dict[str, dict[str, Any]] = {
    "6-multiplexer": {
        "data": lambda: multiplexer(2),
        "widths": [64, 64, 32, 16, 8, 4, 2, 1],
        "lr": 0.05,
        "epochs": 500,
        "batch_size": 64,
    },
    "3-bit adder": {
        "data": lambda: adder(3),
        "widths": [128, 128, 128, 64, 32, 16, 8, 4],
        "lr": 0.1,  # at 0.05, 1 seed in 10 keeps a gap of 2 rows (see results)
        "epochs": 1000,
        "batch_size": 16,
    },
}


# -- helpers -----------------------------------------------------------------------
def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def stats(values: Sequence[float]) -> str:
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.3f} [{v.min():.3f}, {v.max():.3f}]"


def n_perfect(values: Sequence[float]) -> str:
    return f"{sum(1 for v in values if v == 1.0)}/{len(values)}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(f"{c!s:<{w}}" for c, w in zip(r, widths)) + " |"  # noqa: E731
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _bits_correct(y: Any, t: Any) -> Any:
    y = jnp.asarray(y).astype(jnp.float32)
    return jnp.all((y > 0.5) == jnp.asarray(t, bool), axis=-1)


def _bits_mse(y: Any, t: Any) -> Any:
    y = jnp.asarray(y).astype(jnp.float32)
    return jnp.mean(jnp.square(y - jnp.asarray(t, jnp.float32)), axis=-1)


BITS_MSE = Loss(
    "bits_mse",
    _bits_mse,
    lambda y, t, dl: cl.losses.mse.reverse(y, jnp.asarray(t, y.dtype), dl),
    correct=_bits_correct,
)
"""``cl.losses.mse`` on output bits, whose accuracy counts an example right
when every output bit, thresholded at 1/2, equals its target: with it
``cl.evaluate`` reports the discretization gap of a circuit with bit outputs."""


# -- 1. MONK's problems: one network, GD and RDA ------------------------------------
def monk(seeds: Sequence[int]) -> str:
    rows = []
    for problem in (1, 2, 3):
        X, y = load_monk(problem, "train", seed=0)
        X_test, y_test = load_monk(problem, "test")
        gd: dict[str, list[float]] = {
            "train": [],
            "test": [],
            "discrete": [],
            "gap": [],
        }
        rda: dict[str, list[float]] = {"train": [], "test": []}
        for s in seeds:
            net = cl.logic.network(17, MONK_WIDTHS, 2, seed=s)
            start = time.perf_counter()
            fit = cl.fit(
                net,
                (X.astype(np.float32), y),
                semantics=cl.Smooth(),
                optimiser=cl.optim.adam(GD["lr"]),
                epochs=GD["epochs"],
                batch_size=GD["batch_size"],
                seed=s,
                progress=False,
            )
            train = cl.evaluate(net, fit.params, (X.astype(np.float32), y))
            test = cl.evaluate(net, fit.params, (X_test.astype(np.float32), y_test))
            gd["train"].append(train["discrete_accuracy"])
            gd["test"].append(test["accuracy"])
            gd["discrete"].append(test["discrete_accuracy"])
            gd["gap"].append(test["discretization_gap"])
            t_gd = time.perf_counter() - start
            start = time.perf_counter()
            b = cl.fit(
                net,
                (X, y),
                semantics=cl.Boolean(),
                loss=cl.losses.hamming,
                optimiser=cl.optim.rda(seed=s),
                epochs=RDA["epochs"],
                batch_size=RDA["batch_size"],
                seed=s,
                progress=False,
            )
            rda["train"].append(_boolean_accuracy(net, b.params, X, y))
            rda["test"].append(_boolean_accuracy(net, b.params, X_test, y_test))
            log(
                f"MONK-{problem} seed {s}: GD test {gd['discrete'][-1]:.3f} "
                f"({t_gd:.1f} s), RDA test {rda['test'][-1]:.3f} "
                f"({time.perf_counter() - start:.1f} s)"
            )
        rows.append(
            [
                f"MONK-{problem}",
                "GD (Smooth, Adam)",
                stats(gd["train"]),
                stats(gd["test"]),
                stats(gd["discrete"]),
                n_perfect(gd["discrete"]),
                f"{max(abs(g) for g in gd['gap']):.3f}",
            ]
        )
        rows.append(
            [
                f"MONK-{problem}",
                "RDA (Boolean)",
                stats(rda["train"]),
                "-",
                stats(rda["test"]),
                n_perfect(rda["test"]),
                "-",
            ]
        )
    header = [
        "problem",
        "training",
        "train acc (circuit)",
        "test acc (relaxed)",
        "test acc (circuit)",
        "test = 100 %",
        "max |gap|",
    ]
    return (
        f"cl.logic.network(17, {MONK_WIDTHS}, 2, seed=s), seeds {_seeds(seeds)}; "
        f"mean [min, max]\n\n" + table(header, rows)
    )


def _boolean_accuracy(net: Any, params: Any, X: Any, y: Any) -> float:
    scores = cl.evaluate(net, params, (X, y), semantics=cl.Boolean())
    return float(scores["accuracy"])


def ablation(seeds: Sequence[int]) -> str:
    """RDA variants on the MONK network: what the margin gate, the balance and
    the flip budget do (batch 16 unless stated)."""
    variants: list[tuple[str, Callable[[int], Any], int]] = [
        ("rda() (defaults: margin 1/16)", lambda s: cl.optim.rda(seed=s), 16),
        ("rda(margin=inf)", lambda s: cl.optim.rda(seed=s, margin=math.inf), 16),
        ("rda(balance=False)", lambda s: cl.optim.rda(seed=s, balance=False), 16),
        ("rda(flips=8)", lambda s: cl.optim.rda(seed=s, flips=8), 16),
        (
            "rda(flips=None, balance=False, margin=inf), batch 1 (the paper's rule)",
            lambda s: cl.optim.rda(flips=None, balance=False, margin=math.inf),
            1,
        ),
        (
            "rda(flips=8, margin=inf), batch 32",
            lambda s: cl.optim.rda(seed=s, flips=8, margin=math.inf),
            32,
        ),
    ]
    rows = []
    for problem in (1, 3):
        X, y = load_monk(problem, "train", seed=0)
        X_test, y_test = load_monk(problem, "test")
        for label, make, batch in variants:
            test = []
            for s in seeds:
                net = cl.logic.network(17, MONK_WIDTHS, 2, seed=s)
                b = cl.fit(
                    net,
                    (X, y),
                    semantics=cl.Boolean(),
                    loss=cl.losses.hamming,
                    optimiser=make(s),
                    epochs=RDA["epochs"],
                    batch_size=batch,
                    seed=s,
                    progress=False,
                )
                test.append(_boolean_accuracy(net, b.params, X_test, y_test))
                log(f"MONK-{problem} {label} seed {s}: test {test[-1]:.3f}")
            rows.append([f"MONK-{problem}", label, stats(test)])
    return (
        f"RDA on cl.logic.network(17, {MONK_WIDTHS}, 2, seed=s), {RDA['epochs']} "
        f"epochs, seeds {_seeds(seeds)}; test accuracy mean [min, max]\n\n"
        + table(["problem", "optimiser", "test acc (circuit)"], rows)
    )


# -- 2. Wilson & Zanasi's iris protocol -----------------------------------------------
def lookup_table(n_inputs: int = 4) -> Any:
    """Their model: one ``n_inputs``-input lookup table (``2^n_inputs``
    parameter bits), here ``cl.logic.lut(n_inputs=4)``: four 2-input LUTs and
    a fixed multiplexer tree, whose reverse derivative in the parameters is
    the error at the one entry an input reads, as for their ``eval``."""
    return cl.logic.lut("iris", n_inputs=n_inputs)


def iris(seeds: Sequence[int]) -> str:
    X, y = load_iris_binary(classes=(0, 1))
    train = np.concatenate([np.flatnonzero(y == c)[:25] for c in (0, 1)])
    test = np.setdiff1d(np.arange(len(y)), train)
    columns = tuple(X[:, j : j + 1] for j in range(X.shape[1]))
    xs = lambda idx: tuple(c[idx] for c in columns)  # noqa: E731
    Y = y[:, None].astype(bool)  # their "binary" labels: one bit, the class id
    model = lookup_table(X.shape[1])
    zeros = {k: np.zeros(t.inside[0].shape, bool) for k, t in model.params.items()}
    accs: dict[str, list[float]] = {"train": [], "test": []}
    for s in seeds:
        fit = cl.fit(
            model,
            (xs(train), Y[train]),
            semantics=cl.Boolean(),
            loss=cl.losses.hamming,
            optimiser=cl.optim.rda(flips=None, balance=False),
            epochs=1,
            batch_size=1,
            seed=s,
            params=zeros,
            progress=False,
        )
        for part, idx in (("train", train), ("test", test)):
            scores = cl.evaluate(
                model,
                fit.params,
                (xs(idx), Y[idx]),
                semantics=cl.Boolean(),
                loss=cl.losses.hamming,
            )
            accs[part].append(scores["accuracy"])
        log(f"iris lookup table seed {s}: test {accs['test'][-1]:.3f}")
    rows = [
        [
            "lut('iris', n_inputs=4)",
            "class id (1 bit)",
            "rda(flips=None, balance=False), batch 1, 1 epoch, from zeros",
            stats(accs["train"]),
            stats(accs["test"]),
        ]
    ]
    # the same split, a cl.logic.network trained by RDA's defaults, for comparison
    net_accs: dict[str, list[float]] = {"train": [], "test": []}
    for s in seeds:
        net = cl.logic.network(4, [64, 64], 2, seed=s)
        fit = cl.fit(
            net,
            (X[train], y[train]),
            semantics=cl.Boolean(),
            loss=cl.losses.hamming,
            optimiser=cl.optim.rda(seed=s),
            epochs=50,
            batch_size=16,
            seed=s,
            progress=False,
        )
        net_accs["train"].append(_boolean_accuracy(net, fit.params, X[train], y[train]))
        net_accs["test"].append(_boolean_accuracy(net, fit.params, X[test], y[test]))
        log(f"iris network seed {s}: test {net_accs['test'][-1]:.3f}")
    rows.append(
        [
            "network(4, [64, 64], 2)",
            "class id (group_sum)",
            "rda(), batch 16, 50 epochs",
            stats(net_accs["train"]),
            stats(net_accs["test"]),
        ]
    )
    header = ["model", "labels", "training", "train acc", "test acc"]
    return (
        "Iris setosa vs versicolor, 4 features min-max scaled over the 100 rows "
        "and thresholded at 0.5; train = first 25 of each class, test = the other "
        f"50; seeds {_seeds(seeds)} (example order); mean [min, max]\n\n"
        + table(header, rows)
    )


# -- 3. exact functions by gradient descent -------------------------------------------
def exact(seeds: Sequence[int]) -> str:
    rows = []
    for name, cfg in EXACT.items():
        X, Y = cfg["data"]()
        Xf, Yf = X.astype(np.float32), Y.astype(np.float32)
        relaxed, circuit, gaps, by_rda = [], [], [], []
        for s in seeds:
            net = cl.logic.network(X.shape[1], cfg["widths"], None, seed=s)
            start = time.perf_counter()
            fit = cl.fit(
                net,
                (Xf, Yf),
                semantics=cl.Smooth(),
                loss=cl.losses.mse,
                optimiser=cl.optim.adam(cfg["lr"]),
                epochs=cfg["epochs"],
                batch_size=cfg["batch_size"],
                seed=s,
                progress=False,
            )
            t_gd = time.perf_counter() - start
            scores = cl.evaluate(net, fit.params, (Xf, Yf), loss=BITS_MSE)
            relaxed.append(scores["accuracy"])
            circuit.append(scores["discrete_accuracy"])
            gaps.append(scores["discretization_gap"])
            # the same circuit by RDA: full batch, sideways moves allowed
            b = cl.fit(
                net,
                (X, Y),
                semantics=cl.Boolean(),
                loss=cl.losses.hamming,
                optimiser=cl.optim.rda(min_votes=0, seed=s),
                epochs=RDA_EXACT_EPOCHS,
                batch_size=X.shape[0],
                seed=s,
                progress=False,
            )
            by_rda.append(_boolean_bits_accuracy(net, b.params, X, Y))
            log(
                f"{name} seed {s}: GD circuit {circuit[-1]:.3f} ({t_gd:.1f} s), "
                f"RDA {by_rda[-1]:.3f}"
            )
        model = f"network({X.shape[1]}, {cfg['widths']}, None)"
        shape = f"{X.shape[0]} x {X.shape[1]} -> {Y.shape[1]}"
        rows.append(
            [
                name,
                shape,
                model,
                f"GD: mse, Adam {cfg['lr']}, {cfg['epochs']} epochs, "
                f"batch {cfg['batch_size']}",
                stats(relaxed),
                stats(circuit),
                n_perfect(circuit),
                f"{max(abs(g) for g in gaps):.3f}",
            ]
        )
        rows.append(
            [
                name,
                shape,
                model,
                f"RDA: rda(min_votes=0), {RDA_EXACT_EPOCHS} epochs, full batch",
                "-",
                stats(by_rda),
                n_perfect(by_rda),
                "-",
            ]
        )
    header = [
        "function",
        "table",
        "model",
        "training",
        "acc (relaxed)",
        "acc (circuit)",
        "exact",
        "max |gap|",
    ]
    return (
        f"Full truth tables; an example is right when every output bit is; seeds "
        f"{_seeds(seeds)}; mean [min, max]\n\n" + table(header, rows)
    )


def _boolean_bits_accuracy(net: Any, params: Any, X: Any, Y: Any) -> float:
    scores = cl.evaluate(
        net, params, (X, Y), semantics=cl.Boolean(), loss=cl.losses.hamming
    )
    return float(scores["accuracy"])


# -- 5. the smooth readings of a gate, side by side --------------------------------
def relaxations(seeds: Sequence[int]) -> str:
    """GD on the MONK network under each relaxation of the learnable gate:
    input-wise sin / sigmoid tables, difflogic's 16-gate softmax, Gumbel
    straight-through; same settings as ``monk``."""
    rows = []
    for problem in (1, 2, 3):
        X, y = load_monk(problem, "train", seed=0)
        X_test, y_test = load_monk(problem, "test")
        for relax in cl.logic.RELAXATIONS:
            test, relaxed, gaps, secs = [], [], [], []
            for s in seeds:
                net = cl.logic.network(17, MONK_WIDTHS, 2, seed=s, relax=relax)
                start = time.perf_counter()
                fit = cl.fit(
                    net,
                    (X.astype(np.float32), y),
                    optimiser=cl.optim.adam(GD["lr"]),
                    epochs=GD["epochs"],
                    batch_size=GD["batch_size"],
                    seed=s,
                    progress=False,
                )
                secs.append(time.perf_counter() - start)
                scores = cl.evaluate(
                    net, fit.params, (X_test.astype(np.float32), y_test)
                )
                test.append(scores["discrete_accuracy"])
                relaxed.append(scores["accuracy"])
                gaps.append(scores["discretization_gap"])
                log(f"MONK-{problem} {relax} seed {s}: test {test[-1]:.3f}")
            rows.append(
                [
                    f"MONK-{problem}",
                    relax,
                    stats(relaxed),
                    stats(test),
                    n_perfect(test),
                    f"{max(abs(g) for g in gaps):.3f}",
                    f"{float(np.mean(secs)):.1f}",
                ]
            )
    header = [
        "problem",
        "relax",
        "test acc (relaxed)",
        "test acc (circuit)",
        "test = 100 %",
        "max |gap|",
        "s / run",
    ]
    return (
        f"cl.logic.network(17, {MONK_WIDTHS}, 2, seed=s, relax=...), Adam "
        f"{GD['lr']}, {GD['epochs']} epochs, batch {GD['batch_size']}; seeds "
        f"{_seeds(seeds)}; mean [min, max]\n\n" + table(header, rows)
    )


def _seeds(seeds: Sequence[int]) -> str:
    return f"{seeds[0]}..{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])


EXPERIMENTS: dict[str, tuple[Callable[[Sequence[int]], str], int]] = {
    # name: (experiment, default number of seeds)
    "monk": (monk, 10),
    "ablation": (ablation, 5),
    "iris": (iris, 10),
    "exact": (exact, 10),
    "relaxations": (relaxations, 10),
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiment", choices=[*EXPERIMENTS, "all"])
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="seeds 0 .. N-1 (default: 10; 5 for ablation)",
    )
    args = parser.parse_args(argv)
    names = list(EXPERIMENTS) if args.experiment == "all" else [args.experiment]
    for name in names:
        experiment, default = EXPERIMENTS[name]
        seeds = list(range(default if args.seeds is None else args.seeds))
        start = time.perf_counter()
        result = experiment(seeds)
        print(
            f"## {name}  ({time.perf_counter() - start:.0f} s)\n\n{result}\n",
            flush=True,
        )


if __name__ == "__main__":
    main()
