# The two commands of the README: `make demo` and `make test`. Each sets itself up.
SHELL := /bin/bash
VENV ?= venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOME_DIR ?= .lake

.PHONY: venv test lint typecheck pytest demo model serve bench bench-quick clean

$(VENV)/.installed: requirements.txt requirements-local.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-local.txt -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

test: lint typecheck pytest

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: venv
	$(PY) -m mypy bigquery_facts.py infra pipeline local_engine sqlrunner bench __main__.py

pytest: venv
	$(PY) -m pytest

demo: venv
	$(PY) -m sqlrunner demo --home $(HOME_DIR)

# The lake over BigQuery's REST API on 127.0.0.1:9050 (docs/serve.md); Ctrl-C stops it.
serve: venv
	$(PY) -m sqlrunner serve --home $(HOME_DIR)

model: venv
	$(PY) -m sqlrunner.modelzoo fetch --dest models/resnet_50

bench: venv
	$(PY) -m bench --out docs/benchmarks.md

# A check that the benchmark works (tiny model, a few photos); its figures mean nothing.
bench-quick: venv
	$(PY) -m bench --quick --work build/bench-quick --out build/bench-quick/benchmarks.md

clean:
	rm -rf $(HOME_DIR) .pytest_cache .mypy_cache .ruff_cache
