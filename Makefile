# Disaggregated-inference booth demo kit. `make` (or `make help`) lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help
ENV ?= prod
SPEED ?= 1
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := $(UV) run --frozen
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PROMETHEUS ?= prometheus

.PHONY: help
help: ## List the targets with a line on each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_.-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --user --quiet uv 2>/dev/null \
	  || python3 -m pip install --user --quiet --break-system-packages uv 2>/dev/null \
	  || curl -LsSf https://astral.sh/uv/install.sh | sh

.PHONY: install
install: $(UV) ## Install uv if missing and the Python workspace (locked)
	$(UV) sync --frozen

.PHONY: system-deps
system-deps: ## Install the Debian packages the local stack and its tests need (prometheus)
	@command -v $(PROMETHEUS) >/dev/null 2>&1 || { \
	  echo "system-deps: installing the Debian package prometheus: the local stack and the integration tests run a real Prometheus"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus && \
	  { $(SUDO) systemctl disable --now prometheus >/dev/null 2>&1 || true; }; }

.PHONY: lint
lint: install ## ruff (lint + format check) and mypy strict
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy apps/load-generator/src apps/local-cluster/src apps/corpus-curator/src libs/demo-common/src libs/test-support/src benchmarks/src observability/src
	MYPYPATH=scripts $(RUN) mypy -p deploykit

.PHONY: fmt
fmt: install ## Apply ruff's fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

.PHONY: test
test: install tools system-deps ## Run every test: unit, contract, integration (real Dynamo + Prometheus), static deploy checks
	@# pytest exits 5 when a filter selects no test: say so instead of failing. The browser
	@# tests run in a process of their own: Playwright's sync API keeps an asyncio loop running
	@# while its session fixtures live, and the asyncio tests cannot share a process with it.
	$(RUN) pytest -q -ra -m "not browser" $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: no tests selected"; elif [ $$rc -ne 0 ]; then exit $$rc; fi
	$(RUN) pytest -q -ra -m browser $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: no browser tests selected"; exit 0; fi; exit $$rc

.PHONY: test-unit
test-unit: install ## Unit tests only (no processes, no sockets)
	$(RUN) pytest -q -m "not integration and not browser" $(PYTEST_ARGS)

.PHONY: local-cluster
local-cluster: install system-deps ## Start the embedded local stack alone (ENV=prod|dev, SPEED=n)
	$(RUN) localcluster up --env $(ENV) --speed $(SPEED)

.PHONY: demo
demo: install system-deps corpus ## Set everything up and start the demo on the embedded default (local stack + load generator)
	$(RUN) loadgen demo --env $(ENV) --speed $(SPEED)

.PHONY: bench
bench: install system-deps ## Benchmarks; results written to build/bench/
	mkdir -p build/bench
	$(RUN) python -m demo_bench.run --out build/bench

-include mk/*.mk
