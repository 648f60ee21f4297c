"""The epoch loop of ``cl.fit``: shuffled minibatches through the jitted
training step, per-epoch scores, checkpoints and the progress bar."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import CheckpointError, NonFiniteError
from ._checkpoint import State
from ._checkpoint import write as write_checkpoint
from ._curves import plot_history
from ._evaluate import (
    accuracies,
    circuit_of,
    circuit_scores,
    evaluate_program,
    metric_scores,
    n_examples,
    take,
)
from ._guard import Faults, describe, guard
from ._parallel import DataParallel
from ._training import Training
from .losses import LossLike


@dataclass
class Run:
    """The epoch loop of one ``fit``: batches, metrics, checkpoints."""

    step: Callable[..., tuple[Any, ...]]
    data: tuple[tuple[np.ndarray, ...], np.ndarray]
    scores: Callable[[Any, Any, int, bool], dict[str, float]]
    noise: Any
    batch_size: int
    place: DataParallel | None
    plot: Any
    checkpoint: Any
    checkpoint_every: int | None
    on_nonfinite: str = "raise"
    fingerprint: dict[str, Any] = field(default_factory=dict)
    compiled: Callable[..., tuple[Any, ...]] | None = None  # the cached jitted step
    callback: Callable[[dict[str, float]], Any] | None = None  # on_epoch_end
    stopper: Any = None  # an EarlyStopping, or None
    tally: tuple[int, ...] = ()  # shape of the step's count of correct predictions

    def __call__(self, state: State, epochs: int, progress: bool) -> State:
        _check_epochs(state, epochs)
        xs: tuple[Any, ...] = self.data[0]
        y: Any = self.data[1]
        n, size = n_examples(y), self.batch_size
        place, skip = self.place, self.on_nonfinite == "skip"
        names = list(state.params)
        jitted = self.compiled
        if jitted is None:
            step = gathering(self.step, names, stop=not skip)
            jitted = jax.jit(step) if place is None else place.jit(step)
        # the data goes to the device once; each step gathers its batch there
        arrays = (*xs, *jax.tree_util.tree_leaves(y))
        resident = place is None and sum(a.nbytes for a in arrays) <= RESIDENT
        if resident:
            xs, y = tuple(jnp.asarray(x) for x in xs), jax.tree.map(jnp.asarray, y)
        params, opt_state = state.params, state.opt_state
        if place is not None:
            params, opt_state = place.replicate((params, opt_state))
        rng = np.random.default_rng()
        rng.bit_generator.state = state.rng_state
        bar = _progress(epochs, state.epoch, progress)
        for epoch in range(state.epoch, epochs):
            start, rng_state = time.perf_counter(), dict(rng.bit_generator.state)
            order = rng.permutation(n)
            first = state.position if epoch == state.epoch else 0
            # running sums stay on the device: no sync per batch
            total, correct, seen, skipped = state.sums if first else (0, 0, 0, 0)
            faults = Faults.none(len(names))._replace(skipped=jnp.int32(skipped))
            sums = (jnp.asarray(total, jnp.result_type(float)),
                    jnp.broadcast_to(jnp.asarray(correct, jnp.int32), self.tally),
                    jnp.asarray(seen, jnp.int32))
            if place is not None:
                faults, sums = place.replicate((faults, sums))
            for lo in range(first, n, size):
                idx = order[lo : lo + size]
                if resident:
                    batch: tuple[Any, ...] = (idx, xs, y)
                else:
                    picked = (tuple(x[idx] for x in xs), take(y, idx))
                    if place is not None:
                        picked = (tuple(map(place.batch, picked[0])),
                                  jax.tree.map(place.batch, picked[1]))
                    batch = (np.arange(len(idx)), *picked)
                args: tuple[Any, ...] = (params, opt_state, faults, sums, epoch, lo,
                                         *batch)
                if self.noise is not None:  # one key per step: (epoch, first example)
                    noise = jax.random.fold_in(self.noise, epoch)
                    args += (jax.random.fold_in(noise, lo),)
                params, opt_state, faults, sums = jitted(*args)
                state.steps += 1
                every = self.checkpoint_every
                mid = every is not None and state.steps % every == 0 and lo + size < n
                if not skip and (mid or state.steps % 64 == 0):
                    self._check(faults, params, opt_state, state.history)
                if mid:
                    self._save(
                        State(
                            params,
                            opt_state,
                            epoch,
                            lo + size,
                            rng_state,
                            (*sums, faults.skipped),
                            state.history,
                            state.steps,
                        )
                    )
            if not skip:
                self._check(faults, params, opt_state, state.history)
            total, correct, seen = sums
            examples = max(int(seen), 1)
            row = {"epoch": float(epoch + 1), "loss": float(total) / examples}
            row.update(self.scores(params, correct, examples, epoch + 1 == epochs))
            if skip:
                row["skipped"] = float(faults.skipped)
            row["seconds"] = time.perf_counter() - start
            state.history.append(row)
            next_rng = dict(rng.bit_generator.state)  # the next epoch's start
            state = State(
                params,
                opt_state,
                epoch + 1,
                0,
                next_rng,
                (0, 0, 0, 0),
                state.history,
                state.steps,
            )
            self._save(state)
            if bar is not None:
                bar.set_postfix({k: f"{v:.4f}" for k, v in row.items() if k != "epoch"})
                bar.update(1)
            stop = self.stopper is not None and self.stopper.update(row, params)
            if self.callback is not None and self.callback(dict(row)) is True:
                stop = True
            if stop:
                break
        if bar is not None:
            bar.close()
        state.params, state.opt_state = params, opt_state
        return state

    def _check(self, faults: Faults, params: Any, opt_state: Any, history: Any) -> None:
        if int(faults.epoch) >= 0:
            raise NonFiniteError(
                describe(faults, list(params), self.batch_size),
                params,
                opt_state,
                list(history),
            )

    def _save(self, state: State) -> None:
        if self.checkpoint is None:
            return
        write_checkpoint(self.checkpoint, state, self.fingerprint)
        if self.plot is not None and state.history:
            plot_history(state.history, self.plot)


RESIDENT = 1 << 30  # bytes of training data kept on the device for a fit


def gathering(
    step: Callable[..., tuple[Any, ...]], names: list[str], stop: bool
) -> Callable[..., tuple[Any, ...]]:
    """The guarded step (:func:`catlearn.learn._guard.guard`) that picks its
    batch itself and keeps the epoch's running sums: ``(params, state,
    faults, sums, epoch, offset, idx, xs, y[, key]) -> (params, state,
    faults, sums)``, the batch ``xs[idx], y[idx]`` gathered inside the
    compiled step and ``sums = (loss * examples, correct, examples)`` of the
    steps applied so far (``correct``: the step's count,
    :func:`catlearn.learn.losses.tally`; per output too, for several
    outputs): one dispatch per step, no sync, the data on the device once."""
    guarded = guard(step, names, stop=stop)

    def run(params: Any, state: Any, faults: Faults, sums: Any, epoch: Any,
            offset: Any, idx: Any, xs: Any, y: Any, *key: Any) -> tuple[Any, ...]:
        batch = (tuple(x[idx] for x in xs), take(y, idx))
        params, state, faults, *new = guarded(
            params, state, faults, epoch, offset, *batch, *key)
        sums = tuple(a + b.astype(a.dtype) for a, b in zip(sums, new, strict=True))
        return params, state, faults, sums

    return run


def _check_epochs(state: State, epochs: int) -> None:
    """A resumed run may not ask for fewer epochs than its checkpoint has
    done: it would return the longer run (or half an epoch) as this one."""
    done = state.epoch + (1 if state.position else 0)
    if epochs >= done:
        return
    part = " and part of the next" if state.position else ""
    as_is = (
        f" (epochs={state.epoch} returns the checkpoint's run as it stands)"
        if not state.position
        else ""
    )
    raise CheckpointError(
        f"checkpoint {state.source!r} has finished {state.epoch} epochs{part}, "
        f"more than this fit's epochs={epochs}. Fix: resume with epochs >= "
        f"{done}{as_is}, or start afresh without resume= to train {epochs} epochs."
    )


def epoch_scores(
    training: Training,
    loss: LossLike,
    data: tuple[tuple[np.ndarray, ...], np.ndarray],
    validation: tuple[tuple[np.ndarray, ...], np.ndarray] | None,
    batch_size: int,
    when: str = "end",
    metrics: dict[str, Any] | None = None,
) -> Callable[[Any, Any, int, bool], dict[str, float]]:
    """The end-of-epoch history entries besides the loss: ``scores(params,
    correct, examples, last)``, ``correct`` of the epoch's ``examples`` (those
    of the steps applied) predicted right (the summed
    :func:`catlearn.learn.losses.tally`: for several outputs, also
    ``accuracy_i`` per output), ``last``: the fit's last epoch;
    with validation data, the same scores prefixed ``val_`` (every epoch).
    A logic network under ``Smooth`` also gets its circuit's training scores
    (a pass over the training set, relaxed and discretized): ``when="end"``
    after the last epoch only, ``"epoch"`` after every epoch, ``"none"``
    never."""
    program = training.program
    # scored forward only, in batches of max(batch_size, 256) examples: about
    # as many activations alive as a training step (with its residuals) holds
    size = max(batch_size, 256)
    has_accuracy = training.has_accuracy(loss)
    circuit = circuit_of(program) if has_accuracy else None

    def scores(
        params: Any, correct: Any, examples: int, last: bool
    ) -> dict[str, float]:
        row = accuracies(loss, correct, examples)  # none if the loss has none
        if circuit is not None and (when == "epoch" or (when == "end" and last)):
            relaxed = evaluate_program(program, params, data, loss, size)
            row.update(circuit_scores(circuit, params, data, loss, relaxed, size))
        if validation is not None:
            row.update(training.validate(params, validation, loss, size, circuit))
        if metrics and validation is not None:  # every epoch, on validation
            vals = metric_scores(program, params, validation, metrics, size)
            row.update({f"val_{k}": v for k, v in vals.items()})
        elif metrics and last:  # no validation: on the training set, at the end
            row.update(metric_scores(program, params, data, metrics, size))
        return row

    return scores


def _progress(epochs: int, done: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=epochs, initial=done, desc="fit", unit="epoch", leave=False)
