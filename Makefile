# The two commands of the README: `make demo` and `make test`.
# Each creates .venv if missing, installs catlearn (not editable: we test what
# ships) with its extras, pinned by constraints.txt, and runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: demo test lint typecheck install tools docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Dependencies are reinstalled only when pyproject.toml or constraints.txt change.
$(VENV)/.deps: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install --quiet -c constraints.txt ".[dev]"
	touch $@

install: $(VENV)/.deps
	$(PIP) install --quiet --no-deps --force-reinstall .

demo: install
	$(BIN)/python examples/demo.py

lint: install
	$(BIN)/ruff check catlearn tests examples bench
	$(BIN)/mypy

# Tests run against the installed package: pytest is called as a script (so the
# working tree is not on sys.path) and doctests are collected from the
# installed modules with --pyargs.
# The fused CPU kernel of cl.Kernel() compiles C++ at first use, and the tests
# run it: install a compiler from Debian when there is none (as root, as CI is).
tools:
	@command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 || \
	{ if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq g++; \
	  else echo "make test: no C++ compiler found; install g++ (sudo apt-get install g++)" >&2; exit 1; fi; }
	@command -v iverilog >/dev/null 2>&1 && command -v yosys >/dev/null 2>&1 && \
	command -v berkeley-abc >/dev/null 2>&1 || \
	{ if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
	  apt-get install -y -qq iverilog yosys berkeley-abc; \
	  else echo "make test: tests/test_export.py runs iverilog, yosys and berkeley-abc; install them (sudo apt-get install iverilog yosys berkeley-abc)" >&2; exit 1; fi; }

# The documentation site (mkdocs.yml) into site/ (ignored by git). --strict:
# any warning (a broken link or anchor, a page missing from the nav, a
# docstring mkdocstrings cannot render) fails the build. The code blocks of
# the pages run in tests/test_docs.py. Preview: $(BIN)/mkdocs serve
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d site

# pytest-xdist spreads the tests over the cores (2 in CI; at most 4 workers,
# each holds its own JAX). PYTEST_ARGS adds flags, e.g. PYTEST_ARGS="-n 0".
test: tools install lint docs
	cd tests && ../$(BIN)/pytest -p no:cacheprovider -q -n auto --maxprocesses 4 \
		$(PYTEST_ARGS) . --pyargs catlearn

bench: install
	$(BIN)/python bench/smooth_overhead.py
	$(BIN)/python bench/boolean_throughput.py
	$(BIN)/python bench/kernel_throughput.py

clean:
	rm -rf $(VENV) build site *.egg-info .pytest_cache .mypy_cache .ruff_cache
