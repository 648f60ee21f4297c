"""Loss lenses. A loss is a lens ``(prediction, target) -> scalar``: forward, the
mean loss over the batch; backward, from the loss cotangent ``dl`` to the
prediction cotangent ``dy``.

>>> import jax.numpy as jnp, catlearn as cl
>>> y, t = jnp.array([[1.0, 2.0]]), jnp.array([[0.0, 2.0]])
>>> value, backward = cl.losses.mse.lens(y, t)
>>> float(value), backward(1.0).tolist()
(0.5, [[1.0, 0.0]])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

from .._errors import SemanticsError, ShapeError

Array = Any


@dataclass(frozen=True)
class Loss:
    """A loss lens from per-example rules.

    ``forward(y, t) -> (batch,)`` per-example losses; ``reverse(y, t, dl) -> dy``
    with ``dl`` of shape ``(batch,)``. The lens averages over the batch.
    ``correct(y, t) -> (batch,) bool`` (optional) says which predictions count as
    right, for accuracy.
    """

    name: str
    forward: Callable[[Array, Array], Array]
    reverse: Callable[[Array, Array, Array], Array]
    correct: Callable[[Array, Array], Array] | None = None
    prepare: Callable[[Array, Array], Array] | None = None

    def targets(self, y: Array, t: Array) -> Array:
        """Targets in the form the rules take (e.g. class ids made one-hot)."""
        t = jnp.asarray(t)
        return self.prepare(y, t) if self.prepare else t

    def lens(self, y: Array, t: Array) -> tuple[Array, Callable[[Array], Array]]:
        """``(mean loss, backward)`` with ``backward(dl) = dy``."""
        t = self.targets(y, t)
        per_example = self.forward(y, t)
        batch = per_example.shape[0]

        def backward(dl: Array) -> Array:
            dl_each = jnp.full((batch,), dl / batch, dtype=y.dtype)
            return self.reverse(y, t, dl_each)

        return jnp.mean(per_example), backward

    def __call__(self, y: Array, t: Array) -> Array:
        """The mean loss over the batch."""
        return jnp.mean(self.forward(y, self.targets(y, t)))

    def n_correct(self, y: Array, t: Array) -> Array | None:
        """How many predictions in the batch are right (``None`` if the loss
        has no notion of accuracy)."""
        if self.correct is None:
            return None
        return jnp.sum(self.correct(y, jnp.asarray(t)))

    def __repr__(self) -> str:
        return f"cl.losses.{self.name}"


def _per_example_axes(y: Array) -> tuple[int, ...]:
    return tuple(range(1, y.ndim))


def _mse_forward(y: Array, t: Array) -> Array:
    return jnp.mean(jnp.square(y - t), axis=_per_example_axes(y))


def _mse_reverse(y: Array, t: Array, dl: Array) -> Array:
    n = max(1, y[0].size)
    return (2.0 / n) * (y - t) * dl.reshape((-1,) + (1,) * (y.ndim - 1))


def _mse_prepare(y: Array, t: Array) -> Array:
    if t.shape != y.shape:
        raise ShapeError(
            f"cl.losses.mse: targets have shape {tuple(t.shape)}, predictions "
            f"{tuple(y.shape)}. Fix: give one target per output value."
        )
    return t.astype(y.dtype)


mse = Loss("mse", _mse_forward, _mse_reverse, prepare=_mse_prepare)
"""Mean squared error: per example, the mean over features of ``(y - t)^2``."""


def _one_hot(y: Array, t: Array) -> Array:
    k = y.shape[-1]
    if t.ndim == 1 and jnp.issubdtype(t.dtype, jnp.integer):
        return jax.nn.one_hot(t, k, dtype=y.dtype)
    if t.shape != y.shape:
        raise ShapeError(
            f"cl.losses.softmax_cross_entropy: targets have shape "
            f"{tuple(t.shape)}, logits {tuple(y.shape)}. Fix: pass integer class "
            f"ids of shape ({y.shape[0]},) or one-hot rows of shape {tuple(y.shape)}."
        )
    return t.astype(y.dtype)


def _xent_forward(y: Array, t: Array) -> Array:
    return -jnp.sum(t * jax.nn.log_softmax(y, axis=-1), axis=-1)


def _xent_reverse(y: Array, t: Array, dl: Array) -> Array:
    p = jax.nn.softmax(y, axis=-1)
    return (p * jnp.sum(t, axis=-1, keepdims=True) - t) * dl[:, None]


def _argmax_correct(y: Array, t: Array) -> Array:
    labels = t if t.ndim == 1 else jnp.argmax(t, axis=-1)
    return jnp.argmax(y, axis=-1) == labels


softmax_cross_entropy = Loss(
    "softmax_cross_entropy",
    _xent_forward,
    _xent_reverse,
    correct=_argmax_correct,
    prepare=_one_hot,
)
"""Cross-entropy of ``softmax(logits)`` against class ids or one-hot targets.
R: ``dy = dl (softmax(y) - t)`` (for targets that sum to one)."""


# -- the Hamming loss lens -----------------------------------------------------
def _hamming_forward(y: Array, t: Array) -> Array:
    y, t = jnp.asarray(y, bool), jnp.asarray(t, bool)
    return jnp.sum(y ^ t, axis=tuple(range(1, y.ndim))).astype(jnp.float32)


def _hamming_reverse(y: Array, t: Array, dl: Array) -> Array:
    return jnp.asarray(y, bool) ^ jnp.asarray(t, bool)  # the error bits


def _all_bits_right(y: Array, t: Array) -> Array:
    y, t = jnp.asarray(y, bool), _as_bits(y, t)
    return jnp.all(y == t, axis=tuple(range(1, y.ndim)))


HAMMING_IS_FOR = (
    "cl.losses.hamming counts wrong bits: it is the loss of Boolean circuits "
    "trained by Reverse Derivative Ascent (cl.fit(..., semantics=cl.Boolean(), "
    "loss=cl.losses.hamming, optimiser=cl.optim.rda())) and has no gradient"
)
UNDER_SMOOTH = (
    "loss=cl.losses.softmax_cross_entropy for classes (ids or one-hot rows), "
    "cl.losses.mse for relaxed bits or reals"
)


def _as_bits(y: Array, t: Array) -> Array:
    dtype = getattr(y, "dtype", None)
    if dtype is None or not (
        jnp.issubdtype(dtype, jnp.bool_) or jnp.issubdtype(dtype, jnp.integer)
    ):
        raise SemanticsError(
            f"{HAMMING_IS_FOR}, but the predictions are {dtype} of shape "
            f"{tuple(getattr(y, 'shape', ()))}: real numbers (a Smooth "
            "program's outputs, or group_sum counts), not bits. Fix: under "
            f"cl.Smooth() use {UNDER_SMOOTH}; for group_sum counts leave loss out."
        )
    t = jnp.asarray(t)
    if t.shape != y.shape:
        raise ShapeError(
            f"cl.losses.hamming: targets have shape {tuple(t.shape)}, predictions "
            f"{tuple(y.shape)}. Fix: give one target bit per output bit."
        )
    return t.astype(bool)


hamming = Loss(
    "hamming",
    _hamming_forward,
    _hamming_reverse,
    correct=_all_bits_right,
    prepare=_as_bits,
)
"""Hamming distance between predicted and target bits; backward, the error
bits ``y ⊕ t`` (the cotangent RDA follows)."""


# -- losses from plain functions, and several outputs ------------------------------
@dataclass(frozen=True)
class FunctionLoss:
    """A plain function ``fn(prediction, target) -> scalar`` (the batch's
    loss) as a loss lens: forward ``fn``, backward by ``jax.vjp`` of ``fn`` in
    the prediction. ``correct(y, t) -> (batch,) bool`` (optional) gives it an
    accuracy. Made by :func:`as_loss` (``cl.fit(..., loss=lambda y, t:
    ...)``)."""

    fn: Callable[[Array, Array], Array]
    correct: Callable[[Array, Array], Array] | None = None

    @property
    def name(self) -> str:
        return getattr(self.fn, "__name__", type(self.fn).__name__)

    def _value(self, y: Array, t: Array) -> Array:
        value = jnp.asarray(self.fn(y, t))
        if value.shape != ():
            raise ShapeError(
                f"loss {self.name!r}: a loss function must return one number "
                f"for the batch, got an array of shape {tuple(value.shape)}. "
                "Fix: reduce it, e.g. return jnp.mean(...)."
            )
        return value

    def lens(self, y: Array, t: Array) -> tuple[Array, Callable[[Array], Array]]:
        value, pullback = jax.vjp(lambda p: self._value(p, t), y)

        def backward(dl: Array) -> Array:
            return pullback(jnp.asarray(dl, value.dtype))[0]

        return value, backward

    def __call__(self, y: Array, t: Array) -> Array:
        return self._value(y, t)

    def n_correct(self, y: Array, t: Array) -> Array | None:
        return None if self.correct is None else jnp.sum(self.correct(y, t))

    def __repr__(self) -> str:
        return f"loss function {self.name!r}"


@dataclass(frozen=True)
class Joint:
    """The loss of a diagram with several outputs: ``losses[i]`` scores output
    ``i`` against target ``i``, the total is ``sum_i weights[i] * loss_i``
    and the backward pass gives each output its weighted cotangent. An
    example counts as right when every output is right (accuracy only if
    every loss has one). Made by :func:`joint` or ``cl.fit(..., loss=(l1,
    l2))``."""

    losses: tuple[Any, ...]
    weights: tuple[float, ...]

    @property
    def name(self) -> str:
        return "joint(" + ", ".join(repr(x) for x in self.losses) + ")"

    @property
    def correct(self) -> Callable[[Array, Array], Array] | None:
        if not all(x.correct for x in self.losses):
            return None

        def every(y: Array, t: Array) -> Array:
            rights = [x.correct(a, jnp.asarray(b))
                      for x, a, b in zip(self.losses, y, t, strict=True)]
            return jnp.all(jnp.stack(rights), axis=0)

        return every

    def lens(self, y: Any, t: Any) -> tuple[Array, Callable[[Array], Any]]:
        parts = [x.lens(a, b) for x, a, b in zip(self.losses, y, t, strict=True)]
        value = sum(w * v for w, (v, _) in zip(self.weights, parts, strict=True))

        def backward(dl: Array) -> tuple[Array, ...]:
            return tuple(back(w * dl)
                         for w, (_, back) in zip(self.weights, parts, strict=True))

        return jnp.asarray(value), backward

    def __call__(self, y: Any, t: Any) -> Array:
        return jnp.asarray(sum(w * x(a, b) for x, w, a, b
                               in zip(self.losses, self.weights, y, t, strict=True)))

    def n_correct(self, y: Any, t: Any) -> Array | None:
        every = self.correct
        return None if every is None else jnp.sum(every(y, t))

    def __repr__(self) -> str:
        return f"cl.losses.{self.name}"


def scored_outputs(loss: Any) -> tuple[int, ...]:
    """The outputs whose accuracy a fit records apart (``accuracy_i``): for
    the :class:`Joint` loss of a diagram with several outputs, those whose
    own loss has an accuracy; none for a single output.

    >>> import catlearn as cl
    >>> scored_outputs(joint((cl.losses.mse, cl.losses.softmax_cross_entropy)))
    (1,)
    >>> scored_outputs(cl.losses.softmax_cross_entropy)
    ()
    """
    if not isinstance(loss, Joint) or len(loss.losses) < 2:
        return ()
    return tuple(i for i, x in enumerate(loss.losses) if x.correct is not None)


def tally_shape(loss: Any) -> tuple[int, ...]:
    """The shape of :func:`tally`'s count for ``loss``."""
    scored = scored_outputs(loss)
    return (1 + len(scored),) if scored else ()


def tally(loss: Any, y: Any, t: Any) -> Array:
    """The correct predictions of a batch, as ``fit``'s step sums them and
    ``evaluate`` counts them: the examples right (every output right, for
    several outputs; 0 if the loss has no accuracy) and, for several outputs,
    after it the examples whose output ``i`` is right, for each ``i`` of
    :func:`scored_outputs` (an int32 array of :func:`tally_shape`).

    >>> import jax.numpy as jnp, catlearn as cl
    >>> both = joint((cl.losses.softmax_cross_entropy,) * 2)
    >>> y = jnp.array([[1.0, 0.0], [0.0, 1.0]])
    >>> tally(both, (y, y), (jnp.array([0, 1]), jnp.array([0, 0]))).tolist()
    [1, 2, 1]
    """
    right = loss.n_correct(y, t)
    count = jnp.asarray(0 if right is None else right, jnp.int32)
    scored = scored_outputs(loss)
    if not scored:
        return count
    each = [loss.losses[i].n_correct(y[i], jnp.asarray(t[i])) for i in scored]
    return jnp.stack([count, *(jnp.asarray(c, jnp.int32) for c in each)])


def joint(losses: Any, weights: Any = None) -> Joint:
    """The loss of a diagram with ``len(losses)`` outputs: output ``i`` scored
    by ``losses[i]`` (a ``cl.losses`` loss or a plain function), weighted by
    ``weights[i]`` (default 1 each)."""
    parts = tuple(as_loss(x) for x in losses)
    w = (1.0,) * len(parts) if weights is None else tuple(float(v) for v in weights)
    if len(w) != len(parts) or not parts:
        raise ShapeError(
            f"cl.losses.joint: {len(parts)} losses and {len(w)} weights. Fix: one "
            "weight per loss (or leave weights out: 1 each), at least one loss."
        )
    return Joint(parts, w)


def as_loss(loss: Any) -> Any:
    """A loss as ``fit`` and ``evaluate`` take it: a ``cl.losses`` loss as it
    is, a tuple or list of losses as :func:`joint` (one per output), a plain
    function ``fn(prediction, target) -> scalar`` as :class:`FunctionLoss`."""
    if isinstance(loss, Loss | FunctionLoss | Joint):
        return loss
    if isinstance(loss, tuple | list):
        return joint(loss)
    if callable(loss):
        return FunctionLoss(loss)
    raise ShapeError(
        f"loss {loss!r} is not a loss: pass a cl.losses loss (e.g. "
        "cl.losses.mse), a function (prediction, target) -> scalar, or one of "
        "those per output as a tuple. Fix: e.g. loss=cl.losses.mse."
    )


LossLike = Loss | FunctionLoss | Joint
"""What ``fit`` and ``evaluate`` take as a loss (after :func:`as_loss`)."""
