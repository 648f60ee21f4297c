"""What the syntax layer costs: catlearn's Smooth semantics against hand-written
JAX, measured in one run.

(a) Run time. The jitted training step of ``cl.nn.mlp([784, 256, 256, 10])``
    built by ``cl.learn.train_step`` (softmax cross-entropy, ``cl.optim.adam``)
    against two baselines of the same maths (two ReLU hidden layers, mean
    softmax cross-entropy, ``optax.adam``): an equinox MLP differentiated with
    ``eqx.filter_value_and_grad`` (partitioned with ``eqx.partition`` so that
    ``jax.jit`` sees arrays only), and plain JAX over the same parameter dict
    with ``jax.value_and_grad``. All start from the same parameters; the script
    checks that they compute the same losses before timing. Timing: warm up,
    then repeats of many steps each (``block_until_ready`` at the end of a
    repeat), the implementations interleaved in alternating order to cancel
    drift; median per-step time and the ratio catlearn / baseline (target
    <= 1.05). Also: jaxpr equations of the steps (``jax.make_jaxpr``) and
    instructions of the HLO module XLA runs after its optimisation.

(b) Compile time of a ~200-box diagram (``cl.nn.mlp`` of 40 dense layers of
    width 32: 4 boxes per layer, with its parameters, plus a ReLU between
    layers), broken into building the diagram, the functor ``F(d)``, JAX
    tracing (``jax.jit(f).trace``), lowering to StableHLO (``.lower()``) and
    XLA compilation (``.compile()``); the same for the equivalent hand-written
    JAX function, for the forward pass and for the training step.

Run: ``python bench/smooth_overhead.py`` (``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import optax

import catlearn as cl

SIZES = [784, 256, 256, 10]
BATCH = 128
LR = 1e-3
DEEP = [32] * 41  # 40 dense layers: 40 * 4 + 39 ReLU = 199 boxes
TARGET = 1.05


# -- the training steps -------------------------------------------------------------
def catlearn_step(sizes: list[int]) -> tuple[Callable[..., Any], Any, Any, Any]:
    """``(jitted step, raw step, params, opt_state)`` built by catlearn."""
    program = cl.Smooth()(cl.nn.mlp(sizes))
    params = program.init(jax.random.key(0))
    optimiser = cl.optim.adam(LR)
    step = cl.learn.train_step(program, cl.losses.softmax_cross_entropy, optimiser)
    return jax.jit(step), step, params, optimiser.init(params)


def equinox_step(
    sizes: list[int], params: dict[str, Any]
) -> tuple[Callable[..., Any], Any, Any, Any]:
    """The baseline: ``eqx.nn.MLP`` + ``optax.adam``, starting from catlearn's
    ``params`` (equinox stores ``W`` transposed: ``(out, in)``)."""
    model = eqx.nn.MLP(
        sizes[0], sizes[-1], sizes[1], depth=len(sizes) - 2,
        activation=jax.nn.relu, key=jax.random.key(1),
    )
    n = len(model.layers)
    model = eqx.tree_at(
        lambda m: [m.layers[i].weight for i in range(n)]
        + [m.layers[i].bias for i in range(n)],
        model,
        [params[f"mlp.{i}.w"].T for i in range(n)]
        + [params[f"mlp.{i}.b"] for i in range(n)],
    )
    tx = optax.adam(LR)

    def loss_fn(model: Any, x: Any, y: Any) -> Any:
        logits = jax.vmap(model)(x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    params, static = eqx.partition(model, eqx.is_array)

    def step(params: Any, opt_state: Any, x: Any, y: Any) -> tuple[Any, Any, Any]:
        # arrays in, arrays out: plain jax.jit, no filter_jit dispatch cost
        model = eqx.combine(params, static)
        value, grads = eqx.filter_value_and_grad(loss_fn)(model, x, y)
        updates, opt_state = tx.update(grads, opt_state, model)
        model = eqx.apply_updates(model, updates)
        return eqx.filter(model, eqx.is_array), opt_state, value

    return jax.jit(step), step, params, tx.init(params)


def handwritten_forward(params: dict[str, Any], x: Any, n: int) -> Any:
    """``n`` dense layers by hand: ``x @ w + b``, ReLU between them."""
    for i in range(n):
        x = x @ params[f"mlp.{i}.w"] + params[f"mlp.{i}.b"]
        if i < n - 1:
            x = jax.nn.relu(x)
    return x


def handwritten_step(n: int) -> Callable[..., Any]:
    """The step in plain JAX over catlearn's parameter dict: ``jax.value_and_grad``
    of the mean softmax cross-entropy, then ``optax.adam``."""
    tx = optax.adam(LR)

    def step(params: Any, opt_state: Any, x: Any, y: Any) -> tuple[Any, Any, Any]:
        def loss_fn(p: Any) -> Any:
            logits = handwritten_forward(p, x, n)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        value, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    return step


def random_batch(sizes: list[int], batch: int) -> tuple[Any, Any]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], size=batch).astype(np.int32)
    return jnp.asarray(x), jnp.asarray(y)


# -- measuring --------------------------------------------------------------------
class Runner:
    """One implementation's step with its state carried between calls."""

    def __init__(self, name: str, step: Any, params: Any, state: Any, batch: Any):
        self.name, self.step, self.params, self.state = name, step, params, state
        self.batch, self.times = batch, []

    def run(self, steps: int) -> float:
        params, state = self.params, self.state
        start = time.perf_counter()
        for _ in range(steps):
            params, state, value = self.step(params, state, *self.batch)
        jax.block_until_ready((params, state, value))
        seconds = (time.perf_counter() - start) / steps
        self.params, self.state = params, state
        return seconds


def time_interleaved(
    runners: list[Runner], repeats: int, steps: int, warmup: int
) -> dict[str, float]:
    """Median seconds per step of each runner; repeats alternate the order."""
    for r in runners:
        r.run(warmup)
    for i in range(repeats):
        for r in runners if i % 2 == 0 else runners[::-1]:
            r.times.append(r.run(steps))
    return {r.name: statistics.median(r.times) for r in runners}


def count_eqns(jaxpr: Any) -> tuple[int, int]:
    """``(top-level equations, equations including nested jaxprs)``."""

    def total(j: Any) -> int:
        n = 0
        for eqn in j.eqns:
            n += 1
            for sub in jax.extend.core.jaxprs_in_params(eqn.params):
                n += total(sub)
        return n

    return len(jaxpr.jaxpr.eqns), total(jaxpr.jaxpr)


def hlo_ops(jitted: Any, *args: Any) -> int:
    """Instructions in the optimised HLO module XLA runs."""
    text = jitted.lower(*args).compile().as_text()
    return sum(1 for line in text.splitlines() if " = " in line and "ENTRY" not in line)


def same_losses(a: Any, b: Any, batch: Any, steps: int = 5) -> float:
    """Run two ``(jitted, raw, params, state)`` steps from the same parameters;
    the largest difference of their losses."""
    (a_step, _, ap, as_), (b_step, _, bp, bs) = a, b
    worst = 0.0
    for _ in range(steps):
        ap, as_, a_loss = a_step(ap, as_, *batch)
        bp, bs, b_loss = b_step(bp, bs, *batch)
        worst = max(worst, abs(float(a_loss) - float(b_loss)))
    return worst


def run_time(repeats: int, steps: int, warmup: int) -> list[str]:
    batch = random_batch(SIZES, BATCH)
    cat = catlearn_step(SIZES)
    hand = handwritten_step(len(SIZES) - 1)
    impls = {
        "catlearn": cat,
        "equinox+optax": equinox_step(SIZES, cat[2]),
        "jax+optax": (jax.jit(hand), hand, cat[2], optax.adam(LR).init(cat[2])),
    }
    diff = max(same_losses(cat, other, batch) for other in impls.values())
    if diff > 1e-4:
        raise SystemExit(f"the steps disagree: loss difference {diff:.3g}")

    runners = [
        Runner(name, jitted, params, state, batch)
        for name, (jitted, _, params, state) in impls.items()
    ]
    medians = time_interleaved(runners, repeats, steps, warmup)
    lines = [
        f"(a) training step, mlp({SIZES}), batch {BATCH}, Adam: median of "
        f"{repeats} interleaved repeats x {steps} steps (after {warmup} warm-up "
        f"steps); all three start from the same parameters and their losses "
        f"agree to {diff:.1e} over 5 steps",
        "",
        f"{'implementation':<16}{'ms/step':>9}{'min':>9}{'max':>9}"
        f"{'jaxpr eqns (top/all)':>23}{'HLO instrs':>12}",
    ]
    for r, (_, raw, params, state) in zip(runners, impls.values(), strict=True):
        eqns = count_eqns(jax.make_jaxpr(raw)(params, state, *batch))
        hlo = hlo_ops(jax.jit(raw), params, state, *batch)
        lines.append(
            f"{r.name:<16}{1e3 * medians[r.name]:>9.3f}{1e3 * min(r.times):>9.3f}"
            f"{1e3 * max(r.times):>9.3f}{f'{eqns[0]} / {eqns[1]}':>23}{hlo:>12}"
        )
    lines.append("")
    for base in runners[1:]:
        ratio = medians["catlearn"] / medians[base.name]
        paired = statistics.median(
            c / b for c, b in zip(runners[0].times, base.times, strict=True)
        )
        verdict = "meets" if ratio <= TARGET else "MISSES"
        lines.append(
            f"ratio catlearn / {base.name}: {ratio:.3f} (median of per-repeat "
            f"ratios {paired:.3f}; {verdict} target {TARGET})"
        )
    return lines


# -- compile time -----------------------------------------------------------------
def stages(fn: Callable[..., Any], args: tuple[Any, ...]) -> dict[str, float]:
    """Seconds to trace, lower and compile a fresh ``jax.jit(fn)``."""
    times = {}
    start = time.perf_counter()
    traced = jax.jit(fn).trace(*args)
    times["trace"] = time.perf_counter() - start
    start = time.perf_counter()
    lowered = traced.lower()
    times["lower"] = time.perf_counter() - start
    start = time.perf_counter()
    lowered.compile()
    times["compile"] = time.perf_counter() - start
    return times


def compile_once(kind: str, impl: str) -> tuple[dict[str, float], int]:
    """One fresh measurement: ``kind`` is forward or step, ``impl`` catlearn or
    jax. Returns the stage times and the number of boxes."""
    times: dict[str, float] = {}
    start = time.perf_counter()
    diagram = cl.nn.mlp(DEEP)
    times["build"] = time.perf_counter() - start
    n_boxes = len(list(cl.diagrams.boxes(diagram)))
    start = time.perf_counter()
    program = cl.Smooth()(diagram)
    times["F(d)"] = time.perf_counter() - start
    params = program.init(jax.random.key(0))
    x, y = random_batch(DEEP, BATCH)
    n = len(DEEP) - 1
    if impl == "jax":
        times["build"] = times["F(d)"] = float("nan")
        optimiser_state = optax.adam(LR).init(params)
        if kind == "forward":
            times.update(stages(lambda p, x: handwritten_forward(p, x, n), (params, x)))
        else:
            times.update(stages(handwritten_step(n), (params, optimiser_state, x, y)))
        return times, n_boxes
    if kind == "forward":
        times.update(stages(program.apply, (params, x)))
    else:
        optimiser = cl.optim.adam(LR)
        step = cl.learn.train_step(program, cl.losses.softmax_cross_entropy, optimiser)
        times.update(stages(step, (params, optimiser.init(params), x, y)))
    return times, n_boxes


def compile_time(repeats: int) -> list[str]:
    keys = ["build", "F(d)", "trace", "lower", "compile"]
    rows, n_boxes = [], 0
    for kind in ("forward", "step"):
        runs: dict[str, list[dict[str, float]]] = {"catlearn": [], "jax": []}
        for impl in runs:  # warm-up: the first trace in a process pays imports
            compile_once(kind, impl)
        for _ in range(repeats):
            for impl in runs:  # interleaved, fresh functions every time
                times, n_boxes = compile_once(kind, impl)
                runs[impl].append(times)
        for impl, measured in runs.items():
            med = {k: statistics.median(t[k] for t in measured) for k in keys}
            total = sum(v for v in med.values() if not np.isnan(v))
            rows.append((kind, impl, med, total))
    lines = [
        f"(b) compile time, cl.nn.mlp({len(DEEP) - 1} dense layers of width "
        f"{DEEP[0]}): {n_boxes} boxes; median of {repeats} fresh runs, ms",
        "",
        f"{'function':<10}{'impl':<10}"
        + "".join(f"{k:>9}" for k in keys)
        + f"{'total':>9}",
    ]
    for kind, impl, med, total in rows:
        cells = "".join(
            f"{'-':>9}" if np.isnan(med[k]) else f"{1e3 * med[k]:>9.1f}" for k in keys
        )
        lines.append(f"{kind:<10}{impl:<10}{cells}{1e3 * total:>9.1f}")
    by = {(kind, impl): total for kind, impl, _, total in rows}
    for kind in ("forward", "step"):
        ratio = by[(kind, "catlearn")] / by[(kind, "jax")]
        lines.append(f"{kind}: catlearn total / hand-written JAX total = {ratio:.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    args = parser.parse_args()
    quick, full = (5, 10, 5, 1), (61, 100, 100, 7)
    repeats, steps, warmup, compiles = quick if args.quick else full
    print(
        f"jax {jax.__version__}, equinox {eqx.__version__}, optax "
        f"{optax.__version__}, catlearn {cl.__version__}; {jax.devices()[0]}, "
        f"{os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}"
        f"{'; --quick' if args.quick else ''}\n"
    )
    for line in run_time(repeats, steps, warmup):
        print(line)
    print()
    for line in compile_time(compiles):
        print(line)


if __name__ == "__main__":
    main()
