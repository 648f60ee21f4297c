"""Errors in one place: every exception class catlearn defines lives in
``catlearn/_errors.py``, derives from ``cl.CatlearnError`` (warnings from
``UserWarning``) and is reachable as ``cl.<Name>`` (the command line's from
``catlearn.cli``), while the modules users meet it in still re-export it."""

from __future__ import annotations

import ast
import importlib.util
import pathlib

import pytest

import catlearn as cl
import catlearn.cli
import catlearn.export
import catlearn.io
import catlearn.testing
from catlearn import _errors

_SPEC = importlib.util.find_spec("catlearn")
assert _SPEC is not None and _SPEC.submodule_search_locations
ROOT = pathlib.Path(list(_SPEC.submodule_search_locations)[0])


def _exception_classes_defined_outside_errors() -> list[str]:
    """Public classes whose bases name an ``...Error``/``...Exception``/
    ``Warning``, defined anywhere but ``_errors.py`` (a private one, e.g. a
    signal caught inside its own module, never reaches users)."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.name == "_errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                names = [ast.unparse(b) for b in node.bases]
                if any(n.endswith(("Error", "Exception", "Warning")) for n in names):
                    found.append(f"{path.relative_to(ROOT)}: class {node.name}")
    return found


def test_no_exception_class_outside_errors_module():
    assert _exception_classes_defined_outside_errors() == []


def _classes() -> list[type]:
    """The classes ``_errors.py`` defines (not those it imports)."""
    tree = ast.parse((ROOT / "_errors.py").read_text())
    names = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    assert len(names) > 15
    return [getattr(_errors, n) for n in names]


@pytest.mark.parametrize("cls", _classes(), ids=lambda c: c.__name__)
def test_every_error_is_a_catlearn_error_and_public(cls):
    if issubclass(cls, Warning):
        assert getattr(cl, cls.__name__) is cls
        return
    assert issubclass(cls, cl.CatlearnError)
    home = catlearn.cli if cls.__module__ == "catlearn.cli" else cl
    assert getattr(home, cls.__name__) is cls, f"{cls.__name__} not public"


def test_the_modules_users_meet_them_in_reexport_them():
    assert catlearn.io.FormatError is cl.FormatError
    assert catlearn.io.VersionError is cl.VersionError
    assert catlearn.io.MissingFileError is cl.MissingFileError
    assert catlearn.io.SaveError is cl.SaveError
    assert catlearn.export.ExportError is cl.ExportError
    assert catlearn.testing.LawError is cl.LawError
    # tracebacks read as before
    assert f"{cl.FormatError.__module__}.{cl.FormatError.__name__}" == (
        "catlearn.io.FormatError")


def test_a_usage_error_is_a_catlearn_error_and_exits_2(capsys):
    with pytest.raises(cl.CatlearnError):
        from catlearn._cli._specs import parse_model

        parse_model("cnn:3")
    assert catlearn.cli.main(["draw", "--model", "cnn:3", "x.png"]) == 2
    assert "unknown model 'cnn:3'" in capsys.readouterr().err
