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
from ._evaluate import circuit_of, circuit_scores, evaluate_program
from ._guard import Faults, describe, guard
from ._parallel import DataParallel
from ._training import Training
from .losses import Loss


@dataclass
class Run:
    """The epoch loop of one ``fit``: batches, metrics, checkpoints."""

    step: Callable[..., tuple[Any, ...]]
    data: tuple[tuple[np.ndarray, ...], np.ndarray]
    scores: Callable[[Any, Any, int], dict[str, float]]
    noise: Any
    batch_size: int
    place: DataParallel | None
    plot: Any
    checkpoint: Any
    checkpoint_every: int | None
    on_nonfinite: str = "raise"
    fingerprint: dict[str, Any] = field(default_factory=dict)

    def __call__(self, state: State, epochs: int, progress: bool) -> State:
        _check_epochs(state, epochs)
        (xs, y), n, size = self.data, self.data[1].shape[0], self.batch_size
        place, skip = self.place, self.on_nonfinite == "skip"
        names = list(state.params)
        step = guard(self.step, names, stop=not skip)
        jitted = jax.jit(step) if place is None else place.jit(step)
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
            if place is not None:
                faults = place.replicate(faults)
            for lo in range(first, n, size):
                idx = order[lo : lo + size]
                batch = (tuple(x[idx] for x in xs), y[idx])
                if place is not None:
                    batch = (tuple(map(place.batch, batch[0])), place.batch(batch[1]))
                args: tuple[Any, ...] = (params, opt_state, faults, epoch, lo, *batch)
                if self.noise is not None:  # one key per step: (epoch, first example)
                    noise = jax.random.fold_in(self.noise, epoch)
                    args += (jax.random.fold_in(noise, lo),)
                params, opt_state, faults, value, right, kept = jitted(*args)
                total, correct, seen = total + value, correct + right, seen + kept
                state.steps += 1
                every = self.checkpoint_every
                mid = every is not None and state.steps % every == 0 and lo + size < n
                if not skip and (mid or state.steps % 64 == 0):
                    self._check(faults, params, opt_state, state.history)
                if mid:
                    sums = (total, correct, seen, faults.skipped)
                    self._save(
                        State(
                            params,
                            opt_state,
                            epoch,
                            lo + size,
                            rng_state,
                            sums,
                            state.history,
                            state.steps,
                        )
                    )
            if not skip:
                self._check(faults, params, opt_state, state.history)
            examples = max(int(seen), 1)
            row = {"epoch": float(epoch + 1), "loss": float(total) / examples}
            row.update(self.scores(params, correct, examples))
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
    loss: Loss,
    data: tuple[tuple[np.ndarray, ...], np.ndarray],
    validation: tuple[tuple[np.ndarray, ...], np.ndarray] | None,
    batch_size: int,
) -> Callable[[Any, Any, int], dict[str, float]]:
    """The end-of-epoch history entries besides the loss: ``scores(params,
    correct, examples)``, ``correct`` of the epoch's ``examples`` (those of
    the steps applied) predicted right; with
    validation data, the same scores prefixed ``val_``."""
    program = training.program
    # scored forward only, in batches of max(batch_size, 256) examples: about
    # as many activations alive as a training step (with its residuals) holds
    size = max(batch_size, 256)
    has_accuracy = training.has_accuracy(loss)
    circuit = circuit_of(program) if has_accuracy else None

    def scores(params: Any, correct: Any, examples: int) -> dict[str, float]:
        row = {"accuracy": float(correct) / examples} if has_accuracy else {}
        if circuit is not None:
            relaxed = evaluate_program(program, params, data, loss, size)["accuracy"]
            row.update(circuit_scores(circuit, params, data, loss, relaxed, size))
        if validation is not None:
            row.update(training.validate(params, validation, loss, size, circuit))
        return row

    return scores


def _progress(epochs: int, done: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=epochs, initial=done, desc="fit", unit="epoch", leave=False)
