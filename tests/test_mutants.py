"""Mutation tests of the law checkers: every deliberately wrong rule in
``tests/_mutants.py`` is rejected, with default settings, by
``catlearn.testing.check_functor`` and by ``catlearn laws --functor``. The kill
rate is printed at the end of the run (conftest's terminal summary).
"""

from __future__ import annotations

import os
import pathlib
import sys

import pytest

import catlearn as cl
from catlearn.cli import main
from catlearn.testing import LawError, check_functor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _mutants  # noqa: E402


def _kill(record_property, name: str, how: str) -> None:
    """Report a kill to conftest's summary (through the test report, so it
    reaches the controller when pytest-xdist runs the tests in workers)."""
    record_property("mutant_killed_by", (name, how))


def test_there_are_enough_mutants_of_every_semantics():
    kinds = {m.name.split("_")[0] for m in _mutants.MUTANTS}
    assert len(_mutants.MUTANTS) >= 25
    assert {"smooth", "boolean", "kernel", "relaxed"} <= kinds


@pytest.mark.parametrize("m", _mutants.MUTANTS, ids=_mutants.NAMES)
def test_check_functor_kills_the_mutant(m, record_property):
    with pytest.raises(LawError) as err:
        check_functor(m.functor)
    assert isinstance(err.value, cl.CatlearnError)
    _kill(record_property, m.name, "check_functor")


@pytest.mark.parametrize("m", _mutants.MUTANTS, ids=_mutants.NAMES)
def test_catlearn_laws_kills_the_mutant(m, capsys, monkeypatch, record_property):
    monkeypatch.syspath_prepend(str(pathlib.Path(_mutants.__file__).parent))
    assert main(["laws", "--functor", f"_mutants:{m.name}"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "laws hold; 1 FAILED" in out, out
    _kill(record_property, m.name, "catlearn laws")


def test_a_correct_replacement_passes():
    """The control: the same check on a functor whose replaced rule is right
    holds (so the kills above are the mutations' doing)."""
    AND = cl.Rule(lambda box, a, b: ((a & b,), (a, b)),
                  lambda box, r, dz: (r[1] & dz, r[0] & dz))
    report = check_functor(cl.Boolean().extend({"AND": AND}), laws=["F(f >> g)"])
    assert report.ok and [r.law for r in report.results][1].startswith("functor")
