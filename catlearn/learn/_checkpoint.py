"""Training checkpoints: everything ``cl.fit`` needs to continue exactly.

A checkpoint is one zip file (written atomically, like ``cl.save``: a crash
while writing leaves the previous checkpoint intact) holding

- the parameters and the optimiser state (its PyTree leaves, in order),
- the position: epochs finished, and the next batch's offset in the current
  epoch's shuffled order,
- the shuffling RNG's state at the start of the current epoch (the order is
  drawn again from it on resume), the epoch's running loss/accuracy sums,
  and the history so far,
- a fingerprint of the run (diagram, semantics, loss, optimiser, batch size,
  seed, data) so that resuming a different run fails loudly.

Nothing is pickled. Resuming re-runs the same jitted step on the same batches
from the same state, so a resumed run ends with the same parameters, bit for
bit, as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np

from .._errors import CheckpointError
from ..io import (
    READ_ERRORS,
    FormatError,
    MissingFileError,
    to_json,
    write_zip_atomic,
)

FORMAT = "catlearn.checkpoint"
VERSION = 1
HEADER = "checkpoint.json"


@dataclass
class State:
    """Where a training run stands (see the module docstring)."""

    params: dict[str, Any]
    opt_state: Any
    epoch: int  # epochs finished
    position: int  # offset of the next batch in this epoch's order
    rng_state: dict[str, Any]  # numpy bit generator state at this epoch's start
    sums: tuple[Any, ...]  # this epoch's running (loss * n, correct, n, skipped)
    history: list[dict[str, float]] = field(default_factory=list)
    steps: int = 0  # steps taken since the run began


def fingerprint(
    diagram: Any,
    semantics: Any,
    loss: Any,
    optimiser: Any,
    batch_size: int,
    seed: int,
    data: tuple[tuple[np.ndarray, ...], np.ndarray],
) -> dict[str, Any]:
    """What must be equal for a checkpoint to continue this run."""
    digest = hashlib.sha256()
    for a in (*data[0], data[1]):
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(a.data)
    return {
        "diagram": hashlib.sha256(to_json(diagram).encode()).hexdigest(),
        "semantics": repr(semantics),
        "loss": getattr(loss, "name", repr(loss)),
        "optimiser": repr(optimiser),
        "batch_size": batch_size,
        "seed": seed,
        "examples": int(data[1].shape[0]),
        "data": digest.hexdigest(),
    }


def _leaves(tree: Any) -> list[np.ndarray]:
    out = []
    for leaf in jax.tree_util.tree_leaves(tree):
        if jax.dtypes.issubdtype(getattr(leaf, "dtype", None), jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        out.append(np.asarray(leaf))
    return out


def write(path: str | os.PathLike[str], state: State, fp: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically."""
    names = list(state.params)
    params = [np.asarray(state.params[n]) for n in names]
    opt = _leaves(state.opt_state)
    sums = [np.asarray(s) for s in state.sums]
    header = {
        "format": FORMAT,
        "version": VERSION,
        "fingerprint": fp,
        "epoch": state.epoch,
        "position": state.position,
        "steps": state.steps,
        "rng_state": state.rng_state,
        "history": state.history,
        "params": names,
        "opt_state": len(opt),
        "sums": len(sums),
    }
    text = json.dumps(header, indent=1)

    def fill(zf: zipfile.ZipFile) -> None:
        zf.writestr(HEADER, text)
        for kind, arrays in (("params", params), ("opt", opt), ("sums", sums)):
            for i, a in enumerate(arrays):
                with zf.open(f"{kind}/{i}.npy", "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, a, allow_pickle=False)

    write_zip_atomic(path, fill)


def read(
    path: str | os.PathLike[str],
    params: dict[str, Any],
    opt_state: Any,
    fp: dict[str, Any],
) -> State:
    """Read the checkpoint at ``path`` for the run described by ``fp``, whose
    freshly initialised ``params`` and ``opt_state`` give the expected names,
    shapes, dtypes and tree structure. Raises :class:`MissingFileError`,
    :class:`FormatError` (not a checkpoint, truncated, corrupted) or
    :class:`CheckpointError` (a checkpoint of another run)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MissingFileError(
            f"no checkpoint at {path!r} to resume from. Fix: check the path, or "
            "start the run without resume= (checkpoint=path writes one)."
        )
    fix = "Fix: resume from an intact checkpoint, or start afresh without resume=."
    try:
        with zipfile.ZipFile(path) as zf:
            header = json.loads(zf.read(HEADER))
            if header.get("format") != FORMAT or header.get("version") != VERSION:
                raise FormatError(
                    f"{path!r} is not a version-{VERSION} catlearn checkpoint "
                    f"(format {header.get('format')!r}, version "
                    f"{header.get('version')!r}). {fix}"
                )

            def arrays(kind: str, n: int) -> list[np.ndarray]:
                out = []
                for i in range(n):
                    with zf.open(f"{kind}/{i}.npy") as f:
                        out.append(np.lib.format.read_array(f, allow_pickle=False))
                return out

            saved_params = dict(
                zip(header["params"], arrays("params", len(header["params"])))
            )
            opt = arrays("opt", header["opt_state"])
            sums = arrays("sums", header["sums"])
            state = State(
                saved_params,
                opt,
                int(header["epoch"]),
                int(header["position"]),
                dict(header["rng_state"]),
                tuple(sums),
                list(header["history"]),
                int(header.get("steps", 0)),
            )
            saved_fp = header["fingerprint"]
    except FormatError:
        raise
    except READ_ERRORS as e:
        raise FormatError(
            f"{path!r} is truncated or corrupted, or not a catlearn checkpoint "
            f"({type(e).__name__}: {e}). {fix}"
        ) from e
    _check_fingerprint(path, saved_fp, fp)
    state.params = _match_params(path, state.params, params)
    state.opt_state = _match_tree(path, state.opt_state, opt_state)
    return state


def _check_fingerprint(path: str, saved: dict[str, Any], now: dict[str, Any]) -> None:
    for key in now:
        if saved.get(key) != now[key]:
            what = "data" if key == "data" else key
            raise CheckpointError(
                f"checkpoint {path!r} belongs to another run: its {what} is "
                f"{saved.get(key)!r}, this fit's is {now[key]!r}. Fix: resume "
                "with the same diagram, data, semantics, loss, optimiser, "
                "batch_size and seed (epochs may change), or start afresh "
                "without resume=."
            )


def _match_params(
    path: str, saved: dict[str, np.ndarray], fresh: dict[str, Any]
) -> dict[str, Any]:
    if list(saved) != list(fresh):
        raise CheckpointError(
            f"checkpoint {path!r} has parameters {list(saved)}, this fit has "
            f"{list(fresh)}. Fix: resume the run that wrote it."
        )
    out = {}
    for name, a in saved.items():
        want = fresh[name]
        if a.shape != want.shape or a.dtype != want.dtype:
            raise CheckpointError(
                f"checkpoint {path!r}: parameter {name!r} is {a.dtype}{a.shape}, "
                f"this fit's is {want.dtype}{want.shape}. Fix: resume the run "
                "that wrote it."
            )
        out[name] = jax.numpy.asarray(a)
    return out


def _match_tree(path: str, leaves: list[np.ndarray], fresh: Any) -> Any:
    template, treedef = jax.tree_util.tree_flatten(fresh)
    if len(leaves) != len(template):
        raise CheckpointError(
            f"checkpoint {path!r} holds {len(leaves)} optimiser-state arrays, "
            f"this fit's optimiser has {len(template)}. Fix: resume with the "
            "optimiser that wrote it."
        )
    out = []
    for i, (a, want) in enumerate(zip(leaves, template, strict=True)):
        if jax.dtypes.issubdtype(want.dtype, jax.dtypes.prng_key):
            data = jax.numpy.asarray(a)
            out.append(jax.random.wrap_key_data(data, impl=jax.random.key_impl(want)))
            continue
        if a.shape != want.shape or a.dtype != want.dtype:
            raise CheckpointError(
                f"checkpoint {path!r}: optimiser-state array {i} is "
                f"{a.dtype}{a.shape}, this fit's is {want.dtype}{want.shape}. "
                "Fix: resume with the optimiser that wrote it."
            )
        out.append(jax.numpy.asarray(a))
    return jax.tree_util.tree_unflatten(treedef, out)
