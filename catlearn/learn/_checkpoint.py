"""Training checkpoints: everything ``cl.fit`` needs to continue exactly.

A checkpoint is one zip file (written atomically, like ``cl.save``: a crash
while writing leaves the previous checkpoint intact) holding

- the parameters and the optimiser state (its PyTree leaves, in order),
- the position: epochs finished, and the next batch's offset in the current
  epoch's shuffled order,
- the shuffling RNG's state at the start of the current epoch (the order is
  drawn again from it on resume), the epoch's running loss/accuracy sums,
  and the history so far,
- a fingerprint of the run (diagram, semantics and the rules a user added to
  it, loss, optimiser with its settings, batch size, seed, data) so that
  resuming a different run fails loudly, and the layout of the optimiser
  state (its leaves' key paths).

The optimiser's settings are read by :func:`catlearn.learn._settings.describe`:
an optax transformation is a tree of closures, whose learning rates, betas and
schedules live in closure cells; ``repr`` would show only function addresses.

Nothing is pickled. Resuming re-runs the same jitted step on the same batches
from the same state, so a resumed run ends with the same parameters, bit for
bit, as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np

from .._atomic import remove_stale_temps, write_zip_atomic
from .._errors import CatlearnError, CheckpointError
from .._zipfile import (
    READ_ERRORS,
    FormatError,
    MissingFileError,
    ZipReader,
    as_path,
    clip,
)
from ..diagrams import encode_diagram
from . import optim
from ._checkpoint_fields import (
    check_header,
    check_position,
    current_spelling,
    running_sums,
)
from ._checkpoint_fields import loss_name as _loss_name
from ._settings import describe, differences, summary, unseen

FORMAT = "catlearn.checkpoint"
VERSION = 1
HEADER = "checkpoint.json"


def _diagram_json(diagram: Any) -> str:
    """The diagram's JSON text, the same bytes as ``catlearn.io.to_json``."""
    return json.dumps(encode_diagram(diagram), allow_nan=False)


# catlearn's own optimisers are frozen dataclasses of numbers: their repr is
# complete, readable and the same in every process
_PLAIN = (optim.SGD, optim.Momentum, optim.Adam, optim.RDA)
# keys that older checkpoints do not record: compared only when recorded
_OPTIONAL = ("rules",)


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
    source: str = ""  # the checkpoint it was read from, if any


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
    ys = data[1] if isinstance(data[1], tuple) else (data[1],)
    for a in (*data[0], *ys):
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(a.data)
    fp = {
        "diagram": hashlib.sha256(_diagram_json(diagram).encode()).hexdigest(),
        "semantics": repr(semantics),
        "loss": _loss_name(loss),
        "optimiser": optimiser_settings(optimiser),
        "batch_size": batch_size,
        "seed": seed,
        "examples": int(ys[0].shape[0]),
        "data": digest.hexdigest(),
    }
    rules = getattr(semantics, "rules", {})
    base = getattr(semantics, "RULES", {})
    added = {k: v for k, v in rules.items() if base.get(k) is not v}
    if added:
        fp["rules"] = describe(added)
    for what in ("optimiser", "rules"):
        blind = unseen(fp[what]) if isinstance(fp.get(what), dict) else []
        if blind:
            warnings.warn(
                f"a resume cannot check these parts of the {what} (catlearn "
                f"cannot read them): {blind[:5]}. It trusts that they are "
                "unchanged. Fix: nothing, if they are; to have them checked, "
                "keep settings in numbers, strings, arrays or functions "
                "(closures, defaults, module globals).",
                optim.SettingsWarning,
                stacklevel=3,
            )
    return fp


def optimiser_settings(optimiser: Any) -> Any:
    """The optimiser's settings as JSON data, equal in every process that built
    an equal optimiser: the repr of catlearn's own optimisers, else
    :func:`describe` (every learning rate, schedule and inner transformation of
    an optax chain)."""
    if type(optimiser) in _PLAIN:
        return repr(optimiser)
    return describe(optimiser)


def _paths(tree: Any) -> list[str]:
    """The key path of each leaf of ``tree`` (e.g. ``[0].mu['w']``)."""
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return [jax.tree_util.keystr(path) for path, _ in flat]


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
        "opt_paths": _paths(state.opt_state),
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
    correct: tuple[int, ...] = (),
) -> State:
    """Read the checkpoint at ``path`` for the run described by ``fp``, whose
    freshly initialised ``params`` and ``opt_state`` give the expected names,
    shapes, dtypes and tree structure, and ``correct`` the shape of its
    running count of correct predictions (``losses.tally_shape``). Raises
    :class:`MissingFileError`, :class:`FormatError` (not a checkpoint,
    truncated, corrupted, compressed, a field out of range) or
    :class:`CheckpointError` (a checkpoint of another run). Every field and
    every array's declared shape is checked before any array is read, so the
    memory held is bounded by what this run needs.

    Temporary files of writes to ``path`` whose writer died are removed."""
    path = as_path(path, MissingFileError, "cannot resume from")
    if not os.path.isfile(path):
        raise MissingFileError(
            f"no checkpoint at {path!r} to resume from. Fix: check the path, or "
            "start the run without resume= (checkpoint=path writes one)."
        )
    remove_stale_temps(path)
    fix = "Fix: resume from an intact checkpoint, or start afresh without resume=."
    try:
        with ZipReader(path, fix) as z:
            if HEADER not in z.names:
                raise z.fail(f"the zip has no {HEADER!r}, so it is not a checkpoint")
            header = z.json(HEADER)
            check_header(z, header, FORMAT, VERSION)
            _check_fingerprint(path, header["fingerprint"], fp)
            check_position(z, header, fp)
            names = header["params"]
            _match_names(path, names, params)
            template = _leaves(opt_state)
            saved_paths = header.get("opt_paths")
            _match_layout(path, header["opt_state"], opt_state, saved_paths)
            wanted = {f"params/{i}.npy": params[n] for i, n in enumerate(names)}
            wanted.update({f"opt/{i}.npy": a for i, a in enumerate(template)})
            sums: dict[str, Any] = {f"sums/{i}.npy": {()} for i in range(4)}
            sums["sums/1.npy"] = {(), correct}  # 0 at an epoch's start
            if z.names != {HEADER, *wanted, *sums}:
                extra = sorted(z.names - {HEADER, *wanted, *sums})
                missing = sorted({*wanted, *sums} - z.names)
                raise z.fail(
                    f"its entries are not those its header names: missing "
                    f"{clip(missing)}, unexpected {clip(extra)}"
                )
            for entry, want in {**wanted, **sums}.items():  # all checked first
                _check_entry(path, z, entry, want)
            arrays = {entry: z.array(entry) for entry in (*wanted, *sums)}
    except CatlearnError:
        raise
    except READ_ERRORS as e:
        raise FormatError(
            f"{path!r} is truncated or corrupted, or not a catlearn checkpoint "
            f"({type(e).__name__}: {clip(str(e), 300)}). {fix}"
        ) from e
    sum_values = tuple(arrays[f"sums/{i}.npy"] for i in range(4))
    sum_values = running_sums(path, sum_values, header["position"], correct, fix)
    saved = {n: arrays[f"params/{i}.npy"] for i, n in enumerate(names)}
    opt = [arrays[f"opt/{i}.npy"] for i in range(len(template))]
    return State(
        _match_params(path, saved, params),
        _match_tree(path, opt, opt_state, saved_paths),
        header["epoch"],
        header["position"],
        header["rng_state"],
        sum_values,
        header["history"],
        header.get("steps", 0),
        path,
    )


def _check_entry(path: str, z: ZipReader, entry: str, want: Any) -> None:
    """The ``.npy`` entry declares the dtype and shape of ``want`` (an array
    of this run), or for a running sum one of the shapes in ``want`` (a set)."""
    dtype, shape = z.npy(entry)
    if isinstance(want, set):
        if shape not in want:
            shapes = " or ".join(map(str, sorted(want)))
            raise z.fail(f"the running sum {entry!r} has shape {shape}, not {shapes}")
        return
    if shape != tuple(want.shape) or dtype != np.dtype(want.dtype):
        what = "parameter" if entry.startswith("params/") else "optimiser-state array"
        raise CheckpointError(
            f"checkpoint {path!r}: {what} {entry!r} is {dtype}{shape}, this fit's "
            f"is {np.dtype(want.dtype)}{tuple(want.shape)}. Fix: resume the run "
            "that wrote it (the same diagram and optimiser)."
        )


FIX = (
    "Fix: resume with the same diagram, data, semantics (and rules), loss, "
    "optimiser (and its settings), batch_size and seed (epochs may change), or "
    "start afresh without resume=."
)


def _check_fingerprint(path: str, saved: dict[str, Any], now: dict[str, Any]) -> None:
    saved = {**saved, "semantics": current_spelling(saved.get("semantics"))}
    for key in now:
        if key in _OPTIONAL and key not in saved:
            continue
        if saved.get(key) == now[key]:
            continue
        there, here = saved.get(key), now[key]
        if isinstance(there, dict) and isinstance(here, dict):
            raise CheckpointError(_settings_mismatch(path, key, there, here))
        shown = [summary(x) if isinstance(x, dict) else repr(x) for x in (there, here)]
        raise CheckpointError(
            f"checkpoint {path!r} belongs to another run: its {key} is "
            f"{shown[0]}, this fit's is {shown[1]}. {FIX}"
        )


def _settings_mismatch(path: str, key: str, there: Any, here: Any) -> str:
    """The message for an optimiser (or rules) whose settings differ."""
    diffs = differences(there, here)
    shown = "; ".join(f"{p}: {a} there, {b} here" for p, a, b in diffs[:3])
    more = f" (and {len(diffs) - 3} more)" if len(diffs) > 3 else ""
    blind = unseen(here)
    note = (
        f" (catlearn cannot read {blind[:3]} of this fit's {key}, so a "
        "difference there would not show)"
        if blind
        else ""
    )
    return (
        f"checkpoint {path!r} was written with other {key} settings: "
        f"{summary(there, 160)} there, {summary(here, 160)} in this fit. They "
        f"differ in {shown}{more}{note}. Fix: resume with the {key} that "
        "wrote the checkpoint (the same settings), or start afresh without "
        "resume=."
    )


def _match_names(path: str, names: list[str], fresh: dict[str, Any]) -> None:
    if set(names) != set(fresh):
        extra = sorted(set(names) - set(fresh))
        missing = sorted(set(fresh) - set(names))
        raise CheckpointError(
            f"checkpoint {path!r} has parameters {clip(sorted(names))}, this fit "
            f"has {clip(sorted(fresh))} ({clip(extra or 'none')} only in the "
            f"checkpoint, {clip(missing or 'none')} only in this fit). Fix: "
            "resume the run that wrote it."
        )


def _match_layout(path: str, n: int, fresh: Any, saved_paths: Any) -> None:
    """``n`` saved optimiser-state arrays at ``saved_paths`` (None: not
    recorded) fit the tree ``fresh``, else :class:`CheckpointError`."""
    template = jax.tree_util.tree_leaves(fresh)
    if n != len(template):
        raise CheckpointError(
            f"checkpoint {path!r} holds {n} optimiser-state arrays, this fit's "
            f"optimiser has {len(template)}. Fix: resume with the optimiser "
            "that wrote it."
        )
    paths = _paths(fresh)
    if saved_paths is not None and list(saved_paths) != paths:
        at = next(i for i, (a, b) in enumerate(zip(saved_paths, paths)) if a != b)
        raise CheckpointError(
            f"checkpoint {path!r}: its optimiser state is laid out otherwise: "
            f"array {at} is {clip(saved_paths[at], 100)} there, {paths[at]} in "
            "this fit. Fix: resume with the optimiser that wrote it."
        )


def _match_params(
    path: str, saved: dict[str, np.ndarray], fresh: dict[str, Any]
) -> dict[str, Any]:
    """The saved parameters (names, shapes and dtypes checked already) in the
    fresh ones' order (a checkpoint lists them as the jitted step returned
    them: sorted)."""
    return {name: jax.numpy.asarray(saved[name]) for name in fresh}


def _match_tree(
    path: str, leaves: list[np.ndarray], fresh: Any, saved_paths: Any = None
) -> Any:
    """The optimiser state of the saved ``leaves`` in the tree of ``fresh``
    (PRNG keys rewrapped), checked against it: layout, shapes, dtypes."""
    _match_layout(path, len(leaves), fresh, saved_paths)
    template, treedef = jax.tree_util.tree_flatten(fresh)
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

