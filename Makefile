# The two commands of the README: `make demo` and `make test`. Each sets itself up.
SHELL := /bin/bash
VENV ?= venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOME_DIR ?= .lake

.PHONY: venv test lint typecheck pytest demo model bench bench-quick deploy-venv policy-venv clean

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
	$(PY) -m mypy bigquery_facts.py bigquery_scripts.py infra pipeline local_engine sqlrunner bench __main__.py policy/rules.py

pytest: venv
	$(PY) -m pytest

demo: venv
	$(PY) -m sqlrunner demo --home $(HOME_DIR)

model: venv
	$(PY) -m sqlrunner.modelzoo fetch --dest models/resnet_50

bench: venv
	$(PY) -m bench --out docs/benchmarks.md

# A check that the benchmark works (tiny model, a few photos); its figures mean nothing.
bench-quick: venv
	$(PY) -m bench --quick --work build/bench-quick --out build/bench-quick/benchmarks.md

# What a deploy installs (Pulumi.yaml's venv toolchain: requirements.txt alone), built fresh
# outside the project; prints its size, then runs the program under mocks and the
# post-deploy step in it (tests/support/deploy_path.py).
DEPLOY_VENV ?= /tmp/resnet-inference-deploy-venv
deploy-venv:
	rm -rf $(DEPLOY_VENV)
	$(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/python -m pip install -q -r requirements.txt
	du -sh $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/python -m tests.support.deploy_path

# The policy pack's own venv, built as `pulumi preview --policy-pack policy` builds it
# (pulumi-policy pins protobuf 5, which the BigQuery client cannot share); then a check
# that policy/__main__.py wires every rule of policy/rules.py at its level.
policy-venv:
	$(PYTHON) -m venv policy/venv
	policy/venv/bin/python -m pip install -q -r policy/requirements.txt
	policy/venv/bin/python tests/support/policy_pack.py

clean:
	rm -rf $(HOME_DIR) .pytest_cache .mypy_cache .ruff_cache
