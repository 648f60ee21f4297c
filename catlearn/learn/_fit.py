"""``cl.fit``: check the settings and paths, compile the diagram once into
a :class:`~catlearn.Program`, let the optimiser choose how that program learns
(:func:`catlearn.learn._training.training`: gradients or RDA) and run the
epoch loop (:class:`catlearn.learn._loop.Run`) with its checkpoints."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import ShapeError
from ..functors import Functor, Program, Smooth, native
from . import _cache
from ._callbacks import Callback, EarlyStopping, check_callback
from ._checkpoint import State, fingerprint
from ._checkpoint import read as read_checkpoint
from ._curves import plot_history
from ._evaluate import check_data, check_metrics
from ._guard import MODES
from ._loop import Run, epoch_scores, gathering
from ._parallel import DataParallel
from ._paths import run_paths
from ._training import Step as Step
from ._training import train_step as train_step
from ._training import training
from .losses import LossLike, as_loss, tally_shape
from .optim import Optimiser, adam, as_optimiser


@dataclass
class FitResult:
    """What ``cl.fit`` returns: the trained parameters, the optimiser state and
    one history row per epoch (``loss``, ``accuracy`` if the loss has one,
    ``accuracy_0``, ``accuracy_1``, ... per output for a diagram with several,
    ``val_loss`` / ``val_accuracy`` / ``val_accuracy_i`` with validation data,
    ``seconds``)."""

    params: dict[str, Any]
    opt_state: Any
    history: list[dict[str, float]] = field(default_factory=list)
    program: Program | None = None
    best_epoch: int | None = None  # with early_stopping: the epoch params are from

    def __repr__(self) -> str:
        last = self.history[-1] if self.history else {}
        shown = ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k != "epoch")
        return f"FitResult({len(self.history)} epochs, last: {shown})"


def fit(
    diagram: Any,
    data: tuple[Any, Any],
    semantics: Functor | None = None,
    loss: LossLike | None = None,
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
    score: str = "end",
    on_epoch_end: Callback | None = None,
    early_stopping: EarlyStopping | None = None,
    metrics: dict[str, Any] | None = None,
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
    - ``score``: when a logic network under ``Smooth`` scores its circuit on
      the training set (``discrete_accuracy``, ``discretization_gap``: a
      pass over the training data, relaxed and discretized): ``"end"``
      (default) after the last epoch, ``"epoch"`` after every epoch,
      ``"none"`` never. The loss and accuracy of every epoch come from
      running sums over its steps (no extra pass); validation data, when
      given, is scored after every epoch.
    - The compiled step is kept for later calls (``catlearn.learn._cache``):
      a second ``fit`` of the same diagram, semantics, loss and optimiser
      settings does not compile again.
    - ``on_epoch_end``: a function called after each epoch with its history
      row (a dict); returning ``True`` stops training there.
    - ``early_stopping``: a :class:`catlearn.learn.EarlyStopping` (e.g.
      ``EarlyStopping("val_loss", patience=5)``): training stops when the
      monitored value has not improved for ``patience`` epochs, and the
      result holds the best epoch's parameters (``FitResult.best_epoch``).
    - ``metrics``: name -> ``fn(prediction, target) -> scalar`` (the batch's
      mean), recorded as ``val_<name>`` after every epoch with validation
      data, else as ``<name>`` on the training data after the last epoch.
    - ``loss`` may also be a plain function ``fn(prediction, target) ->
      scalar`` (its reverse by ``jax.vjp``), or, for a diagram with several
      outputs, one loss per output as a tuple (targets ``Y = (Y1, Y2, ...)``;
      :func:`catlearn.losses.joint` weighs them). Left out, each output gets
      its default loss. The history's ``accuracy`` then counts an example
      right when every output is (if every output's loss has an accuracy),
      and ``accuracy_i`` is output ``i``'s own (for each output whose loss
      has one; ``val_accuracy_i``, ``discrete_accuracy_i`` and
      ``discretization_gap_i`` likewise), summed in the step as the joint
      one is.
    - ``mesh``: a ``jax.sharding.Mesh``; the batch is sharded over its
      devices, parameters replicated, and the reductions become XLA
      collectives (``catlearn.learn._parallel``).
    """
    _check_settings(batch_size, checkpoint_every, epochs, on_nonfinite)
    if score not in SCORES:
        raise ShapeError(
            f"fit: score must be one of {SCORES}, got {score!r}. Fix: score='end' "
            "(the circuit's training scores after the last epoch), 'epoch' (after "
            "every epoch) or 'none'."
        )
    seed = check_seed(seed, "fit", "seed")
    paths = run_paths("fit", {}, plot=plot, checkpoint=checkpoint, resume=resume)
    plot, checkpoint, resume = paths["plot"], paths["checkpoint"], paths["resume"]
    batch_size = int(batch_size)  # a numpy int would not go into a checkpoint
    semantics = Smooth() if semantics is None else semantics
    optimiser = adam(1e-2) if optimiser is None else as_optimiser(optimiser)
    program = semantics(diagram)  # the one compiled program of this fit
    xs, y = check_data(program, data, "training data")
    learning = training(program, optimiser)  # gradients or RDA: chosen here only
    loss = learning.default_loss(y) if loss is None else as_loss(loss)
    learning.check_loss(loss)
    if validation is not None:
        validation = check_data(program, validation, "validation data")
    check_callback(on_epoch_end)
    metrics = check_metrics(metrics, "fit")
    if early_stopping is not None:
        early_stopping.check({"validation": validation is not None})
    key = jax.random.key(seed)
    params = program.init(key) if params is None else _copy(program, params)
    opt_state = optimiser.init(params)
    step, targets = learning.step(loss, y)
    names = list(params)
    cache_key = None if mesh is not None else _cache.key(
        program, learning, loss, optimiser, names, on_nonfinite)
    compiled = _cache.lookup(cache_key)
    if compiled is None and cache_key is not None:
        compiled = jax.jit(gathering(step, names, stop=on_nonfinite == "raise"))
        _cache.store(cache_key, compiled)
    run = Run(
        step=step,
        data=(xs, targets),
        scores=epoch_scores(learning, loss, (xs, y), validation, batch_size, score,
                            metrics),
        noise=jax.random.fold_in(key, 1) if program.stochastic else None,
        batch_size=batch_size,
        place=None if mesh is None else DataParallel(mesh),
        plot=plot,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        on_nonfinite=on_nonfinite,
        compiled=compiled,
        callback=on_epoch_end,
        stopper=early_stopping,
        tally=tally_shape(loss),
    )
    rng = np.random.default_rng(seed)
    state = State(params, opt_state, 0, 0, dict(rng.bit_generator.state), (0,) * 4)
    if checkpoint is not None or resume is not None:
        run.fingerprint = fingerprint(
            program.diagram, program.functor, loss, optimiser, batch_size, seed,
            (xs, y),
        )
    if resume is not None:
        state = read_checkpoint(resume, params, opt_state, run.fingerprint,
                                run.tally)
    state = run(state, epochs, progress)
    result = FitResult(state.params, state.opt_state, state.history, program)
    stopper = early_stopping
    if stopper is not None and stopper.restore_best and stopper.best_params is not None:
        result.params, result.best_epoch = stopper.best_params, stopper.best_epoch
    if plot is not None and state.history:
        plot_history(state.history, plot)
    return result


SCORES = ("end", "epoch", "none")
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


def _copy(program: Program, params: dict[str, Any]) -> dict[str, Any]:
    program.check_params(params)  # fail early, naming the bad parameter
    return {k: jnp.array(native(v)) for k, v in params.items()}
