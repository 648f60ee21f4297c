"""Training as lens composition (Cruttwell, Gavranović, Ghani, Wilson, Zanasi,
"Categorical Foundations of Gradient-Based Learning", ESOP 2022).

One training step is the composite lens

    model ; loss ; seed,   closed by the optimiser on the parameters:

forward, the model lens maps ``(params, x)`` to a prediction and the loss lens
maps ``(prediction, target)`` to the loss; the closing lens seeds the backward
pass with ``dL = 1``; backward, the loss lens gives the prediction cotangent,
the model lens (the functor's reverse derivative, reusing forward residuals)
gives the parameter cotangent, and the optimiser lens turns it into the next
parameters. The paper's learning-rate lens ``dL = -lr`` is split here: the seed
is 1 and the optimiser owns the rate, so that any optax transformation (Adam is
not linear in its input) slots in unchanged.

How ``cl.fit`` learns is chosen once per fit by the optimiser.
A :class:`Training` holds the one compiled :class:`~catlearn.Program` of a fit
and its optimiser, and owns everything that differs between the two ways
catlearn learns: the default loss, the check that the semantics and the loss
suit the optimiser, the jitted step with its metric, and the validation
scores. :func:`training` picks it from the optimiser's ``kind`` (a table, the
only place where the fork between them lives):

- ``"real"``: :class:`GradientTraining`, the lens step of :func:`train_step`
  closed by a gradient optimiser (``cl.optim``'s own or any optax one);
- ``"z2"``: :class:`catlearn.learn._rda.RDATraining`, Reverse Derivative Ascent
  over Z2 by votes (``cl.optim.rda``).

>>> import catlearn as cl
>>> program = cl.Smooth()(cl.nn.mlp([2, 3]))
>>> type(training(program, cl.optim.adam(1e-2))).__name__
'GradientTraining'
>>> type(training(cl.Boolean()(cl.logic.XOR), cl.optim.rda())).__name__
'RDATraining'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import SemanticsError
from ..functors import Boolean, Program
from ._evaluate import (
    check_loss,
    circuit_scores,
    default_loss,
    evaluate_program,
    inputs,
)
from ._rda import RDATraining
from .losses import LossLike, tally
from .optim import Optimiser, as_optimiser

Step = Callable[..., tuple[Any, Any, Any]]
MetricStep = Callable[..., tuple[Any, ...]]


class Training(Protocol):
    """One way of learning a compiled ``program`` with ``optimiser``."""

    @property
    def program(self) -> Program:
        """The fit's one compiled program."""
        ...

    @property
    def optimiser(self) -> Any:
        """The fit's optimiser, which chose this way of learning."""
        ...

    def default_loss(self, y: Any) -> LossLike:
        """The loss when ``fit`` is given none, for targets ``y``."""
        ...

    def check_loss(self, loss: LossLike) -> None:
        """Refuse (before any work) a loss that cannot score the program."""
        ...

    def step(self, loss: LossLike, y: Any) -> tuple[MetricStep, Any]:
        """The step ``(params, state, x, t[, key]) -> (params, state, loss,
        n_correct)`` and the targets ``t`` it trains against (from ``y``);
        ``n_correct`` is :func:`catlearn.learn.losses.tally`'s count (with
        one count per output after it for several outputs)."""
        ...

    def has_accuracy(self, loss: LossLike) -> bool:
        """Whether the history records an accuracy (for several outputs:
        every output right, when every output's loss has an accuracy)."""
        ...

    def validate(
        self,
        params: Any,
        data: tuple[tuple[np.ndarray, ...], np.ndarray],
        loss: LossLike,
        size: int,
        circuit: Program | None,
    ) -> dict[str, float]:
        """The ``val_`` entries of a history row, scored in batches of
        ``size``; ``circuit``: the program's discretized circuit, if scored."""
        ...


def train_step(program: Program, loss: LossLike, optimiser: Optimiser) -> Step:
    """The pure training step ``(params, opt_state, x, y, key=None) ->
    (params, opt_state, loss)``: the lens composite model ; loss ; seed, closed
    by the optimiser. ``x`` is one array, or a tuple with one array per input
    wire; ``key`` feeds stochastic generators (Gumbel-noised gates). An
    optimiser that ``wants_value`` (an optax line search, e.g. ``optax.lbfgs()``)
    also gets the loss ``value`` and ``value_fn``: the loss on this batch (and
    key) as a function of the parameters."""
    step = _lens_step(program, loss, as_optimiser(optimiser, "train_step"))

    def public(
        params: Any, opt_state: Any, x: Any, y: Any, key: Any = None
    ) -> tuple[Any, Any, Any]:
        return step(params, opt_state, x, y, key)[:3]

    return public


def _lens_step(program: Program, loss: LossLike, optimiser: Any) -> Callable[..., Any]:
    """:func:`train_step` that also returns the prediction (before the
    update), so that a metric reads it instead of running the model again."""
    wants_value = getattr(optimiser, "wants_value", False)

    def step(
        params: Any, opt_state: Any, x: Any, y: Any, key: Any = None
    ) -> tuple[Any, Any, Any, Any]:
        xs = inputs(x)
        prediction, model_backward = program.lens(params, xs, key)
        value, loss_backward = loss.lens(prediction, y)
        dtype = jax.tree_util.tree_leaves(prediction)[0].dtype
        dprediction = loss_backward(jnp.ones((), dtype))
        dparams, _ = model_backward(dprediction)
        if not wants_value:
            params, opt_state = optimiser.update(dparams, opt_state, params)
            return params, opt_state, value, prediction

        def value_fn(p: Any) -> Any:
            return loss.lens(program.apply(p, *xs, key=key), y)[0]

        update: Callable[..., Any] = optimiser.update  # takes value, value_fn
        params, opt_state = update(
            dparams, opt_state, params, value=value, value_fn=value_fn
        )
        return params, opt_state, value, prediction

    return step


@dataclass(frozen=True)
class GradientTraining:
    """Learning by gradients: :func:`train_step`, with the batch's correct
    predictions (before the step) as its metric."""

    program: Program
    optimiser: Any

    def default_loss(self, y: Any) -> LossLike:
        return default_loss(self.program, y)

    def check_loss(self, loss: LossLike) -> None:
        check_loss(self.program, loss, "fit")

    def step(self, loss: LossLike, y: Any) -> tuple[MetricStep, Any]:
        program = self.program
        if isinstance(program.functor, Boolean):
            raise SemanticsError(
                f"{self.optimiser!r} follows gradients, but cl.Boolean() has no "
                "gradients: it learns by Reverse Derivative Ascent. Fix: "
                "optimiser=cl.optim.rda() with loss=cl.losses.hamming, or "
                "semantics=cl.Smooth()."
            )
        step = _lens_step(program, loss, as_optimiser(self.optimiser, "fit"))

        def step_with_metrics(
            p: Any, s: Any, x: Any, t: Any, k: Any = None
        ) -> tuple[Any, ...]:
            if program.stochastic:  # the accuracy of the noise-free model
                prediction = program.apply(p, *x)
                p, s, value, _ = step(p, s, x, t, k)
            else:
                p, s, value, prediction = step(p, s, x, t, k)
            # the examples right, and each output's for several outputs
            return p, s, value, tally(loss, jax.lax.stop_gradient(prediction), t)

        return step_with_metrics, y

    def has_accuracy(self, loss: LossLike) -> bool:
        return bool(loss.correct)

    def validate(
        self,
        params: Any,
        data: tuple[tuple[np.ndarray, ...], np.ndarray],
        loss: LossLike,
        size: int,
        circuit: Program | None,
    ) -> dict[str, float]:
        val = evaluate_program(self.program, params, data, loss, size)
        if circuit is not None:
            val.update(circuit_scores(circuit, params, data, loss, val, size))
        return {f"val_{k}": v for k, v in val.items() if k != "n"}


TRAININGS: dict[str, Callable[[Program, Any], Training]] = {
    "real": GradientTraining,
    "z2": RDATraining,
}


def training(program: Program, optimiser: Any) -> Training:
    """How ``program`` learns with ``optimiser``: by its ``kind`` (gradients
    for any kind but ``"z2"``, and when it has none, as optax's)."""
    make = TRAININGS.get(getattr(optimiser, "kind", "real"), GradientTraining)
    return make(program, optimiser)
