"""Shared test setup: a strict JAX, a deterministic hypothesis profile, and the
registry of semantics under test (``catlearn.testing.REGISTRY``).

Every test that takes a ``semantics`` argument runs once per registered
semantics (with a ``law`` argument too: once per law of
``catlearn.testing.LAWS`` that applies to it); ``@pytest.mark.oracle("jax")``
restricts it to the semantics whose reverse derivative has that oracle.
Adding a functor to the contract suite is one more entry in ``REGISTRY``.
"""

from __future__ import annotations

import os
import sys

import jax
import pytest
from hypothesis import settings

from catlearn.testing import REGISTRY, laws_for, register_profiles

jax.config.update("jax_numpy_dtype_promotion", "strict")

register_profiles()
# Deterministic by default, so a local run draws what CI draws; set
# HYPOTHESIS_PROFILE=dev to explore with fresh random examples.
settings.load_profile(
    "ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "ci")
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "oracle(kind): run only for registered semantics with that oracle"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "semantics" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("oracle")
    entries = [s for s in REGISTRY if marker is None or s.oracle in marker.args]
    if "law" in metafunc.fixturenames:  # each law with the semantics it applies to
        pairs = [(s, law) for s in entries for law in laws_for(s)]
        metafunc.parametrize(("semantics", "law"), pairs,
                             ids=[f"{s.name}-{law.name}" for s, law in pairs])
        return
    metafunc.parametrize("semantics", entries, ids=[s.name for s in entries])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The mutation tests' kill rate (tests/test_mutants.py), when they ran."""
    kills: dict[str, set[str]] = {}
    for report in terminalreporter.stats.get("passed", []):
        for key, value in getattr(report, "user_properties", ()):
            if key == "mutant_killed_by":
                name, how = value
                kills.setdefault(how, set()).add(name)
    if not kills:
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _mutants

    total = len(_mutants.MUTANTS)
    for how in ("check_functor", "catlearn laws"):
        killed = len(kills.get(how, ()))
        terminalreporter.write_line(
            f"mutation tests: {how} killed {killed} of {total} mutants "
            f"({100 * killed / total:.0f} %)")
