"""catlearn demo: one diagram, trained on iris, one row per semantics.

Run with ``make demo`` (or ``python examples/demo.py``). It builds the string
diagram ``cl.nn.mlp([4, 16, 3])``, draws it to ``out/iris_mlp.png``, trains it
under each semantics that has a row function below, prints a results table, and
exits with status 1 if any row misses its held-out accuracy target (0.95).

Protocol: stratified 10-fold cross-validation on the bundled iris table (fold
seed 0). Each flower is predicted once, by the model trained on the nine other
folds, with features standardised by that training set's statistics; the
held-out accuracy is the share of the 150 predictions that are right. A single
70/30 split is a lottery on 45 flowers (a few versicolor and virginica overlap):
over splits 0-19 this MLP scores 0.867-1.000, as scikit-learn's logistic
regression (0.889-1.000) and RBF SVM (0.911-1.000) do. Cross-validation uses
every example and is steadier: 0.967, 0.960, 0.953 and 0.953 for fold seeds
0-3 (measured 2026-11-23, training seed 0, 50 epochs).

Adding a semantics means writing one function ``(X, y, folds, seed, epochs)
-> row`` and listing it in ``ROWS``.

Second part: one logic-gate diagram, ``cl.logic.network(17, ...)``, trained
both ways on MONK-1 (432 robots, generated from the rule, 124 for training):
by gradient descent through its smooth relaxation (``cl.Smooth()``, then
discretized and run exactly under ``cl.Boolean()``), and by Reverse Derivative
Ascent directly in the Boolean category; and each again under ``cl.Kernel()``,
the fused kernels (the same results, computed differently). Its picture goes
to ``out/monk_network.png``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import catlearn as cl
from catlearn.datasets import load_iris, load_monk, stratified_folds

SIZES = [4, 16, 3]
TARGET = 0.95  # held-out accuracy every row must reach
OUT = Path(__file__).resolve().parent.parent / "out"


def model() -> cl.Diagram:
    return cl.nn.mlp(SIZES)


def standardise(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Scale features with the training set's mean and standard deviation."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    return [(a - mean) / std for a in (train, *others)]


# -- one function per semantics: (X, y, folds, seed, epochs) -> row -----------------
def smooth_row(
    X: np.ndarray, y: np.ndarray, folds: np.ndarray, seed: int, epochs: int
) -> dict[str, Any]:
    """``cl.Smooth()``: float arrays, gradient descent with Adam."""
    diagram, semantics = model(), cl.Smooth()
    loss = cl.losses.softmax_cross_entropy
    start = time.perf_counter()
    right, train_acc, final_loss = 0.0, [], []
    for i in range(folds.max() + 1):
        test = folds == i
        X_train, X_test = standardise(X[~test], X[test])
        result = cl.fit(
            diagram,
            (X_train, y[~test]),
            semantics=semantics,
            loss=loss,
            optimiser=cl.optim.adam(1e-2),
            epochs=epochs,
            batch_size=16,
            seed=seed,
            progress=False,
        )
        scores = cl.evaluate(diagram, result.params, (X_test, y[test]), semantics, loss)
        right += scores["accuracy"] * scores["n"]
        train = cl.evaluate(
            diagram, result.params, (X_train, y[~test]), semantics, loss
        )
        train_acc.append(train["accuracy"])
        final_loss.append(result.history[-1]["loss"])
    return {
        "semantics": "Smooth (JAX, Adam)",
        "train acc": float(np.mean(train_acc)),
        "held-out acc": right / len(y),
        "final loss": float(np.mean(final_loss)),  # last epoch, mean over folds
        "wall s": time.perf_counter() - start,
        "target": TARGET,
    }


ROWS: list[Callable[..., dict[str, Any]]] = [smooth_row]


# -- one logic diagram, two semantics ------------------------------------------------
LOGIC_WIDTHS = [256, 256, 256, 256]  # the network of docs/results.md


def logic_network() -> cl.Diagram:
    return cl.logic.network(17, LOGIC_WIDTHS, n_classes=2, seed=0)


def logic_rows(seed: int) -> list[dict[str, Any]]:
    """The MONK-1 network trained by GD and by RDA, each under its reference
    semantics (Smooth, Boolean) and under the fused Kernel."""
    X, y = load_monk(1, "train", seed=seed)
    X_test, y_test = load_monk(1, "test")
    net = logic_network()
    rows = []
    for label, semantics in (
        ("GD, Smooth relaxation", cl.Smooth()),
        ("GD, Kernel(relaxed=True), fused", cl.Kernel(relaxed=True)),
    ):
        start = time.perf_counter()
        gd = cl.fit(
            net,
            (X.astype(np.float32), y),
            semantics=semantics,
            optimiser=cl.optim.adam(0.05),
            epochs=300,
            batch_size=32,
            seed=seed,
            progress=False,
        )
        scores = cl.evaluate(net, gd.params, (X_test.astype(np.float32), y_test))
        rows.append(
            {
                "training": label,
                "test acc (relaxed)": scores["accuracy"],
                "test acc (exact circuit)": scores["discrete_accuracy"],
                "wall s": time.perf_counter() - start,
            }
        )
    for label, semantics in (
        ("RDA, Boolean circuit", cl.Boolean()),
        ("RDA, Kernel(), fused circuit", cl.Kernel()),
    ):
        start = time.perf_counter()
        rda = cl.fit(
            net,
            (X, y),
            semantics=semantics,
            loss=cl.losses.hamming,
            optimiser=cl.optim.rda(seed=seed),
            epochs=200,
            batch_size=16,
            seed=seed,
            progress=False,
        )
        exact = cl.evaluate(net, rda.params, (X_test, y_test), semantics=semantics)
        rows.append(
            {
                "training": label,
                "test acc (relaxed)": float("nan"),
                "test acc (exact circuit)": exact["accuracy"],
                "wall s": time.perf_counter() - start,
            }
        )
    return rows


# -- table ------------------------------------------------------------------------
COLUMNS = ("semantics", "train acc", "held-out acc", "final loss", "wall s")


def table(rows: list[dict[str, Any]], columns: tuple[str, ...] = COLUMNS) -> str:
    """Rows as aligned text; numbers with 3 decimals (wall time with 1)."""

    def cell(key: str, value: Any) -> str:
        if isinstance(value, str):
            return value
        if value != value:  # nan: not applicable
            return "-"
        return f"{value:.1f}" if key == "wall s" else f"{value:.3f}"

    cells = [[cell(k, row[k]) for k in columns] for row in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(columns)]

    def line(values: Any) -> str:
        # the first column (names) left-aligned, numbers right-aligned
        padded = [v.rjust(w) for v, w in zip(values, widths, strict=True)]
        padded[0] = values[0].ljust(widths[0])
        return "  ".join(padded)

    lines = [line(columns), "  ".join("-" * w for w in widths)]
    lines += [line(c) for c in cells]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--fold-seed", type=int, default=0, help="CV fold seed")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--out", type=Path, default=OUT, help="picture folder")
    args = parser.parse_args(argv)

    X, y = load_iris()
    folds = stratified_folds(y, k=args.folds, seed=args.fold_seed)
    diagram = model()
    n_boxes = len(list(cl.diagrams.boxes(diagram)))
    print(
        f"model: cl.nn.mlp({SIZES}), {n_boxes} boxes, parameters {list(diagram.params)}"
    )
    print(
        f"data: iris, {len(y)} flowers, stratified {args.folds}-fold "
        f"cross-validation (fold seed {args.fold_seed}), training seed "
        f"{args.seed}, {args.epochs} epochs per fold\n"
    )

    args.out.mkdir(parents=True, exist_ok=True)
    picture = args.out / "iris_mlp.png"
    diagram.draw(
        str(picture),
        figsize=(8, 11),
        fontsize=14,
        fontsize_types=11,
        margins=(0.1, 0.05),
    )

    rows = [row(X, y, folds, args.seed, args.epochs) for row in ROWS]
    print(table(rows))
    print(f"\ndiagram picture written to {picture}")

    net = logic_network()
    print(
        f"\none logic diagram, three semantics: cl.logic.network(17, {LOGIC_WIDTHS}, "
        f"2), {sum(LOGIC_WIDTHS)} learnable gates; MONK-1, 124 training robots, "
        "all 432 for test\n"
    )
    logic_picture = args.out / "monk_network.png"
    net.draw(str(logic_picture), figsize=(7, 6), fontsize=13, fontsize_types=10)
    columns = ("training", "test acc (relaxed)", "test acc (exact circuit)", "wall s")
    print(table(logic_rows(args.seed), columns))
    print(f"\nlogic diagram picture written to {logic_picture}")

    missed = [r for r in rows if r["held-out acc"] < r["target"]]
    for r in missed:
        print(
            f"FAILED: {r['semantics']} held-out accuracy {r['held-out acc']:.3f} < "
            f"target {r['target']:.2f}",
            file=sys.stderr,
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
