"""Optimiser lenses over the reals.

An optimiser closes the learning lens on the parameters: forward, it reads the
parameters out of its state; backward, it takes the parameter cotangent (the
gradient) and returns the next parameters and state. Its state is a named
PyTree (a ``NamedTuple``), never a closure. Update rules, for gradient ``g``:

- ``sgd(lr)``:              ``p <- p - lr g``
- ``momentum(lr, beta)``:   ``v <- g + beta v;  p <- p - lr v``
- ``adam(lr, b1, b2, eps)`` (Kingma & Ba, 2015):
  ``m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  t <- t + 1;
  p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``

These are the same updates as ``optax.sgd``, ``optax.sgd(momentum=beta)`` and
``optax.adam``; ``from_optax(tx)`` wraps any optax transformation.

>>> import jax.numpy as jnp, catlearn as cl
>>> opt = cl.optim.sgd(0.5)
>>> state = opt.init({"w": jnp.array(1.0)})
>>> params, state = opt.update({"w": jnp.array(2.0)}, state, {"w": jnp.array(1.0)})
>>> float(params["w"])
0.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

PyTree = Any


class Optimiser:
    """Base of optimiser lenses: ``init(params) -> state`` and
    ``update(grads, state, params) -> (params, state)``."""

    def init(self, params: PyTree) -> PyTree:
        raise NotImplementedError

    def update(
        self, grads: PyTree, state: PyTree, params: PyTree
    ) -> tuple[PyTree, PyTree]:
        raise NotImplementedError


class SGDState(NamedTuple):
    """Plain gradient descent keeps no state."""


class MomentumState(NamedTuple):
    velocity: PyTree


class AdamState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]  # as optax's ScaleByAdamState
    mu: PyTree
    nu: PyTree


def _tmap(f: Any, *trees: PyTree) -> PyTree:
    return jax.tree_util.tree_map(f, *trees)


@dataclass(frozen=True)
class SGD(Optimiser):
    lr: float

    def init(self, params: PyTree) -> SGDState:
        return SGDState()

    def update(
        self, grads: PyTree, state: SGDState, params: PyTree
    ) -> tuple[PyTree, SGDState]:
        return _tmap(lambda p, g: p - self.lr * g, params, grads), state


@dataclass(frozen=True)
class Momentum(Optimiser):
    lr: float
    beta: float = 0.9

    def init(self, params: PyTree) -> MomentumState:
        return MomentumState(_tmap(jnp.zeros_like, params))

    def update(
        self, grads: PyTree, state: MomentumState, params: PyTree
    ) -> tuple[PyTree, MomentumState]:
        v = _tmap(lambda g, v: g + self.beta * v, grads, state.velocity)
        return _tmap(lambda p, v: p - self.lr * v, params, v), MomentumState(v)


@dataclass(frozen=True)
class Adam(Optimiser):
    lr: float
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8

    def init(self, params: PyTree) -> AdamState:
        zeros = _tmap(jnp.zeros_like, params)
        return AdamState(jnp.zeros([], jnp.int32), zeros, zeros)

    def update(
        self, grads: PyTree, state: AdamState, params: PyTree
    ) -> tuple[PyTree, AdamState]:
        b1, b2 = self.b1, self.b2
        mu = _tmap(lambda g, m: (1 - b1) * g + b1 * m, grads, state.mu)
        nu = _tmap(lambda g, v: (1 - b2) * (g * g) + b2 * v, grads, state.nu)
        count = state.count + 1
        t = count.astype(jnp.float32)
        c1, c2 = 1 - b1**t, 1 - b2**t

        def step(p: Any, m: Any, v: Any) -> Any:
            return p - self.lr * ((m / c1) / (jnp.sqrt(v / c2) + self.eps))

        return _tmap(step, params, mu, nu), AdamState(count, mu, nu)


@dataclass(frozen=True)
class FromOptax(Optimiser):
    """Any ``optax.GradientTransformation`` as an optimiser lens; its state is
    optax's own named PyTree."""

    tx: optax.GradientTransformation

    # optax mixes int32 step counts with floats, so it runs under JAX's standard
    # dtype promotion even when the caller has turned on strict promotion.
    def init(self, params: PyTree) -> PyTree:
        with jax.numpy_dtype_promotion("standard"):
            return self.tx.init(params)

    def update(
        self, grads: PyTree, state: PyTree, params: PyTree
    ) -> tuple[PyTree, PyTree]:
        with jax.numpy_dtype_promotion("standard"):
            updates, state = self.tx.update(grads, state, params)
            return optax.apply_updates(params, updates), state

    def __repr__(self) -> str:
        return f"FromOptax({type(self.tx).__name__})"


def sgd(lr: float) -> SGD:
    """Gradient descent: ``p <- p - lr g``."""
    return SGD(lr)


def momentum(lr: float, beta: float = 0.9) -> Momentum:
    """Heavy-ball momentum: ``v <- g + beta v;  p <- p - lr v``."""
    return Momentum(lr, beta)


def adam(lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Adam:
    """Adam (Kingma & Ba, 2015), bias-corrected, as ``optax.adam``."""
    return Adam(lr, b1, b2, eps)


def from_optax(tx: optax.GradientTransformation) -> FromOptax:
    """Wrap an optax transformation (``optax.adamw(1e-3)``, a chain, ...)."""
    return FromOptax(tx)


# -- the RDA optimiser lens ---------------------------------------------------------
class RDAState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]
    key: jax.Array


@dataclass(frozen=True)
class RDA(Optimiser):
    """Reverse Derivative Ascent over Z2; see the module docstring.

    ``flips``: at most this many bits flipped per step in each parameter array
    (``None``: every candidate, the paper's per-example update when
    ``batch_size=1``). ``min_votes``: the net support a flip needs.
    """

    flips: int | None = None
    min_votes: int = 1
    seed: int = 0
    balance: bool = True
    kind = "z2"

    def init(self, params: Any) -> RDAState:
        return RDAState(jnp.zeros([], jnp.int32), jax.random.key(self.seed))

    def update(self, votes: Any, state: RDAState, params: Any) -> tuple[Any, RDAState]:
        key, sub = jax.random.split(state.key)
        new = {}
        for i, name in enumerate(sorted(params)):
            p, v = params[name], votes[name]
            flip = v >= self.min_votes
            if self.flips is not None and self.flips < p.size:
                jitter = jax.random.uniform(jax.random.fold_in(sub, i), v.shape)
                score = jnp.where(flip, v.astype(jnp.float32) + jitter, -1.0)
                _, best = jax.lax.top_k(score, self.flips)
                flip = flip & jnp.zeros(p.shape, bool).at[best].set(True)
            new[name] = p ^ flip
        return new, RDAState(state.count + 1, key)


def rda(
    flips: int | None = None, min_votes: int = 1, seed: int = 0, balance: bool = True
) -> RDA:
    """Reverse Derivative Ascent: flip the parameter bits that the most
    examples' reverse derivatives vote for (at most ``flips`` per step).
    ``balance=False`` counts only the votes for a flip (with ``batch_size=1``
    and ``flips=None`` this is Wilson & Zanasi's ``p := p ⊕ R[f](p, x, e)_p``);
    ``balance=True`` subtracts the examples whose correct bits it would change.
    """
    return RDA(flips, min_votes, seed, balance)
