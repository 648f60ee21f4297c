"""``catlearn laws``: :func:`catlearn.testing.check_functor` as a command.

The laws themselves live in :mod:`catlearn.testing` (the table ``LAWS``);
this module loads the functor (and the user's generators), runs the check
with the same defaults, and prints one row per law as it finishes.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from ..functors import Functor
from . import _specs as specs
from ._commands import CommandError, table
from ._specs import UsageError


def _import(text: str, what: str) -> Any:
    module, _, attr = text.partition(":")
    if not module or not attr:
        raise UsageError(f"bad {what} {text!r}: write MODULE:NAME, e.g. "
                         "mylib.semantics:F")
    here = os.getcwd()  # like python -m: modules in the current folder import
    added = here not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        return getattr(importlib.import_module(module), attr)
    except ImportError as err:
        raise UsageError(f"{what} {text!r}: cannot import {module!r} ({err})"
                         ) from None
    except AttributeError:
        raise UsageError(f"{what} {text!r}: module {module!r} has no {attr!r}"
                         ) from None
    finally:
        if added:
            sys.path.remove(here)


def _load_functor(text: str) -> Functor:
    obj = _import(text, "--functor")
    if not isinstance(obj, Functor) and callable(obj):
        obj = obj()
    if not isinstance(obj, Functor):
        raise UsageError(f"--functor {text!r} is {obj!r}, not a catlearn Functor")
    return obj


def _load_generators(texts: list[str] | None) -> list[Any]:
    out: list[Any] = []
    for text in texts or ():
        obj = _import(text, "--generators")
        out += list(obj) if isinstance(obj, list | tuple) else [obj]
    return out


@contextlib.contextmanager
def _storage() -> Iterator[None]:
    """Hypothesis caches what it learns in ``./.hypothesis`` unless told
    otherwise: point it at ``~/.cache/catlearn/hypothesis`` for the run (where
    neither ``HYPOTHESIS_STORAGE_DIRECTORY`` nor the caller has chosen)."""
    from hypothesis import configuration

    before = getattr(configuration, "__hypothesis_home_directory", None)
    if before is not None or os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        yield
        return
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    configuration.set_hypothesis_home_dir(os.path.join(cache, "catlearn",
                                                       "hypothesis"))
    try:
        yield
    finally:
        configuration.set_hypothesis_home_dir(before)


def _one_line(err: BaseException, name: str) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    text = text.removeprefix(f"law {name} fails ")  # the row names the law
    return text if len(text) <= 60 else text[:57] + "..."


def _functor(args: argparse.Namespace) -> Functor:
    if not args.functor:
        return specs.semantics(args.semantics or "smooth")
    functor = _load_functor(args.functor)
    if args.semantics is not None:
        kind = specs.semantics(args.semantics)  # checks the name
        if not isinstance(functor, type(kind)):
            raise UsageError(
                f"--functor {args.functor!r} is {functor!r}, not a kind of "
                f"{kind!r} (--semantics {args.semantics}). Fix: leave out "
                "--semantics: the functor's own kind is used."
            )
    return functor


def laws(args: argparse.Namespace) -> int:
    try:
        importlib.import_module("hypothesis")
    except ImportError:
        raise CommandError(
            'catlearn laws needs hypothesis: pip install "catlearn[testing]"'
        ) from None
    from ..testing import LawError, check_functor, laws_for, semantics_of

    if args.examples < 1:
        raise UsageError(f"--examples must be positive, got {args.examples}")
    functor = _functor(args)
    sem = semantics_of(functor, _load_generators(args.generators))
    names = [law.name for law in laws_for(sem)]
    if args.law and not any(t.lower() in n.lower() for t in args.law for n in names):
        raise UsageError(f"no law matches --law {' '.join(args.law)} (the laws: "
                         f"{', '.join(names)})")
    print(f"laws of {functor!r} ({sem.name}: {len(sem.signature.generators)} "
          f"generators, oracle {sem.oracle}), {args.examples} random diagrams "
          f"per law (seed {args.seed})", flush=True)
    rows: list[tuple[str, int, str]] = []

    def show(result: Any) -> None:
        if result.error is None:
            text = "ok"
        else:
            what = "FAILED" if isinstance(result.error, LawError) else \
                f"ERROR ({type(result.error).__name__})"
            text = f"{what}: {_one_line(result.error, result.law)}"
        rows.append((result.law, result.examples, text))
        print(f"  {result.law}: {text}", file=sys.stderr, flush=True)  # progress

    with _storage():
        try:
            report = check_functor(functor, examples=args.examples, seed=args.seed,
                                   laws=args.law, semantics=sem,
                                   keep_going=args.keep_going, shrink=args.shrink,
                                   on_result=show)
            failures: list[Any] = list(report.failures)
        except LawError as err:  # stopped at the first failure
            failures = [err]
            if not rows:  # it failed before any law ran (coverage)
                rows.append(("coverage of the rule table", 0,
                             f"FAILED: {_one_line(err, '')}"))
    print()
    print(table(rows, ("law", "examples", "result")))
    for failure in failures:
        error = getattr(failure, "error", failure)
        notes = "\n".join(getattr(error, "__notes__", []))
        print(f"\n{error}" + (f"\n{notes}" if notes else ""))
    bad = sum(not r[2].startswith("ok") for r in rows)
    chosen = [n for n in names
              if not args.law or any(t.lower() in n.lower() for t in args.law)]
    skipped = len(chosen) + 1 - len(rows)
    tail = f"; {bad} FAILED" if bad else ""
    if bad and skipped > 0:
        tail += f", {skipped} not run (--keep-going runs them)"
    print(f"\n{len(rows) - bad} of {len(rows)} laws hold{tail}")
    return 1 if bad else 0
