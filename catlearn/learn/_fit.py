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
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import SemanticsError, ShapeError
from ..functors import Boolean, Functor, Program, Smooth
from ..functors._sizes import native
from ._checkpoint import State, fingerprint
from ._checkpoint import read as read_checkpoint
from ._curves import plot_history
from ._evaluate import check_data, check_loss, default_loss, inputs
from ._guard import MODES
from ._loop import Run, epoch_scores
from ._parallel import DataParallel
from ._paths import run_paths
from ._rda import bit_targets, is_z2, rda_step, split_readout
from .losses import Loss, hamming
from .optim import Optimiser, adam, as_optimiser

Step = Callable[..., tuple[Any, Any, Any]]


def train_step(program: Program, loss: Loss, optimiser: Optimiser) -> Step:
    """The pure training step ``(params, opt_state, x, y, key=None) ->
    (params, opt_state, loss)``: the lens composite model ; loss ; seed, closed
    by the optimiser. ``x`` is one array, or a tuple with one array per input
    wire; ``key`` feeds stochastic generators (Gumbel-noised gates). An
    optimiser that ``wants_value`` (an optax line search, e.g. ``optax.lbfgs()``)
    also gets the loss ``value`` and ``value_fn``: the loss on this batch (and
    key) as a function of the parameters."""
    optimiser = as_optimiser(optimiser, "train_step")
    wants_value = getattr(optimiser, "wants_value", False)

    def step(
        params: Any, opt_state: Any, x: Any, y: Any, key: Any = None
    ) -> tuple[Any, Any, Any]:
        xs = inputs(x)
        prediction, model_backward = program.lens(params, xs, key)
        value, loss_backward = loss.lens(prediction, y)
        dprediction = loss_backward(jnp.ones((), prediction.dtype))
        dparams, _ = model_backward(dprediction)
        if not wants_value:
            params, opt_state = optimiser.update(dparams, opt_state, params)
            return params, opt_state, value

        def value_fn(p: Any) -> Any:
            return loss.lens(program.apply(p, *xs, key=key), y)[0]

        update: Callable[..., Any] = optimiser.update  # takes value, value_fn
        params, opt_state = update(
            dparams, opt_state, params, value=value, value_fn=value_fn
        )
        return params, opt_state, value

    return step


@dataclass
class FitResult:
    """What ``cl.fit`` returns: the trained parameters, the optimiser state and
    one history row per epoch (``loss``, ``accuracy`` if the loss has one,
    ``val_loss`` / ``val_accuracy`` with validation data, ``seconds``)."""

    params: dict[str, Any]
    opt_state: Any
    history: list[dict[str, float]] = field(default_factory=list)
    program: Program | None = None

    def __repr__(self) -> str:
        last = self.history[-1] if self.history else {}
        shown = ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k != "epoch")
        return f"FitResult({len(self.history)} epochs, last: {shown})"


def fit(
    diagram: Any,
    data: tuple[Any, Any],
    semantics: Functor | None = None,
    loss: Loss | None = None,
    optimiser: Optimiser | None = None,
    epochs: int = 10,
    batch_size: int = 32,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    validation: tuple[Any, Any] | None = None,
    progress: bool = True,
    *,
    plot: str | os.PathLike[str] | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
    resume: str | os.PathLike[str] | None = None,
    mesh: Any = None,
    on_nonfinite: str = "raise",
) -> FitResult:
    """Train ``diagram`` on ``data = (X, Y)`` by minibatches, shuffled each epoch.

    The step is compiled once (``jax.jit``); the same seed gives the same
    result. ``params`` (if given) are not modified: training works on a copy.
    A stochastic diagram (``Program.stochastic``: Gumbel-noised gates) gets a
    fresh key per step, derived from ``seed``; evaluation runs without noise.
    A logic network trained under ``Smooth`` also records, per epoch, the
    accuracy of its discretized circuit (``discrete_accuracy``) and the
    ``discretization_gap`` (relaxed minus circuit accuracy, both at the
    epoch's end).

    - ``seed``: an int from 0 to ``2**32 - 1`` (JAX keeps 32 bits of a
      seed, so a larger one would repeat a smaller one's run); anything else
      is refused with :class:`catlearn.ShapeError`.
    - ``plot``: write the training curves (loss, accuracy, gap) to this PNG
      (or ``.svg``/``.pdf``) at the end, and at each checkpoint.
    - ``checkpoint``: write an atomic checkpoint file there after every
      epoch, and also every ``checkpoint_every`` steps (batches) if given.
    - ``resume``: continue from a checkpoint written by the same run (same
      diagram, data, semantics, loss, optimiser and its settings, batch size
      and seed; ``epochs`` may grow). The result is bit for bit that of an
      uninterrupted run. A checkpoint of another run is refused with
      :class:`catlearn.CheckpointError`, naming what differs, before anything
      is written.
    - Paths are checked before anything is compiled or trained: a ``plot``
      or ``checkpoint`` that cannot be written (bytes or a NUL character:
      ``ShapeError``; a missing directory, a directory, the same file as
      another output: :class:`catlearn.io.SaveError`), a ``plot`` suffix
      matplotlib does not write, a ``resume`` that is not an existing file
      (:class:`catlearn.io.MissingFileError`).
    - ``on_nonfinite``: a step whose loss, parameters or optimiser state
      come out nan or inf is never applied. ``"raise"``: training stops with
      :class:`catlearn.NonFiniteError`, which names the epoch, batch and
      parameters and carries the last finite ``params``. ``"skip"``: such
      batches are skipped and counted (history ``skipped``).
    - ``loss``: by default, what :func:`catlearn.evaluate` would score with
      (class ids or one-hot rows: softmax cross-entropy; other real targets:
      mse; Boolean bits, and any RDA training: Hamming).
    - ``optimiser``: a ``cl.optim`` optimiser, or any optax transformation
      (wrapped by ``cl.optim.from_optax``; line searches such as
      ``optax.lbfgs()`` get the loss and ``value_fn`` they need).
    - ``mesh``: a ``jax.sharding.Mesh``; the batch is sharded over its
      devices, parameters replicated, and the reductions become XLA
      collectives (``catlearn.learn._parallel``).
    """
    _check_settings(batch_size, checkpoint_every, epochs, on_nonfinite)
    seed = check_seed(seed, "fit", "seed")
    paths = run_paths("fit", {}, plot=plot, checkpoint=checkpoint, resume=resume)
    plot, checkpoint, resume = paths["plot"], paths["checkpoint"], paths["resume"]
    batch_size = int(batch_size)  # a numpy int would not go into a checkpoint
    semantics = Smooth() if semantics is None else semantics
    optimiser = adam(1e-2) if optimiser is None else as_optimiser(optimiser)
    program = semantics(diagram)
    xs, y = check_data(program, data, "training data")
    if loss is None:  # as evaluate's default; RDA learns bits by Hamming votes
        loss = hamming if is_z2(optimiser) else default_loss(program, y)
    if not is_z2(optimiser):  # RDA's own check (_z2_training) says more
        check_loss(program, loss, "fit")
    if validation is not None:
        validation = check_data(program, validation, "validation data")
    key = jax.random.key(seed)
    params = program.init(key) if params is None else _copy(program, params)
    opt_state = optimiser.init(params)
    step, targets = _training_step(diagram, semantics, program, loss, optimiser, y)
    run = Run(
        step=step,
        data=(xs, targets),
        scores=epoch_scores(
            diagram, semantics, program, loss, optimiser, (xs, y), validation,
            batch_size,
        ),
        noise=jax.random.fold_in(key, 1) if program.stochastic else None,
        batch_size=batch_size,
        place=None if mesh is None else DataParallel(mesh),
        plot=plot,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        on_nonfinite=on_nonfinite,
    )
    rng = np.random.default_rng(seed)
    state = State(params, opt_state, 0, 0, dict(rng.bit_generator.state), (0,) * 4)
    if checkpoint is not None or resume is not None:
        run.fingerprint = fingerprint(
            diagram, semantics, loss, optimiser, batch_size, seed, (xs, y)
        )
    if resume is not None:
        state = read_checkpoint(resume, params, opt_state, run.fingerprint)
    state = run(state, epochs, progress)
    result = FitResult(state.params, state.opt_state, state.history, program)
    if plot is not None and state.history:
        plot_history(state.history, plot)
    return result


SEEDS = 2**32  # a seed is an int in [0, 2**32): JAX keeps 32 bits of it


def check_seed(seed: Any, where: str, what: str) -> int:
    """``seed`` as an int if it is one in ``[0, 2**32)``, else
    :class:`catlearn.ShapeError`. A larger seed would not be a different
    seed: ``jax.random.key`` keeps its low 32 bits (``2**32`` trains as ``0``)
    and fails past ``2**63``; numpy refuses negative ones."""
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool | np.bool_):
        if 0 <= seed < SEEDS:
            return int(seed)
        fix = f"e.g. {what}={int(seed) % SEEDS} (the seed modulo 2**32)"
        if seed < 0:
            fix = f"e.g. {what}=0"
    elif isinstance(seed, float) and seed.is_integer() and 0 <= seed < SEEDS:
        fix = f"e.g. {what}={int(seed)}"
    else:
        fix = f"e.g. {what}=0"
    raise ShapeError(
        f"{where}: {what} must be an int from 0 to 2**32 - 1 = {SEEDS - 1}, got "
        f"{type(seed).__name__} {seed!r}. Fix: {fix}."
    )


def _check_settings(
    batch_size: Any, checkpoint_every: Any, epochs: Any, on_nonfinite: Any
) -> None:
    def count(value: Any) -> bool:
        return isinstance(value, int | np.integer) and not isinstance(value, bool)

    for name, value, least in (
        ("batch_size", batch_size, 1),
        ("checkpoint_every", checkpoint_every, 1),
        ("epochs", epochs, 0),
    ):
        if value is None and name == "checkpoint_every":
            continue
        if not count(value) or value < least:
            raise ShapeError(
                f"fit: {name} must be an int >= {least}, got {value!r}. Fix: "
                f"e.g. {name}={max(least, 16 if name == 'batch_size' else 1)}."
            )
    if on_nonfinite not in MODES:
        raise ShapeError(
            f"fit: on_nonfinite must be one of {MODES}, got {on_nonfinite!r}. "
            "Fix: on_nonfinite='raise' (stop at the first nan/inf) or 'skip'."
        )


def _training_step(
    diagram: Any,
    semantics: Functor,
    program: Program,
    loss: Loss,
    optimiser: Optimiser,
    y: Any,
) -> tuple[Callable[..., tuple[Any, ...]], Any]:
    """The step ``(params, state, x, t[, key]) -> (params, state, loss,
    n_correct)`` and the targets it trains against."""
    if is_z2(optimiser):
        return _z2_training(diagram, semantics, program, loss, optimiser, y)
    _check_gradient_semantics(semantics, optimiser)
    step = train_step(program, loss, optimiser)

    def step_with_metrics(
        p: Any, s: Any, x: Any, t: Any, k: Any = None
    ) -> tuple[Any, ...]:
        correct = loss.n_correct(program.apply(p, *x), t)
        p, s, value = step(p, s, x, t, k)
        return p, s, value, jnp.zeros(()) if correct is None else correct

    return step_with_metrics, y


def _z2_training(
    diagram: Any,
    semantics: Functor,
    program: Program,
    loss: Loss,
    optimiser: Any,
    y: Any,
) -> tuple[Callable[..., tuple[Any, ...]], Any]:
    """The RDA step with its metric: a network's bits train against per-bit
    targets, and accuracy is read from the full diagram's group sums."""
    if loss is not hamming or not isinstance(semantics, Boolean):
        raise SemanticsError(
            f"{optimiser!r} is Reverse Derivative Ascent over Z2: it trains under "
            f"cl.Boolean() with loss=cl.losses.hamming, got semantics "
            f"{semantics!r} and loss {loss!r}. Fix: cl.fit(..., semantics="
            "cl.Boolean(), loss=cl.losses.hamming, optimiser=cl.optim.rda())."
        )
    body, readout = split_readout(diagram)
    step = rda_step(
        semantics(body) if readout is not None else program, optimiser, readout
    )
    if readout is None:
        targets = np.asarray(y).astype(bool)

        def with_bits(p: Any, s: Any, x: Any, t: Any) -> tuple[Any, ...]:
            right = hamming.n_correct(program.apply(p, *x), t)
            return (*step(p, s, x, t), right)

        return with_bits, targets
    k = readout.spec["k"]

    def with_classes(p: Any, s: Any, x: Any, t: Any) -> tuple[Any, ...]:
        labels = jnp.argmax(t.reshape(t.shape[0], k, -1)[:, :, 0], axis=-1)
        right = jnp.sum(jnp.argmax(program.apply(p, *x), axis=-1) == labels)
        return (*step(p, s, x, t), right)

    return with_classes, bit_targets(readout, y)


def _check_gradient_semantics(semantics: Functor, optimiser: Any) -> None:
    if isinstance(semantics, Boolean):
        raise SemanticsError(
            f"{optimiser!r} follows gradients, but cl.Boolean() has no gradients: "
            "it learns by Reverse Derivative Ascent. Fix: optimiser=cl.optim.rda() "
            "with loss=cl.losses.hamming, or semantics=cl.Smooth()."
        )


def _copy(program: Program, params: dict[str, Any]) -> dict[str, Any]:
    program._check_params(params)  # fail early, naming the bad parameter
    return {k: jnp.array(native(v)) for k, v in params.items()}
