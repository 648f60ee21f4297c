"""``Kernel``: a logic diagram compiled into fused kernels.

``cl.Kernel()`` means what ``cl.Boolean()`` means, bit for bit, but runs it
differently: after compiling the diagram into a program, the **fusion pass**
(:func:`~catlearn.functors._fuse.fuse`, listed in ``Kernel.PASSES``) turns every
chain of ``lut_layer`` steps, with the ``group_sum`` read-out that ends it, into
**one** step that calls a fused kernel. The kernel carries a tile of bit-packed
examples through all layers while it is in cache (or, on a GPU, in one program
per block of examples) instead of writing every layer to main memory. Its
reverse pass is fused the same way: it recomputes the tile's forward pass and
returns, per table bit, the number of examples voting for it (Reverse
Derivative Ascent's counts; their parity is the Z2 reverse derivative).

``cl.Kernel(relaxed=True)`` means what ``cl.Smooth()`` means, for gradient
descent: chains of relaxed LUT layers run features-first through a
``jax.custom_vjp`` kernel pair.

``Kernel`` is the class of both. ``cl.Kernel(...)`` builds the reading that
``relaxed`` names: a :class:`BooleanKernel` (a ``Boolean``) or a
:class:`RelaxedKernel` (a ``Smooth``); both are ``Kernel`` instances and print
as ``Kernel(...)``, which builds them again. One vocabulary serves both:

    backend=     "cpu"        the fused C++ kernel (jax.ffi, built at first use);
                              Boolean reading only
                 "triton"     the Pallas kernel compiled by Triton (needs a GPU)
                 "interpret"  the same Pallas kernel, interpreted (any device; slow)
                 "pallas"     the Pallas kernel: "triton" on a GPU, else "interpret"
                 "xla"        plain XLA ops, no hand-written kernel
    block=       examples per tile ("cpu") or per Pallas program; a multiple of
                 32 in the Boolean reading (32 examples per word); "xla"
                 ignores it. ``block_words=n`` (deprecated) is ``block=32 * n``.

Defaults: the Boolean reading uses "triton" on a GPU and "cpu" elsewhere
("xla", with a ``BackendWarning``, where the C++ kernel cannot be built); the
relaxed reading uses "xla".

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
>>> R = cl.Kernel(relaxed=True, backend="pallas")
>>> R, isinstance(R, cl.Kernel), isinstance(R, cl.Smooth)
(Kernel(relaxed=True, backend='pallas'), True, True)
"""

from __future__ import annotations

import warnings
from typing import Any

import jax

from .._errors import BackendError, SemanticsError
from ..backends import bits as B
from ._boolean import Boolean
from ._functor import Functor
from ._fuse import Counts, FusedLayers, fuse
from ._fused_rules import boolean_rule, relaxed_backend, relaxed_rule
from ._repeat import repeat
from ._rule import Rule
from ._smooth import Smooth

BACKENDS = ("cpu", "triton", "interpret", "pallas", "xla")
"""Every ``backend=`` word of ``cl.Kernel`` (module docstring)."""


class Kernel(Functor):
    """The fused functors (module docstring): ``Kernel(rules, *, relaxed=False,
    backend=None, block=None)``. ``relaxed`` picks the reading, a
    :class:`BooleanKernel` or a :class:`RelaxedKernel`; to change a rule's
    meaning, subclass one of those."""

    PASSES = (fuse, repeat)
    BACKENDS: tuple[str, ...] = BACKENDS  # the words this reading runs
    RELAXED = False

    def __new__(
        cls, rules: Any = None, *, relaxed: bool | None = None, **_: Any
    ) -> Any:
        if cls is Kernel:
            cls = RelaxedKernel if relaxed else BooleanKernel
        elif not issubclass(cls, BooleanKernel | RelaxedKernel):
            raise SemanticsError(
                f"{cls.__name__} subclasses cl.Kernel but neither of its readings, "
                "so it has no meaning for bits. Fix: subclass cl.BooleanKernel "
                "(Boolean's meaning) or cl.RelaxedKernel (Smooth's)."
            )
        elif relaxed is not None and bool(relaxed) != cls.RELAXED:
            raise SemanticsError(
                f"{cls.__name__}(relaxed={relaxed!r}): this class is the "
                f"relaxed={cls.RELAXED} reading. Fix: cl.Kernel(relaxed="
                f"{bool(relaxed)}), or leave relaxed out."
            )
        return object.__new__(cls)

    def __init__(
        self,
        rules: Any = None,
        *,
        relaxed: bool | None = None,
        backend: str | None = None,
        block: int | None = None,
        block_words: int | None = None,
    ):
        super().__init__(rules)
        if block_words is not None:
            warnings.warn(
                f"Kernel(block_words={block_words!r}) is deprecated: write block="
                "32 * block_words (examples per tile, in both readings).",
                DeprecationWarning,
                stacklevel=2,
            )
            if block is not None:
                raise BackendError(
                    f"{self._name()}: block={block!r} and block_words="
                    f"{block_words!r} both set the tile. Fix: give block only."
                )
            block = _positive("block_words", block_words) * B.WORD
        self.backend, self.block = self._check(backend, block)

    def _name(self) -> str:
        exact = type(self) in (BooleanKernel, RelaxedKernel)
        return "Kernel" if exact else type(self).__name__

    def _options(self) -> dict[str, Any]:
        options = {"relaxed": True} if self.RELAXED else {}
        options.update(backend=self.backend, block=self.block)
        return {k: v for k, v in options.items() if v is not None}

    def _check(self, backend: str | None, block: int | None) -> tuple[Any, Any]:
        """Refuse a backend word this reading does not run, or one that cannot
        run on this device, and a block that is not a positive int."""
        if backend is not None and backend not in self.BACKENDS:
            raise BackendError(
                f"{self._name()}: backend {backend!r} is not one of "
                f"{self.BACKENDS}. Fix: leave it out for the default, or pick "
                "one of those."
            )
        if backend == "triton" and jax.default_backend() != "gpu":
            device = jax.devices()[0]
            raise BackendError(
                f"{self._name()}: backend='triton' compiles its Pallas kernel with "
                f"Triton, which needs a GPU, but JAX runs on "
                f"{jax.default_backend()} here (device {device.device_kind!r}). "
                "Fix: leave backend out (the device's default), or backend='cpu' "
                "(the fused C++ kernel), 'interpret' (the same Pallas kernel, "
                "interpreted) or 'xla'."
            )
        return backend, None if block is None else _positive("block", block)

    @property
    def resolved_backend(self) -> str:
        """The backend word this functor runs (its default filled in)."""
        raise NotImplementedError

    def fused_rule(self, box: FusedLayers) -> Rule:
        """The rule of one fused chain of lut layers (the fusion pass calls it
        for each chain it finds)."""
        raise NotImplementedError


class BooleanKernel(Kernel, Boolean):
    """``cl.Kernel()``: what ``cl.Boolean()`` means, bit for bit, with each
    chain of lut layers run by one fused kernel (module docstring)."""

    def _check(self, backend: str | None, block: int | None) -> tuple[Any, Any]:
        backend, block = super()._check(backend, block)
        if block is not None and block % B.WORD:
            raise BackendError(
                f"{self._name()}: block={block!r} is not a multiple of {B.WORD} "
                f"(examples are packed {B.WORD} to a word). Fix: e.g. block="
                f"{B.WORD * max(1, block // B.WORD)}, or leave it out."
            )
        return backend, block

    @property
    def block_words(self) -> int | None:
        """``block`` in words of 32 examples (the older spelling)."""
        return None if self.block is None else self.block // B.WORD

    @property
    def resolved_backend(self) -> str:
        if self.backend == "pallas":
            return "triton" if jax.default_backend() == "gpu" else "interpret"
        return self.backend or default_backend()

    def fused_rule(self, box: FusedLayers) -> Rule:
        return boolean_rule(box, self.resolved_backend, self.block)

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


class RelaxedKernel(Kernel, Smooth):
    """``cl.Kernel(relaxed=True)``: what ``cl.Smooth()`` means, with each chain
    of relaxed lut layers run features-first by a fused ``custom_vjp`` kernel
    pair (gradient descent on logic networks). Backends: ``"xla"`` (the
    default, any device), ``"pallas"``, ``"triton"``, ``"interpret"``."""

    BACKENDS = ("triton", "interpret", "pallas", "xla", "cpu")
    RELAXED = True
    SHARED_TABLES = True  # fuse tables shared by positions (cl.logic.conv)
    LINKS = ("reshape", "or_pool")  # a fused chain runs on through these

    @property
    def resolved_backend(self) -> str:
        # "pallas" lowers for Triton but has not yet run on a GPU here
        # (docs/benchmarks.md): opt in with backend="pallas". On a CPU where
        # the C++ reverse builds, "cpu" (XLA's forward, the kernel's reverse).
        return self.backend or relaxed_backend()

    def fused_rule(self, box: FusedLayers) -> Rule:
        backend = self.resolved_backend
        if backend in ("xla", "cpu"):
            return relaxed_rule(box, {"backend": backend})
        interpret = {"pallas": None, "triton": False, "interpret": True}[backend]
        options = {"backend": "pallas", "block": self.block, "interpret": interpret}
        return relaxed_rule(box, options)

    def is_stochastic(self, box: Any) -> bool:
        if isinstance(box, FusedLayers):
            return any(s.relax == "gumbel" for s in box.luts)
        return super().is_stochastic(box)


def default_backend() -> str:
    """``"triton"`` on a GPU; on CPU ``"cpu"`` if the C++ kernel builds and
    loads here, else ``"xla"``, with a ``BackendWarning`` that says why."""
    if jax.default_backend() == "gpu":
        return "triton"
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


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BackendError(
            f"Kernel: {name}={value!r} must be a positive int (examples per tile"
            f"{' / 32' if name == 'block_words' else ''}). Fix: leave it out for "
            "the backend's default."
        )
    return value
