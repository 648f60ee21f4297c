"""What building a diagram costs, against its size, beside plain DisCoPy.

(a) Build time against n: a chain of n boxes written as ``d = d >> f`` in a
    loop and as ``cl.Diagram.then(*fs)``; a layer of n boxes side by side
    written as ``d = d @ f`` in a loop and as ``cl.tensor(*fs)``. Each catlearn
    time includes laying the layers out (reading ``d.inside`` once). The same
    forms with plain DisCoPy (``discopy.markov`` boxes of the same names and
    types) run in the same process, only while they finish in a few seconds:
    DisCoPy's ``>>`` loop is quadratic and its ``@`` (binary or n-ary) cubic,
    so a size predicted (from the last size measured) to take more than
    ``--budget`` seconds is skipped and said so.

(b) The target of issue 13: a 10,000-box layer and a 10,000-box chain each
    built (the boxes made too), compiled by ``cl.Smooth()`` and jitted (the
    first call of the program, which traces, lowers and compiles it with XLA)
    in under 3 s. The layer is timed twice: fed its n inputs separately
    (``cl.tensor`` of n boxes) and fed one input copied to its n boxes
    (``cl.Copy(x, n) >> layer``, built with ``@`` in a loop).
    ``cl.Smooth()`` runs its repeat pass (``catlearn/functors/_repeat.py``):
    the chain becomes one ``lax.scan`` step, the layer one ``vmap`` step. The
    layer's n inputs and n outputs cross ``jax.jit`` stacked, one array each
    way, and are cut into n arrays outside it (``catlearn/functors/_rows.py``).
    The floor printed after it: a jitted function returning one array n times,
    what a program whose n outputs left the jit one by one would cost in XLA,
    whatever it computed.

Run: ``python bench/build.py`` (``--quick``: n up to 1,000, target at 2,000).
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from discopy import markov

import catlearn as cl

TARGET_S = 3.0


def timed(build: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    d = build()
    len(d.inside)  # lay the layers out
    return d, time.perf_counter() - start


def loop_then(first: Any, boxes: list[Any]) -> Any:
    d = first
    for b in boxes:
        d = d >> b
    return d


def loop_tensor(first: Any, boxes: list[Any]) -> Any:
    d = first
    for b in boxes:
        d = d @ b
    return d


def forms(lib: Any, n: int) -> dict[str, Callable[[], Any]]:
    """The four ways to build, for catlearn (``lib=cl``) or plain DisCoPy."""
    x = cl.real(1)
    box = cl.Box if lib is cl else markov.Box
    chain = layer = [box("relu", x, x)] * n  # composing, not making boxes
    diagram = cl.Diagram if lib is cl else markov.Diagram
    nary_tensor = cl.tensor if lib is cl else diagram.id().tensor
    return {
        ">> loop": lambda: loop_then(diagram.id(x), chain),
        "then(*ds)": lambda: diagram.id(x).then(*chain),
        "@ loop": lambda: loop_tensor(diagram.id(), layer),
        "tensor(*ds)": lambda: nary_tensor(*layer),
    }


EXPONENT = {">> loop": 2, "then(*ds)": 1, "@ loop": 3, "tensor(*ds)": 3}


def build_table(sizes: list[int], budget: float) -> None:
    print("(a) build time (s) against n; DisCoPy = plain discopy.markov, same run")
    head = f"{'form':<12} {'n':>7} {'catlearn':>10} {'DisCoPy':>10} {'ratio':>8}"
    print(head + "\n" + "-" * len(head))
    last: dict[str, tuple[int, float]] = {}
    for name in EXPONENT:
        for n in sizes:
            _, ours = timed(forms(cl, n)[name])
            plain_text, ratio = "", ""
            seen = last.get(name)
            guess = seen[1] * (n / seen[0]) ** EXPONENT[name] if seen else 0.0
            if guess > budget:
                plain_text = f"skipped: ~{guess:,.0f} s predicted > {budget:g} s"
            else:
                _, plain = timed(forms(markov, n)[name])
                last[name] = (n, plain)
                plain_text, ratio = f"{plain:10.3f}", f"{plain / ours:7.1f}x"
            print(f"{name:<12} {n:>7,} {ours:10.3f} {plain_text:>10} {ratio:>8}")


def boxes(x: Any, n: int) -> list[Any]:
    return [cl.Box("relu", x, x) for _ in range(n)]


def target(n: int) -> None:
    print(f"\n(b) {n:,}-box layer and chain (making the boxes included): build, "
          "cl.Smooth()(d), jit (first call)")
    x = cl.real(1)
    kinds = {
        "layer, n inputs": lambda: cl.tensor(*boxes(x, n)),
        "layer (@ loop)": lambda: cl.Copy(x, n) >> loop_tensor(cl.Id(), boxes(x, n)),
        "chain (>> loop)": lambda: loop_then(cl.Id(x), boxes(x, n)),
    }
    for name, build in kinds.items():
        start = time.perf_counter()
        d = build()
        built = time.perf_counter()
        program = cl.Smooth()(d)
        compiled = time.perf_counter()
        xs = [jnp.ones((8, 1), jnp.float32) for _ in range(len(d.dom))]
        jax.block_until_ready(program({}, *xs))
        jitted = time.perf_counter()
        total = jitted - start
        verdict = "PASS" if total < TARGET_S else "MISS"
        print(
            f"{name:<16} build {built - start:6.2f} s"
            f"  compile {compiled - built:6.2f} s  jit {jitted - compiled:6.2f} s"
            f"  total {total:6.2f} s  (target < {TARGET_S:g} s each: {verdict})"
            f"  steps {len(program.steps)}"
        )
    x8 = jnp.ones((8, 1), jnp.float32)
    start = time.perf_counter()
    jax.block_until_ready(jax.jit(lambda a: (jnp.tanh(a),) * n)(x8))
    print(f"floor: jit of a function returning one array {n:,} times "
          f"{time.perf_counter() - start:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--budget", type=float, default=5.0)
    args = parser.parse_args()
    sizes = [100, 1000] if args.quick else [100, 1000, 10000]
    print(f"catlearn {cl.__version__}, {platform.python_implementation()} "
          f"{platform.python_version()}, jax {jax.__version__} on {jax.devices()[0]}")
    print(f"plain DisCoPy is skipped where predicted over {args.budget:g} s\n")
    build_table(sizes, args.budget)
    target(2000 if args.quick else 10000)


if __name__ == "__main__":
    main()
