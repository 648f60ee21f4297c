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

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import SemanticsError, ShapeError
from ..functors import Boolean, Functor, Program, Smooth, discretize
from ._rda import bit_targets, is_z2, rda_step, split_readout
from .losses import Loss, hamming, mse, softmax_cross_entropy
from .optim import Optimiser, adam

Step = Callable[..., tuple[Any, Any, Any]]


def train_step(program: Program, loss: Loss, optimiser: Optimiser) -> Step:
    """The pure training step ``(params, opt_state, x, y, key=None) ->
    (params, opt_state, loss)``: the lens composite model ; loss ; seed, closed
    by the optimiser. ``x`` is one array, or a tuple with one array per input
    wire; ``key`` feeds stochastic generators (Gumbel-noised gates)."""

    def step(
        params: Any, opt_state: Any, x: Any, y: Any, key: Any = None
    ) -> tuple[Any, Any, Any]:
        prediction, model_backward = program.lens(params, _inputs(x), key)
        value, loss_backward = loss.lens(prediction, y)
        dprediction = loss_backward(jnp.ones((), prediction.dtype))
        dparams, _ = model_backward(dprediction)
        params, opt_state = optimiser.update(dparams, opt_state, params)
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
    loss: Loss = softmax_cross_entropy,
    optimiser: Optimiser | None = None,
    epochs: int = 10,
    batch_size: int = 32,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    validation: tuple[Any, Any] | None = None,
    progress: bool = True,
) -> FitResult:
    """Train ``diagram`` on ``data = (X, Y)`` by minibatches, shuffled each epoch.

    The step is compiled once (``jax.jit``); the same seed gives the same
    result. ``params`` (if given) are not modified: training works on a copy.
    A stochastic diagram (``Program.stochastic``: Gumbel-noised gates) gets a
    fresh key per step, derived from ``seed``; evaluation runs without noise.
    """
    semantics = Smooth() if semantics is None else semantics
    optimiser = adam(1e-2) if optimiser is None else optimiser
    program = semantics(diagram)
    xs, y = _check_data(program, data, "training data")
    n = y.shape[0]
    if validation is not None:
        validation = _check_data(program, validation, "validation data")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ShapeError(f"batch_size must be a positive int, got {batch_size!r}.")
    key = jax.random.key(seed)
    params = program.init(key) if params is None else _copy(program, params)
    opt_state = optimiser.init(params)

    if is_z2(optimiser):
        step_with_metrics, y, has_accuracy = _z2_training(
            diagram, semantics, program, loss, optimiser, y
        )
    else:
        _check_gradient_semantics(semantics, optimiser)
        step, has_accuracy = train_step(program, loss, optimiser), bool(loss.correct)

        def step_with_metrics(
            p: Any, s: Any, x: Any, t: Any, k: Any = None
        ) -> tuple[Any, ...]:
            correct = loss.n_correct(program.apply(p, *x), t)
            p, s, value = step(p, s, x, t, k)
            return p, s, value, jnp.zeros(()) if correct is None else correct

    jitted = jax.jit(step_with_metrics)
    noise = jax.random.fold_in(key, 1) if program.stochastic else None
    rng = np.random.default_rng(seed)
    result = FitResult(params, opt_state, program=program)
    bar = _progress(epochs, progress)
    for epoch in range(epochs):
        start = time.perf_counter()
        order = rng.permutation(n)
        sums = []  # read back once per epoch: no device sync per batch
        for lo in range(0, n, batch_size):
            idx = order[lo : lo + batch_size]
            batch_x = tuple(x[idx] for x in xs)
            args: tuple[Any, ...] = (params, opt_state, batch_x, y[idx])
            if noise is not None:  # one key per step: (epoch, first example)
                args += (jax.random.fold_in(jax.random.fold_in(noise, epoch), lo),)
            params, opt_state, value, right = jitted(*args)
            sums.append((value * len(idx), right))
        total, correct = (float(sum(col)) for col in zip(*sums, strict=True))
        row = {"epoch": float(epoch + 1), "loss": total / n}
        if has_accuracy:
            row["accuracy"] = correct / n
        if validation is not None and is_z2(optimiser):
            row["val_accuracy"] = _z2_accuracy(program, params, validation)
        elif validation is not None:
            scores = _evaluate(program, params, validation, loss)
            row.update({f"val_{k}": v for k, v in scores.items() if k != "n"})
        row["seconds"] = time.perf_counter() - start
        result.history.append(row)
        if bar is not None:
            bar.set_postfix({k: f"{v:.4f}" for k, v in row.items() if k != "epoch"})
            bar.update(1)
    if bar is not None:
        bar.close()
    result.params, result.opt_state = params, opt_state
    return result


def evaluate(
    diagram: Any,
    params: dict[str, Any],
    data: tuple[Any, Any],
    semantics: Functor | None = None,
    loss: Loss | None = None,
    batch_size: int = 4096,
) -> dict[str, float]:
    """Loss and accuracy of ``diagram`` with ``params`` on ``data = (X, Y)``.

    Without ``loss``: integer class ids are scored with softmax cross-entropy,
    float targets with mean squared error. Under ``Smooth``, a diagram whose
    parameters are all bits (a logic network) also reports
    ``discrete_accuracy``, the accuracy of ``discretize(diagram, params)``
    under ``Boolean``, and ``discretization_gap = accuracy -
    discrete_accuracy``."""
    semantics = Smooth() if semantics is None else semantics
    program = semantics(diagram)
    checked = _check_data(program, data, "evaluation data")
    if loss is None:
        integer = jnp.issubdtype(checked[1].dtype, jnp.integer)
        loss = softmax_cross_entropy if integer else mse
    scores = _evaluate(program, params, checked, loss, batch_size)
    kinds = {w.kind for w in program.param_types.values()}
    if isinstance(semantics, Smooth) and kinds == {"bits"} and "accuracy" in scores:
        boolean = Boolean()(diagram)
        hard = discretize(diagram, params)
        xs = tuple(np.asarray(x) > 0.5 for x in checked[0])
        discrete = _evaluate(boolean, hard, (xs, checked[1]), loss, batch_size)
        scores["discrete_accuracy"] = discrete["accuracy"]
        scores["discretization_gap"] = scores["accuracy"] - discrete["accuracy"]
    return scores


def _z2_training(
    diagram: Any,
    semantics: Functor,
    program: Program,
    loss: Loss,
    optimiser: Any,
    y: Any,
) -> tuple[Callable[..., tuple[Any, ...]], Any, bool]:
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

        return with_bits, targets, True
    k = readout.spec["k"]

    def with_classes(p: Any, s: Any, x: Any, t: Any) -> tuple[Any, ...]:
        labels = jnp.argmax(t.reshape(t.shape[0], k, -1)[:, :, 0], axis=-1)
        right = jnp.sum(jnp.argmax(program.apply(p, *x), axis=-1) == labels)
        return (*step(p, s, x, t), right)

    return with_classes, bit_targets(readout, y), True


def _z2_accuracy(program: Program, params: Any, data: Any) -> float:
    xs, y = data
    out = np.asarray(program(params, *xs))
    if out.ndim == 2 and np.asarray(y).ndim == 1:  # group sums vs class ids
        return float(np.mean(np.argmax(out, axis=-1) == y))
    return float(np.mean(np.all(out == np.asarray(y, bool), axis=-1)))


def _check_gradient_semantics(semantics: Functor, optimiser: Any) -> None:
    if isinstance(semantics, Boolean):
        raise SemanticsError(
            f"{optimiser!r} follows gradients, but cl.Boolean() has no gradients: "
            "it learns by Reverse Derivative Ascent. Fix: optimiser=cl.optim.rda() "
            "with loss=cl.losses.hamming, or semantics=cl.Smooth()."
        )


def _evaluate(
    program: Program,
    params: dict[str, Any],
    data: tuple[tuple[Any, ...], Any],
    loss: Loss,
    batch_size: int = 4096,
) -> dict[str, float]:
    xs, y = data
    n = y.shape[0]
    total, correct = 0.0, 0.0
    for lo in range(0, n, batch_size):
        batch_x = tuple(x[lo : lo + batch_size] for x in xs)
        prediction = program(params, *batch_x)
        t = y[lo : lo + batch_size]
        total += float(loss(prediction, t)) * t.shape[0]
        right = loss.n_correct(prediction, t)
        correct += 0.0 if right is None else float(right)
    scores = {"loss": total / n, "n": float(n)}
    if loss.correct is not None:
        scores["accuracy"] = correct / n
    return scores


def _inputs(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, tuple | list) else (x,)


def _check_data(program: Program, data: Any, what: str) -> tuple[tuple[Any, ...], Any]:
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise ShapeError(
            f"{what} must be a pair (X, Y), got {type(data).__name__}. Fix: "
            "pass (inputs, targets); X may be a tuple, one array per input wire."
        )
    xs = tuple(np.asarray(x) for x in _inputs(data[0]))
    y = np.asarray(data[1])
    if len(xs) != len(program.dom):
        raise ShapeError(
            f"{what}: the diagram takes {len(program.dom)} input(s) "
            f"{list(program.dom)}, got {len(xs)} array(s). Fix: pass X as a tuple "
            "with one array per input wire."
        )
    for i, (x, wire) in enumerate(zip(xs, program.dom, strict=True)):
        if x.shape[1:] != wire.shape:
            raise ShapeError(
                f"{what}: input {i} is typed {wire!r}, so each example must have "
                f"shape {wire.shape}; got arrays of shape {x.shape[1:]} (X has shape "
                f"{x.shape}). Fix: reshape X to (n, {', '.join(map(str, wire.shape))})."
            )
        if x.shape[0] != y.shape[0]:
            raise ShapeError(
                f"{what}: input {i} has {x.shape[0]} examples but Y has "
                f"{y.shape[0]}. Fix: give one target per example."
            )
    return xs, y


def _copy(program: Program, params: dict[str, Any]) -> dict[str, Any]:
    program._check_params(params)  # fail early, naming the bad parameter
    return {k: jnp.array(v) for k, v in params.items()}


def _progress(epochs: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=epochs, desc="fit", unit="epoch", leave=False)


def history_table(history: Sequence[dict[str, float]]) -> str:
    """The history as aligned text columns, for printing."""
    if not history:
        return ""
    keys = list(history[0])
    lines = ["  ".join(f"{k:>12}" for k in keys)]
    for row in history:
        lines.append("  ".join(f"{row.get(k, float('nan')):>12.4f}" for k in keys))
    return "\n".join(lines)
