# Portico: the chart and its harness. `make check` runs the main job,
# `make test` the tests; both set everything up first (idempotent, fast when warm).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

include tools/versions.env

PYTHON      ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
PORTICO_CACHE ?= $(HOME)/.cache/portico
TOOLS_BIN   := $(PORTICO_CACHE)/bin
export PORTICO_CACHE
export PATH := $(TOOLS_BIN):$(CURDIR)/$(VENV)/bin:$(PATH)
CHART       := charts/portico
PYTEST_ARGS ?=

.PHONY: help setup tools schemas schema check test test-fast lint bench docs print-versions clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml tools/requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "setup: $(PYTHON) not found; install Python 3.11+" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c tools/requirements.lock -e '.[test,plots]'
	@touch $@
	@echo "python       venv      $(VENV) ready"

tools: $(VENV)/.installed ## install the pinned CLI tools into $(PORTICO_CACHE)/bin
	@$(PY) -m portico.toolchain install

schemas: $(VENV)/.installed ## build the offline kubeconform schemas (k8s $(SCHEMA_K8S_MIN)-$(SCHEMA_K8S_MAX) + CRDs)
	@$(PY) -c 'from portico.schemas import ensure_schemas; ensure_schemas()'

setup: $(VENV)/.installed tools schemas ## everything the other targets need

check: lint ## the main job: lint, then the chart's full values matrix rendered, validated and checked
	$(PY) -m portico.cli matrix $(CHART)/ci/matrix.yaml -o out/matrix \
	  --junit out/matrix-junit.xml --json out/matrix.json --markdown out/matrix.md

test: setup ## all tests, cluster tests included
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup ## tests that need no cluster
	$(PY) -m pytest -m "not cluster" $(PYTEST_ARGS)

lint: setup ## helm lint --strict and ct lint on the chart
	helm lint --strict $(CHART)
	ct lint --config ci/ct.yaml --charts $(CHART)

bench: setup ## throughput benchmarks (results in benchmarks/results, summary in docs/benchmarks.md)
	$(PY) benchmarks/bench_matrix.py --json benchmarks/results/matrix.json

docs: setup ## regenerate the chart README from values.yaml comments
	helm-docs --chart-search-root charts

print-versions: ## the pinned versions, KEY=VALUE
	@grep -E '^[A-Z0-9_]+=' tools/versions.env

clean: ## remove the venv (the tools cache in $(PORTICO_CACHE) is kept)
	rm -rf $(VENV)

schema: $(VENV)/.installed ## regenerate charts/portico/values.schema.json from values.schema.yaml
	$(PY) -m portico.yamljson $(CHART)/values.schema.yaml $(CHART)/values.schema.json
