"""The command's one error: a bad flag, value or config key."""

from __future__ import annotations

from typing import Any

from .._errors import UsageError as UsageError


def choices(names: Any) -> str:
    return ", ".join(names)
