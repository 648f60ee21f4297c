"""Training settings: flags over a TOML file. Each key has a type and a
meaning (:data:`KEYS`); every value, from a flag or a config, passes
:func:`check_value`, and a bad one raises :class:`UsageError` in one line.

>>> check_value("epochs", 3, "--epochs")
3
>>> check_value("lr", 1, "--lr")
1.0
>>> check_value("epochs", 0, "--epochs")
Traceback (most recent call last):
...
catlearn.cli.UsageError: --epochs must be positive, got 0
"""

from __future__ import annotations

import tomllib
from typing import Any

from ._usage import UsageError, choices

# key -> (type, what it is); the flags are these keys with - for _.
KEYS: dict[str, tuple[type, str]] = {
    "model": (str, "model spec"),
    "dataset": (str, "dataset name"),
    "data": (str, "data file (.csv or .npz)"),
    "target": (str, "target column"),
    "val_split": (float, "validation fraction"),
    "semantics": (str, "semantics name"),
    "optimiser": (str, "optimiser name"),
    "loss": (str, "loss name"),
    "lr": (float, "learning rate"),
    "epochs": (int, "number of epochs"),
    "batch_size": (int, "batch size"),
    "seed": (int, "seed"),
    "flips": (int, "rda flips"),
    "min_votes": (int, "rda min votes"),
    "margin": (float, "rda margin"),
    "balance": (bool, "rda balance"),
    "validate": (bool, "validate on the test split"),
    "out": (str, "output path"),
    "checkpoint": (str, "checkpoint path"),
    "checkpoint_every": (int, "steps between checkpoints"),
    "resume": (str, "checkpoint to resume from"),
    "plot": (str, "plot path"),
    "quiet": (bool, "quiet"),
}
POSITIVE = ("epochs", "batch_size", "checkpoint_every", "lr", "margin", "val_split")
NON_NEGATIVE = ("flips", "min_votes")
PATHS = ("out", "checkpoint", "resume", "plot", "data")
SEEDS = 2**32  # as cl.fit: JAX keeps 32 bits of a seed


def check_path(value: str, where: str) -> str:
    """A path given on the command line or in a config: text that names a
    file (no NUL character, nothing but UTF-8, so that it can be printed)."""
    if not value:
        raise UsageError(f"{where} is an empty path; give a file name")
    if "\0" in value:
        fix = value.replace("\0", "") or "model.catlearn"
        raise UsageError(f"{where} {value!r} contains a NUL character, which no file "
                         f"name can hold; remove it, e.g. {fix!r}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{where} {value!r} is not UTF-8 text (raw bytes in a file "
                         "name); rename the file or choose a UTF-8 path") from None
    return value


def check_seed(value: int, where: str) -> int:
    """``value`` if it is a seed ``cl.fit`` takes (0 to 2**32 - 1), else
    ``UsageError`` with one that is (the seed modulo 2**32)."""
    if not 0 <= value < SEEDS:
        fix = 0 if value < 0 else value % SEEDS
        raise UsageError(f"{where} must be a seed from 0 to 2**32 - 1 = {SEEDS - 1}, "
                         f"got {value}; give one in that range, e.g. {fix}")
    return value


def read_config(path: str) -> dict[str, Any]:
    """The settings of a TOML file (flat keys, those of ``KEYS``)."""
    check_path(path, "--config")
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"config file {path!r} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"--config {path!r} is a directory; give the TOML file "
                         "inside it, e.g. --config train.toml") from None
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"config {path!r} is not valid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise UsageError(
            f"config {path!r} is not UTF-8 text (byte {err.object[err.start]:#04x} "
            f"at offset {err.start}), as TOML must be; save it as UTF-8"
        ) from None
    except RecursionError:
        raise UsageError(f"config {path!r} nests too deeply to read; its keys are "
                         "flat (key = value)") from None
    for key, value in table.items():
        if key not in KEYS:
            raise UsageError(
                f"config {path!r}: unknown key {key!r} (allowed keys: "
                f"{choices(KEYS)})"
            )
        table[key] = check_value(key, value, f"config {path!r}: key {key!r}")
    return table


def check_value(key: str, value: Any, where: str) -> Any:
    kind, what = KEYS[key]
    ok = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        article = "an" if kind is int else "a"
        raise UsageError(f"{where} must be {article} {kind.__name__} ({what}), got "
                         f"{value!r}")
    if key in POSITIVE and not value > 0:
        raise UsageError(f"{where} must be positive, got {value!r}")
    if key in NON_NEGATIVE and value < 0:
        raise UsageError(f"{where} must be >= 0, got {value!r}")
    if key == "seed":
        check_seed(value, where)
    if key in PATHS:
        check_path(value, where)
    return value
