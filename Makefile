# dnsrace: two commands on a fresh machine, `make demo` and `make test`. Each bootstraps what it
# needs: the virtual environment at .venv and the pinned upstream binaries (hack/build.sh).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup binaries bytecode demo test durations lint typecheck unit integration bench soak clean
.PHONY: kind-up kind-demo kind-down kind-test

setup: $(STAMP) binaries

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "setup: $(PYTHON) not found; install Python 3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,report]'
	@touch $@

binaries:
	@bash hack/build.sh

lint: $(STAMP)
	$(BIN)/ruff check operator services tests bench hack
	$(BIN)/ruff format --check operator services tests bench hack

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

# Workers, each with a lab of its own once it runs a test that needs one (tests wait on state, so
# twice as many workers as cores pays: docs in README, "Tests"). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 4

# Longest tests first, each handed to the next free worker (tests/schedule.py).
PYTEST_SUITE = $(BIN)/pytest tests -m "not kind" -n $(TEST_WORKERS) --dist load --maxschedchunk 1

# The project's own bytecode, written once: with PYTHONDONTWRITEBYTECODE set (as on this machine)
# no import writes it, and every lab process, CLI run and worker compiled again the
# modules it imports (about 0.2 CPU s for an operator's). Only changed files are compiled.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q operator services tests bench

test: setup lint typecheck bytecode
	$(PYTEST_SUITE)

# tests/durations.json again, from a run of the whole suite (the order tests are handed out)
durations: setup bytecode
	$(PYTEST_SUITE) --record-durations tests/durations.json

demo: setup bytecode
	$(BIN)/python -m dnsrace.cli.demo

bench: setup
	@bash hack/build.sh bench
	$(BIN)/python -m bench

# not part of `make test`: SOAK_SECONDS (600), SOAK_SEED (1), SOAK_PHASE_SECONDS (20)
soak: setup
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) reports

# --- the kind path (docs/kind.md): Docker, kind and kubectl on the host; nothing from .venv ----
KIND ?= kind
KUBECTL ?= kubectl
DOCKER ?= docker
KIND_CLUSTER := dnsrace
KIND_IMAGE := dnsrace:dev
KIND_NS := dnsrace
KIND_TIMEOUT ?= 300s
# What the offline path (hack/kind-offline/up.sh) sets; a user with internet leaves them alone:
KIND_CONFIG ?= kind-config.yaml
KIND_NODE_IMAGE ?=
KIND_AFTER_CREATE ?=
KIND_BUILD_ARGS ?=
KIND_LOAD_IMAGES ?=
KIND_MANIFESTS ?= manifests/
# kubectl on the lab's cluster, whatever the user's current context is
K = $(KUBECTL) --context kind-$(KIND_CLUSTER)
# the kubectl the local lab builds (hack/versions.env pins it), offered when none is installed
PINNED_KUBECTL = ~/.cache/dnsrace/kubectl-$(shell sed -n 's/^KUBERNETES_VERSION=//p' hack/versions.env)/kubectl

# Run first by each kind target: one line naming everything missing, a non-zero exit, and
# nothing changed.
define KIND_CHECK
missing=""; \
command -v $(DOCKER) >/dev/null 2>&1 || missing="$$missing, docker (the CLI: https://docs.docker.com/get-docker/)"; \
if command -v $(DOCKER) >/dev/null 2>&1 && ! $(DOCKER) info >/dev/null 2>&1; then \
	missing="$$missing, a running Docker daemon ('$(DOCKER) info' cannot reach it)"; fi; \
command -v $(KIND) >/dev/null 2>&1 || missing="$$missing, kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"; \
command -v $(KUBECTL) >/dev/null 2>&1 || missing="$$missing, kubectl (or make $@ KUBECTL=$(PINNED_KUBECTL))"; \
if [ -z "$$missing" ] && [ "$$(printf '%s\n' 17.05 "$$($(DOCKER) version --format '{{.Server.Version}}' 2>/dev/null)" | sort -V | head -1)" != 17.05 ]; then \
	missing="$$missing, Docker 17.05 or newer (multi-stage builds; BuildKit on or off both work)"; fi; \
if [ -n "$$missing" ]; then echo "$@: missing: $${missing#, }" >&2; exit 2; fi
endef

kind-up:
	@$(KIND_CHECK)
	@set -e; \
	if $(KIND) get clusters 2>/dev/null | grep -qx '$(KIND_CLUSTER)'; then \
		echo "kind-up: cluster $(KIND_CLUSTER) exists; reusing it"; \
	else \
		echo "+ $(KIND) create cluster --config $(KIND_CONFIG) --name $(KIND_CLUSTER)$(if $(KIND_NODE_IMAGE), --image $(KIND_NODE_IMAGE))"; \
		$(KIND) create cluster --config $(KIND_CONFIG) --name $(KIND_CLUSTER) $(if $(KIND_NODE_IMAGE),--image $(KIND_NODE_IMAGE)); \
	fi; \
	$(if $(KIND_AFTER_CREATE),echo "+ $(KIND_AFTER_CREATE)"; $(KIND_AFTER_CREATE);) \
	echo "+ $(DOCKER) build$(if $(KIND_BUILD_ARGS), $(KIND_BUILD_ARGS)) -t $(KIND_IMAGE) ."; \
	$(DOCKER) build $(KIND_BUILD_ARGS) -t $(KIND_IMAGE) .; \
	for image in $(KIND_IMAGE) $(KIND_LOAD_IMAGES); do \
		echo "+ $(KIND) load docker-image $$image --name $(KIND_CLUSTER)"; \
		$(KIND) load docker-image $$image --name $(KIND_CLUSTER); \
	done; \
	echo "+ apply crds/ (Established first: the manifests hold custom objects), then $(KIND_MANIFESTS)"; \
	$(K) apply -k crds/; \
	$(K) wait --for=condition=Established --timeout=60s -f crds/; \
	running=$$($(K) -n $(KIND_NS) get deployments -o name 2>/dev/null | wc -l); \
	$(K) apply -k $(KIND_MANIFESTS); \
	if [ "$$running" -gt 0 ]; then \
		echo "+ restart: a rebuilt image keeps its tag, so running pods would keep the old one"; \
		$(K) -n $(KIND_NS) rollout restart deployment; \
	fi; \
	$(K) -n $(KIND_NS) rollout status deployment --timeout=$(KIND_TIMEOUT); \
	$(K) -n $(KIND_NS) get pods -o wide; \
	echo "kind-up: the lab runs in namespace $(KIND_NS) of kind-$(KIND_CLUSTER); next: make kind-demo"

# The two race Scenarios one after the other (a Scenario's spec is immutable: a rerun deletes
# the finished one first), then their verdicts.
kind-demo:
	@$(KIND_CHECK)
	@set -e; for s in race-unguarded race-guarded; do \
		$(K) -n $(KIND_NS) delete scenario $$s --ignore-not-found --wait; \
		$(K) -n $(KIND_NS) apply -f scenarios/$$s.yaml; \
		echo "kind-demo: running $$s (watch: kubectl -n $(KIND_NS) get dnsplans,scenarios -w)"; \
		if ! $(K) -n $(KIND_NS) wait --for=condition=Completed --timeout=$(KIND_TIMEOUT) scenario/$$s; then \
			echo "kind-demo: scenario $$s did not complete:" >&2; \
			$(K) -n $(KIND_NS) get scenario $$s -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}' >&2; \
			exit 1; \
		fi; \
	done; \
	for s in race-unguarded race-guarded; do \
		printf 'scenario %s: %s\n' $$s "$$($(K) -n $(KIND_NS) get scenario $$s -o jsonpath='{.status.verdict.summary}')"; \
	done

# The kind suite (tests/kind) against the running kind-$(KIND_CLUSTER); skipped with one line
# when no such cluster answers. Uses the .venv (pytest), the same kubectl and Docker as kind-up.
kind-test: $(STAMP)
	KUBECTL=$(KUBECTL) DOCKER=$(DOCKER) KIND_MANIFESTS=$(KIND_MANIFESTS) $(BIN)/pytest tests/kind -m kind

# Deletes the cluster (its node containers and its kubeconfig entries), and kind's Docker network
# when no other container uses it.
kind-down:
	@$(KIND_CHECK)
	$(KIND) delete cluster --name $(KIND_CLUSTER)
	@if $(DOCKER) network inspect kind >/dev/null 2>&1 && \
		[ -z "$$($(DOCKER) network inspect kind --format '{{range .Containers}}{{.Name}} {{end}}')" ]; then \
		echo "+ $(DOCKER) network rm kind"; $(DOCKER) network rm kind >/dev/null; fi
