"""A griffe extension for the API reference (mkdocs.yml loads it).

catlearn's docstrings are written to be read in a terminal and run by pytest's
``--doctest-modules``: doctests start with ``>>>``, literal blocks follow
``::``, and names are marked with Sphinx roles such as ``:class:`Program```.
In Markdown, ``>>>`` would open a triple blockquote and the roles would show
as text, so before rendering this extension fences each doctest as a
``pycon`` code block, turns ``::`` into ``:`` and each role into a code span.
The docstrings themselves are not changed.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const):`(~?)([^`]+)`"
)
FENCE = re.compile(r"^\s*(```|~~~)")


def _role(match: re.Match[str]) -> str:
    """``:class:`a.B``` -> ```a.B```; ``:class:`~a.B``` -> ```B```."""
    short, target = match.groups()
    return f"``{target.rsplit('.', 1)[-1] if short else target}``"


def markdown(text: str) -> str:
    """The docstring ``text`` with its doctests fenced and its roles as code."""
    out: list[str] = []
    lines = text.splitlines()
    i, fenced = 0, False
    while i < len(lines):
        line = lines[i]
        if FENCE.match(line):
            fenced = not fenced
        stripped = line.lstrip()
        if not fenced and (stripped.startswith(">>> ") or stripped == ">>>"):
            indent = line[: len(line) - len(stripped)]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][len(indent):] if lines[i].startswith(indent)
                             else lines[i].lstrip())
                i += 1
            if out and out[-1].strip():
                out.append("")
            out += [f"{indent}```pycon", *(indent + b for b in block), f"{indent}```"]
            continue
        if not fenced:
            line = ROLE.sub(_role, line)
            if line.endswith("::") and not line.rstrip(":").endswith(" "):
                line = line[:-1]
        out.append(line)
        i += 1
    return "\n".join(out)


class Doctests(griffe.Extension):
    """Rewrite every docstring with :func:`markdown` as griffe loads it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
