# syntax=docker/dockerfile:1
# The aigov operator image. Build from the repository root: `make image` (needs Docker).
#
# Two stages: the builder turns the pinned dependencies of pyproject.toml (every one is
# `==`) and aigov itself into a virtual environment; the final stage copies only that
# environment onto a fresh slim Python, removes pip, and runs as the non-root user 65532
# (the uid distroless images use; the chart's securityContext sets the same).
# Pin the base image by digest in CI: ARG PYTHON_IMAGE=python:3.11-slim@sha256:...
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Dependencies first: this layer is reused until pyproject.toml changes.
COPY pyproject.toml README.md ./
COPY operator/ operator/
RUN python -m venv /opt/aigov \
 && /opt/aigov/bin/pip install --no-compile . \
 && /opt/aigov/bin/pip uninstall --yes pip \
 && /opt/aigov/bin/python -m compileall -q /opt/aigov/lib

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="aigov" \
      org.opencontainers.image.description="Governance for AI models on Kubernetes GPU clusters" \
      org.opencontainers.image.licenses="Apache-2.0"
# No package manager work and no build tools here: only the user, and pip removed from the
# base image's own Python (nothing in the final image can install anything).
RUN groupadd --gid 65532 nonroot \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin nonroot \
 && python -m pip uninstall --yes pip setuptools wheel \
 && rm -rf /usr/local/lib/python3.11/ensurepip /root/.cache
COPY --from=builder /opt/aigov /opt/aigov
ENV PATH=/opt/aigov/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 65532:65532
# Webhook (AIGOV_WEBHOOK_PORT) and health/metrics (AIGOV_HEALTH_PORT) ports.
EXPOSE 9443 8080
ENTRYPOINT ["python", "-m", "aigov"]
