# Portico: the chart and its harness. `make check` runs the main job,
# `make test` the tests; both set everything up first (idempotent, fast when warm).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

include tools/portico/data/versions.env

PYTHON      ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
PORTICO_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/portico
TOOLS_BIN   := $(PORTICO_CACHE)/bin
export PORTICO_CACHE
export PATH := $(TOOLS_BIN):$(CURDIR)/$(VENV)/bin:$(PATH)
CHART       := charts/portico
PYTEST_ARGS ?=
# The chart's previous version, for make check's upgrade comparison: its last release tag (<chart>-<version>),
# else the last commit with its previous version (a clone without tags); read when the recipe runs.
PREVIOUS = $(shell $(PY) -m portico.cli version-check $(CHART) --previous-ref 2>/dev/null)

.PHONY: help setup check test test-fast soak lint bench docs print-versions lock clean release

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml tools/requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "setup: $(PYTHON) not found; install Python 3.11+" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c tools/requirements.lock -e '.[test,plots]'
	@touch $@
	@echo "python       venv      $(VENV) ready"

setup: $(VENV)/.installed ## everything the other targets need: `portico setup` (tools, renderer, schemas)
	@$(PY) -m portico.cli setup

check: lint ## the main job: lint, version check, then the chart's full values matrix rendered, validated, admitted and checked (upgrade safety against the last release)
	$(PY) -m portico.cli version-check $(CHART)
	$(PY) -m portico.cli matrix $(CHART)/ci/matrix.yaml -o out/matrix --admission \
	  $(if $(PREVIOUS),--upgrade-from git:$(PREVIOUS)) \
	  --junit out/matrix-junit.xml --json out/matrix.json --markdown out/matrix.md
	$(PY) -m portico.cli matrix $(CHART)/ci/workloads.yaml -o out/workloads --admission \
	  --junit out/workloads-junit.xml --json out/workloads.json
	$(PY) -m portico.cli matrix $(CHART)/ci/storage.yaml -o out/storage --admission \
	  --junit out/storage-junit.xml --json out/storage.json
	$(PY) -m portico.cli matrix $(CHART)/ci/gateway.yaml -o out/gateway --admission \
	  --junit out/gateway-junit.xml --json out/gateway.json
	$(PY) -m portico.cli matrix $(CHART)/ci/scaling.yaml -o out/scaling --admission \
	  --junit out/scaling-junit.xml --json out/scaling.json

# make release REGISTRY=oci://ghcr.io/ORG/charts SIGN_KEY="Portico chart releases" KEYRING=secring.gpg
#   [PLAIN_HTTP=1] [COSIGN_KEY=cosign.key]; without REGISTRY it packages and signs into dist/ only.
release: check ## package, sign, push and verify the chart (docs/releasing.md)
	$(PY) -m portico.cli release $(CHART) --skip-matrix -o dist $(if $(RELEASE_JSON),--json $(RELEASE_JSON)) \
	  $(if $(REGISTRY),--registry $(REGISTRY)) $(if $(PLAIN_HTTP),--plain-http) \
	  $(if $(SIGN_KEY),--sign-key "$(SIGN_KEY)" --keyring $(KEYRING)) $(if $(COSIGN_KEY),--cosign-key $(COSIGN_KEY))

# The tests in the order that gives a fresh machine's builds the CPU the cluster tests leave idle:
# 1. the tools but the registry, then the node image and the test app's images, what any cluster made here runs
#    (about 15 minutes cold);
# 2. the zero-downtime tests on the multi-node cluster, alone, while what only the one-node cluster and the
#    release tests need (Traefik, MetalLB, the registry, cosign) builds in the background at the lowest CPU
#    priority: nice 19 in this cgroup against the kind nodes in Docker's, so the nodes and the load generator
#    take the CPU first (about 15 minutes of builds cold, nothing warm);
# 3. the one-node cluster, its images built by then;
# 4. everything but the zero-downtime tests as three streams side by side (pytest-xdist: the cluster tests,
#    which mostly wait on the cluster, beside the local ones, beside `ct install`; tests/conftest.py);
# 5. the zero-downtime tests on the one-node cluster, alone.
# Every pytest run runs; exit 5 (nothing collected) is fine for some when PYTEST_ARGS narrows the tests, not for all.
test: $(VENV)/.installed ## all tests, cluster tests included
	$(PY) -m portico.cli setup --skip registry
	$(PY) -m portico.cli cluster build
	@mkdir -p out; \
	{ nice -n 19 $(PY) -m portico.cli cluster build --addons && nice -n 19 $(PY) -m portico.cli setup registry cosign; } \
	  > out/background-build.log 2>&1 & bg=$$!; trap 'pkill -P $$bg 2>/dev/null || true; kill $$bg 2>/dev/null || true' EXIT; \
	echo "make test: Traefik, MetalLB, the registry and cosign build in the background (out/background-build.log)"; \
	rc1=0; rc2=0; rc3=0; \
	$(PY) -m pytest -m "zero_downtime and multinode" $(PYTEST_ARGS) || rc1=$$?; \
	bgrc=0; wait $$bg || bgrc=$$?; sed 's/^/background   /' out/background-build.log; \
	if [[ $$bgrc != 0 ]]; then echo "make test: the background build failed (exit $$bgrc)" >&2; exit 2; fi; \
	$(PY) -m portico.cli cluster up; \
	$(PY) -m pytest -n 3 --dist loadgroup -m "not zero_downtime" $(PYTEST_ARGS) || rc2=$$?; \
	$(PY) -m pytest -m "zero_downtime and not multinode" $(PYTEST_ARGS) || rc3=$$?; \
	echo "make test: pytest exited $$rc1 (zero-downtime, multi-node), $$rc2 (all but the zero-downtime tests)," \
	  "$$rc3 (zero-downtime, one node)"; \
	for rc in $$rc1 $$rc2 $$rc3; do if [[ $$rc != 0 && $$rc != 5 ]]; then exit $$rc; fi; done; \
	if [[ $$rc1 == 5 && $$rc2 == 5 && $$rc3 == 5 ]]; then exit 5; fi

# SOAK_RUNS=10: each zero-downtime control, the safe defaults and the drains, repeated (about 10 min a round); not in CI.
soak: setup ## the zero-downtime detection table (docs/zero-downtime.md), each scenario SOAK_RUNS times
	$(PY) -m portico.cli cluster up
	$(PY) -m tests.cluster.soak --runs $(or $(SOAK_RUNS),10) $(SOAK_ARGS)
	$(PY) -m tests.cluster.soak_ordinary --runs $(or $(SOAK_RUNS),10)

test-fast: setup ## tests that need no cluster and no local API server
	$(PY) -m pytest -m "not cluster and not apiserver" $(PYTEST_ARGS)

lint: setup ## helm lint --strict and ct lint on the chart
	helm lint --strict $(CHART)
	ct lint --config ci/ct.yaml --charts $(CHART)

bench: setup ## throughput benchmarks (results in benchmarks/results, summary in docs/benchmarks.md)
	$(PY) benchmarks/bench_matrix.py --json benchmarks/results/matrix.json
	$(PY) benchmarks/bench_admission.py --json benchmarks/results/admission.json
	$(PY) benchmarks/bench_charts.py --json benchmarks/results/charts.json
	$(PY) benchmarks/bench_small.py --json benchmarks/results/small.json
	$(PY) benchmarks/bench_memory.py --json benchmarks/results/memory.json
	$(PY) benchmarks/bench_load.py --json benchmarks/results/load.json
	$(PY) benchmarks/bench_gobuild.py --json benchmarks/results/gobuild.json
	$(PY) benchmarks/bench_pruned_build.py --json benchmarks/results/pruned_build.json
	$(PY) benchmarks/bench_ci.py --json benchmarks/results/ci.json
	$(PY) benchmarks/audit_renderer.py --json benchmarks/results/audit_renderer.json

docs: setup ## regenerate the chart README (values.yaml comments, the rejection table of tests/chart/rejections.py)
	$(PY) -m tests.chart.rejections
	helm-docs --chart-search-root charts

print-versions: ## the pinned versions, KEY=VALUE
	@grep -E '^[A-Z0-9_]+=' tools/portico/data/versions.env

lock: ## regenerate tools/requirements.lock from a fresh venv
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install -q --disable-pip-version-check '.[test,plots]'
	{ echo '# Exact Python dependency pins (constraints for pip install -c). Regenerate with: make lock'; \
	  .venv-lock/bin/pip freeze --exclude portico; } > tools/requirements.lock
	rm -rf .venv-lock

clean: ## remove the venv (the tools cache in $(PORTICO_CACHE) is kept)
	rm -rf $(VENV)

schema: $(VENV)/.installed ## regenerate values.schema.json and templates/_schema_rules.tpl from values.schema.yaml
	$(PY) -m portico.schema_checks $(CHART)/values.schema.yaml --schema $(CHART)/values.schema.json \
		--rules $(CHART)/templates/_schema_rules.tpl
