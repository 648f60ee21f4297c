"""Peak memory of evaluation and training at scale, against the raw size of
what they must hold: the parameters plus one batch of activations.

The model is ``cl.logic.network(784, [64000] * 6, 10)``: six layers of 64,000
learnable 2-input gates (384,000 gates), then ``group_sum`` into 10 class
counts. The data: 2^16 random 784-bit examples (an MNIST-sized input) with
random labels. Each case runs in a fresh process and reports

- ``baseline``: resident memory once JAX is imported and the data built
  (bools for evaluation; float32 for training, as the smooth semantics reads
  them),
- ``peak``: the process's peak resident memory (``ru_maxrss``) after the work,
- ``raw``: parameters as the semantics stores them + the activations of every
  wire of the diagram for one batch (bits: 1 bit per value, as packed; reals:
  4 bytes per float32),
- ``(peak - baseline) / raw``: the memory the work took over what it must
  hold. A method that kept every example's activations would need
  ``examples / batch`` times ``raw``; streaming minibatches keeps the ratio a
  small constant whatever the number of examples.

Cases:

- ``boolean``: ``cl.evaluate(net, params, (X, y), semantics=cl.Boolean())``
  on all 2^16 examples (batches of 4,096 examples, packed 32 to a word).
- ``kernel``: the same under ``cl.Kernel()`` (the fused C++ kernel on CPU).
- ``smooth``: one epoch of ``cl.fit`` under ``cl.Smooth()`` (relaxed gates,
  Adam, batches of 256: 256 steps), on the same 2^16 examples.
- ``relaxed-kernel``: the same epoch under ``cl.RelaxedKernel()`` (Smooth's
  meaning, the LUT chain fused, features-first layout; much faster).

Run: ``python bench/memory.py`` (all cases) or ``--case smooth``;
``--examples``/``--width`` shrink it (e.g. ``--width 8000`` for a quick run).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

N_IN, LAYERS, K = 784, 6, 10
CASES = ("boolean", "kernel", "relaxed-kernel", "smooth")


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(case: str, examples: int, width: int, batch: int) -> dict:
    import jax
    import numpy as np

    import catlearn as cl

    rng = np.random.default_rng(0)
    X = rng.random((examples, N_IN)) < 0.5
    y = rng.integers(0, K, examples)
    net = cl.logic.network(N_IN, [width] * LAYERS, K, seed=0)
    training = case in ("smooth", "relaxed-kernel")
    if training:  # the data as the smooth semantics reads it, before the baseline
        X = X.astype(np.float32)
    wires = N_IN + LAYERS * width + K
    baseline = _rss_mib()
    start = time.perf_counter()
    if case in ("boolean", "kernel"):
        semantics = cl.Boolean() if case == "boolean" else cl.Kernel()
        params = {k: np.asarray(v) for k, v in
                  semantics(net).init(jax.random.key(0)).items()}
        param_bytes = sum(v.size // 8 for v in params.values())  # bits
        act_bytes = wires * batch / 8
        scores = cl.evaluate(net, params, (X, y), semantics=semantics,
                             batch_size=batch)
        result = {"accuracy": scores["accuracy"]}
    else:
        semantics = cl.Smooth() if case == "smooth" else cl.RelaxedKernel()
        shapes = semantics(net).param_shapes
        param_bytes = sum(4 * int(np.prod(s)) for s in shapes.values())
        act_bytes = wires * batch * 4
        fit = cl.fit(net, (X, y), semantics=semantics,
                     optimiser=cl.optim.adam(0.01), epochs=1, batch_size=batch,
                     progress=False)
        result = {"loss": fit.history[-1]["loss"]}
    seconds = time.perf_counter() - start
    raw = (param_bytes + act_bytes) / 2**20
    peak = _peak_mib()
    return dict(
        case=case, examples=examples, width=width, batch=batch, seconds=seconds,
        baseline_mib=baseline, peak_mib=peak, raw_mib=raw,
        ratio=(peak - baseline) / raw, peak_ratio=peak / raw, **result,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=CASES)
    parser.add_argument("--examples", type=int, default=2**16)
    parser.add_argument("--width", type=int, default=64000)
    parser.add_argument("--eval-batch", type=int, default=4096)
    parser.add_argument("--train-batch", type=int, default=256)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:  # the child: one case, one JSON line
        training = args.case in ("smooth", "relaxed-kernel")
        batch = args.train_batch if training else args.eval_batch
        print(json.dumps(run_case(args.case, args.examples, args.width, batch)))
        return
    cases = [args.case] if args.case else list(CASES)
    print(f"network({N_IN}, [{args.width}] * {LAYERS}, {K}), {args.examples} "
          f"examples; machine: {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.1f}"
          " GiB")
    header = (f"{'case':>14} {'batch':>6} {'seconds':>8} {'baseline':>9} "
              f"{'peak':>9} {'raw':>8} {'(peak-base)/raw':>16} {'peak/raw':>9}")
    print(header)
    for case in cases:
        cmd = [sys.executable, __file__, "--json", "--case", case,
               "--examples", str(args.examples), "--width", str(args.width),
               "--eval-batch", str(args.eval_batch),
               "--train-batch", str(args.train_batch)]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{case:>14} failed (exit {out.returncode}):\n{out.stderr[-2000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{case:>14} {r['batch']:>6} {r['seconds']:>8.1f} "
              f"{r['baseline_mib']:>8.0f}M {r['peak_mib']:>8.0f}M "
              f"{r['raw_mib']:>7.0f}M {r['ratio']:>16.2f} {r['peak_ratio']:>9.2f}")


if __name__ == "__main__":
    main()
