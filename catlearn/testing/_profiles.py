"""Hypothesis profiles for catlearn's property tests.

``ci`` is deterministic (``derandomize=True``, no example database, no
deadline: the first call of a program compiles it), so a run on a laptop
draws the same examples as a run in CI; ``dev`` draws fresh random examples,
more of them, and remembers failures.

>>> from hypothesis import settings
>>> register_profiles()
>>> settings.get_profile("ci").derandomize
True
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

PROFILES = ("ci", "dev")


def register_profiles(ci_examples: int = 10, dev_examples: int = 50) -> None:
    """Register the ``ci`` and ``dev`` hypothesis profiles (load one with
    ``hypothesis.settings.load_profile(name)``)."""
    slow = [HealthCheck.too_slow]
    settings.register_profile(
        "ci",
        derandomize=True,
        database=None,
        deadline=None,
        max_examples=ci_examples,
        print_blob=True,
        suppress_health_check=slow,
    )
    settings.register_profile(
        "dev",
        deadline=None,
        max_examples=dev_examples,
        print_blob=True,
        suppress_health_check=slow,
    )
