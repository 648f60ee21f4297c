"""The documentation runs: every ```python block in README.md and docs/*.md."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _blocks():
    return [
        pytest.param(code, id=f"{page.name}-{i}")
        for page in PAGES
        for i, code in enumerate(BLOCK.findall(page.read_text()))
    ]


def test_there_are_examples_to_run():
    assert len(_blocks()) >= 2


@pytest.mark.parametrize("code", _blocks())
def test_doc_block_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "<doc>", "exec"), {"__name__": "__doc__"})
