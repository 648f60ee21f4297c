"""Shared test setup: a strict JAX, a deterministic hypothesis profile, and the
registry of semantics under test.

Every test that takes a ``semantics`` argument runs once per registered
semantics; ``@pytest.mark.oracle("jax")`` restricts it to the semantics whose
reverse derivative has that oracle. Adding a functor to the contract suite is
one more entry in ``REGISTRY``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import pytest
from hypothesis import settings

import catlearn as cl
from catlearn.testing import (
    Signature,
    boolean_signature,
    is_multilinear,
    laws,
    register_profiles,
    smooth_signature,
)

jax.config.update("jax_numpy_dtype_promotion", "strict")

register_profiles()
# Deterministic by default, so a local run draws what CI draws; set
# HYPOTHESIS_PROFILE=dev to explore with fresh random examples.
settings.load_profile(
    "ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "ci")
)


def _always(program: cl.Program) -> bool:
    return True


@dataclass(frozen=True)
class Semantics:
    """A functor under test: how to build it, the signature its diagrams are
    drawn from, and the oracle its reverse derivatives are checked against
    (``"jax"``: ``jax.vjp`` of the forward, and ``D[f]`` through ``jax.vjp``
    of the reverse; ``"z2"``: the brute-force Z2 derivative, and ``D[f]`` as
    the transpose of the reverse over Z2).

    ``check_reverse(prog, params, xs, dys)`` is the oracle's law,
    ``derivatives(prog, params, xs)`` gives ``(D[f], D[D[f]])`` for RD.6 and
    RD.7, and ``exact(prog)`` says where both are exact: everywhere for
    ``jax``; over Z2 on circuits with no repeated variable inside a product
    (the derivative of a circuit is not the function's elsewhere)."""

    name: str
    functor: Callable[[], cl.Functor]
    signature: Signature
    oracle: str
    check_reverse: Callable[..., None] = laws.reverse_matches_vjp
    derivatives: Callable[..., Any] = laws.jax_derivatives
    exact: Callable[[cl.Program], bool] = _always

    def __repr__(self) -> str:
        return self.name


def _z2(name: str, functor: Callable[[], cl.Functor]) -> Semantics:
    """A semantics of Boolean circuits, checked against the Z2 oracle."""
    return Semantics(
        name,
        functor,
        boolean_signature(),
        oracle="z2",
        check_reverse=laws.reverse_matches_brute_force,
        derivatives=laws.z2_derivatives,
        exact=is_multilinear,
    )


REGISTRY: tuple[Semantics, ...] = (
    # Smooth's signature holds its real layers and the relaxed logic generators.
    Semantics("smooth", cl.Smooth, smooth_signature(), oracle="jax"),
    _z2("boolean", cl.Boolean),
    # Kernel: Boolean's meaning through fused kernels. The Pallas kernel runs in
    # interpret mode here; the C++ kernel (the CPU default) and bit-exactness
    # against Boolean on networks are in test_kernel.py.
    _z2("kernel", partial(cl.Kernel, backend="interpret")),
    Semantics(
        "relaxed-kernel",
        partial(cl.Kernel, relaxed=True),
        smooth_signature(),
        oracle="jax",
    ),
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
    metafunc.parametrize("semantics", entries, ids=[s.name for s in entries])
