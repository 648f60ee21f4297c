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
- ``p4``: the training step of ``bench/smooth_logic.py`` (issue 15's P4;
  target: at most 3x ``raw``): ``cl.logic.network(400, [8000] * 6, 10)``
  under plain ``cl.Smooth()`` (which fuses the LUT chain), Adam 1e-2, batch
  256, on 2^14 random 0/1 examples (float32, as ``Smooth`` reads them) with
  random labels: two epochs of 64 steps by ``cl.fit`` (``score="none"``: no
  pass scoring the circuit). The first epoch compiles the step; at its end
  the peak is read and reset (``/proc/self/clear_refs``), so the second
  epoch's peak is the steady state. Printed besides the whole run's ratio:
  ``steady`` = (second epoch's peak - baseline - data) / raw, where ``data``
  is the copy of the training set that ``fit`` keeps on the device (float32
  inputs, int32 labels): counted with the baseline, as the host copy is.

``--warm`` moves JAX's fixed costs into the baseline: before it, each
process does the same work on a copy of the network a tenth as wide (2
batches of data). Without it they count as the work's: the first compiles
(the XLA/LLVM compiler, code pages of jaxlib), glibc's per-thread arenas,
``fit``'s helper functions: in ``p4``, 137-152 MiB that do not grow with the
width (measured at width 800), about 3x the raw size at width 8000.

Run: ``python bench/memory.py`` (all cases) or ``--case smooth``;
``--examples``/``--width`` shrink it (e.g. ``--width 8000`` for a quick run;
for ``p4`` they default to 2^14 and 8000).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

N_IN, LAYERS, K = 784, 6, 10
P4_IN = 400  # bench/smooth_logic.py's network: network(400, [8000] * 6, 10)
CASES = ("boolean", "kernel", "relaxed-kernel", "smooth", "p4")
TRAINING = ("smooth", "relaxed-kernel", "p4")
DEFAULTS = {"p4": (2**14, 8000)}  # (examples, width); the others: (2**16, 64000)


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> bool:
    """Set the peak (``VmHWM``, which ``ru_maxrss`` reads) back to the current
    resident size: Linux >= 4.0; ``False`` where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _work(case: str, net: Any, X: Any, y: Any, batch: int,
          marks: dict) -> tuple[int, float, dict]:
    """Run ``case`` on ``net``: ``(param_bytes, bytes per wire per example,
    result)``. For ``p4``, ``marks`` gets the first epoch's figures."""
    import jax
    import numpy as np

    import catlearn as cl

    if case in ("boolean", "kernel"):
        semantics = cl.Boolean() if case == "boolean" else cl.Kernel()
        params = {k: np.asarray(v) for k, v in
                  semantics(net).init(jax.random.key(0)).items()}
        scores = cl.evaluate(net, params, (X, y), semantics=semantics,
                             batch_size=batch)
        # bits: 1 bit per value, as packed
        return sum(v.size // 8 for v in params.values()), 1 / 8, {
            "accuracy": scores["accuracy"]}
    semantics = cl.RelaxedKernel() if case == "relaxed-kernel" else cl.Smooth()
    shapes = semantics(net).param_shapes
    p4 = case == "p4"

    def warmed(row: dict) -> None:  # after p4's first epoch: compiled, warm
        if row["epoch"] == 1:
            marks.update(warm_peak_mib=_peak_mib(), resident_mib=_rss_mib(),
                         reset=_reset_peak())

    fit = cl.fit(net, (X, y), semantics=semantics, optimiser=cl.optim.adam(0.01),
                 epochs=2 if p4 else 1, batch_size=batch, progress=False,
                 score="none" if p4 else "end", on_epoch_end=warmed if p4 else None)
    return sum(4 * int(np.prod(s)) for s in shapes.values()), 4, {
        "loss": fit.history[-1]["loss"]}


def run_case(case: str, examples: int, width: int, batch: int, warm: bool) -> dict:
    import numpy as np

    import catlearn as cl

    n_in = P4_IN if case == "p4" else N_IN
    rng = np.random.default_rng(0)
    X = rng.random((examples, n_in)) < 0.5
    y = rng.integers(0, K, examples)
    net = cl.logic.network(n_in, [width] * LAYERS, K, seed=0)
    if case in TRAINING:  # the data as Smooth reads it, before the baseline
        X = X.astype(np.float32)
    if warm:  # the same work on a tenth of the width, before the baseline
        narrow = max(K, width // 10 // K * K)
        small = cl.logic.network(n_in, [narrow] * LAYERS, K, seed=1)
        _work(case, small, X[: 2 * batch], y[: 2 * batch], batch, {})
    marks: dict = {}
    baseline = _rss_mib()
    start = time.perf_counter()
    param_bytes, per_value, result = _work(case, net, X, y, batch, marks)
    seconds = time.perf_counter() - start
    raw = (param_bytes + (n_in + LAYERS * width + K) * batch * per_value) / 2**20
    peak = _peak_mib()
    if marks:  # p4: the whole run's peak, and the second (steady) epoch's
        data = (X.nbytes + 4 * y.size) / 2**20  # fit's device copy: f32 X, i32 y
        marks.update(steady_peak_mib=peak, data_mib=data,
                     steady_ratio=(peak - baseline - data) / raw)
        peak = max(peak, marks["warm_peak_mib"])
    return dict(
        case=case, examples=examples, width=width, batch=batch, seconds=seconds,
        baseline_mib=baseline, peak_mib=peak, raw_mib=raw, warm=warm,
        ratio=(peak - baseline) / raw, peak_ratio=peak / raw, **result, **marks,
    )


def _sizes(args: argparse.Namespace) -> tuple[int, int]:
    """``(examples, width)`` of ``args.case``: as given, else its defaults."""
    examples, width = DEFAULTS.get(args.case, (2**16, 64000))
    return args.examples or examples, args.width or width


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=CASES)
    parser.add_argument("--examples", type=int, help="default 2^16 (p4: 2^14)")
    parser.add_argument("--width", type=int, help="default 64000 (p4: 8000)")
    parser.add_argument("--eval-batch", type=int, default=4096)
    parser.add_argument("--train-batch", type=int, default=256)
    parser.add_argument("--warm", action="store_true",
                        help="first the same work at a tenth of the width, "
                        "before the baseline (JAX's compiler and runtime warm)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:  # the child: one case, one JSON line
        batch = args.train_batch if args.case in TRAINING else args.eval_batch
        examples, width = _sizes(args)
        print(json.dumps(run_case(args.case, examples, width, batch, args.warm)))
        return
    cases = [args.case] if args.case else list(CASES)
    print(f"network(n_in, [width] * {LAYERS}, {K}): n_in {N_IN} (p4: {P4_IN}); "
          f"machine: {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.1f}"
          " GiB")
    header = (f"{'case':>14} {'examples':>8} {'width':>6} {'batch':>6} "
              f"{'seconds':>8} {'baseline':>9} "
              f"{'peak':>9} {'raw':>8} {'(peak-base)/raw':>16} {'peak/raw':>9}")
    print(header)
    for case in cases:
        cmd = [sys.executable, __file__, "--json", "--case", case,
               *(["--examples", str(args.examples)] if args.examples else []),
               *(["--width", str(args.width)] if args.width else []),
               "--eval-batch", str(args.eval_batch),
               "--train-batch", str(args.train_batch),
               *(["--warm"] if args.warm else [])]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{case:>14} failed (exit {out.returncode}):\n{out.stderr[-2000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{case:>14} {r['examples']:>8} {r['width']:>6} {r['batch']:>6} "
              f"{r['seconds']:>8.1f} "
              f"{r['baseline_mib']:>8.0f}M {r['peak_mib']:>8.0f}M "
              f"{r['raw_mib']:>7.0f}M {r['ratio']:>16.2f} {r['peak_ratio']:>9.2f}")
        if "steady_ratio" in r:
            print(f"{'':>14} first epoch (compiles) peak {r['warm_peak_mib']:.0f}M, "
                  f"resident after it {r['resident_mib']:.0f}M; second epoch "
                  f"peak {r['steady_peak_mib']:.0f}M"
                  f"{'' if r['reset'] else ' (peak not reset: whole run)'}; "
                  f"data on the device {r['data_mib']:.0f}M; steady "
                  f"(peak - baseline - data) / raw = {r['steady_ratio']:.2f}")


if __name__ == "__main__":
    main()
