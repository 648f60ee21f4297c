"""Evaluation: loss and accuracy of a diagram with given parameters, batch by
batch; checking a data set against the diagram's input wires."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import NonFiniteError, SemanticsError, ShapeError
from ..functors import Boolean, Functor, Program, Smooth, discretize, native
from .losses import (
    HAMMING_IS_FOR,
    UNDER_SMOOTH,
    LossLike,
    as_loss,
    hamming,
    joint,
    mse,
    scored_outputs,
    softmax_cross_entropy,
    tally,
    tally_shape,
)


def evaluate(
    diagram: Any,
    params: dict[str, Any],
    data: tuple[Any, Any],
    semantics: Functor | None = None,
    loss: LossLike | None = None,
    batch_size: int = 4096,
    metrics: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Loss and accuracy of ``diagram`` with ``params`` on ``data = (X, Y)``,
    and each of ``metrics`` (name -> ``fn(prediction, target) -> scalar``,
    the batch's mean) under its name. A diagram with several outputs also
    gets ``accuracy_i``, the accuracy of output ``i`` alone, for each output
    whose loss has one (``accuracy``: every output right).

    Without ``loss``, the targets and the diagram's output choose it
    (:func:`default_loss`), as a user of optax would:

    - class ids (a 1-D int array) -> softmax cross-entropy, with accuracy;
    - one-hot rows for an output ``real(k)``, ``k >= 2`` (``Y`` of shape
      ``(n, k)``, every entry 0 or 1 and each row summing to 1; float, int or
      bool) -> softmax cross-entropy against those labels, with accuracy;
    - bits predicted under ``Boolean`` (an output of ``bits``) ->
      ``cl.losses.hamming``, accuracy = every bit right;
    - anything else (e.g. float regression targets) -> mean squared error,
      no accuracy.

    ``cl.losses.hamming`` scores bits only: under ``Smooth`` it is a
    ``SemanticsError`` (use softmax cross-entropy or mse). Under ``Smooth``, a
    diagram whose
    parameters are all bits (a logic network) also reports
    ``discrete_accuracy``, the accuracy of ``discretize(diagram, params)``
    under ``Boolean``, and ``discretization_gap = accuracy -
    discrete_accuracy``."""
    semantics = Smooth() if semantics is None else semantics
    bad = not isinstance(batch_size, int) or isinstance(batch_size, bool)
    if bad or batch_size < 1:
        raise ShapeError(
            f"evaluate: batch_size must be a positive int, got {batch_size!r}. "
            "Fix: leave it out (4096) or pass e.g. batch_size=256."
        )
    extra = check_metrics(metrics, "evaluate")
    program = semantics(diagram)
    checked = check_data(program, data, "evaluation data")
    loss = default_loss(program, checked[1]) if loss is None else as_loss(loss)
    check_loss(program, loss, "evaluate")
    scores = evaluate_program(program, params, checked, loss, batch_size, extra)
    circuit = circuit_of(program) if "accuracy" in scores else None
    if circuit is not None:
        scores.update(circuit_scores(circuit, params, checked, loss, scores))
    return scores


def circuit_of(program: Program) -> Program | None:
    """For a logic network under ``Smooth`` (every parameter bits): its
    diagram under ``Boolean``, the circuit its relaxed parameters
    discretize to; otherwise ``None``."""
    kinds = {w.kind for w in program.param_types.values()}
    if isinstance(program.functor, Smooth) and kinds == {"bits"}:
        return Boolean()(program.diagram)
    return None


def default_loss(program: Program, y: Any) -> LossLike:
    """The loss for targets ``y`` of ``program``'s output when none is given
    (the rules in :func:`evaluate`'s docstring)."""
    if isinstance(y, tuple):  # one target per output: one loss per output
        return joint([_default_for(program, w, t)
                      for w, t in zip(program.cod, y, strict=True)])
    cod = program.cod
    if isinstance(program.functor, Boolean) and all(w.kind == "bits" for w in cod):
        return hamming
    return _default_for(program, cod[0] if len(cod) == 1 else None, y)


def _default_for(program: Program, wire: Any, y: Any) -> LossLike:
    y = np.asarray(y)
    if isinstance(program.functor, Boolean) and getattr(wire, "kind", "") == "bits":
        return hamming
    if y.ndim == 1 and y.dtype.kind in "iu":
        return softmax_cross_entropy
    if wire is not None and _one_hot_rows(y, wire):
        return softmax_cross_entropy
    return mse


def _one_hot_rows(y: np.ndarray, wire: Any) -> bool:
    """Whether ``y`` holds one one-hot row per example for ``wire = real(k)``."""
    if wire.kind != "real" or len(wire.shape) != 1 or wire.shape[0] < 2:
        return False
    if y.ndim != 2 or y.shape[1:] != wire.shape or y.dtype.kind not in "biuf":
        return False
    binary = (y == 0) | (y == 1)
    return bool(binary.all() and (np.sum(y, axis=1, dtype=np.int64) == 1).all())


def check_loss(program: Program, loss: Any, what: str) -> None:
    """A ``SemanticsError`` if ``loss`` cannot score ``program``'s predictions
    (checked before any work): ``hamming`` needs the bits of ``Boolean``."""
    if loss is hamming and not isinstance(program.functor, Boolean):
        raise SemanticsError(
            f"{what}: {HAMMING_IS_FOR}, but {program.functor!r} predicts real "
            f"numbers. Fix: under {program.functor!r} use {UNDER_SMOOTH}; or "
            "semantics=cl.Boolean() (with optimiser=cl.optim.rda() to train)."
        )


def evaluate_program(
    program: Program,
    params: dict[str, Any],
    data: tuple[tuple[Any, ...], Any],
    loss: LossLike,
    batch_size: int = 4096,
    metrics: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Loss (and accuracy, ``accuracy_i`` per output, and each of
    ``metrics``) over ``data``, in one pass of batches of ``batch_size``."""
    n = n_examples(data[1])
    total, correct = 0.0, np.zeros(tally_shape(loss), np.int64)
    sums = dict.fromkeys(metrics or {}, 0.0)
    for prediction, t, m in _batches(program, params, data, batch_size):
        total += float(loss(prediction, t)) * m
        correct += np.asarray(tally(loss, prediction, t))
        _add_metrics(sums, metrics or {}, prediction, t, m)
    scores = {"loss": total / n, "n": float(n)}
    scores.update(accuracies(loss, correct, n))
    scores.update({name: v / n for name, v in sums.items()})
    return scores


def accuracies(loss: LossLike, correct: Any, n: int) -> dict[str, float]:
    """``accuracy`` (if ``loss`` has one) and ``accuracy_i`` (output ``i``'s,
    for a diagram with several outputs) from the counts of :func:`tally`
    summed over ``n`` examples."""
    names = ["accuracy", *(f"accuracy_{i}" for i in scored_outputs(loss))]
    counts = np.asarray(correct).reshape(-1)
    return {k: float(c) / n for k, c in zip(names, counts, strict=True)
            if k != "accuracy" or loss.correct is not None}


def _batches(
    program: Program, params: dict[str, Any], data: Any, size: int
) -> Any:
    """``(prediction, targets, examples)`` batch after batch."""
    xs, y = data
    for lo in range(0, n_examples(y), size):
        t = take(y, slice(lo, lo + size))
        yield program(params, *(x[lo : lo + size] for x in xs)), t, n_examples(t)


def inputs(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, tuple | list) else (x,)


def check_metrics(metrics: Any, where: str) -> dict[str, Any]:
    """``metrics``: a dict of name -> ``fn(prediction, target) -> scalar``
    (the batch's mean), or ``None``."""
    if metrics is None:
        return {}
    ok = isinstance(metrics, dict) and all(
        isinstance(k, str) and k and callable(f) for k, f in metrics.items())
    if not ok:
        raise ShapeError(
            f"{where}: metrics must be a dict of names to functions (prediction, "
            f"target) -> number, got {metrics!r}. Fix: e.g. metrics={{'mae': "
            "lambda y, t: jnp.mean(jnp.abs(y - t))}."
        )
    return dict(metrics)


def metric_scores(
    program: Program,
    params: dict[str, Any],
    data: tuple[tuple[Any, ...], Any],
    metrics: dict[str, Any],
    batch_size: int = 4096,
) -> dict[str, float]:
    """Each metric's mean over ``data`` (batch means weighted by batch size)."""
    sums = dict.fromkeys(metrics, 0.0)
    for prediction, t, m in _batches(program, params, data, batch_size):
        _add_metrics(sums, metrics, prediction, t, m)
    return {name: v / n_examples(data[1]) for name, v in sums.items()}


def _add_metrics(sums: dict[str, float], metrics: dict[str, Any], prediction: Any,
                 t: Any, m: int) -> None:
    for name, fn in metrics.items():
        value = np.asarray(fn(prediction, t))
        if value.shape != ():
            raise ShapeError(
                f"metric {name!r} returned an array of shape {value.shape}; a "
                "metric gives one number per batch (its mean). Fix: reduce it, "
                "e.g. jnp.mean(...)."
            )
        sums[name] += float(value) * m


def n_examples(y: Any) -> int:
    """The number of examples of targets ``y`` (an array, or a tuple of
    arrays: one per output)."""
    return int((y[0] if isinstance(y, tuple) else y).shape[0])


def take(y: Any, idx: Any) -> Any:
    """``y[idx]``, for each array of a tuple of targets."""
    return tuple(t[idx] for t in y) if isinstance(y, tuple) else y[idx]


def check_data(program: Program, data: Any, what: str) -> tuple[tuple[Any, ...], Any]:
    """``data = (X, Y)`` checked against ``program`` once, up front, and returned
    as numpy arrays (the caller's arrays are never modified): one array per input
    wire, numeric, shaped ``(n, *wire.shape)`` with ``n >= 1`` examples and one
    target per example; finite floats (``NonFiniteError`` otherwise: training
    on a nan teaches nan); values the semantics reads (bits under ``Boolean``);
    integer class ids in ``[0, k)`` for a diagram with one output ``real(k)``."""
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise ShapeError(
            f"{what} must be a pair (X, Y), got {type(data).__name__}. Fix: "
            "pass (inputs, targets); X may be a tuple, one array per input wire."
        )
    xs = tuple(native(np.asarray(x)) for x in inputs(data[0]))  # >f4 -> <f4
    if len(program.cod) > 1:  # one target array per output
        return xs, _check_targets(program, xs, data[1], what)
    y = native(np.asarray(data[1]))
    if len(xs) != len(program.dom):
        raise ShapeError(
            f"{what}: the diagram takes {len(program.dom)} input(s) "
            f"{list(program.dom)}, got {len(xs)} array(s). Fix: pass X as a tuple "
            "with one array per input wire."
        )
    _check_numeric(y, f"{what}: Y")
    if y.ndim == 0:
        raise ShapeError(
            f"{what}: Y is a scalar ({y!r}), not one target per example. Fix: "
            "pass an array whose axis 0 runs over the examples."
        )
    if y.shape[0] == 0:
        raise ShapeError(
            f"{what} has no examples (Y has shape {y.shape}): its loss and "
            "accuracy would be 0 / 0. Fix: pass at least one example."
        )
    F = program.functor
    for i, (x, wire) in enumerate(zip(xs, program.dom, strict=True)):
        problem = F.check_dtype(x.dtype, wire, f"{what}: input {i}")
        if problem is not None:
            raise SemanticsError(problem + ".")
        if x.shape[1:] != wire.shape or x.ndim == 0:
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
        _check_finite(x, f"{what}: input {i}")
        problem = F.check_values(x, wire, f"{what}: input {i}")
        if problem is not None:
            raise SemanticsError(problem + ".")
    _check_finite(y, f"{what}: Y")
    _check_class_ids(program, y, what)
    return xs, y


def _check_targets(
    program: Program, xs: tuple[Any, ...], Y: Any, what: str
) -> tuple[np.ndarray, ...]:
    """The targets of a diagram with several outputs: a tuple with one array
    per output, each checked as a single output's targets are."""
    k = len(program.cod)
    if not isinstance(Y, tuple | list) or len(Y) != k:
        got = f"a tuple of {len(Y)}" if isinstance(Y, tuple | list) else (
            f"one {type(Y).__name__}")
        raise ShapeError(
            f"{what}: the diagram has {k} outputs {list(program.cod)}, so Y must "
            f"be a tuple of {k} arrays (one per output), got {got}. Fix: pass "
            f"(X, (Y1, ..., Y{k})), and a loss per output, e.g. loss=(l1, ..., "
            f"l{k}) (or leave loss out)."
        )
    ys = []
    for i, (t, wire) in enumerate(zip(Y, program.cod, strict=True)):
        one: Any = _OneOutput(program, wire)
        ys.append(check_data(one, (xs, t), f"{what}: Y[{i}] (output {wire!r})")[1])
    return tuple(ys)


class _OneOutput:
    """``program`` seen as if ``wire`` were its only output (to check one
    output's targets)."""

    def __init__(self, program: Program, wire: Any) -> None:
        self._program, self.cod = program, [wire]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._program, name)


def _check_numeric(a: np.ndarray, what: str) -> None:
    if a.dtype.kind not in "biuf":
        raise ShapeError(
            f"{what} has dtype {a.dtype}; targets must be bool, int or float. "
            "Fix: convert them, e.g. np.asarray(Y, dtype=np.float32), or encode "
            "class labels as ints 0..k-1."
        )


def _check_finite(a: np.ndarray, what: str) -> None:
    if a.dtype.kind != "f" or a.size == 0:
        return
    finite = np.isfinite(a)
    if finite.all():
        return
    where = tuple(int(i) for i in np.argwhere(~finite)[0])
    raise NonFiniteError(
        f"{what} holds {a[where]!r} at index {where} ({int((~finite).sum())} "
        "non-finite value(s) in all): a model cannot learn from or be scored on "
        "nan or inf. Fix: drop or impute those examples, e.g. "
        "keep = np.isfinite(X).all(axis=1)."
    )


def _check_class_ids(program: Program, y: np.ndarray, what: str) -> None:
    """Integer labels for a diagram with one output ``real(k)`` are class ids:
    an id outside ``[0, k)`` would one-hot to a row of zeros and silently
    count as neither right nor wrong."""
    if y.ndim != 1 or y.dtype.kind not in "iu" or len(program.cod) != 1:
        return
    wire = program.cod[0]
    if wire.kind != "real" or len(wire.shape) != 1:
        return
    k = wire.shape[0]
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= k:
        bad = lo if lo < 0 else hi
        widen = "" if lo < 0 else f", or widen the output to real({hi + 1})"
        raise ShapeError(
            f"{what}: Y holds the class id {bad}, but the diagram's output "
            f"{wire!r} scores {k} classes (ids 0..{k - 1}). Fix: relabel the "
            f"classes as 0..{k - 1}{widen}."
        )


def circuit_scores(
    circuit: Program,
    params: Any,
    data: tuple[tuple[np.ndarray, ...], np.ndarray],
    loss: LossLike,
    relaxed: dict[str, float],
    batch_size: int = 4096,
) -> dict[str, float]:
    """For a logic network with relaxed ``params`` scoring ``relaxed`` on
    ``data`` (:func:`evaluate_program`'s ``accuracy``, ``accuracy_i``): the
    accuracies of its discretized circuit (``circuit`` is the diagram under
    ``Boolean``: :func:`circuit_of`), ``discrete_accuracy[_i]``, and the gaps
    between the two, ``discretization_gap[_i]``."""
    hard = discretize(circuit.diagram, params)
    xs = tuple(np.asarray(x) > 0.5 if w.kind == "bits" else np.asarray(x)  # relaxed
               for x, w in zip(data[0], circuit.dom, strict=True))  # bits; features
    discrete = evaluate_program(circuit, hard, (xs, data[1]), loss, batch_size)
    scores = {}
    for key in (k for k in discrete if k.startswith("accuracy")):
        end = key[len("accuracy"):]  # "" or "_i"
        scores[f"discrete_accuracy{end}"] = discrete[key]
        scores[f"discretization_gap{end}"] = relaxed[key] - discrete[key]
    return scores
