"""The files a training run reads and writes, checked before its first step.

``fit`` writes its ``plot`` and ``checkpoint`` and reads ``resume``; the
``catlearn train`` command also writes the model (``--out``). A path that
cannot be used (not text, a NUL character, a missing directory, a directory,
a picture format matplotlib does not write, a checkpoint that does not exist,
two outputs at one file) fails here, in a fraction of a second, and not after
the training it was meant to record. ``what`` names the setting as the caller
spells it: ``plot`` for ``fit``, ``--plot`` for the command line.

>>> import tempfile, os
>>> folder = tempfile.mkdtemp()
>>> output_path(os.path.join(folder, "c.png"), "plot", "fit") != ""
True
>>> output_path(folder, "checkpoint", "fit")
Traceback (most recent call last):
...
catlearn.io.SaveError: fit: cannot write the checkpoint to '...': it is a directory...
"""

from __future__ import annotations

import os
import shlex
from typing import Any

from .._errors import ShapeError
from .._zipfile import MissingFileError, SaveError

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def _lead(where: str) -> str:
    """The start of a message: ``"fit: "``, or nothing on the command line
    (whose errors start with the command already)."""
    return f"{where}: " if where else ""


def _cli(what: str) -> bool:
    """Whether ``what`` is spelt as on the command line: ``--plot``, ``OUT``."""
    return what.startswith("--") or what.isupper()


def _setting(what: str, value: str) -> str:
    """How the user writes ``what`` set to ``value``: ``plot='c.png'``, or
    ``--plot c.png`` and ``c.png`` on the command line."""
    if what.startswith("--"):
        return f"{what} {shlex.quote(value)}"
    return shlex.quote(value) if _cli(what) else f"{what}={value!r}"


def text_path(value: Any, what: str, where: str, example: str) -> str:
    """``value`` (a str or ``os.PathLike``) as a str, else :class:`ShapeError`:
    bytes, another type, an empty path or a NUL character."""
    path = os.fspath(value) if isinstance(value, os.PathLike) else value
    if isinstance(path, bytes):
        raise ShapeError(
            f"{_lead(where)}the {what} path must be a str or os.PathLike, got bytes "
            f"{path!r}. Fix: pass text, e.g. "
            f"{_setting(what, os.fsdecode(path))}."
        )
    if not isinstance(path, str):
        raise ShapeError(
            f"{_lead(where)}the {what} path must be a str or os.PathLike, got "
            f"{type(path).__name__} {path!r}. Fix: e.g. {_setting(what, example)}."
        )
    if not path:
        raise ShapeError(
            f"{_lead(where)}the {what} path is empty. Fix: e.g. "
            f"{_setting(what, example)}."
        )
    if "\0" in path:
        raise ShapeError(
            f"{_lead(where)}the {what} path {path!r} contains a NUL character, which "
            "no file name can hold. Fix: remove it, e.g. "
            f"{_setting(what, path.replace(chr(0), '') or example)}."
        )
    return path


def output_path(value: Any, what: str, where: str, example: str = "out") -> str:
    """A path a file can be written to (its directory exists and is writable;
    it is not a directory), else :class:`catlearn.io.SaveError`."""
    path = text_path(value, what, where, example)
    head = (
        f"cannot write {what} {path!r}" if _cli(what)
        else f"{_lead(where)}cannot write the {what} to {path!r}"
    )  # fmt: skip
    if os.path.isdir(path):
        inside = os.path.join(path, os.path.basename(example))
        raise SaveError(
            f"{head}: it is a directory. Fix: a file inside it, e.g. "
            f"{_setting(what, inside)}."
        )
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        there = "is not a directory" if os.path.exists(directory) else "does not exist"
        make = (
            f"mkdir -p {shlex.quote(directory)}" if _cli(what)
            else f"os.makedirs({directory!r}, exist_ok=True)"
        )  # fmt: skip
        raise SaveError(
            f"{head}: the directory {directory!r} {there}. Fix: create it first "
            f"({make}) or choose another path."
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise SaveError(
            f"{head}: the directory {directory!r} is not writable. Fix: choose a "
            "writable directory."
        )
    return path


def input_path(value: Any, what: str, where: str, example: str = "run.ckpt") -> str:
    """The path of an existing checkpoint file, else
    :class:`catlearn.io.MissingFileError`."""
    path = text_path(value, what, where, example)
    if not os.path.isfile(path):
        there = "does not exist"
        if os.path.isdir(path):
            there = "is a directory, not a file"
        raise MissingFileError(
            f"{_lead(where)}no checkpoint at {path!r} to resume from ({what}): it "
            f"{there}. Fix: give a checkpoint file that a run wrote, or start "
            f"afresh without {what}."
        )
    return path


def plot_path(value: Any, what: str, where: str) -> str:
    """An output path whose suffix matplotlib writes (``.png``, ``.svg``,
    ``.pdf``), else :class:`ShapeError` (the suffix) or ``SaveError``."""
    path = text_path(value, what, where, "curves.png")
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in PLOT_SUFFIXES:
        raise ShapeError(
            f"{_lead(where)}cannot draw training curves to {path!r}: the suffix must "
            "be .png, "
            f".svg or .pdf, got {suffix or 'none'!r}. Fix: e.g. "
            f"{_setting(what, 'curves.png')}."
        )
    return output_path(path, what, where, "curves.png")


def run_paths(
    where: str, names: dict[str, str], **paths: Any
) -> dict[str, str | None]:
    """Check the paths of one training run, keyed ``plot``, ``checkpoint``,
    ``resume`` and ``out`` (``None``: not used); ``names`` spells each key as
    the caller does (``{"plot": "--plot"}``). Every output is a different
    file, and none is the checkpoint resumed from, except the checkpoint
    itself (a run that resumes from its own checkpoint and goes on writing
    it)."""
    checked: dict[str, str | None] = {}
    for key, value in paths.items():
        what = names.get(key, key)
        if value is None:
            checked[key] = None
        elif key == "plot":
            checked[key] = plot_path(value, what, where)
        elif key == "resume":
            checked[key] = input_path(value, what, where)
        else:
            example = "run.ckpt" if key == "checkpoint" else "model.catlearn"
            checked[key] = output_path(value, what, where, example)
    seen: dict[str, str] = {}
    for key, path in checked.items():
        if path is None:
            continue
        real = os.path.realpath(path)
        for other, there in seen.items():
            if there == real and {key, other} != {"checkpoint", "resume"}:
                a, b = names.get(other, other), names.get(key, key)
                raise SaveError(
                    f"{_lead(where)}{a} and {b} are the same file {path!r}: one would "
                    f"overwrite the other. Fix: give {b} its own path."
                )
        seen[key] = real
    return checked
