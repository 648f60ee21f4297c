"""``Kernel``: the third reading of a logic diagram, compiled into fused kernels.

``cl.Kernel()`` means what ``cl.Boolean()`` means, bit for bit, but runs it
differently: after compiling the diagram into a program, every chain of
``lut_layer`` steps (each layer feeding only the next), with the ``group_sum``
read-out that ends it, becomes **one** step that calls a fused kernel. The
kernel carries a tile of bit-packed examples through all layers while it is in
cache (or, on a GPU, in one program per block of examples) instead of writing
every layer to main memory. Its reverse pass is fused the same way: it
recomputes the tile's forward pass and returns, per table bit, the number of
examples voting for it (Reverse Derivative Ascent's counts; their parity is
the Z2 reverse derivative).

``cl.Kernel(relaxed=True)`` is the smooth counterpart for gradient descent
(:class:`RelaxedKernel`, what ``cl.Smooth()`` means): chains of relaxed LUT
layers run features-first through a ``jax.custom_vjp`` kernel pair.

Backends (``backend=``), chosen per device by default:

    "cpu"        C++ kernel through jax.ffi, compiled at first use  (CPU default)
    "triton"     Pallas kernel lowered through Triton                 (GPU default)
    "interpret"  the same Pallas kernel in interpret mode (any device; slow)
    "xla"        no fusion: Boolean's per-layer XLA program

>>> import numpy as np, jax, catlearn as cl
>>> net = cl.logic.network(8, [16, 16], n_classes=2, seed=0)
>>> K, B = cl.Kernel(backend="xla"), cl.Boolean()
>>> print(K(net).describe())  # doctest: +NORMALIZE_WHITESPACE
Kernel(backend='xla')(<diagram [bits(8)] -> [real(2)], 1 steps>)
  s1 = param 'net.0.table'
  s3 = param 'net.1.table'
  s5 = fused_luts[8->16->16 | group_sum 2](s1, s3, s0)
  return s5
>>> p = B(net).init(jax.random.key(0))
>>> x = np.random.default_rng(0).random((5, 8)) < 0.5
>>> bool(np.array_equal(K(net)(p, x), B(net)(p, x)))
True
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BackendError
from ..backends import bits as B
from ..logic import wiring
from ._boolean import Boolean, _lut_layer_forward, _no_z2_reverse
from ._functor import Functor, check_rules, compile_diagram
from ._program import Program, Step
from ._rule import Rule
from ._smooth import Smooth
from ._smooth_logic import pullback, tables

BACKENDS = ("cpu", "triton", "interpret", "xla")


@dataclass(frozen=True)
class FusedLayers:
    """The box of a fused step: a chain of lut layers ``(n_in, n_out, seed,
    relax)``, optionally ending in ``group_sum`` into ``k`` groups (``tau``)."""

    layers: tuple[tuple[int, int, int, str], ...]
    group: tuple[int, float] | None = None

    @property
    def wirings(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [wiring(n, m, seed) for n, m, seed, _ in self.layers]

    @property
    def name(self) -> str:
        sizes = [self.layers[0][0], *(m for _, m, _, _ in self.layers)]
        tail = f" | group_sum {self.group[0]}" if self.group else ""
        return f"fused_luts[{'->'.join(map(str, sizes))}{tail}]"


class Counts(NamedTuple):
    """A table's cotangent as the fused reverse kernel returns it: per table
    bit, over how many examples of the batch it is 1 (``int32``)."""

    n: Any


# -- the fusion pass ------------------------------------------------------------------
def fuse(program: Program, make_rule: Any, absorb_group: bool = True) -> Program:
    """Replace each chain of ``lut_layer`` steps in ``program`` by one step with
    the rule ``make_rule(fused_box)``. A layer joins its predecessor's chain
    when it reads that layer's output and nothing else does; a layer's table
    must be a parameter read by that layer only (its votes are counted by the
    kernel). A chain whose output only feeds a ``group_sum`` absorbs it."""
    steps, slots = program.steps, program.slots
    readers: Counter[int] = Counter(s for st in steps for s in st.ins)
    readers.update(program.outputs)
    producer = {s: i for i, st in enumerate(steps) for s in st.outs}
    param_slots = {slot for _, slot in program._params.values()}

    def fusable(st: Step) -> bool:
        if st.box.name != "lut_layer":
            return False
        table, x = st.ins
        return (
            table in param_slots
            and readers[table] == 1
            and not slots[table].batched
            and slots[x].batched  # the kernels tile a batch of examples
        )

    nxt: dict[int, int] = {}
    for j, st in enumerate(steps):
        if not fusable(st):
            continue
        i = producer.get(st.ins[1])
        if i is not None and fusable(steps[i]) and readers[steps[i].outs[0]] == 1:
            nxt[i] = j
    heads = [i for i, st in enumerate(steps) if fusable(st) and i not in nxt.values()]
    replaced: dict[int, Step | None] = {}
    for head in heads:
        chain = [head]
        while chain[-1] in nxt:
            chain.append(nxt[chain[-1]])
        last, group = steps[chain[-1]], None
        out = last.outs[0]
        reader = [k for k, st in enumerate(steps) if out in st.ins]
        if (
            absorb_group
            and len(reader) == 1
            and readers[out] == 1
            and steps[reader[0]].box.name == "group_sum"
        ):
            g = steps[reader[0]]
            group = (g.box.spec["k"], g.box.spec["tau"])
            chain_end, out = reader[0], g.outs[0]
        else:
            chain_end = chain[-1]
        specs = tuple(
            (s["n_in"], s["n_out"], s["seed"], s["relax"])
            for s in (steps[k].box.spec for k in chain)
        )
        box = FusedLayers(specs, group)
        ins = (*(steps[k].ins[0] for k in chain), steps[head].ins[1])
        for k in chain:
            replaced[k] = None
        replaced[chain_end] = Step(box, make_rule(box), ins, (out,))
    new_steps = [replaced.get(i, st) for i, st in enumerate(steps)]
    fused = Program.__new__(Program)
    Program.__init__(
        fused,
        program.functor,
        program.diagram,
        slots,
        [st for st in new_steps if st is not None],
        program.n_inputs,
        program._params,
        program.outputs,
    )
    return fused


# -- the Boolean reading, fused -------------------------------------------------------
def _backend_module(backend: str) -> Any:
    if backend == "cpu":
        from ..backends import lutnet_cpu

        return lutnet_cpu
    from ..backends import lutnet_pallas

    return lutnet_pallas


def _boolean_rule(kernel: Kernel, box: FusedLayers) -> Rule:
    wirings = box.wirings
    sizes = [m for _, m, _, _ in box.layers]
    backend = kernel.resolved_backend
    options: dict[str, Any] = {}
    if backend in ("triton", "interpret"):
        options = {"backend": backend, "block_words": kernel.block_words}
    elif kernel.block_words is not None:
        options = {"tile_words": kernel.block_words}

    def forward(box: FusedLayers, *ins: Any) -> tuple[tuple[Any, ...], Any]:
        *masks, x = ins
        tabs = [t.reshape(n, 4) for t, n in zip(masks, sizes, strict=True)]
        k = box.group[0] if box.group else None
        if backend == "xla":
            y = x
            for (n_in, n_out, seed, _), t in zip(box.layers, masks, strict=True):
                spec = {"n_in": n_in, "n_out": n_out, "seed": seed}
                y = _lut_layer_forward(_Spec(spec), t, y)[0][0]
            out = B.group_count(y, k).astype(jnp.float32) if k else y
        else:
            out = _backend_module(backend).forward(
                x, tabs, wirings, group_k=k, **options
            )
        return (out,), (tabs, x)

    def reverse(box: FusedLayers, res: Any, dz: Any) -> tuple[Any, ...]:
        if box.group is not None:
            raise _no_z2_reverse()
        tabs, x = res
        if backend == "xla":
            return _xla_reverse(box, tabs, x, dz)
        dx, votes = _backend_module(backend).reverse(x, tabs, wirings, dz, **options)
        return (*(Counts(v) for v in votes), dx)

    return Rule(forward, reverse, f"fused lut layers ({backend})")


@dataclass(frozen=True)
class _Spec:
    spec: dict[str, Any]


def _xla_reverse(box: FusedLayers, tabs: list[Any], x: Any, dz: Any) -> tuple[Any, ...]:
    """The unfused reference: Boolean's layer rules, one after the other."""
    from ._boolean import _lut_layer_reverse

    acts, res = [x], []
    for (n_in, n_out, seed, _), t in zip(box.layers, tabs, strict=True):
        spec = _Spec({"n_in": n_in, "n_out": n_out, "seed": seed})
        (y,), r = _lut_layer_forward(spec, t.reshape(4 * n_out, 1), acts[-1])
        acts.append(y)
        res.append((spec, r))
    dts = []
    for spec, r in reversed(res):
        dt, dz = _lut_layer_reverse(spec, r, dz)
        dts.append(Counts(B.popcount(dt)))
    return (*reversed(dts), dz)


class Kernel(Boolean):
    """Boolean circuits run as fused kernels (module docstring). Bit-exact with
    ``cl.Boolean()``; ``backend`` and ``block_words`` (examples per tile or
    program, in 32-example words) have per-device defaults."""

    def __new__(cls, *args: Any, relaxed: bool = False, **options: Any) -> Any:
        if relaxed:  # the smooth counterpart, for fused gradient descent
            if "block_words" in options:
                options["block"] = options.pop("block_words")
            return RelaxedKernel(*args, **options)
        return super().__new__(cls)

    def __init__(
        self,
        rules: Any = None,
        *,
        backend: str | None = None,
        block_words: int | None = None,
        relaxed: bool = False,
    ):
        super().__init__(rules)
        self.backend, self.block_words = _check_backend(backend, block_words)

    @property
    def resolved_backend(self) -> str:
        return self.backend or default_backend()

    def __call__(self, diagram: Any) -> Program:
        from ..diagrams import from_discopy

        program = compile_diagram(self, from_discopy(diagram))
        return fuse(program, self.fused_rule)

    def fused_rule(self, box: FusedLayers) -> Rule:
        """The rule of one fused chain of lut layers (the fusion pass calls it
        for each chain it finds)."""
        return _boolean_rule(self, box)

    def extend(self, rules: Any) -> Functor:
        rules = check_rules(rules, f"{self!r}.extend")
        extra = {k: v for k, v in self.rules.items() if self.RULES.get(k) is not v}
        return type(self)(
            {**extra, **rules}, backend=self.backend, block_words=self.block_words
        )

    # Table cotangents from a fused step arrive as vote counts.
    def sum_batch(self, d: Any, like: Any) -> Any:
        if isinstance(d, Counts):
            return B.mask((d.n & 1).astype(bool))
        return super().sum_batch(d, like)

    def count_votes(self, d: Any) -> Any:
        return d.n if isinstance(d, Counts) else super().count_votes(d)

    def cotangent_shape(self, d: Any) -> tuple[int | None, ...] | None:
        if isinstance(d, Counts):  # votes per table bit, over the whole batch
            return (*d.n.shape, None)
        return super().cotangent_shape(d)

    def __repr__(self) -> str:
        return _repr(self, Boolean)

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and _options(self) == _options(other)

    def __hash__(self) -> int:
        return hash((super().__hash__(), _options(self)))


# -- the smooth reading, fused --------------------------------------------------------
def _relaxed_rule(kernel: RelaxedKernel, box: FusedLayers) -> Rule:
    from ..backends import lutnet_relaxed

    wirings = box.wirings
    sizes = [m for _, m, _, _ in box.layers]
    relaxes = [r for _, _, _, r in box.layers]
    options: dict[str, Any] = {"backend": kernel.resolved_backend}
    if kernel.block is not None:
        options["block"] = kernel.block

    def forward(box: FusedLayers, *ins: Any, key: Any = None) -> Any:
        *ws, x = ins
        keys = [
            None if key is None else jax.random.fold_in(key, i) for i in range(len(ws))
        ]
        tabs, auxs = zip(
            *(
                tables(w, n, r, k)
                for w, n, r, k in zip(ws, sizes, relaxes, keys, strict=True)
            ),
            strict=True,
        )
        y, res = lutnet_relaxed.relaxed_forward_with_residuals(
            x.T, list(tabs), wirings, **options
        )
        if box.group:
            k, tau = box.group
            # explicit sizes: an empty batch has y.shape[-1] == 0 (no -1)
            groups = y.reshape(k, y.shape[0] // k, y.shape[-1])
            out = jnp.sum(groups, axis=1).T / tau
        else:
            out = y.T
        return (out,), (tabs, auxs, res, y.shape)

    def reverse(box: FusedLayers, r: Any, dz: Any) -> tuple[Any, ...]:
        tabs, auxs, res, shape = r
        if box.group:
            k, tau = box.group
            dy = jnp.repeat(dz.T / tau, shape[0] // k, axis=0)
        else:
            dy = dz.T
        dtabs, dx = lutnet_relaxed.relaxed_reverse(
            res, list(tabs), wirings, dy, **options
        )
        dws = [
            pullback(rl, a, dt) for rl, a, dt in zip(relaxes, auxs, dtabs, strict=True)
        ]
        return (*dws, dx.T)

    return Rule(forward, reverse, "fused relaxed lut layers", keyed=True)


class RelaxedKernel(Smooth):
    """What ``cl.Smooth()`` means, with each chain of relaxed lut layers run
    features-first by a fused ``custom_vjp`` kernel pair (gradient descent on
    logic networks). ``backend``: ``"xla"`` (the default, any device) or
    ``"pallas"`` (per-layer Pallas kernels: Triton on GPU, interpret mode on
    CPU)."""

    def __init__(
        self, rules: Any = None, *, backend: str | None = None, block: int | None = None
    ):
        super().__init__(rules)
        if backend not in (None, "xla", "pallas"):
            raise BackendError(
                f"RelaxedKernel: backend {backend!r} is not one of ('xla', 'pallas'). "
                "Fix: leave it out for the device's default."
            )
        self.backend, self.block = backend, block

    @property
    def resolved_backend(self) -> str:
        # "pallas" lowers for Triton but has not yet run on a GPU here
        # (docs/benchmarks.md): opt in with backend="pallas".
        return self.backend or "xla"

    def __call__(self, diagram: Any) -> Program:
        from ..diagrams import from_discopy

        program = compile_diagram(self, from_discopy(diagram))
        return fuse(program, self.fused_rule)

    def fused_rule(self, box: FusedLayers) -> Rule:
        """The rule of one fused chain of relaxed lut layers."""
        return _relaxed_rule(self, box)

    def is_stochastic(self, box: Any) -> bool:
        if isinstance(box, FusedLayers):
            return any(r == "gumbel" for *_, r in box.layers)
        return super().is_stochastic(box)

    def extend(self, rules: Any) -> Functor:
        rules = check_rules(rules, f"{self!r}.extend")
        extra = {k: v for k, v in self.rules.items() if self.RULES.get(k) is not v}
        return type(self)({**extra, **rules}, backend=self.backend, block=self.block)

    def __repr__(self) -> str:
        return _repr(self, Smooth)

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and _options(self) == _options(other)

    def __hash__(self) -> int:
        return hash((super().__hash__(), _options(self)))


# -- helpers --------------------------------------------------------------------------
def default_backend() -> str:
    """``"triton"`` on a GPU; on CPU ``"cpu"`` if the C++ kernel builds and
    loads here, else ``"xla"``, with a ``BackendWarning`` that says why."""
    if jax.default_backend() == "gpu":
        return "triton"
    import warnings

    from .._errors import BackendWarning
    from ..backends import lutnet_cpu

    reason = lutnet_cpu.unavailable_reason()
    if reason is None:
        return "cpu"
    warnings.warn(
        "Kernel: falling back to backend='xla' (Boolean's per-layer XLA code, "
        f"several times slower): the fused CPU kernel cannot be used. {reason} "
        "(To run XLA on purpose, without this warning: cl.Kernel(backend='xla').)",
        BackendWarning,
        stacklevel=3,
    )
    return "xla"


def _check_backend(
    backend: str | None, block: int | None
) -> tuple[str | None, int | None]:
    if backend is not None and backend not in BACKENDS:
        raise BackendError(
            f"Kernel: backend {backend!r} is not one of {BACKENDS}. Fix: leave it "
            "out for the device's default, or pick one of those."
        )
    if backend == "triton" and jax.default_backend() != "gpu":
        device = jax.devices()[0]
        raise BackendError(
            f"Kernel: backend='triton' compiles its Pallas kernel with Triton, "
            f"which needs a GPU, but JAX runs on {jax.default_backend()} here "
            f"(device {device.device_kind!r}). Fix: leave backend out (the "
            "device's default), or backend='cpu' (the fused C++ kernel), "
            "'interpret' (the same Pallas kernel, interpreted) or 'xla'."
        )
    if block is not None and (
        isinstance(block, bool) or not isinstance(block, int) or block < 1
    ):
        raise BackendError(
            f"Kernel: block_words={block!r} must be a positive int (32-example "
            "words per tile). Fix: leave it out for the backend's default."
        )
    return backend, block


def _options(f: Any) -> tuple[Any, ...]:
    return (
        getattr(f, "backend", None),
        getattr(f, "block_words", getattr(f, "block", None)),
    )


def _repr(f: Any, base: Any) -> str:
    extra = sorted(k for k in f.rules if base.RULES.get(k) is not f.rules[k])
    args = [f"rules={extra}"] if extra else []
    backend, block = _options(f)
    if backend:
        args.append(f"backend={backend!r}")
    if block:
        args.append(
            f"block={block!r}"
            if isinstance(f, RelaxedKernel)
            else f"block_words={block!r}"
        )
    return f"{type(f).__name__}({', '.join(args)})"
