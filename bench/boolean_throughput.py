"""Throughput of ``cl.Boolean()``: exact bit-packed inference of a logic network,
against two baselines measured in the same run.

The model is ``cl.logic.network(400, [8000] * 6, 10)``: six layers of 8,000
learnable 2-input gates (48,000 gates, random wiring, random truth tables), then
``group_sum`` into 10 class counts. Every implementation goes from the same
``(batch, 400)`` bool inputs to the same ``(batch, 10)`` float32 counts:

- **catlearn**: ``cl.Boolean()(net)``, jitted: packs 32 examples per uint32
  word, runs the layers, counts the groups on the packed words. 2^16 examples.
- **C**: a bit-packed reference compiled here with the system compiler
  (``cc -O3 -march=native``) and loaded with ctypes, one thread. 64 examples
  per uint64 word; one loop per layer over gates and words, each gate in
  algebraic normal form ``y = c0 ^ a c1 ^ b c2 ^ a b c3``; the counts by
  bit-sliced carry-save counters. 2^16 examples.
- **numpy**: unpacked bool arrays laid out (features, batch), one gather per
  layer, the same ANF; fewer examples (it is slow), rates per example.

First all must agree bit for bit on the counts of a batch that is not a
multiple of 64. Then: warm-up, interleaved repeats, median (``block_until_ready``
for JAX). Rates are gate evaluations (48,000 x examples) and samples per second;
cpu/wall is process CPU time over wall time (cores busy). The stage lines time
packing, the layers and the counts apart (catlearn's through the program's own
steps on packed words, each piece jitted alone).

Run: ``python bench/boolean_throughput.py`` (``--quick`` for a short run).
Target: catlearn / C >= 0.5 in gate evaluations per second.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import catlearn as cl
from catlearn.backends import bits

N_IN, WIDTHS, K = 400, [8000] * 6, 10
GATES = sum(WIDTHS)
TARGET = 0.5

C_SOURCE = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
typedef uint64_t u64;
/* A (n, W) array of words holds feature i of example e at bit e % 64 of
   word [i, e / 64]: a gate's input is a whole row. */

void pack(const uint8_t *x, int batch, int n, int W, u64 *out) {
    u64 *acc = malloc(sizeof(u64) * n);
    for (int w = 0; w < W; w++) {
        memset(acc, 0, sizeof(u64) * n);
        for (int j = 0; j < 64 && 64 * w + j < batch; j++) {
            const uint8_t *ex = x + (size_t)(64 * w + j) * n;
            for (int i = 0; i < n; i++) acc[i] |= (u64)(ex[i] & 1) << j;
        }
        for (int i = 0; i < n; i++) out[(size_t)i * W + w] = acc[i];
    }
    free(acc);
}

/* n_out gates on rows ia[g], ib[g] of x; c holds the masks c0..c3 of gate g
   at 4g..4g+3 (all ones or all zeros). */
void lut_layer(const u64 *restrict x, int W, int n_out, const int32_t *ia,
               const int32_t *ib, const u64 *c, u64 *restrict y) {
    for (int g = 0; g < n_out; g++) {
        const u64 *a = x + (size_t)ia[g] * W, *b = x + (size_t)ib[g] * W;
        const u64 c0 = c[4 * g], c1 = c[4 * g + 1], c2 = c[4 * g + 2],
                  c3 = c[4 * g + 3];
        u64 *out = y + (size_t)g * W;
        for (int w = 0; w < W; w++)
            out[w] = c0 ^ (a[w] & (c1 ^ (b[w] & c3))) ^ (b[w] & c2);
    }
}

/* Ones per example in each of k groups of m consecutive rows, as floats
   out[e * k + group]. Bit-sliced counters: plane i holds bit i of every
   example's count. Eight rows at a time go in through carry-save adders
   (Harley-Seal) into planes 0-2, their carry rippling up from plane 3; the
   rows left over ripple in one by one. */
#define CSA(h, l, a, b, c) { u64 u = a ^ b; h = (a & b) | (u & c); l = u ^ c; }
enum { BLOCK = 32 };
void group_count(const u64 *x, int W, int k, int m, int batch, float *out) {
    int nb = 1;
    while ((1 << nb) <= m) nb++;
    u64 p[32][BLOCK];
    for (int g = 0; g < k; g++)
        for (int w0 = 0; w0 < W; w0 += BLOCK) {
            int len = W - w0 < BLOCK ? W - w0 : BLOCK, r = 0;
            const u64 *rows = x + (size_t)g * m * W + w0;
            memset(p, 0, sizeof(p));
            for (; r + 8 <= m; r += 8)
                for (int w = 0; w < len; w++) {
                    const u64 *v = rows + (size_t)r * W + w;
                    u64 twoA, twoB, fourA, fourB, c;
                    CSA(twoA, p[0][w], p[0][w], v[0], v[W]);
                    CSA(twoB, p[0][w], p[0][w], v[2 * W], v[3 * W]);
                    CSA(fourA, p[1][w], p[1][w], twoA, twoB);
                    CSA(twoA, p[0][w], p[0][w], v[4 * W], v[5 * W]);
                    CSA(twoB, p[0][w], p[0][w], v[6 * W], v[7 * W]);
                    CSA(fourB, p[1][w], p[1][w], twoA, twoB);
                    CSA(c, p[2][w], p[2][w], fourA, fourB);
                    for (int i = 3; i < nb; i++) {
                        u64 t = p[i][w] & c;
                        p[i][w] ^= c;
                        c = t;
                    }
                }
            for (; r < m; r++)
                for (int w = 0; w < len; w++) {
                    u64 c = rows[(size_t)r * W + w];
                    for (int i = 0; i < nb; i++) {
                        u64 t = p[i][w] & c;
                        p[i][w] ^= c;
                        c = t;
                    }
                }
            for (int e = 64 * w0; e < 64 * (w0 + len) && e < batch; e++) {
                int count = 0;
                for (int i = 0; i < nb; i++)
                    count |= (int)((p[i][e / 64 - w0] >> (e % 64)) & 1) << i;
                out[(size_t)e * k + g] = (float)count;
            }
        }
}
"""


# -- the network and its implementations ----------------------------------------
def anf(table: np.ndarray) -> np.ndarray:
    """Truth tables ``(4 g,)`` -> ANF coefficients ``(g, 4)``: c0 = t00,
    c1 = t00 ^ t10, c2 = t00 ^ t01, c3 = t00 ^ t01 ^ t10 ^ t11."""
    t = np.asarray(table, dtype=bool).reshape(-1, 4)
    t00, t01, t10, t11 = t.T
    return np.stack([t00, t00 ^ t10, t00 ^ t01, t00 ^ t01 ^ t10 ^ t11], axis=1)


def layers(params: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``[(a, b, ANF coefficients)]`` per layer, wired as ``cl.logic.network``."""
    sizes = [N_IN, *WIDTHS]
    return [
        (*cl.logic.wiring(sizes[i], sizes[i + 1], i), anf(params[f"net.{i}.table"]))
        for i in range(len(WIDTHS))
    ]


def numpy_forward(net: list[Any], x: np.ndarray) -> np.ndarray:
    h = np.ascontiguousarray(x.T)  # (features, batch): a gather picks whole rows
    for a, b, c in net:
        c0, c1, c2, c3 = (c[:, j, None] for j in range(4))
        xa, xb = h[a], h[b]
        h = c0 ^ (xa & (c1 ^ (xb & c3))) ^ (xb & c2)
    return h.reshape(K, -1, h.shape[1]).sum(axis=1).T.astype(np.float32)


class CReference:
    """The C source above, compiled into a temporary directory."""

    def __init__(self, net: list[Any]):
        self.dir = tempfile.TemporaryDirectory()
        src, lib = (os.path.join(self.dir.name, f) for f in ("ref.c", "ref.so"))
        with open(src, "w") as f:
            f.write(C_SOURCE)
        cmd = ["cc", "-O3", "-march=native", "-shared", "-fPIC", src, "-o", lib]
        subprocess.run(cmd, check=True)
        self.lib, self.cmd = ctypes.CDLL(lib), " ".join(cmd[:3])
        self.net = [(a, b, np.where(c, ~np.uint64(0), np.uint64(0))) for a, b, c in net]
        self.stages: dict[str, list[float]] = {}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        batch, words = x.shape[0], -(-x.shape[0] // 64)
        x = np.ascontiguousarray(x, dtype=bool).view(np.uint8)  # no copy
        h, clock = np.empty((N_IN, words), np.uint64), time.perf_counter()
        self.lib.pack(_ptr(x), batch, N_IN, words, _ptr(h))
        clock = self._lap("pack", clock)
        for a, b, c in self.net:
            y = np.empty((len(a), words), np.uint64)
            self.lib.lut_layer(
                _ptr(h), words, len(a), _ptr(a), _ptr(b), _ptr(c), _ptr(y)
            )
            h = y
        clock = self._lap("layers", clock)
        out = np.empty((batch, K), np.float32)
        self.lib.group_count(_ptr(h), words, K, h.shape[0] // K, batch, _ptr(out))
        self._lap("group_sum", clock)
        return out

    def _lap(self, stage: str, start: float) -> float:
        now = time.perf_counter()
        self.stages.setdefault(stage, []).append(now - start)
        return now


def _ptr(a: np.ndarray) -> ctypes.c_void_p:
    return ctypes.c_void_p(a.ctypes.data)


# -- timing -------------------------------------------------------------------------
def blocking(f: Callable[..., Any], *args: Any) -> Any:
    return f(*args).block_until_ready()


def interleaved(
    fns: dict[str, Callable[[], Any]], repeats: int, warmup: int
) -> dict[str, tuple[list[float], float]]:
    """Per implementation: seconds per call and CPU time / wall time, after
    ``warmup`` calls each; the repeats alternate the order to cancel drift."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    walls: dict[str, list[float]] = {k: [] for k in fns}
    cpus = dict.fromkeys(fns, 0.0)
    for i in range(repeats):
        for name in list(fns) if i % 2 == 0 else list(fns)[::-1]:
            cpu, start = time.process_time(), time.perf_counter()
            fns[name]()
            walls[name].append(time.perf_counter() - start)
            cpus[name] += time.process_time() - cpu
    return {k: (walls[k], cpus[k] / sum(walls[k])) for k in fns}


def time_stages(prog: Any, params: Any, x: Any, repeats: int) -> dict[str, float]:
    """Median ms of the program's work split in three jitted pieces, run through
    its own steps: packing, the lut layers, group_sum with the read-out."""
    batch, luts = x.shape[0], [s for s in prog.steps if s.box.name == "lut_layer"]
    (count,) = (s for s in prog.steps if s.box.name == "group_sum")

    def hidden(params: dict[str, Any], w: Any) -> Any:
        for step, name in zip(luts, prog.param_types, strict=True):
            (w,), _ = step.rule.forward(step.box, bits.mask(params[name]), w)
        return w

    def counts(params: dict[str, Any], w: Any) -> Any:
        return count.rule.forward(count.box, w)[0][0][:, :batch].T

    pieces = [("pack", lambda p, x: bits.pack(x)), ("layers", hidden)]
    fns: dict[str, Callable[[], Any]] = {}
    for name, piece in [*pieces, ("group_sum", counts)]:
        f = jax.jit(piece)
        fns[name] = functools.partial(blocking, f, params, x)
        x = f(params, x)
    timed = interleaved(fns, repeats, 1)
    return {k: 1e3 * statistics.median(t) for k, (t, _) in timed.items()}


def header(cref: CReference, prog: Any, params: Any, x: Any) -> list[str]:
    with open("/proc/cpuinfo") as f:
        cpu = next(ln.split(":")[1].strip() for ln in f if ln.startswith("model name"))
    cc = subprocess.run(["cc", "--version"], capture_output=True, text=True)
    hlo = jax.jit(prog.apply).lower(params, x).compile().as_text() or ""
    key = '"outer_dimension_partitions":["'
    parts = [int(c.split('"')[0]) for c in hlo.split(key)[1:]] or [1]
    cores = len(os.sched_getaffinity(0))
    return [
        f"jax {jax.__version__}, numpy {np.__version__}, catlearn {cl.__version__}; "
        f"{cc.stdout.splitlines()[0]}",
        f"cpu: {cpu}, {cores} cores, {platform.machine()}. XLA CPU: intra-op pool of "
        f"{cores} threads (one per core), loops split in up to {max(parts)} parts. "
        f"C: 1 thread, {cref.cmd}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    quick = parser.parse_args().quick
    batch, np_batch, check = 2**16, (2**11 if quick else 2**13), 4133
    repeats, warmup = (3, 1) if quick else (15, 3)

    diagram = cl.logic.network(N_IN, WIDTHS, K, seed=0)
    prog = cl.Boolean()(diagram)
    rng = np.random.default_rng(0)
    params = {k: rng.random(w.shape) < 0.5 for k, w in prog.param_types.items()}
    jparams = {k: jnp.asarray(v) for k, v in params.items()}
    net = layers(params)
    cref = CReference(net)

    # agreement first, on a batch that is not a multiple of 32 or 64
    xs = rng.random((check, N_IN)) < 0.5
    outs = [np.asarray(prog(jparams, jnp.asarray(xs))), cref(xs)]
    outs.append(numpy_forward(net, xs))
    if not all(np.array_equal(outs[0], o) for o in outs[1:]):
        raise SystemExit("catlearn, C and numpy disagree on the counts")

    x = rng.random((batch, N_IN)) < 0.5
    jx, x_np = jnp.asarray(x), x[:np_batch]
    cref.stages.clear()
    fns = {"catlearn": functools.partial(blocking, prog, jparams, jx)}
    results = interleaved({**fns, "C": lambda: cref(x)}, repeats, warmup)
    np_repeats = max(3, repeats // 3)
    results.update(
        interleaved({"numpy": lambda: numpy_forward(net, x_np)}, np_repeats, 1)
    )
    sizes = {**dict.fromkeys(results, batch), "numpy": np_batch}
    split = time_stages(prog, jparams, jx, repeats)

    lines = header(cref, prog, jparams, jx) + [
        f"network({N_IN}, {WIDTHS}, {K}): {GATES} gates, random truth tables",
        f"agreement: catlearn, C and numpy give the same counts, bit for bit, on "
        f"{check} examples (counts {outs[0].min():.0f}..{outs[0].max():.0f})",
        f"timing: median of {repeats} interleaved repeats after {warmup} warm-up "
        f"(numpy: {np_repeats} repeats)",
        "",
        f"{'implementation':<15}{'examples':>9}{'ms/call':>10}{'min':>9}{'max':>9}"
        f"{'gate-evals/s':>14}{'samples/s':>12}{'cpu/wall':>10}",
    ]
    rate = {}
    for name, (times, par) in results.items():
        med = statistics.median(times)
        rate[name] = sizes[name] / med
        lines.append(
            f"{name:<15}{sizes[name]:>9}{1e3 * med:>10.1f}{1e3 * min(times):>9.1f}"
            f"{1e3 * max(times):>9.1f}{GATES * rate[name]:>14.3e}"
            f"{rate[name]:>12.3e}{par:>10.2f}"
        )
    names = ("pack", "layers", "group_sum")
    lines += ["", f"{'stages, median ms':<19}" + "".join(f"{s:>11}" for s in names)]
    c_split = {s: 1e3 * statistics.median(cref.stages[s]) for s in names}
    for name, cells in (("catlearn", split), ("C", c_split)):
        lines.append(f"{name:<19}" + "".join(f"{cells[s]:>11.1f}" for s in names))
    ratio = rate["catlearn"] / rate["C"]
    verdict = "meets" if ratio >= TARGET else "MISSES"
    lines += [
        "",
        f"ratio catlearn / C: {ratio:.3f} ({verdict} target {TARGET}); lut layers "
        f"alone: {c_split['layers'] / split['layers']:.2f}",
        f"ratio catlearn / numpy: {rate['catlearn'] / rate['numpy']:.1f}",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
