# aigov: run `make help` for the targets. The two a new user needs: `make demo`, `make test`.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CACHE := .cache
export KUBECONFIG ?= $(CURDIR)/$(CACHE)/cluster/kubeconfig
KUBECTL = $(shell $(PY) -c 'from tools.controlplane.binaries import find; print(find("kubectl"))' 2>/dev/null || echo kubectl)

##@ Start here

.PHONY: demo
demo: venv binaries ## Build what is missing, start the control plane and operator, show admitted and refused workloads
	$(PY) -m tools.demo

.PHONY: test
test: venv binaries chromium ## Lint, unit and end-to-end tests against the real local control plane
	$(MAKE) lint
	$(PY) -m pytest tests/unit -q
	$(MAKE) image-archive
	$(PY) -m pytest tests/e2e -q -m e2e
	$(MAKE) faults

##@ Development

.PHONY: venv
venv: $(VENV)/.installed ## Create .venv with aigov and its pinned test and lint tools

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,lint]'
	touch $@

.PHONY: lint
lint: venv ## ruff, mypy (strict) and the import-layer contracts
	$(VENV)/bin/ruff check operator tests tools bench
	$(VENV)/bin/ruff format --check operator tests tools bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

.PHONY: unit
unit: venv ## Unit tests only (no cluster, seconds; the slow fuzz runs in make test)
	$(PY) -m pytest tests/unit -q -m "not slow"

.PHONY: e2e
e2e: venv binaries image-archive chromium ## End-to-end tests only (starts the control plane unless USE_EXISTING_CLUSTER=true)
	$(PY) -m pytest tests/e2e -q -m e2e

.PHONY: chromium
chromium: ## Chromium from Debian's packages (apt-get as root, when missing): the evidence report's browser test
	bash tools/chromium.sh >/dev/null

.PHONY: faults
faults: venv binaries ## Fault suite: SIGKILL the operator, restart kube-apiserver and etcd, on a control plane of its own (minutes)
	$(PY) -m pytest tests/faults -q -m faults

.PHONY: run
run: venv ## Run the operator out of cluster against $(KUBECONFIG), webhook on 127.0.0.1
	AIGOV_MANAGE_WEBHOOKS=true $(PY) -m aigov

.PHONY: install
install: venv ## Install the CRDs into the cluster of $(KUBECONFIG) (server-side apply)
	$(KUBECTL) apply --server-side --force-conflicts -f crds/

.PHONY: bench
bench: venv binaries ## Admission under vegeta load vs a no-webhook baseline, RSS with 1k/10k models, rolling restart (ARGS=--quick)
	$(PY) -m bench.admission $(ARGS)

##@ Helm chart and image

HELM = $(shell $(PY) -c 'from tools.controlplane.binaries import find; print(find("helm"))' 2>/dev/null || echo helm)
IMAGE ?= aigov:dev

.PHONY: chart-lint
chart-lint: venv binaries ## helm lint --strict of charts/aigov, with default values and with cert-manager
	$(HELM) lint --strict --kube-version $$(grep ^KUBERNETES_VERSION tools/controlplane/versions.env | cut -d= -f2) charts/aigov
	$(HELM) lint --strict --kube-version $$(grep ^KUBERNETES_VERSION tools/controlplane/versions.env | cut -d= -f2) charts/aigov --set certManager.enabled=true

.PHONY: image
image: ## Build the operator image: docker build where Docker runs, else buildah on Debian-built bases into .cache/image/aigov.oci.tar
	IMAGE=$(IMAGE) bash tools/image/build.sh

.PHONY: image-archive
image-archive: ## The image as an OCI archive without Docker (buildah), what tests/e2e/test_image.py runs; seconds when up to date
	IMAGE=$(IMAGE) bash tools/image/build.sh --builder buildah

.PHONY: image-lock
image-lock: ## Regenerate requirements.lock (every package of the image pinned) after changing pyproject.toml
	bash tools/image/lock.sh

##@ Local control plane

.PHONY: binaries
binaries: ## Build etcd, kube-apiserver, controller-manager, scheduler, kubectl, kwok, helm, vegeta into .cache/bin
	bash tools/controlplane/build.sh all

.PHONY: cluster-up
cluster-up: venv binaries ## Start etcd, kube-apiserver, controller-manager, scheduler, kwok and fake GPU nodes (idempotent)
	$(PY) -m tools.controlplane up

.PHONY: cluster-down
cluster-down: venv ## Stop the local control plane; leaves no process behind
	$(PY) -m tools.controlplane down

.PHONY: kind-up
kind-up: ## Create a kind cluster instead (needs a Docker engine; not available on the dev machines)
	@command -v docker >/dev/null && docker info >/dev/null 2>&1 || { \
	  echo "kind needs a running Docker engine; this machine has none. Use 'make cluster-up'."; exit 1; }
	bash tools/controlplane/build.sh kind
	$(CACHE)/bin/kind create cluster --name aigov --kubeconfig $(CACHE)/kind-kubeconfig
	@echo "export KUBECONFIG=$(CURDIR)/$(CACHE)/kind-kubeconfig USE_EXISTING_CLUSTER=true"

.PHONY: clean
clean: cluster-down ## Stop the cluster and remove build outputs (keeps the Go caches)
	rm -rf $(CACHE)/cluster $(CACHE)/build

##@ Help

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} \
	  /^[a-zA-Z_-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } \
	  /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)
