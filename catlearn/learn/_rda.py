"""Reverse Derivative Ascent (Wilson & Zanasi, "Reverse Derivative Ascent: A
Categorical Approach to Learning Boolean Circuits", ACT 2020).

Over Z2 the learning lens is: model ; hamming ; closed by the RDA optimiser.
The Hamming loss lens sends a prediction ``y`` and target ``t`` to the error
bits ``y ⊕ t``; the model's reverse derivative takes them to parameter
cotangents; RDA flips parameter bits. Per example this is the paper's update

    p := p ⊕ R[f](p, x, y ⊕ f(p, x))_p .

For a batch, XOR-summing those updates cancels in pairs (two examples that
want the same flip undo each other), so the batched update counts votes
instead: for each parameter bit, ``for`` = the examples whose error the flip
would change (``R[f]`` at the error bits), ``against`` = the examples whose
correct output bits it would change (``R[f]`` at the correct bits). Bits with
``for - against >= min_votes`` are candidates; the ``flips`` best supported
(ties broken at random) are flipped: the flip budget plays the learning rate.

A ``network`` ends in ``group_sum``, whose integer counts have no Z2 reverse
derivative; RDA trains the bits that feed it against per-bit targets: the bits
of the true class's group should be 1, all others 0. A class wins by a count,
not by every bit, so only the examples whose margin (true count minus the best
other count) is below ``margin`` times the group size vote *for* flips (a
perceptron-style rule: examples already won do not pull); every example still
votes *against* the flips that would break its correct bits. Without that
gate, every output bit is asked to be a whole classifier and training stalls
(MONK-1, ``network(17, [256] * 4, 2)``, 10 seeds: mean test accuracy 0.81
without, 0.99 with; ``docs/results.md``).

With many classes a bit of class ``c``'s group is wrong for the examples of
``c`` when 0 and for those of the nine others when 1: voting on every group,
the majority wants every bit 0 and training collapses (``load_digits``, 10
classes: 0.30). A margin is decided by two groups, the true class's and its
strongest rival's, so by default (``credit="pair"``) an example votes, for
and against, on those two groups' bits only: the perceptron's multi-class
update, on bits (digits: 0.87-0.91; ``docs/results.md``). With two classes
the pair is every group, so binary tasks train as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np

from .._errors import SemanticsError
from ..diagrams import Diagram
from ..functors import Boolean, Program
from .losses import Joint, LossLike, _hamming_forward, hamming, tally
from .optim import RDA

Array = Any


# -- training a network's bits against per-bit targets ---------------------------
def split_readout(diagram: Diagram) -> tuple[Diagram, Any]:
    """``(body, readout)``: a diagram ending in ``group_sum`` splits into the
    bits before it and that box; otherwise ``(diagram, None)``."""
    last = diagram.inside[-1] if diagram.inside else None
    if last is not None and len(last.boxes) == 1 and last.boxes[0].name == "group_sum":
        body = type(diagram)(diagram.inside[:-1], diagram.dom, last.boxes[0].dom)
        return body, last.boxes[0]
    return diagram, None


def bit_targets(readout: Any, y: Array) -> np.ndarray:
    """Per-bit targets for the bits feeding ``group_sum``: the true class's
    group all ones, the other groups all zeros. ``y``: class ids or one-hot."""
    k, n = readout.spec["k"], readout.dom.inside[0].shape[0]
    y = np.asarray(y)
    one_hot = y.astype(bool) if y.ndim == 2 else np.eye(k, dtype=bool)[y]
    return np.repeat(one_hot, n // k, axis=1)


def margins(y: Any, t: Any, k: int) -> Any:
    """Per example, the count of the true class's group minus the largest count
    of another group, for output bits ``y`` and per-bit targets ``t`` (both
    ``(batch, n)``, ``k`` groups)."""
    b, n = y.shape[0], y.shape[1] // k
    counts = jnp.sum(y.reshape(b, k, n), axis=-1, dtype=jnp.int32)
    true = t.reshape(b, k, n)[:, :, 0]
    best_other = jnp.max(jnp.where(true, -1, counts), axis=-1)
    return jnp.sum(jnp.where(true, counts, 0), axis=-1) - best_other


def rival_bits(y: Any, t: Any, k: int) -> Any:
    """Per example, the output bits of the two groups its margin is decided
    by: the true class's and its strongest rival's (the other class with
    the largest count; ties: the first). ``(batch, n)`` bools."""
    b, n = y.shape[0], y.shape[1] // k
    counts = jnp.sum(y.reshape(b, k, n), axis=-1, dtype=jnp.int32)
    true = t.reshape(b, k, n)[:, :, 0]
    rival = jnp.argmax(jnp.where(true, -1, counts), axis=-1)
    groups = true | (jnp.arange(k)[None, :] == rival[:, None])
    return jnp.repeat(groups, n, axis=1)


def rda_step(program: Any, optimiser: RDA, readout: Any = None) -> Any:
    """``(params, state, x, t) -> (params, state, hamming loss)`` for per-bit
    targets ``t``: votes for and against each flip, then the optimiser.
    ``readout``: the ``group_sum`` box the bits feed, if any (for the margin)."""
    k = None if readout is None else readout.spec["k"]

    def step(params: Any, state: Any, x: Any, t: Any) -> tuple[Any, Any, Any]:
        xs = x if isinstance(x, tuple) else (x,)
        y = program.apply(params, *xs)
        if isinstance(y, tuple):  # several outputs: every output's bits vote
            return several(params, state, xs, y, t)
        error = y ^ t
        wanted, kept = error, ~error
        if k is not None and optimiser.credit == "pair":  # true class and rival
            contest = rival_bits(y, t, k)
            wanted, kept = error & contest, kept & contest
        if k is not None and math.isfinite(optimiser.margin):
            need = max(1, math.ceil(optimiser.margin * (y.shape[1] // k)))
            wanted = wanted & (margins(y, t, k) < need)[:, None]
        votes = program.votes(params, xs, wanted)
        net = votes
        if optimiser.balance:
            against = program.votes(params, xs, kept)
            net = {name: votes[name] - against[name] for name in votes}
        # a bit no example votes for is never a candidate (even at min_votes=0)
        net = {name: jnp.where(votes[name] > 0, net[name], -1) for name in net}
        new, state = optimiser.update(net, state, params)
        if optimiser.accept:  # kept only if the batch's loss does not grow
            keep = score(new, xs, t) <= score(params, xs, t, y)
            new = {n: jnp.where(keep, new[n], params[n]) for n in params}
        return new, state, jnp.mean(_hamming_forward(y, t))

    def score(params: Any, xs: Any, t: Any, y: Any = None) -> Any:
        """The loss ``accept`` compares: Hamming, or before ``group_sum``
        the margin hinge (how far examples fall short of the margin)."""
        y = program.apply(params, *xs) if y is None else y
        if isinstance(y, tuple):
            return sum(jnp.sum(_hamming_forward(a, b)) for a, b in zip(y, t,
                                                                     strict=True))
        if k is None:
            return jnp.sum(_hamming_forward(y, t))
        need = max(1, math.ceil(min(optimiser.margin, 1.0) * (y.shape[1] // k)))
        return jnp.sum(jnp.maximum(0, need - margins(y, t, k)))

    def several(params: Any, state: Any, xs: Any, y: Any, t: Any) -> Any:
        error = tuple(a ^ b for a, b in zip(y, t, strict=True))
        votes = program.votes(params, xs, error)
        net = votes
        if optimiser.balance:
            against = program.votes(params, xs, tuple(~e for e in error))
            net = {name: votes[name] - against[name] for name in votes}
        net = {name: jnp.where(votes[name] > 0, net[name], -1) for name in net}
        new, state = optimiser.update(net, state, params)
        if optimiser.accept:
            keep = score(new, xs, t) <= score(params, xs, t, y)
            new = {n: jnp.where(keep, new[n], params[n]) for n in params}
        bits = jnp.concatenate([e.reshape(e.shape[0], -1) for e in error], axis=1)
        return new, state, jnp.mean(jnp.sum(bits, axis=1))

    return step


# -- RDA as fit's way of learning (catlearn.learn._training) ------------------------
@dataclass(frozen=True)
class RDATraining:
    """Learning by Reverse Derivative Ascent: :func:`rda_step` on the bits
    (per-bit targets before a ``group_sum``), with the examples the full
    program gets right as its metric."""

    program: Program
    optimiser: Any

    def default_loss(self, y: Any) -> LossLike:
        return hamming  # RDA learns bits by Hamming votes

    def check_loss(self, loss: LossLike) -> None:
        pass  # the check in step says more: it names the semantics too

    def step(self, loss: LossLike, y: Any) -> tuple[Any, Any]:
        program = self.program
        parts = loss.losses if isinstance(loss, Joint) else (loss,)
        if len(parts) > 1 and all(part is hamming for part in parts) and \
                isinstance(program.functor, Boolean):  # several bit outputs
            step = rda_step(program, self.optimiser)

            def with_outputs(p: Any, s: Any, x: Any, t: Any) -> tuple[Any, ...]:
                return (*step(p, s, x, t), tally(loss, program.apply(p, *x), t))

            return with_outputs, tuple(np.asarray(v).astype(bool) for v in y)
        if loss is not hamming or not isinstance(program.functor, Boolean):
            raise SemanticsError(
                f"{self.optimiser!r} is Reverse Derivative Ascent over Z2: it "
                "trains under cl.Boolean() with loss=cl.losses.hamming, got "
                f"semantics {program.functor!r} and loss {loss!r}. Fix: "
                "cl.fit(..., semantics=cl.Boolean(), loss=cl.losses.hamming, "
                "optimiser=cl.optim.rda()) (several outputs: loss=(cl.losses."
                "hamming, cl.losses.hamming, ...))."
            )
        body, readout = split_readout(program.diagram)
        bits = program.functor(body) if readout is not None else program
        step = rda_step(bits, self.optimiser, readout)
        if readout is None:

            def with_bits(p: Any, s: Any, x: Any, t: Any) -> tuple[Any, ...]:
                right = hamming.n_correct(program.apply(p, *x), t)
                return (*step(p, s, x, t), right)

            return with_bits, np.asarray(y).astype(bool)
        k = readout.spec["k"]

        def with_classes(p: Any, s: Any, x: Any, t: Any) -> tuple[Any, ...]:
            labels = jnp.argmax(t.reshape(t.shape[0], k, -1)[:, :, 0], axis=-1)
            right = jnp.sum(jnp.argmax(program.apply(p, *x), axis=-1) == labels)
            return (*step(p, s, x, t), right)

        return with_classes, bit_targets(readout, y)

    def has_accuracy(self, loss: LossLike) -> bool:
        return True

    def validate(
        self, params: Any, data: Any, loss: LossLike, size: int, circuit: Any
    ) -> dict[str, float]:
        xs, y = data
        if isinstance(y, tuple):  # several outputs: each right, and all
            outs = self.program(params, *xs)
            right = [np.all(np.asarray(o) == np.asarray(t, bool).reshape(
                np.shape(o)), axis=-1) for o, t in zip(outs, y, strict=True)]
            row = {f"val_accuracy_{i}": float(np.mean(r)) for i, r in
                   enumerate(right)}
            return {"val_accuracy": float(np.mean(np.all(right, axis=0))), **row}
        out = np.asarray(self.program(params, *xs))
        if out.ndim == 2 and np.asarray(y).ndim == 1:  # group sums vs class ids
            return {"val_accuracy": float(np.mean(np.argmax(out, axis=-1) == y))}
        right = np.all(out == np.asarray(y, bool), axis=-1)
        return {"val_accuracy": float(np.mean(right))}
