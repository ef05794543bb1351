# Two entry points, both usable on a fresh clone with Python 3.11+ and make:
#   make demo   - create .venv and run the example service object
#   make check  - create .venv with the pinned tools and run every quality gate
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# pyright finds packages through the first python on PATH. Another distribution
# (trio's) also installs a top-level `outcome`, so the venv must come first.
PYRIGHT := PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pyright
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

.PHONY: demo check lint typecheck typecheck-docs test docs bench-smoke bench clean

DEMO_INSTALLED := $(VENV)/.demo-installed
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "outcome needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

# The demo needs only the package and its own extra, not the check toolchain.
$(DEMO_INSTALLED): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[demo]'
	touch $(DEMO_INSTALLED)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[demo,dev,docs,bench]'
	touch $(INSTALLED) $(DEMO_INSTALLED)

demo: $(DEMO_INSTALLED)
	$(BIN)/python examples/checkout

check: lint typecheck test docs bench-smoke

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	$(BIN)/mypy
	$(PYRIGHT)
	$(PYRIGHT) --verifytypes outcome --ignoreexternal --verbose > $(VENV)/verifytypes.txt
	grep -q 'Package directory: "$(CURDIR)/outcome"' $(VENV)/verifytypes.txt \
	  || { echo "pyright verified another 'outcome' package:"; head -3 $(VENV)/verifytypes.txt; exit 1; }
	grep -E 'Type completeness score|Functions without docstring' $(VENV)/verifytypes.txt
	$(MAKE) --no-print-directory typecheck-docs

# The code blocks of README.md and docs/*.md, one module per page (prompts and
# output stripped, each line at its line number on the page), checked like
# tests/typing/. The sed turns docs/_build/code/docs/retry.py:12 into docs/retry.md:12.
DOCS_CODE := docs/_build/code
TO_PAGES := sed -E 's|$(DOCS_CODE)/([^:]*)\.py|\1.md|g'
# Both checkers run before it fails, so that one run lists every error.
typecheck-docs: $(INSTALLED)
	$(BIN)/python -m tests.markdown_code $(DOCS_CODE) README.md docs/*.md
	failed=0; \
	$(BIN)/mypy $(DOCS_CODE) | $(TO_PAGES) || failed=1; \
	$(PYRIGHT) $(DOCS_CODE) | $(TO_PAGES) || failed=1; \
	exit $$failed

test: $(INSTALLED)
	$(BIN)/pytest --cov --cov-report=term-missing

docs: $(INSTALLED)
	$(BIN)/sphinx-build --fresh-env --fail-on-warning --quiet --builder html docs docs/_build/html
	$(BIN)/sphinx-build --fresh-env --fail-on-warning --quiet --builder doctest docs docs/_build/doctest

# Runs each benchmark once with few rounds so the scripts cannot rot; the figures
# it prints are not meaningful. `make bench` gives the real ones.
bench-smoke: $(INSTALLED)
	$(BIN)/python benchmarks/bench_result.py --quick > /dev/null
	$(BIN)/python benchmarks/bench_errors.py --quick > /dev/null
	$(BIN)/python benchmarks/bench_classify.py --quick > /dev/null
	$(BIN)/python benchmarks/bench_saga.py --quick > /dev/null
	$(BIN)/python benchmarks/bench_durable.py --quick > /dev/null
	$(BIN)/python benchmarks/bench_import.py --quick > /dev/null
	$(BIN)/python benchmarks/bench_jobs.py --quick > /dev/null
	$(BIN)/python benchmarks/bench_jobs_engines.py --quick > /dev/null
	$(BIN)/python benchmarks/bench_budget.py --quick > /dev/null
	$(BIN)/python benchmarks/bench_web.py --quick > /dev/null
	$(BIN)/python benchmarks/bench_web_starlette.py --quick > /dev/null
	$(BIN)/python benchmarks/bench_web_django.py --quick > /dev/null
	$(BIN)/python benchmarks/bench_web_flask.py --quick > /dev/null
	$(BIN)/python benchmarks/bench_web_strawberry.py --quick > /dev/null

bench: $(INSTALLED)
	$(BIN)/python benchmarks/bench_result.py
	$(BIN)/python benchmarks/bench_errors.py
	$(BIN)/python benchmarks/bench_classify.py
	$(BIN)/python benchmarks/bench_saga.py
	$(BIN)/python benchmarks/bench_durable.py
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_jobs.py
	$(BIN)/python benchmarks/bench_jobs_engines.py
	$(BIN)/python benchmarks/bench_budget.py
	$(BIN)/python benchmarks/bench_web.py
	$(BIN)/python benchmarks/bench_web_starlette.py
	$(BIN)/python benchmarks/bench_web_django.py
	$(BIN)/python benchmarks/bench_web_flask.py
	$(BIN)/python benchmarks/bench_web_strawberry.py

clean:
	rm -rf $(VENV) docs/_build .coverage .mypy_cache .pytest_cache .ruff_cache .hypothesis
