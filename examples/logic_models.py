"""Reproduce the model-language results of ``docs/results.md`` (issue 14):
learned wiring, convolutional logic networks and encoders, each trained by
gradient descent, discretized, and verified as an exact circuit.

    python examples/logic_models.py monk      # MONK-1/3 with learned wiring, MONK-2
    python examples/logic_models.py digits    # 8x8 digits, convolutional logic
    python examples/logic_models.py mnist1d   # MNIST-1D, convolutional logic
    python examples/logic_models.py all

``--seeds N`` runs seeds ``0 .. N-1`` (default 5 for MONK, 3 otherwise);
``--luts`` adds yosys/ABC LUT-6 counts (needs yosys). Every row's circuit is
checked bit for bit: ``cl.Kernel()`` against ``cl.Boolean()`` on the whole test
set. The settings below were chosen on a validation split carved from the
training data (25 % for MONK, 20 % otherwise), never on the test split; the
runs here train on the whole training split and report the test split.
Baselines run in the same script on the same data (and the same encoded bits
where the baseline is a logic network).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import catlearn as cl
from catlearn.datasets import load_monk

L = cl.logic

# -- the settings behind docs/results.md (chosen on validation splits) ---------------
MONK = {  # problem: (widths, tau); learned wiring, Adam 0.05, 300 epochs, batch 32
    1: ([64, 32, 16], 1.0),
    3: ([32, 16], None),  # None: the default tau, sqrt(widths[-1] / 2)
}
RANDOM_BASELINE = [256, 256, 256, 256]  # today's random-wired 1,024-gate network
# MONK-2 ("exactly two attributes take their first value"): 6 wires chosen by a
# softmax select, sorted (their count in unary), 8 gates of 6 inputs reading
# the sorted bits; tables drawn normal, tau 1, Adam 0.05, 150 epochs. Up to
# RESTARTS starts per seed, the first that fits the training set kept (judged
# on the training set only). Validation (25 %): 7 of 8 starts exact with gates
# of 6 inputs, 4 of 8 with 16 gates of 2.
MONK2_SORT = {"chosen": 6, "gates": 8, "n_inputs": 6, "tau": 1.0, "epochs": 150,
              "restarts": 8}
DIGITS = {"levels": 3, "channels": 128, "head": 8000, "tau": 15.0, "lr": 0.02,
          "epochs": 60, "batch_size": 64}
MNIST1D = {"levels": 8, "channels": 64, "channels2": 128, "kernel": 5, "depth": 3,
           "head": 8000, "tau": 20.0, "lr": 0.01, "epochs": 40, "batch_size": 64}


# -- helpers -----------------------------------------------------------------------
def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def stats(values: Sequence[float]) -> str:
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.3f} [{v.min():.3f}, {v.max():.3f}]"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c) for c in r] for r in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(r: Sequence[str]) -> str:
        padded = (c.ljust(w) for c, w in zip(r, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


class Run:
    """One trained model: its exact circuit scored and checked."""

    def __init__(self, model: Any, circuit: Any, result: Any, seconds: float,
                 X_test: Any, y_test: Any, luts: bool) -> None:
        params = cl.discretize(model, result.params)
        relaxed = cl.evaluate(model, result.params, (X_test, y_test))
        exact = cl.evaluate(model, params, (X_test, y_test), semantics=cl.Boolean())
        boolean = np.asarray(cl.Boolean()(model)(params, X_test))
        kernel = cl.Kernel()(model)
        fused = np.asarray(kernel(params, X_test))
        if not np.array_equal(fused, boolean):
            raise AssertionError("Kernel and Boolean disagree on the test set")
        start = time.perf_counter()
        for _ in range(3):
            jax.block_until_ready(kernel(params, X_test))
        self.throughput = 3 * len(X_test) / (time.perf_counter() - start)
        self.relaxed, self.exact = relaxed["accuracy"], exact["accuracy"]
        self.gap = self.relaxed - self.exact
        self.count = cl.logic.count(circuit, params, luts=luts)
        self.seconds = seconds


def train(model: Any, X: Any, y: Any, seed: int, lr: float, epochs: int,
          batch_size: int, semantics: Any = None) -> tuple[Any, float]:
    start = time.perf_counter()
    result = cl.fit(model, (X, y), semantics=semantics or cl.Smooth(),
                    optimiser=cl.optim.adam(lr), epochs=epochs, batch_size=batch_size,
                    seed=seed, progress=False)
    return result, time.perf_counter() - start


def rows_of(name: str, runs: list[Run], target: str) -> list[Any]:
    c = runs[0].count
    luts = "-" if c.luts is None else f"{c.luts:,}"
    return [name, stats([r.exact for r in runs]), stats([r.relaxed for r in runs]),
            f"{max(abs(r.gap) for r in runs):.3f}", f"{c.gates:,} / {c.gates_folded:,}",
            luts, f"{np.mean([r.seconds for r in runs]):.0f} s",
            f"{np.mean([r.throughput for r in runs]):,.0f}", target]


HEADER = ["model", "test acc (circuit)", "test acc (relaxed)", "max abs(gap)",
          "gates (built / folded)", "LUT-6", "train time", "Kernel samples/s", "target"]


# -- MONK: learned wiring ------------------------------------------------------------
def monk(seeds: Sequence[int], luts: bool) -> str:
    out = []
    for problem in (1, 2, 3):
        X, y = load_monk(problem, "train")
        Xt, yt = load_monk(problem, "test")
        widths, tau = MONK.get(problem, ([64, 32, 16], 1.0))
        runs, base = [], []
        for s in seeds:
            net = L.network(17, widths, 2, seed=s, tau=tau, wiring="learned")
            res, sec = train(net, X, y, s, 0.05, 300, 32)
            runs.append(Run(net, net, res, sec, Xt, yt, luts))
            log(f"MONK-{problem} learned seed {s}: {runs[-1].exact:.3f}")
            ref = L.network(17, RANDOM_BASELINE, 2, seed=s)
            res, sec = train(ref, X, y, s, 0.05, 300, 32)
            base.append(Run(ref, ref, res, sec, Xt, yt, luts))
            log(f"MONK-{problem} random seed {s}: {base[-1].exact:.3f}")
        target = {1: "100 %", 2: ">= 99 %", 3: ">= 97 %"}[problem]
        if problem == 2:
            sorted_runs = [monk2_sort(s, X, y, Xt, yt, luts) for s in seeds]
            m = MONK2_SORT
            name = (f"MONK-2, softmax select {m['chosen']} >> sort >> "
                    f"{m['gates']} LUT-{m['n_inputs']}")
            out.append(rows_of(name, sorted_runs, target))
        out.append(rows_of(f"MONK-{problem}, learned wiring {widths}", runs, target))
        out.append(rows_of(f"MONK-{problem}, random wiring {RANDOM_BASELINE}", base,
                           "(baseline)"))
    return table(HEADER, out)


def monk2_sort(seed: int, X: Any, y: Any, Xt: Any, yt: Any, luts: bool) -> Run:
    """MONK-2 by a counting prior: the chosen wires' count, in unary
    (``cl.logic.sort``), read by a layer of gates; restarts (seeds ``10 seed +
    r``) until one fits the training set, judged on the training set only."""
    m, total = MONK2_SORT, 0.0
    n = m["chosen"]
    body = L.select(17, n, name="pick", relax="softmax") >> L.sort(n)
    for r in range(m["restarts"]):
        s = 10 * seed + r
        net = body >> L.network(n, [m["gates"]], 2, seed=s, name="out", tau=m["tau"],
                                init="normal", n_inputs=m["n_inputs"])
        res, sec = train(net, X, y, s, 0.05, m["epochs"], 32)
        total += sec
        hard = cl.discretize(net, res.params)
        fit = cl.evaluate(net, hard, (X, y), semantics=cl.Boolean())["accuracy"]
        if fit == 1.0:
            break
    run = Run(net, net, res, total, Xt, yt, luts)
    log(f"MONK-2 sort seed {seed}: {run.exact:.3f} ({r + 1} starts)")
    return run


# -- digits: convolutional logic -------------------------------------------------------
def digits_data() -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return tuple(train_test_split(X, y, test_size=0.2, stratify=y, random_state=0))


def digits_encoder() -> Any:
    k = DIGITS["levels"]
    thresholds = [[(i + 1) * 16 / (k + 1) for i in range(k)]] * 64
    encoder = L.thermometer(thresholds=thresholds, order="level")
    return encoder >> L.reshape((k * 64,), (k, 8, 8))


def digits_model(seed: int) -> tuple[Any, Any]:
    k, ch = DIGITS["levels"], DIGITS["channels"]
    encoder = digits_encoder()
    circuit = L.conv((k, 8, 8), ch, kernel=3, depth=2, name="c1", seed=seed)
    circuit = circuit >> L.or_pool((ch, 6, 6), 2) >> L.flatten(ch, 3, 3)
    circuit = circuit >> L.network(ch * 9, [DIGITS["head"]], 10, seed=seed + 1,
                                   name="head", tau=DIGITS["tau"])
    return encoder >> circuit, circuit


def digits(seeds: Sequence[int], luts: bool) -> str:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    X, Xt, y, yt = digits_data()
    runs = []
    for s in seeds:
        model, circuit = digits_model(s)
        res, sec = train(model, X, y, s, DIGITS["lr"], DIGITS["epochs"],
                         DIGITS["batch_size"], cl.Kernel(relaxed=True))
        runs.append(Run(model, circuit, res, sec, Xt, yt, luts))
        log(f"digits conv seed {s}: {runs[-1].exact:.3f}")
    rows = [rows_of("conv logic (thermometer 3, conv 128 x 3x3 depth 2, OR pool, "
                    "8,000 gates)", runs, ">= 98 %")]
    encoder = digits_encoder()
    fc = np.asarray(cl.Boolean()(encoder)({}, X)).reshape(len(X), -1)
    fc_t = np.asarray(cl.Boolean()(encoder)({}, Xt)).reshape(len(Xt), -1)
    base = []
    for s in seeds:
        net = L.network(fc.shape[1], [2000, 2000], 10, seed=s)
        res, sec = train(net, fc, y, s, 0.02, 60, 64, cl.Kernel(relaxed=True))
        base.append(Run(net, net, res, sec, fc_t, yt, luts))
    rows.append(rows_of("fully connected logic, random wiring (same bits)", base,
                        "(baseline)"))
    mlp = MLPClassifier(max_iter=1000, random_state=0)
    logistic = LogisticRegression(max_iter=5000)
    for name, clf in (("sklearn MLP (100 hidden)", mlp),
                      ("sklearn logistic regression", logistic)):
        acc = clf.fit(X / 16, y).score(Xt / 16, yt)
        rows.append([name, f"{acc:.3f}", "-", "-", "-", "-", "-", "-", "(baseline)"])
    return table(HEADER, rows)


# -- MNIST-1D: convolutional logic ----------------------------------------------------
def mnist1d_data() -> tuple[Any, Any, Any, Any]:
    from mnist1d.data import get_dataset_args, make_dataset

    d = make_dataset(get_dataset_args())  # generated here: no download
    return d["x"], d["x_test"], d["y"], d["y_test"]


def mnist1d_model(seed: int, X: Any) -> tuple[Any, Any]:
    c = MNIST1D
    k, ch, ch2, kern = c["levels"], c["channels"], c["channels2"], c["kernel"]
    q = np.quantile(X, np.arange(1, k + 1) / (k + 1))  # one scale for every position
    encoder = L.thermometer(thresholds=[list(q)] * 40, order="level")
    encoder = encoder >> L.reshape((k * 40,), (k, 40))
    n1 = 40 - kern + 1
    m2 = n1 // 2 - kern + 1
    circuit = L.conv((k, 40), ch, kernel=kern, depth=c["depth"], name="c1", seed=seed)
    circuit = circuit >> L.or_pool((ch, n1), 2)
    circuit = circuit >> L.conv((ch, n1 // 2), ch2, kernel=kern, depth=c["depth"],
                                name="c2", seed=seed + 1)
    circuit = circuit >> L.or_pool((ch2, m2), 2) >> L.flatten(ch2, m2 // 2)
    circuit = circuit >> L.network(ch2 * (m2 // 2), [c["head"]], 10, seed=seed + 2,
                                   name="head", tau=c["tau"])
    return encoder >> circuit, circuit


def _jax_baseline(kind: str, X: Any, y: Any, Xt: Any, yt: Any, seed: int) -> float:
    """A JAX MLP (2 x 256, relu) or CNN (3 conv layers of 25 channels, kernel
    5, relu, then linear), Adam 1e-3, 200 epochs of batch 100."""
    import optax

    key = jax.random.key(seed)
    keys = jax.random.split(key, 8)

    def dense(k: Any, n: int, m: int) -> Any:
        return (jax.random.normal(k, (n, m)) * jnp.sqrt(2 / n), jnp.zeros(m))

    if kind == "mlp":
        params = [dense(keys[0], 40, 256), dense(keys[1], 256, 256),
                  dense(keys[2], 256, 10)]

        def apply(p: Any, x: Any) -> Any:
            for w, b in p[:-1]:
                x = jax.nn.relu(x @ w + b)
            return x @ p[-1][0] + p[-1][1]
    else:
        params = [(jax.random.normal(keys[i], (25, 1 if i == 0 else 25, 5))
                   * jnp.sqrt(2 / (5 * (1 if i == 0 else 25))), jnp.zeros(25))
                  for i in range(3)] + [dense(keys[3], 25 * 40, 10)]

        def apply(p: Any, x: Any) -> Any:
            h = x[:, None, :]
            for w, b in p[:-1]:
                h = jax.lax.conv_general_dilated(h, w, (1,), "SAME") + b[:, None]
                h = jax.nn.relu(h)
            return h.reshape(len(x), -1) @ p[-1][0] + p[-1][1]

    opt = optax.adam(1e-3)
    state = opt.init(params)

    @jax.jit
    def step(p: Any, s: Any, xb: Any, yb: Any) -> Any:
        def loss(p: Any) -> Any:
            logits = apply(p, xb)
            return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

        g = jax.grad(loss)(p)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s

    rng = np.random.default_rng(seed)
    X, Xt = jnp.asarray(X, jnp.float32), jnp.asarray(Xt, jnp.float32)
    for _ in range(200):
        order = rng.permutation(len(X))
        for i in range(0, len(X), 100):
            idx = order[i : i + 100]
            params, state = step(params, state, X[idx], y[idx])
    return float((jnp.argmax(apply(params, Xt), -1) == yt).mean())


def mnist1d(seeds: Sequence[int], luts: bool) -> str:
    X, Xt, y, yt = mnist1d_data()
    runs = []
    for s in seeds:
        model, circuit = mnist1d_model(s, X)
        res, sec = train(model, X, y, s, MNIST1D["lr"], MNIST1D["epochs"],
                         MNIST1D["batch_size"], cl.Kernel(relaxed=True))
        runs.append(Run(model, circuit, res, sec, Xt, yt, luts))
        log(f"mnist1d conv seed {s}: {runs[-1].exact:.3f}")
    rows = [rows_of("conv logic (thermometer 8, conv 64 + 128, kernel 5, depth 3, "
                    "OR pools, 8,000 gates)", runs, ">= 94 %")]
    for kind in ("mlp", "cnn"):
        accs = [_jax_baseline(kind, X, y, Xt, yt, s) for s in seeds]
        log(f"mnist1d JAX {kind}: {accs}")
        rows.append([f"JAX {kind.upper()} (same script)", stats(accs),
                     *["-"] * 6, "(baseline)"])
    readme = [("logistic regression", 0.32), ("MLP", 0.68), ("CNN", 0.94),
              ("GRU", 0.91), ("human", 0.96)]
    for name, acc in readme:
        rows.append([f"mnist1d README: {name}", f"{acc:.2f}", "-", "-", "-", "-", "-",
                     "-", "(reported)"])
    return table(HEADER, rows)


EXPERIMENTS: dict[str, tuple[Callable[..., str], int]] = {
    "monk": (monk, 5), "digits": (digits, 3), "mnist1d": (mnist1d, 3)}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=[*EXPERIMENTS, "all"])
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--luts", action="store_true", help="LUT-6 counts (yosys)")
    args = parser.parse_args(argv)
    names = list(EXPERIMENTS) if args.experiment == "all" else [args.experiment]
    for name in names:
        run, default = EXPERIMENTS[name]
        seeds = range(args.seeds or default)
        start = time.perf_counter()
        print(f"\n## {name} (seeds 0..{len(seeds) - 1})\n")
        print(run(seeds, args.luts))
        print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
