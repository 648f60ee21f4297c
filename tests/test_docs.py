"""The documentation runs: the code blocks of README.md and docs/**/*.md.

Conventions (for whoever writes a page):

- Every ```python block runs. The blocks of one page run in order in one
  shared namespace, so a tutorial builds up state from block to block; one
  test per page, named by the page's path. Tracebacks point at the page's own
  line numbers.
- A page runs in a fresh temporary directory (its working directory), so a
  block can write files with relative paths and a later block (or a shell
  block) finds them there.
- ```bash blocks run only on the pages in SHELL_PAGES (the tutorials and
  getting started; elsewhere they are shown, not run). They run with
  ``bash -eo pipefail`` in that same directory, in their place between the
  python blocks, with the directory of this Python's executables (the
  virtualenv's bin/, where ``catlearn``, ``python`` and ``pip`` are) first on
  PATH. Lines that install software (``pip ...``, ``python -m pip ...``,
  ``apt-get ...``, with or without ``sudo``) are shown to the reader but not
  run: the test runs in the environment ``make test`` already installed.
- Any other block (```text, ```console, ```json, ...) is shown only.
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
SHELL_PAGES = [DOCS / "getting-started.md", *sorted((DOCS / "tutorials").glob("*.md"))]
BLOCK = re.compile(r"^```(python|bash)[^\n]*\n(.*?)^```", re.S | re.M)
INSTALL = re.compile(r"^\s*(sudo\s+)?(pip3?|python3?\s+-m\s+pip|apt-get|apt)\s")


def _name(page):
    return page.relative_to(ROOT).as_posix()


def blocks(page):
    """``(language, code, line)`` of each runnable block, ``line`` the page line
    of the block's first line of code."""
    text = page.read_text()
    found = []
    for m in BLOCK.finditer(text):
        lang, code = m.group(1), m.group(2)
        if lang == "bash" and page not in SHELL_PAGES:
            continue
        found.append((lang, code, text.count("\n", 0, m.start(2)) + 1))
    return found


def _shell(code, page, line):
    script = "\n".join("" if INSTALL.match(ln) else ln for ln in code.splitlines())
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(pathlib.Path(sys.executable).parent),
                                   env.get("PATH", "")])
    run = subprocess.run(["bash", "-eo", "pipefail", "-c", script], env=env,
                         cwd=pathlib.Path.cwd(),
                         capture_output=True, text=True)
    print(run.stdout, end="")
    if run.returncode:
        pytest.fail(f"{_name(page)}, bash block at line {line} exited with "
                    f"{run.returncode}:\n{run.stdout}{run.stderr}", pytrace=False)


def test_there_are_examples_to_run():
    counts = {_name(p): len(blocks(p)) for p in PAGES}
    assert sum(counts.values()) >= 10
    for page in SHELL_PAGES:
        assert page in PAGES, f"{_name(page)} is not a documentation page"
    assert any(lang == "bash" for p in SHELL_PAGES for lang, _, _ in blocks(p))


@pytest.mark.parametrize(
    "page", [p for p in PAGES if blocks(p)], ids=_name
)
def test_page_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__doc__"}
    for lang, code, line in blocks(page):
        if lang == "bash":
            _shell(code, page, line)
        else:  # padded so that tracebacks show the page's line numbers
            source = "\n" * (line - 1) + code
            exec(compile(source, str(page), "exec"), namespace)
