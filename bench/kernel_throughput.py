"""Throughput of ``cl.Kernel()``: the logic network fused into one kernel,
against ``cl.Boolean()`` and two C references measured in the same run; and
the training step of the fused relaxed network against ``cl.Smooth(fused=False)``
(the rule table box by box; ``cl.Smooth()`` itself fuses since session 7).

The model is ``cl.logic.network(400, [8000] * 6, 10)`` (48,000 random gates,
random truth tables) on 2^16 examples. Implementations:

- **Kernel**: ``cl.Kernel()(net)``, jitted; the default backend of the device
  (the C++ kernel through ``jax.ffi`` on CPU, the Pallas/Triton kernel on GPU).
- **Boolean**: ``cl.Boolean()(net)``, jitted XLA, one gather per layer.
- **C per-layer**: ``bench/boolean_throughput.py``'s reference (``cc -O3
  -march=native``, 64 examples per uint64 word, one loop per layer over the
  whole batch, ANF gates, bit-sliced counts).
- **C fused-tile**: the same gates, but each tile of ``T`` words goes through
  all six layers (ping-pong buffers) before the next tile; ``T`` is swept and
  the best kept, so the reference is as good as this loop gets.

All four must agree bit for bit on the class counts of a batch that is not a
multiple of 64 first. Rows: end to end (bool inputs -> float counts: packing,
layers, counts) and the lut layers alone on packed words. By default the
process is pinned to one core (``os.sched_setaffinity``), so XLA and the
kernels get one thread, as the C references have; ``--all-cores`` lifts that.

Training: one Adam step (``cl.learn.train_step``, softmax cross-entropy) of the
relaxed network at batch 256 under ``cl.Kernel(relaxed=True)`` (fused
``custom_vjp`` layers, features-first) and under ``cl.Smooth(fused=False)``.

Run: ``python bench/kernel_throughput.py`` (``--quick`` for a short run).
Target (CPU, one core): Kernel / C fused-tile >= 1.0 in gate-evals/s.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boolean_throughput as bt  # noqa: E402

import catlearn as cl  # noqa: E402
from catlearn.backends import bits  # noqa: E402

N_IN, WIDTHS, K = bt.N_IN, bt.WIDTHS, bt.K
GATES = bt.GATES
TARGET = 1.0
TILES = (2, 4, 8, 16, 32)

FUSED_SOURCE = r"""
/* Every layer of the network on a tile of T words before the next tile:
   the tile's activations stay in cache. widths[0..L], gates' wiring and ANF
   masks concatenated layer after layer; buf holds 2 * max(width) * T words. */
void fused_layers(const u64 *x, int W, int L, const int32_t *widths,
                  const int32_t *ia, const int32_t *ib, const u64 *c, int T,
                  u64 *y, u64 *buf) {
    int maxw = 0;
    for (int l = 1; l <= L; l++) maxw = widths[l] > maxw ? widths[l] : maxw;
    for (int w0 = 0; w0 < W; w0 += T) {
        int t = W - w0 < T ? W - w0 : T, off = 0;
        const u64 *in = x + w0;
        size_t in_stride = W;
        for (int l = 0; l < L; l++) {
            int n = widths[l + 1];
            u64 *out = l == L - 1 ? y + w0 : buf + (size_t)(l % 2) * maxw * T;
            size_t out_stride = l == L - 1 ? (size_t)W : (size_t)T;
            for (int g = 0; g < n; g++) {
                const u64 *a = in + (size_t)ia[off + g] * in_stride;
                const u64 *b = in + (size_t)ib[off + g] * in_stride;
                const u64 *cg = c + 4 * (size_t)(off + g);
                const u64 c0 = cg[0], c1 = cg[1], c2 = cg[2], c3 = cg[3];
                u64 *o = out + (size_t)g * out_stride;
                for (int w = 0; w < t; w++)
                    o[w] = c0 ^ (a[w] & (c1 ^ (b[w] & c3))) ^ (b[w] & c2);
            }
            in = out;
            in_stride = out_stride;
            off += n;
        }
    }
}
"""


class FusedC(bt.CReference):
    """``boolean_throughput``'s C reference plus the fused-tile loop."""

    def __init__(self, net: list[Any]):
        self.dir = tempfile.TemporaryDirectory()
        src, lib = (os.path.join(self.dir.name, f) for f in ("ref.c", "ref.so"))
        with open(src, "w") as f:
            f.write(bt.C_SOURCE + FUSED_SOURCE)
        cmd = ["cc", "-O3", "-march=native", "-shared", "-fPIC", src, "-o", lib]
        subprocess.run(cmd, check=True)
        self.lib, self.cmd = ctypes.CDLL(lib), " ".join(cmd[:3])
        self.net = [(a, b, np.where(c, ~np.uint64(0), np.uint64(0))) for a, b, c in net]
        self.stages: dict[str, list[float]] = {}
        self.widths = np.array([N_IN, *(len(a) for a, _, _ in net)], np.int32)
        self.ia = np.concatenate([a for a, _, _ in net]).astype(np.int32)
        self.ib = np.concatenate([b for _, b, _ in net]).astype(np.int32)
        self.c = np.ascontiguousarray(np.concatenate([c for _, _, c in self.net]))
        self.tile = 8

    def fused(self, h: np.ndarray) -> np.ndarray:
        words = h.shape[1]
        y = np.empty((self.widths[-1], words), np.uint64)
        buf = np.empty(2 * int(self.widths[1:].max()) * self.tile, np.uint64)
        self.lib.fused_layers(
            _p(h), words, len(self.net), _p(self.widths), _p(self.ia), _p(self.ib),
            _p(self.c), self.tile, _p(y), _p(buf),
        )  # fmt: skip
        return y

    def per_layer(self, h: np.ndarray) -> np.ndarray:
        for a, b, c in self.net:
            y = np.empty((len(a), h.shape[1]), np.uint64)
            self.lib.lut_layer(_p(h), h.shape[1], len(a), _p(a), _p(b), _p(c), _p(y))
            h = y
        return h

    def pack(self, x: np.ndarray) -> np.ndarray:
        batch, words = x.shape[0], -(-x.shape[0] // 64)
        h = np.empty((N_IN, words), np.uint64)
        self.lib.pack(
            _p(np.ascontiguousarray(x).view(np.uint8)), batch, N_IN, words, _p(h)
        )
        return h

    def counts(self, h: np.ndarray, batch: int) -> np.ndarray:
        out = np.empty((batch, K), np.float32)
        self.lib.group_count(_p(h), h.shape[1], K, h.shape[0] // K, batch, _p(out))
        return out

    def end_to_end(self, x: np.ndarray, fused: bool) -> np.ndarray:
        h = self.pack(x)
        return self.counts(self.fused(h) if fused else self.per_layer(h), x.shape[0])


def _p(a: np.ndarray) -> ctypes.c_void_p:
    return ctypes.c_void_p(a.ctypes.data)


def layers_only(prog: Any, params: Any) -> Any:
    """The program's steps from packed input words to the last layer's words,
    jitted (no packing, no counts): what the C loops compute."""
    masks = {k: bits.mask(jnp.asarray(v)) for k, v in params.items()}

    def run(w: Any) -> Any:
        env = {0: w}
        for name, (_, slot) in prog._params.items():
            env[slot] = masks[name]
        for st in prog.steps:
            if st.box.name == "group_sum":
                continue
            ys, _ = st.rule.forward(st.box, *(env[s] for s in st.ins))
            env.update(zip(st.outs, ys, strict=True))
        last = [st for st in prog.steps if st.box.name != "group_sum"][-1]
        return env[last.outs[0]]

    return jax.jit(run)


def median_ms(fn: Any, repeats: int, warmup: int) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def training(batch: int, repeats: int) -> list[str]:
    """One Adam step, fused relaxed network vs the Smooth reference."""
    net = cl.logic.network(N_IN, WIDTHS, K, seed=0)
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.random((batch, N_IN)) < 0.5, jnp.float32)
    y = jnp.asarray(rng.integers(0, K, batch))
    opt = cl.optim.adam(1e-2)
    ms = {}
    for name, functor in (
        ("Smooth", cl.Smooth(fused=False)),
        ("Kernel(relaxed)", cl.Kernel(relaxed=True)),
    ):
        prog = functor(net)
        params = prog.init(jax.random.key(0))
        state = opt.init(params)
        step = jax.jit(cl.learn.train_step(prog, cl.losses.softmax_cross_entropy, opt))

        def once(step: Any = step, params: Any = params, state: Any = state) -> Any:
            return jax.block_until_ready(step(params, state, x, y))

        ms[name] = median_ms(once, repeats, 2)
    ratio = ms["Smooth"] / ms["Kernel(relaxed)"]
    return [
        f"training step, batch {batch} (Adam, softmax cross-entropy), median ms:",
        *(
            f"  {k:<17}{v:>9.1f} ms  {batch / v * 1e3:>10.0f} samples/s"
            for k, v in ms.items()
        ),
        f"  speed-up Kernel(relaxed) / Smooth: {ratio:.2f}x",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument(
        "--all-cores", action="store_true", help="do not pin to one core"
    )
    args = parser.parse_args()
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    batch, check = 2**16, 4133
    repeats, warmup = (3, 1) if args.quick else (11, 2)

    diagram = cl.logic.network(N_IN, WIDTHS, K, seed=0)
    hidden = cl.logic.network(N_IN, WIDTHS, None, seed=0)
    kernel, boolean = cl.Kernel(), cl.Boolean()
    progs = {"Kernel": kernel(diagram), "Boolean": boolean(diagram)}
    rng = np.random.default_rng(0)
    params = {
        k: rng.random(w.shape) < 0.5 for k, w in progs["Boolean"].param_types.items()
    }
    jparams = {k: jnp.asarray(v) for k, v in params.items()}
    cref = FusedC(bt.layers(params))

    xs = rng.random((check, N_IN)) < 0.5
    outs = [np.asarray(p(jparams, jnp.asarray(xs))) for p in progs.values()]
    outs += [cref.end_to_end(xs, fused=False), cref.end_to_end(xs, fused=True)]
    if not all(np.array_equal(outs[0], o) for o in outs[1:]):
        raise SystemExit("Kernel, Boolean and the C references disagree on the counts")

    x = rng.random((batch, N_IN)) < 0.5
    jx = jnp.asarray(x)
    h64 = cref.pack(x)
    tile_ms = {}
    for t in TILES:
        cref.tile = t
        tile_ms[t] = median_ms(lambda: cref.fused(h64), max(3, repeats // 2), 1)
    cref.tile = min(tile_ms, key=tile_ms.__getitem__)

    end = {
        name: median_ms(functools.partial(bt.blocking, p, jparams, jx), repeats, warmup)
        for name, p in progs.items()
    }
    end["C per-layer"] = median_ms(lambda: cref.end_to_end(x, False), repeats, warmup)
    end["C fused-tile"] = median_ms(lambda: cref.end_to_end(x, True), repeats, warmup)
    w32 = bits.pack(jx)
    lay = {}
    for name, functor in (("Kernel", kernel), ("Boolean", boolean)):
        run = layers_only(functor(hidden), params)
        lay[name] = median_ms(
            lambda run=run: run(w32).block_until_ready(), repeats, warmup
        )
    lay["C per-layer"] = median_ms(lambda: cref.per_layer(h64), repeats, warmup)
    lay["C fused-tile"] = median_ms(lambda: cref.fused(h64), repeats, warmup)

    device = jax.devices()[0]
    lines = [
        f"jax {jax.__version__} on {device.platform} ({device.device_kind}); "
        f"{len(os.sched_getaffinity(0))} core(s) usable; Kernel backend: "
        f"{kernel.resolved_backend}; C: {cref.cmd}, 1 thread",
        f"network({N_IN}, {WIDTHS}, {K}): {GATES} gates; {batch} examples; "
        f"median of {repeats} after {warmup} warm-up",
        f"agreement: Kernel, Boolean, C per-layer and C fused-tile give the same "
        f"counts on {check} examples",
        "C fused-tile, ms by tile (words of 64 examples): "
        + ", ".join(f"T={t}: {v:.1f}" for t, v in tile_ms.items())
        + f" -> T={cref.tile}",
        "",
        f"{'':<15}{'end to end (bool -> counts)':>40}{'lut layers alone (packed)':>40}",
        f"{'implementation':<15}"
        + f"{'ms':>9}{'gate-evals/s':>15}{'samples/s':>14}" * 2,
    ]
    for name in end:
        cells = ""
        for ms in (end[name], lay[name]):
            cells += (
                f"{ms:>9.1f}{GATES * batch / ms * 1e3:>15.3e}{batch / ms * 1e3:>14.3e}"
            )
        lines.append(f"{name:<15}{cells}")
    ratio = end["C fused-tile"] / end["Kernel"]
    verdict = "meets" if ratio >= TARGET else "MISSES"
    lines += [
        "",
        f"ratio Kernel / C fused-tile: {ratio:.2f} end to end ({verdict} target "
        f"{TARGET}), {lay['C fused-tile'] / lay['Kernel']:.2f} lut layers alone",
        f"ratio Kernel / C per-layer: {end['C per-layer'] / end['Kernel']:.2f}; "
        f"Kernel / Boolean: {end['Boolean'] / end['Kernel']:.2f}",
        "",
        *training(256, max(3, repeats // 2)),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
