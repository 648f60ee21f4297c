"""The fields of a checkpoint's header, checked as strictly as ``write``
writes them: types first, then ranges against the run resuming from it.

A checkpoint is read as untrusted input (it may be truncated, edited or
crafted): a field out of range -- a position past the data, an epoch count
that disagrees with the history, a random-number state numpy would reject or
misread -- is a :class:`catlearn.io.FormatError`, raised before any array is
read, never a wrong resumed run.

>>> ok_rng(dict(__import__("numpy").random.default_rng(0).bit_generator.state))
True
>>> ok_rng({"bit_generator": "PCG64", "state": {"state": -1, "inc": 1},
...         "has_uint32": 0, "uinteger": 0})
False
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import numpy as np

from .._errors import CheckpointError
from .._zipfile import FormatError, ZipReader, clip
from ._settings import describe
from .losses import Loss

_KEYS = {
    "format", "version", "fingerprint", "epoch", "position", "steps",
    "rng_state", "history", "params", "opt_state", "opt_paths", "sums",
}  # fmt: skip
_REQUIRED = _KEYS - {"steps", "opt_paths"}  # older checkpoints lack these
_BIG = 2**53  # a count past this is no count a run reaches


def _count(value: Any, least: int = 0) -> bool:
    return type(value) is int and least <= value < _BIG


def _strs(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def ok_rng(state: Any) -> bool:
    """Whether ``state`` is a numpy PCG64 bit-generator state (what
    ``np.random.default_rng`` uses, and what ``fit`` records), with every
    number in its range."""
    if not isinstance(state, dict) or set(state) != {
        "bit_generator", "state", "has_uint32", "uinteger"
    }:  # fmt: skip
        return False
    inner = state["state"]
    if state["bit_generator"] != "PCG64" or not isinstance(inner, dict):
        return False
    if set(inner) != {"state", "inc"}:
        return False
    words = (inner["state"], inner["inc"])
    if not all(type(w) is int and 0 <= w < 2**128 for w in words):
        return False
    return state["has_uint32"] in (0, 1) and (
        type(state["uinteger"]) is int and 0 <= state["uinteger"] < 2**32
    )


def _ok_row(row: Any, epoch: int) -> bool:
    return (
        isinstance(row, dict)
        and all(isinstance(k, str) and type(v) in (int, float) for k, v in row.items())
        and row.get("epoch") == epoch
    )


def check_header(z: ZipReader, header: Any, fmt: str, version: int) -> None:
    """Raise ``z.fail(...)`` (a FormatError) unless ``header`` has exactly the
    fields a checkpoint of format ``fmt``, version ``version`` has, of the
    right types, with the history as long as the epochs finished."""
    if not isinstance(header, dict):
        raise z.fail(f"the header is a {type(header).__name__}, not an object")
    if header.get("format") != fmt or header.get("version") != version:
        raise z.fail(
            f"it is not a version-{version} catlearn checkpoint (format "
            f"{clip(header.get('format'), 60)}, version "
            f"{clip(header.get('version'), 60)})"
        )
    missing, unknown = sorted(_REQUIRED - set(header)), sorted(set(header) - _KEYS)
    if missing or unknown:
        raise z.fail(f"its header lacks {missing} and has unknown {clip(unknown)}")
    problems = []
    if not isinstance(header["fingerprint"], dict):
        problems.append("fingerprint is not an object")
    for key in ("epoch", "position", "steps", "opt_state", "sums"):
        if key in header and not _count(header[key]):
            problems.append(f"{key} is {clip(repr(header[key]), 60)}, not a count")
    if header["sums"] != 4:
        problems.append(f"sums is {clip(repr(header['sums']), 60)}, not 4")
    names = header["params"]
    if not _strs(names) or len(set(names)) != len(names):
        problems.append("params is not a list of distinct names")
    paths = header.get("opt_paths", [])
    if not _strs(paths) or (
        "opt_paths" in header and len(paths) != header["opt_state"]
    ):
        problems.append("opt_paths is not a list of one key path per array")
    if not ok_rng(header["rng_state"]):
        problems.append(
            f"rng_state is {clip(header['rng_state'], 120)}, not a numpy PCG64 state"
        )
    history = header["history"]
    if not isinstance(history, list) or not all(
        _ok_row(row, i + 1) for i, row in enumerate(history)
    ):
        problems.append("history is not a list of {name: number} rows, epoch 1, 2, ...")
    elif _count(header["epoch"]) and len(history) != header["epoch"]:
        problems.append(
            f"epoch is {header['epoch']} but the history has {len(history)} rows"
        )
    if problems:
        raise z.fail(f"its header is malformed: {'; '.join(problems[:4])}")


def check_position(z: ZipReader, header: dict[str, Any], fp: dict[str, Any]) -> None:
    """The position in the epoch fits this run (``fp``: its fingerprint, equal
    to the checkpoint's): a multiple of the batch size, before the end of the
    data."""
    position, size, n = header["position"], fp["batch_size"], fp["examples"]
    if position >= max(n, 1) or position % size:
        raise z.fail(
            f"its position in the epoch is example {position}, but a run of "
            f"{n} examples in batches of {size} stops only at multiples of "
            f"{size} below {n}"
        )


def running_sums(
    path: str,
    sums: tuple[Any, ...],
    position: int,
    correct: tuple[int, ...],
    fix: str,
) -> tuple[Any, ...]:
    """The epoch's running sums (loss, correct, examples, skipped) read from
    ``path``, checked: finite counts, all 0 at an epoch's start (``position``
    0), the count of correct predictions of shape ``correct`` (one 0 at an
    epoch's start stands for zeros of that shape)."""
    values = [float(v) for s in sums for v in np.ravel(s)]
    bad = not all(np.isfinite(values)) or min(values[1:]) < 0
    if bad or (position == 0 and any(values)):
        raise FormatError(
            f"{path!r}: the running sums (loss, correct, examples, skipped) are "
            f"{values}, not finite counts (all 0 at an epoch's start). {fix}"
        )
    if np.shape(sums[1]) == correct:
        return sums
    if position == 0:
        return (sums[0], np.zeros(correct, np.int32), *sums[2:])
    raise CheckpointError(
        f"checkpoint {path!r} counts the correct predictions of its unfinished "
        f"epoch as one number, this fit as {correct[0]} (every output right, "
        "then each output's): a catlearn from before per-output accuracies "
        "(accuracy_i) wrote it. "
        "Fix: resume from a checkpoint written at an epoch's end (without "
        "checkpoint_every=), or start afresh without resume=."
    )


def current_spelling(semantics: Any) -> Any:
    """A fused functor's repr as checkpoints from before issue 13 wrote it,
    spelled as today: ``RelaxedKernel(...)`` is ``Kernel(relaxed=True, ...)``
    and ``block_words=n`` is ``block=32 n`` (the same functor either way)."""
    if not isinstance(semantics, str):
        return semantics
    text = re.sub(r"block_words=(\d+)", lambda m: f"block={32 * int(m[1])}", semantics)
    old = re.fullmatch(r"RelaxedKernel\((rules=\[[^\]]*\])?(?:, )?(.*)\)", text)
    if old:
        args = [a for a in (old[1], "relaxed=True", old[2]) if a]
        text = f"Kernel({', '.join(args)})"
    return text


def loss_name(loss: Any) -> str:
    """A shipped loss by its name; a loss function or a joint loss by its
    settings (:func:`catlearn.learn._settings.describe`: the code of a
    function, not only its name, so two lambdas differ)."""
    if isinstance(loss, Loss):
        return loss.name
    text = json.dumps(describe(loss), sort_keys=True)
    return f"{loss!r} {hashlib.sha256(text.encode()).hexdigest()[:16]}"
