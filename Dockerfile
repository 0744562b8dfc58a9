# syntax=docker/dockerfile:1
# The aigov operator image. Build from the repository root: `make image` (docker build where
# a Docker engine runs; otherwise buildah on a Debian base made by mmdebstrap, see
# tools/image/build.sh).
#
# Two stages: the builder turns requirements.lock (every package pinned, transitive ones
# included) and aigov itself into a virtual environment; the final stage copies only that
# environment onto a fresh slim Python, removes pip, and runs as the non-root user 65532
# (the uid distroless images use; the chart's securityContext sets the same).
#
# PYTHON_IMAGE is the runtime base, BUILDER_IMAGE the builder's (the same image unless
# told otherwise). Docker uses the public Python image of the Debian release below; without
# Docker, tools/image/build.sh passes two bases made from Debian bookworm's own packages
# (same Debian, same Python 3.11): a runtime one with python3 only and a builder one that
# also has python3-venv. Pin the base by digest in CI: PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:...
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG BUILDER_IMAGE=${PYTHON_IMAGE}

FROM ${BUILDER_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Dependencies first: this layer is reused until requirements.lock changes.
COPY requirements.lock ./
RUN python -m venv /opt/aigov \
 && /opt/aigov/bin/pip install --no-compile --no-deps --requirement requirements.lock
COPY pyproject.toml README.md ./
COPY operator/ operator/
# aigov itself, then proof that the lock satisfies every dependency, then the installers go.
RUN /opt/aigov/bin/pip install --no-compile --no-deps . \
 && /opt/aigov/bin/pip check \
 && /opt/aigov/bin/pip uninstall --yes pip setuptools \
 && /opt/aigov/bin/python -m compileall -q /opt/aigov/lib

FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
ARG SOURCE=https://git.example.com/platform/aigov
LABEL org.opencontainers.image.title="aigov" \
      org.opencontainers.image.description="Governance for AI models on Kubernetes GPU clusters" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0"
# No package manager work and no build tools here: only the user (written straight into
# /etc/passwd and /etc/group: the Debian-built base has no useradd), and pip removed from the
# base image's own Python where it has one (the public image does; the Debian-built one does
# not), with ensurepip and its bundled wheels, which could bring pip back.
RUN echo 'nonroot:x:65532:' >>/etc/group \
 && echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/usr/sbin/nologin' >>/etc/passwd \
 && if python -m pip --version >/dev/null 2>&1; then \
      python -m pip uninstall --yes pip setuptools wheel; fi \
 && rm -rf /usr/local/lib/python3.11/ensurepip /usr/lib/python3.11/ensurepip \
      /usr/share/python-wheels /root/.cache
COPY --from=builder /opt/aigov /opt/aigov
ENV PATH=/opt/aigov/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 65532:65532
# Webhook (AIGOV_WEBHOOK_PORT) and health/metrics (AIGOV_HEALTH_PORT) ports.
EXPOSE 9443 8080
ENTRYPOINT ["python", "-m", "aigov"]
