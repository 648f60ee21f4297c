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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from .._errors import OptimiserError, ParamError
from .._errors import SettingsWarning as SettingsWarning
from ._rda_checks import check_rda
from ._settings import describe, summary

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

    @property
    def wants_value(self) -> bool:
        """Whether ``update`` also takes ``value=`` (the loss) and ``value_fn=``
        (``params -> loss`` on the same batch), as optax's line searches do."""
        return False


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


def _same_names(grads: PyTree, params: PyTree) -> None:
    """A parameter the gradient does not cover (an extra entry in the params
    handed to ``cl.fit``) fails here, at trace time, naming it."""
    if not (isinstance(grads, dict) and isinstance(params, dict)):
        return
    if grads.keys() != params.keys():
        extra = sorted(map(str, params.keys() - grads.keys()))
        missing = sorted(map(str, grads.keys() - params.keys()))
        raise ParamError(
            f"the params hold {extra or 'no'} extra and {missing or 'no'} missing "
            f"entries beside the diagram's parameters {sorted(map(str, grads))}. "
            "Fix: pass only the diagram's parameters, e.g. "
            "{k: params[k] for k in prog.param_types}."
        )


@dataclass(frozen=True)
class SGD(Optimiser):
    lr: float

    def init(self, params: PyTree) -> SGDState:
        return SGDState()

    def update(
        self, grads: PyTree, state: SGDState, params: PyTree
    ) -> tuple[PyTree, SGDState]:
        _same_names(grads, params)
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
        _same_names(grads, params)
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
        _same_names(grads, params)
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
    optax's own named PyTree.

    A ``GradientTransformationExtraArgs`` (every optax alias; the line searches
    of ``optax.lbfgs`` need them) gets the extra arguments optax defines:
    ``value`` (the loss at ``params`` on this batch), ``grad`` (the gradient)
    and ``value_fn`` (``params -> loss`` on this batch). ``cl.fit`` passes
    ``value`` and ``value_fn``; transformations that do not use them ignore them.
    """

    tx: optax.GradientTransformation

    # optax mixes int32 step counts with floats, so it runs under JAX's standard
    # dtype promotion even when the caller has turned on strict promotion.
    def init(self, params: PyTree) -> PyTree:
        with jax.numpy_dtype_promotion("standard"):
            return self.tx.init(params)

    def update(
        self,
        grads: PyTree,
        state: PyTree,
        params: PyTree,
        *,
        value: Any = None,
        value_fn: Callable[[PyTree], Any] | None = None,
    ) -> tuple[PyTree, PyTree]:
        _same_names(grads, params)
        extra: dict[str, Any] = {}
        if isinstance(self.tx, optax.GradientTransformationExtraArgs):
            if value_fn is not None:
                extra = {"value": value, "grad": grads, "value_fn": value_fn}
        with jax.numpy_dtype_promotion("standard"):
            try:
                updates, state = self.tx.update(grads, state, params, **extra)
            except TypeError as e:
                if extra or "required keyword-only argument" not in str(e):
                    raise
                raise OptimiserError(
                    f"{self!r} needs the loss as well as its gradient ({e}): it "
                    "is an optax GradientTransformationExtraArgs, e.g. a line "
                    "search such as optax.lbfgs(). Fix: train it with cl.fit or "
                    "cl.learn.train_step, which pass value= and value_fn=, or "
                    "pass update(..., value=loss, value_fn=params -> loss) "
                    "yourself."
                ) from None
            return optax.apply_updates(params, updates), state

    @property
    def wants_value(self) -> bool:
        return isinstance(self.tx, optax.GradientTransformationExtraArgs)

    def __repr__(self) -> str:
        return f"FromOptax({summary(describe(self.tx))})"


def as_optimiser(optimiser: Any, where: str = "fit") -> Optimiser:
    """``optimiser`` as an optimiser lens: a catlearn optimiser as it is, an
    optax transformation wrapped by :func:`from_optax`; anything else fails
    with :class:`OptimiserError`."""
    if isinstance(optimiser, Optimiser):
        return optimiser
    if isinstance(optimiser, optax.GradientTransformation):
        return FromOptax(optimiser)
    raise _not_an_optimiser(optimiser, where)


def _not_an_optimiser(obj: Any, where: str) -> OptimiserError:
    name = getattr(obj, "__qualname__", None)
    module = getattr(obj, "__module__", "") or ""
    if callable(obj) and name and module.split(".")[0] == "optax":
        return OptimiserError(
            f"{where}: got optax.{name}, the function that builds an optax "
            f"optimiser, not an optimiser. Fix: call it, e.g. optax.{name}(1e-3)."
        )
    if callable(getattr(obj, "init", None)) and callable(getattr(obj, "update", None)):
        return OptimiserError(
            f"{where}: {obj!r} has init and update but is neither a "
            "cl.learn.Optimiser (whose update returns the new parameters) nor "
            "an optax GradientTransformation (whose update returns updates), "
            "so catlearn cannot tell which it returns. Fix: subclass "
            "cl.learn.Optimiser, or pass a GradientTransformation (for "
            "optax.MultiSteps: its .gradient_transformation())."
        )
    return OptimiserError(
        f"{where}: {obj!r} is neither a catlearn optimiser nor an optax "
        "GradientTransformation. Fix: e.g. cl.optim.adam(1e-2), cl.optim.rda() "
        "or optax.adam(1e-2)."
    )


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
    """Wrap an optax transformation (``optax.adamw(1e-3)``, a chain,
    ``optax.lbfgs()``, ...). ``cl.fit(optimiser=tx)`` wraps one too."""
    if not isinstance(tx, optax.GradientTransformation):
        raise _not_an_optimiser(tx, "from_optax")
    return FromOptax(tx)


# -- the RDA optimiser lens ---------------------------------------------------------
class RDAState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]
    key: jax.Array


@dataclass(frozen=True)
class RDA(Optimiser):
    """Reverse Derivative Ascent over Z2 (Wilson & Zanasi, ACT 2020), batched by
    votes. Its "gradient" is ``votes[b]``: over the batch, the examples whose
    reverse derivative ``R[f](p, x, e)_p`` is 1 at parameter bit ``b`` (minus,
    with ``balance``, those where flipping ``b`` would break a correct output
    bit; ``catlearn.learn._rda`` computes them, and gives a bit that no example
    votes for -1). The update, per parameter array:

        candidates = {b : votes[b] >= min_votes}
        F          = the ``flips`` candidates with the most votes (ties: random)
        p[b]      <- p[b] XOR [b in F]

    ``flips`` plays the learning rate. ``flips=None`` flips every candidate:
    with ``batch_size=1`` and ``balance=False`` this is the paper's update
    ``p := p ⊕ R[f](p, x, y ⊕ f(p, x))_p`` (for a network ending in
    ``group_sum``, with ``margin=math.inf`` and ``credit="all"`` too).
    ``min_votes=0`` also allows sideways moves (as many votes against as
    for). ``margin`` (a fraction of a class group's size) applies to
    networks ending in ``group_sum``: only examples whose true class leads
    every other by less than ``margin`` times the group size (at least one
    count) vote for flips; ``math.inf`` lets every example's wrong bits vote.
    ``credit`` (also for ``group_sum``): ``"pair"`` lets an example vote, for
    and against, only on the bits of its true class's group and its
    strongest rival's (what decides its margin); ``"all"`` on every group's
    (the paper's; the same for two classes). ``layers="one"``: only one
    parameter array (drawn at random) flips per step. ``explore``: per array
    and step, the probability of flipping ``flips`` random bits instead of
    the best-voted ones. ``accept``: keep a step's flips only if the batch's
    loss does not grow (Hamming; with ``group_sum``, the margin hinge ``sum
    max(0, margin * group - margin_e)``); with ``explore`` this is a
    vote-guided local search that escapes where every voted flip hurts
    (exact functions from truth tables: ``docs/results.md``). ``seed`` seeds the
    tie-breaking.
    """

    flips: int | None = 1
    min_votes: int = 1
    seed: int = 0
    balance: bool = True
    margin: float = 1 / 16
    credit: str = "pair"
    layers: str = "all"
    explore: float = 0.0
    accept: bool = False
    kind = "z2"

    def init(self, params: Any) -> RDAState:
        return RDAState(jnp.zeros([], jnp.int32), jax.random.key(self.seed))

    def update(self, votes: Any, state: RDAState, params: Any) -> tuple[Any, RDAState]:
        _same_names(votes, params)
        key, sub = jax.random.split(state.key)
        names = sorted(params)
        chosen = jax.random.randint(jax.random.fold_in(sub, 1 << 20), (), 0,
                                    len(names))  # layers="one": this array
        new = {}
        for i, name in enumerate(names):  # ranked over the whole array
            p, v = params[name], votes[name].reshape(-1)
            flip = v >= self.min_votes
            if self.flips is not None and self.flips < p.size:
                jitter = jax.random.uniform(jax.random.fold_in(sub, i), v.shape)
                score = jnp.where(flip, v.astype(jnp.float32) + jitter, -1.0)
                if self.explore > 0:  # this step, random bits instead of votes
                    coins = jax.random.fold_in(sub, (1 << 21) + i)
                    coin, draw = jax.random.split(coins)
                    score = jnp.where(jax.random.uniform(coin) < self.explore,
                                      jax.random.uniform(draw, v.shape), score)
                top, best = jax.lax.top_k(score, self.flips)
                flip = jnp.zeros(v.shape, bool).at[best].set(top >= 0)
            if self.layers == "one":
                flip = flip & (chosen == i)
            new[name] = p ^ flip.reshape(p.shape)
        return new, RDAState(state.count + 1, key)


def rda(
    flips: int | None = 1,
    min_votes: int = 1,
    seed: int = 0,
    balance: bool = True,
    margin: float = 1 / 16,
    credit: str = "pair",
    layers: str = "all",
    explore: float = 0.0,
    accept: bool = False,
) -> RDA:
    """Reverse Derivative Ascent: flip the parameter bits that the most
    examples' reverse derivatives vote for, at most ``flips`` per parameter
    array and step (``None``: all with ``min_votes`` or more).

    The defaults train a ``cl.logic.network`` by minibatches (``batch_size``
    16 to 32): one flip per layer and step, votes balanced by the examples a
    flip would break (``balance=True``), and only the examples that are wrong
    or won by less than ``margin`` of a class group voting (results and an
    ablation: ``docs/results.md``). Wilson & Zanasi's per-example rule is
    ``rda(flips=None, balance=False)`` with ``batch_size=1``. See ``RDA`` for
    the update rule. ``credit="pair"`` (default) lets each example of a
    network ending in ``group_sum`` vote only on the groups of its true class
    and its strongest rival (``"all"``: every group, as the paper; the same
    for two classes); with 10 classes it is what makes RDA learn at all
    (``docs/results.md``).
    """
    check_rda(flips, min_votes, margin, credit, layers, explore, accept)
    return RDA(flips, min_votes, seed, balance, float(margin), credit, layers,
               float(explore), accept)
