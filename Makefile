# The two commands of the README: `make demo` and `make test`. Each sets itself up.
SHELL := /bin/bash
VENV ?= venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOME_DIR ?= .lake

.PHONY: venv test test-fast lint typecheck pytest demo model bench bench-quick mutation clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

test: lint typecheck pytest

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: venv
	$(PY) -m mypy bigquery_facts.py bigquery_scripts.py infra pipeline local_engine sqlrunner bench __main__.py

pytest: venv
	$(PY) -m pytest

# The suite without the tests marked slow (the full ResNet-50 stand-in): a quicker loop.
test-fast: venv
	$(PY) -m pytest -m "not slow"

# Mutation score per module (docs/mutation.md), one module at a time under nice; long,
# so not part of `make test`. `make mutation MODULES=pipeline/retry.py` runs one.
mutation: venv
	$(PY) -m tests.mutation.run $(MODULES)

demo: venv
	$(PY) -m sqlrunner demo --home $(HOME_DIR)

model: venv
	$(PY) -m sqlrunner.modelzoo fetch --dest models/resnet_50

bench: venv
	$(PY) -m bench --out docs/benchmarks.md

# A check that the benchmark works (tiny model, a few photos); its figures mean nothing.
bench-quick: venv
	$(PY) -m bench --quick --work build/bench-quick --out build/bench-quick/benchmarks.md

clean:
	rm -rf $(HOME_DIR) .pytest_cache .mypy_cache .ruff_cache
